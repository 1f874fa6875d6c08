"""Least privilege, proven over the recorded stacks: no chain from a foothold (a shared or workload
account, a pull request, a Developer, DevOps, Finance or Auditor seat) to organization write in
management or to trail, archive or key write in security. Each attack path found on the earlier
design is reintroduced and shown to be caught."""

import json

import pytest

from diagnyx_infra.access_analysis import (
    ADMIN,
    DATA_READ,
    ORGANIZATION_WRITE,
    Principal,
    _admits,
    analyse,
    as_json,
)
from diagnyx_infra.config.loading import settings_from_config
from diagnyx_infra.engine.runner import run_stack
from diagnyx_infra.policies import iam, identity
from diagnyx_infra.policies.documents import document
from diagnyx_infra.policies.evaluation import Request, allows
from tests.helpers import ALL_STACKS

SHARED, SECURITY, MANAGEMENT = "222222222222", "333333333333", "111111111111"
WORKLOADS = ("dev", "staging", "uat", "prod")


@pytest.fixture(scope="module")
def settings(recordings):
    return {
        s: settings_from_config(s, r.config.values, r.config.secret_keys)
        for s, r in recordings.items()
    }


@pytest.fixture(scope="module")
def analysis(recordings, settings):
    return analyse(recordings, settings)


def _with(recordings, settings, **stacks):
    return analyse({**recordings, **stacks}, settings)


def test_no_chain_from_any_foothold_to_the_organization_or_the_audit_trail(analysis):
    assert analysis.chains == []
    kinds = {analysis.principals[a].kind for a in analysis.attackers}
    assert kinds == {"foothold", "oidc", "seat"}
    assert {a for a in analysis.attackers if a.startswith("foothold:")} == {
        f"foothold:{s}" for s in ("shared", "dev", "staging", "uat", "prod")
    }


def test_every_role_of_the_landing_zone_carries_the_boundary(recordings):
    for stack in ALL_STACKS:
        (boundary,) = recordings[stack].of_type("aws:iam/policy:Policy")
        for role in recordings[stack].of_type("aws:iam/role:Role"):
            assert role.inputs["permissionsBoundary"] == boundary.state["arn"], role.name


def test_the_deploy_role_is_no_administrator_and_cannot_escape_its_boundary(analysis):
    for stack in ALL_STACKS:
        role = analysis.principals[f"role:{stack}:DiagnyxCrossAccountCICD"]
        assert f"{ADMIN} of {stack}" not in role.capabilities, stack
        account = analysis.account_ids[stack]

        def can(action, resource, context=None, role=role):
            request = Request(action, resource, principal_arn=role.arn, context=context or {})
            return allows(role.policies, request) and allows([role.boundary], request)

        boundary = iam.boundary_arn(account)
        own = iam.role_arn(account, "DiagnyxNew")
        assert can("iam:CreateRole", own, {"iam:permissionsboundary": boundary})
        assert not can("iam:CreateRole", own, {"iam:permissionsboundary": "none"})
        assert not can("iam:CreateRole", iam.role_arn(account, "Other"), {})
        assert not can("iam:CreateUser", f"arn:aws:iam::{account}:user/ci")
        assert not can("iam:CreateAccessKey", f"arn:aws:iam::{account}:user/ci")
        assert not can("iam:DeleteRolePermissionsBoundary", role.arn)
        assert not can("iam:CreatePolicyVersion", boundary)
        assert not can(
            "iam:UpdateAssumeRolePolicy", iam.role_arn(account, "OrganizationAccountAccessRole")
        )
        # No kms:* on *: only this account's keys.
        assert can("kms:PutKeyPolicy", f"arn:aws:kms:us-east-1:{account}:key/k")
        assert not can("kms:PutKeyPolicy", "arn:aws:kms:us-east-1:999999999999:key/k")
    statements = iam.cicd_permissions("444444444444", False)["Statement"]
    actions = {a for s in statements if s["Effect"] == "Allow" for a in _list(s["Action"])}
    assert "iam:*" not in actions and "kms:*" not in actions


def _list(value):
    return value if isinstance(value, list) else [value]


def test_management_and_security_trust_no_other_account(analysis):
    for stack in ("management", "security", "shared"):
        trust = analysis.principals[f"role:{stack}:DiagnyxCrossAccountCICD"].trust
        principals = [s["Principal"] for s in trust["Statement"]]
        assert all(set(p) == {"Federated"} for p in principals), stack
    for stack in ("dev", "staging", "uat", "prod"):
        trust = analysis.principals[f"role:{stack}:DiagnyxCrossAccountCICD"].trust
        aws = [s["Principal"]["AWS"] for s in trust["Statement"] if "AWS" in s["Principal"]]
        # One named role in shared services, never the account root.
        assert aws == [f"arn:aws:iam::{SHARED}:role/DiagnyxCrossAccountCICD"], stack


def test_previews_read_metadata_and_state_not_data(analysis):
    for stack in ALL_STACKS:
        preview = analysis.principals[f"role:{stack}:DiagnyxCICDPreview"]
        assert DATA_READ not in preview.capabilities, stack
        assert not preview.capabilities, stack


def test_the_drift_job_reaches_the_drift_roles_and_reads_configuration_only(analysis):
    """The drift check's token takes the management account's drift role, which takes the
    members' and nothing else; none of them reads data or writes anything that matters."""
    management = "role:management:DiagnyxDriftCheck"
    assert analysis.edges["oidc:drift"] == {management}
    assert analysis.edges[management] == {
        f"role:{s}:DiagnyxDriftCheck" for s in ALL_STACKS if s != "management"
    }
    for stack in ALL_STACKS:
        role = analysis.principals[f"role:{stack}:DiagnyxDriftCheck"]
        assert role.capabilities == set(), stack
        # Who takes it from outside its account (inside, whatever manages its roles can); a
        # role's ceiling is that role with its policies rewritten, the same principal.
        others = {
            key.removesuffix("+ceiling")
            for key, targets in analysis.edges.items()
            if role.key in targets and analysis.principals[key].account != stack
        }
        assert others == ({"oidc:drift"} if stack == "management" else {management}), stack
    assert not [chain for chain in analysis.chains if chain[0] == "oidc:drift"]


def test_seats_reach_their_roles_end_to_end(analysis):
    finance = analysis.edges["seat:Finance@management"]
    assert "role:management:DiagnyxCostExplorerAccess" in finance
    auditor = analysis.edges["seat:Auditor@security"]
    assert {f"role:{s}:DiagnyxAuditReadOnly" for s in ALL_STACKS} <= auditor
    # Nobody else gets the audit role: not a foothold, not another seat in security.
    audit = analysis.principals["role:dev:DiagnyxAuditReadOnly"]
    intruder = Principal("x", "foothold", "security", arn=f"arn:aws:iam::{SECURITY}:role/any")
    intruder.policies = [document({"Effect": "Allow", "Action": "*", "Resource": "*"})]
    assert not _admits(audit, intruder)
    assert "role:dev:DiagnyxAuditReadOnly" not in analysis.edges["seat:Administrator@security"]


def test_devops_watches_and_changes_nothing(analysis):
    for key, seat in analysis.principals.items():
        if key.startswith("seat:DevOps@"):
            assert seat.capabilities == set(), key
            assert not {e for e in analysis.edges[key] if e.startswith("role:")}, key


def test_new_accounts_give_iam_users_no_billing_access(management):
    accounts = management.of_type("aws:organizations/account:Account")
    assert {a.inputs["iamUserAccessToBilling"] for a in accounts} == {"DENY"}


# --- the attack paths of the earlier design, reintroduced: each is caught ---------------------


def _old_trust(shared_account_id, external_id, oidc_provider_arn, deploy_subject):
    """Every account trusted the whole shared services account with one external ID."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{shared_account_id}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:sub": deploy_subject}
            },
        },
    )


def _old_permissions(account_id, is_management, manages_organization_trail=False, deploys=()):
    services = (*iam.MEMBER_DEPLOY_SERVICES, "iam", "kms")
    if is_management:
        services += iam.MANAGEMENT_DEPLOY_SERVICES
    return document({"Effect": "Allow", "Action": [f"{s}:*" for s in services], "Resource": "*"})


def test_a_foothold_in_shared_reached_the_organization_through_the_shared_root_trust(
    monkeypatch, recordings, settings
):
    monkeypatch.setattr(iam, "cicd_trust_policy", _old_trust)
    found = _with(recordings, settings, management=run_stack("management"))
    chains = [c for c in found.chains if c[0] == "foothold:shared"]
    assert ["foothold:shared", "role:management:DiagnyxCrossAccountCICD"] in chains
    assert ORGANIZATION_WRITE in found.principals[chains[0][-1]].capabilities


def test_the_devops_seat_reused_the_deploy_policy_and_owned_its_account(
    monkeypatch, recordings, settings
):
    old_devops = _old_permissions("", False)
    monkeypatch.setitem(
        identity.PERMISSION_SETS,
        "DevOps",
        identity.PermissionSetSpec(
            "DevOps",
            "old",
            "PT4H",
            managed_policies=(identity.READ_ONLY_ACCESS,),
            inline_policy=old_devops,
        ),
    )
    found = _with(recordings, settings)
    assert f"{ADMIN} of shared" in found.principals["seat:DevOps@shared"].capabilities
    # ... and with the old trust, from there to management.
    monkeypatch.setattr(iam, "cicd_trust_policy", _old_trust)
    found = _with(recordings, settings, management=run_stack("management"))
    assert any(c[0] == "seat:DevOps@shared" for c in found.chains)


def test_iam_star_made_every_deploy_role_an_administrator(monkeypatch, recordings, settings):
    monkeypatch.setattr(iam, "cicd_permissions", _old_permissions)
    # Even with iam:* back, the boundary keeps the role from users and unbounded roles ...
    found = _with(recordings, settings, dev=run_stack("dev"))
    assert (
        f"{ADMIN} of dev" not in found.principals["role:dev:DiagnyxCrossAccountCICD"].capabilities
    )
    # ... and without the boundary (the earlier design) it was an administrator.
    monkeypatch.setattr(
        iam,
        "permissions_boundary",
        lambda account_id: document({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    found = _with(recordings, settings, dev=run_stack("dev"))
    assert f"{ADMIN} of dev" in found.principals["role:dev:DiagnyxCrossAccountCICD"].capabilities


def test_read_only_previews_read_data(monkeypatch, recordings, settings):
    from diagnyx_infra.components import access_roles

    monkeypatch.setattr(access_roles, "VIEW_ONLY_ACCESS", identity.READ_ONLY_ACCESS)
    found = _with(recordings, settings, dev=run_stack("dev"))
    assert DATA_READ in found.principals["role:dev:DiagnyxCICDPreview"].capabilities


def test_the_old_audit_trust_admitted_any_principal_of_the_security_account(monkeypatch):
    def old(security_account_id):
        return document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{security_account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": security_account_id}},
            }
        )

    intruder = Principal("x", "foothold", "security", arn=f"arn:aws:iam::{SECURITY}:role/any")
    intruder.policies = [document({"Effect": "Allow", "Action": "*", "Resource": "*"})]
    role = Principal("r", "role", "dev", arn="arn:aws:iam::444444444444:role/DiagnyxAuditReadOnly")
    role.trust = old(SECURITY)
    assert _admits(role, intruder)
    role.trust = iam.audit_trust_policy(SECURITY)
    assert not _admits(role, intruder)


def test_the_finance_seat_could_not_assume_the_cost_role(monkeypatch, recordings, settings):
    old = identity.finance_policy()
    old["Statement"] = [s for s in old["Statement"] if s.get("Sid") != "AssumeCostExplorerRole"]
    spec = identity.PERMISSION_SETS["Finance"]
    monkeypatch.setitem(
        identity.PERMISSION_SETS,
        "Finance",
        identity.PermissionSetSpec(spec.name, spec.description, spec.session_duration, (), old),
    )
    found = _with(recordings, settings)
    assert "role:management:DiagnyxCostExplorerAccess" not in found.edges["seat:Finance@management"]


def test_the_report_is_machine_readable(analysis):
    report = json.loads(json.dumps(as_json(analysis)))
    roles = {(r["account"], r["role"]) for r in report["roles"]}
    assert ("management", "DiagnyxCrossAccountCICD") in roles
    assert report["chains"] == []
    assert set(report["forbidden"]) == {
        "administrator of management",
        "administrator of security",
        "organization write",
        "trail write",
        "archive write",
        "key write",
    }


def test_the_passphrase_a_pull_request_holds_decrypts_nothing_that_deploys(recordings, analysis):
    """Previews need the stack passphrase; the only secret it decrypts is each account's external
    ID, and no trust admits anyone on an external ID alone (the analysis assumes it known)."""
    for stack in ALL_STACKS:
        expected = {"diagnyx:ciExternalId"} if stack in WORKLOADS else set()
        assert recordings[stack].config.secret_keys == expected, stack
    for role in analysis.roles():
        for statement in (role.trust or {}).get("Statement", []):
            if "sts:ExternalId" in json.dumps(statement.get("Condition", {})):
                principal = statement["Principal"]["AWS"]
                assert ":role/" in principal, (role.key, principal)  # a named role, not a root
    assert analysis.edges["oidc:pull_request"] == {
        f"role:{s}:DiagnyxCICDPreview" for s in ALL_STACKS
    }


# --- what the analysis must not miss (found by an adversarial review) --------------------------


def test_a_role_that_can_write_its_own_policy_reaches_its_ceiling(
    monkeypatch, recordings, settings
):
    from diagnyx_infra.policies import cost

    real = cost.cost_explorer_permissions

    def self_granting():
        document = real()
        document["Statement"].append(
            {
                "Effect": "Allow",
                "Action": "iam:PutRolePolicy",
                "Resource": "arn:aws:iam::*:role/Diagnyx*",
                "Condition": {
                    "ArnEquals": {"iam:PermissionsBoundary": iam.boundary_arn(MANAGEMENT)}
                },
            }
        )
        return document

    monkeypatch.setattr(cost, "cost_explorer_permissions", self_granting)
    found = _with(recordings, settings, management=run_stack("management"))
    assert [
        "seat:Finance@management",
        "role:management:DiagnyxCostExplorerAccess",
        "role:management:DiagnyxCostExplorerAccess+ceiling",
    ] in found.chains


def test_a_deploy_role_cannot_write_itself_past_its_boundary(analysis):
    for stack in ALL_STACKS:
        key = f"role:{stack}:DiagnyxCrossAccountCICD"
        assert f"{key}+ceiling" not in analysis.edges[key], stack


def test_identity_center_and_group_writes_count_as_organization_write(
    monkeypatch, recordings, settings
):
    real = identity.finance_policy()
    real["Statement"].append(
        {"Effect": "Allow", "Action": "identitystore:CreateGroupMembership", "Resource": "*"}
    )
    spec = identity.PERMISSION_SETS["Finance"]
    monkeypatch.setitem(
        identity.PERMISSION_SETS,
        "Finance",
        identity.PermissionSetSpec(spec.name, spec.description, spec.session_duration, (), real),
    )
    found = _with(recordings, settings)
    assert ["seat:Finance@management"] in found.chains


def test_the_audit_key_policy_granting_another_account_is_a_chain(
    monkeypatch, recordings, settings
):
    from diagnyx_infra.policies import baseline as baseline_policies

    real = baseline_policies.kms_key_policy

    def granting_dev(account_id, region, trail_arn=None, extra_statements=()):
        document = real(account_id, region, trail_arn, extra_statements)
        document["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
                "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
                "Resource": "*",
            }
        )
        return document

    monkeypatch.setattr(baseline_policies, "kms_key_policy", granting_dev)
    found = _with(recordings, settings, security=run_stack("security"))
    assert ["foothold:dev"] in found.chains


def test_a_foothold_can_take_a_role_name_a_trust_pattern_admits(recordings, settings):
    # Config refuses wildcards outside Identity Center's reserved path; an exact role name in
    # a workload account is still a role its administrators can create.
    def dev_role_reads_costs(config):
        config["diagnyx:costGovernance"]["costExplorerAccess"] = [
            {"account": "dev", "role": "CostReader"}
        ]

    from tests.helpers import edited_config

    management = run_stack("management", config=edited_config("management", dev_role_reads_costs))
    found = _with(recordings, settings, management=management)
    assert "role:management:DiagnyxCostExplorerAccess" in found.edges["foothold:dev"]


def test_roles_are_listed_in_a_stable_order(analysis):
    """A real engine registers in no fixed order; the report lists each account's roles by name."""
    roles = [(r["account"], r["role"]) for r in as_json(analysis)["roles"]]
    for account in {a for a, _ in roles}:
        names = [name for a, name in roles if a == account]
        assert names == sorted(names), account
