"""CI/CD identity and cross-account roles in every stack: trust policies statement by statement."""

import json

import pytest

from diagnyx_infra.delivery import DEPLOY_BRANCHES
from tests.helpers import ALL_STACKS

ROLE = "aws:iam/role:Role"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
REPO = "diagnyx/diagnyx-infra"
SHARED = "222222222222"
SECURITY = "333333333333"
MANAGEMENT = "111111111111"
MEMBERS = ("222222222222", "333333333333", "444444444444", "555555555555", "666666666666",
           "777777777777")  # fmt: skip


@pytest.fixture(params=ALL_STACKS)
def stack(request, recordings):
    return recordings[request.param]


def _as_list(value):
    return [value] if isinstance(value, str) else value


def roles(stack):
    return {r.inputs["name"]: r for r in stack.of_type(ROLE)}


def trust(role):
    return {s["Sid"]: s for s in json.loads(role.inputs["assumeRolePolicy"])["Statement"]}


def test_github_oidc_provider(stack):
    (oidc,) = stack.of_type(OIDC)
    assert oidc.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_exactly_the_four_baseline_roles(stack):
    baseline = {
        "DiagnyxCrossAccountCICD",
        "DiagnyxCICDPreview",
        "DiagnyxAuditReadOnly",
        "DiagnyxDriftCheck",
    }
    extra = {"DiagnyxCostExplorerAccess"} if stack.stack == "management" else set()
    # Every stack has two allowed regions: the other one forwards its regional alarm events.
    assert set(roles(stack)) == baseline | extra | {"DiagnyxAlarmForwarding"}


WORKLOADS = ("dev", "staging", "uat", "prod")


def test_cicd_role_trusts_this_stacks_job_and_in_workloads_the_shared_deploy_role(stack):
    statements = trust(roles(stack)["DiagnyxCrossAccountCICD"])
    if stack.stack in WORKLOADS:
        shared = statements.pop("SharedServicesDeployRole")
        # One named role in shared services, never the account root; this account's external ID.
        assert shared["Principal"] == {"AWS": f"arn:aws:iam::{SHARED}:role/DiagnyxCrossAccountCICD"}
        assert shared["Condition"] == {
            "StringEquals": {"sts:ExternalId": "offline-secret-diagnyx-ciExternalId"}
        }
    # Management, security and shared accept no trust from any other account.
    assert set(statements) == {"GitHubActionsDeployRef"}
    github = statements["GitHubActionsDeployRef"]
    assert github["Action"] == "sts:AssumeRoleWithWebIdentity"
    conditions = github["Condition"]["StringEquals"]
    assert conditions["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    # dev and staging deploy from their branch; prod and the manually dispatched stacks through
    # an approval environment, which becomes the OIDC subject.
    branch = {"dev": "develop", "staging": "staging"}.get(stack.stack)
    expected = (
        f"repo:{REPO}:ref:refs/heads/{branch}"
        if branch
        else f"repo:{REPO}:environment:{stack.stack}"
    )
    assert conditions["token.actions.githubusercontent.com:sub"] == expected


def test_deploy_branches_follow_the_guide():
    assert DEPLOY_BRANCHES == {"prod": "main", "staging": "staging", "dev": "develop"}


def test_cicd_policy_is_named_for_the_isolation_procedure_and_not_admin(stack):
    (policy,) = [
        p
        for p in stack.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["name"] == "CICDPolicy"
    ]
    assert policy.inputs["role"] == roles(stack)["DiagnyxCrossAccountCICD"].id
    document = json.loads(policy.inputs["policy"])
    actions = [
        a
        for s in document["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "*" not in actions and "*:*" not in actions
    assert ("organizations:*" in actions) == (stack.stack == "management")


def test_preview_role_trusts_only_pull_requests_and_reads(stack):
    role = roles(stack)["DiagnyxCICDPreview"]
    (statement,) = trust(role).values()
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        f"repo:{REPO}:pull_request"
    )
    attached = {
        a.inputs["policyArn"]
        for a in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    }
    # Metadata, not data: ViewOnlyAccess reads no S3 object, DynamoDB item or secret.
    assert attached == {"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}


def test_audit_role_trusts_the_security_account_only(stack):
    role = roles(stack)["DiagnyxAuditReadOnly"]
    (statement,) = trust(role).values()
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{SECURITY}:root"}
    # Only the security account's Auditor seat, by its role name (a condition on the trusted
    # account itself would add nothing).
    assert statement["Condition"] == {
        "ArnLike": {
            "aws:PrincipalArn": f"arn:aws:iam::{SECURITY}:role/aws-reserved/sso.amazonaws.com/"
            "*AWSReservedSSO_Auditor_*"
        }
    }
    attached = {
        a.inputs["policyArn"]
        for a in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    }
    assert attached == {
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/SecurityAudit",
    }


def test_the_drift_role_is_taken_by_the_drift_job_and_reads_configuration_only(stack):
    role = roles(stack)["DiagnyxDriftCheck"]
    (statement,) = trust(role).values()
    management_role = f"arn:aws:iam::{MANAGEMENT}:role/DiagnyxDriftCheck"
    if stack.stack == "management":
        # The scheduled drift job's environment, nothing else of the repository.
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"]["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:{REPO}:environment:drift",
        }
    else:
        # The management account's drift role by name: never a root, never another role.
        assert statement["Principal"] == {"AWS": management_role}
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": management_role}}
    assert role.inputs["permissionsBoundary"]
    attached = [
        a
        for a in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    ]
    assert attached == []
    (policy,) = [
        p
        for p in stack.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["name"] == "DriftReads"
    ]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    actions = [a for st in statements for a in _as_list(st["Action"])]
    assert all(st["Effect"] == "Allow" for st in statements)
    for action in actions:  # reads, and in the management account taking members' drift roles
        verb = action.split(":")[1]
        assert verb.startswith(("Get", "List", "Describe", "View")) or action == "sts:AssumeRole"
    assert not any(a in actions for a in ("s3:GetObject", "dynamodb:GetItem", "kms:Decrypt"))
    assume = [st for st in statements if st["Action"] == "sts:AssumeRole"]
    if stack.stack == "management":
        (only,) = assume
        assert only["Resource"] == [f"arn:aws:iam::{m}:role/DiagnyxDriftCheck" for m in MEMBERS]
    else:
        assert assume == []


def test_every_trust_statement_is_constrained(stack):
    for role in stack.of_type(ROLE):
        for statement in trust(role).values():
            condition = json.dumps(statement.get("Condition", {}))
            assert any(
                key in condition
                for key in (
                    "sts:ExternalId",
                    ":sub",
                    "aws:PrincipalArn",
                    "aws:PrincipalOrgID",
                    "aws:SourceAccount",  # a service principal, for this account's resources
                )
            ), (role.inputs["name"], statement["Sid"])


def test_external_id_stays_secret(stack):
    cicd = next(r for r in stack.of_type(ROLE) if r.inputs["name"] == "DiagnyxCrossAccountCICD")
    # The trust policy embeds the external ID, so Pulumi must store it encrypted; only workload
    # accounts have one (nothing else trusts another account).
    if stack.stack in WORKLOADS:
        assert cicd.secret_inputs == ["assumeRolePolicy"]
        assert "diagnyx:ciExternalId" in stack.config.secret_keys
    else:
        assert "diagnyx:ciExternalId" not in stack.config.values
    preview = next(r for r in stack.of_type(ROLE) if r.inputs["name"] == "DiagnyxCICDPreview")
    assert preview.secret_inputs == []


# --- the repository part of the OIDC subject (diagnyx:githubSubjectPrefix) -------------------

ID_SUBJECT_PREFIX = "repo:diagnyx-123456/diagnyx-infra-456789"


def _with_subject_prefix(prefix):
    def edit(config):
        config["diagnyx:githubSubjectPrefix"] = prefix

    return edit


def _oidc_subject(role):
    (statement,) = [
        s for s in trust(role).values() if s["Action"] == "sts:AssumeRoleWithWebIdentity"
    ]
    return statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]


def test_unset_subject_prefix_is_repo_and_the_repository_name():
    from diagnyx_infra.config.loading import settings_from_config
    from diagnyx_infra.delivery import github_deploy_subject, github_pull_request_subject
    from tests.helpers import edited_config

    config = edited_config("prod", lambda c: None)
    settings = settings_from_config("prod", config.values, config.secret_keys)
    # Pulumi.yaml declares the key with an empty default, which means "unset".
    assert config.values["diagnyx:githubSubjectPrefix"] == ""
    assert settings.github_subject_prefix is None
    assert settings.effective_github_subject_prefix == f"repo:{REPO}"
    prefix = settings.effective_github_subject_prefix
    assert github_deploy_subject(prefix, "prod") == f"repo:{REPO}:environment:prod"
    assert github_deploy_subject(prefix, "dev") == f"repo:{REPO}:ref:refs/heads/develop"
    assert github_pull_request_subject(prefix) == f"repo:{REPO}:pull_request"


@pytest.mark.parametrize(
    ("stack_name", "deploy_subject"),
    [
        ("prod", f"{ID_SUBJECT_PREFIX}:environment:prod"),
        ("dev", f"{ID_SUBJECT_PREFIX}:ref:refs/heads/develop"),
    ],
)
def test_subject_prefix_with_immutable_ids_reaches_both_trust_policies(
    stack_name, deploy_subject, tmp_path
):
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_project

    # One repository deploys every stack: the prefix is set in every file.
    project = edited_project(tmp_path, lambda _, c: _with_subject_prefix(ID_SUBJECT_PREFIX)(c))
    recording = run_stack(stack_name, project)
    by_name = roles(recording)
    assert _oidc_subject(by_name["DiagnyxCrossAccountCICD"]) == deploy_subject
    assert _oidc_subject(by_name["DiagnyxCICDPreview"]) == f"{ID_SUBJECT_PREFIX}:pull_request"
    # The shared services statement (workloads only) is untouched by the prefix.
    statements = trust(by_name["DiagnyxCrossAccountCICD"])
    if stack_name in WORKLOADS:
        assert statements["SharedServicesDeployRole"]["Principal"] == {
            "AWS": f"arn:aws:iam::{SHARED}:role/DiagnyxCrossAccountCICD"
        }


@pytest.mark.parametrize(
    "prefix",
    [
        "diagnyx/diagnyx-infra",  # the repository without `repo:`
        "repo:diagnyx/diagnyx-infra:environment:prod",  # a whole subject, not its prefix
        "repo:diagnyx",
        f"repo:diagnyx/{'x' * 200}",
    ],
)
def test_a_malformed_subject_prefix_is_refused_naming_the_setting(prefix):
    from diagnyx_infra.engine.runner import run_stack
    from diagnyx_infra.errors import ConfigError
    from tests.helpers import edited_config

    with pytest.raises(ConfigError) as raised:
        run_stack("prod", config=edited_config("prod", _with_subject_prefix(prefix)))
    (problem,) = raised.value.problems
    assert problem.startswith("diagnyx:githubSubjectPrefix: "), problem
    assert "repo:<owner>/<repo>" in problem or "longer than 200 characters" in problem, problem
