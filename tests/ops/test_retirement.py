"""`diagnyx accounts retire` / `unretire`: the management file's edit, what the program then
deploys, the Suspended OU's SCP, and every refusal."""

import json
import shutil

import pytest

from diagnyx_infra.config.models import SUSPENDED_OU
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from diagnyx_infra.errors import ConfigError
from diagnyx_infra.ops.retirement import RetirementRefused, retire, unretire
from diagnyx_infra.policies import scp
from tests.helpers import edited_project, load_yaml
from tests.policies.test_tamper_resistance import ANYONE_ELSE, CI, DEV, denied
from tests.test_cli import invoke


def _developers_named(stack, config):
    """Developers reach the non-production accounts by name, not through their OU; uat pulls no
    images (an account that does is refused: test below)."""
    if stack == "shared":
        pulls = config["diagnyx:sharedServices"]["pullAccounts"]
        config["diagnyx:sharedServices"]["pullAccounts"] = [a for a in pulls if a != "uat"]
    if stack == "management":
        for assignment in config["diagnyx:identityCenter"]["assignments"]:
            if assignment["group"] == "Developers":
                assignment["targets"] = ["dev", "staging", "uat"]


@pytest.fixture
def project(tmp_path):
    return edited_project(tmp_path, _developers_named, stacks=["management", "shared"])


def _management_text(project) -> str:
    return (project / "Pulumi.management.yaml").read_text()


def test_retire_is_a_dry_run_unless_applied(project):
    before = _management_text(project)
    plan = retire(project, "uat", apply=False)
    assert (plan.from_ou, plan.to_ou, plan.written) == ("NonProduction", SUSPENDED_OU, False)
    assert [(a.group, a.permission_set) for a in plan.access] == [("Developers", "Developer")]
    assert _management_text(project) == before


def test_retire_moves_the_account_records_what_it_removed_and_unretire_puts_it_back(project):
    before = load_yaml(_management_text(project))
    assert retire(project, "uat", apply=True).written
    text = _management_text(project)
    assert "retired:" in text and "suspended-account" in text
    with pytest.raises(RetirementRefused, match="already retired"):
        retire(project, "uat", apply=True)
    plan = unretire(project, "uat", apply=True)
    assert (plan.to_ou, [a.group for a in plan.access]) == ("NonProduction", ["Developers"])
    # Back as it was, but for the Suspended OU, which stays (empty) for the next retirement.
    after = load_yaml(_management_text(project))
    units = after["config"]["diagnyx:organization"]["organizationalUnits"]
    assert units.pop() == {"name": SUSPENDED_OU, "policies": ["suspended-account"]}
    assert after == before


def test_a_peered_account_is_not_retired_while_the_peering_stands(tmp_path):
    def peer_uat(stack, config):
        if stack == "shared":
            pulls = config["diagnyx:sharedServices"]["pullAccounts"]
            config["diagnyx:sharedServices"]["pullAccounts"] = [a for a in pulls if a != "uat"]
        if stack in ("dev", "uat"):
            config["diagnyx:network"]["peerings"] = [["dev", "uat"]]

    project = edited_project(tmp_path, peer_uat)
    with pytest.raises(RetirementRefused, match="'uat' is peered with dev"):
        retire(project, "uat", apply=False)


def test_the_program_moves_a_retired_account_and_gives_no_one_access_to_it(project):
    retire(project, "uat", apply=True)
    management = run_stack("management", project)
    ous = {
        o.inputs["name"]: o
        for o in management.of_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    (uat,) = [
        a
        for a in management.of_type("aws:organizations/account:Account")
        if a.name.endswith("-uat")
    ]
    assert uat.inputs["parentId"] == ous[SUSPENDED_OU].id
    policies = {
        p.id: p.inputs["name"] for p in management.of_type("aws:organizations/policy:Policy")
    }
    attached = {
        policies[a.inputs["policyId"]]
        for a in management.of_type("aws:organizations/policyAttachment:PolicyAttachment")
        if a.inputs["targetId"] == ous[SUSPENDED_OU].id
    }
    assert attached == {"DiagnyxSuspendedAccount", "DiagnyxProtectSecurityServices"}
    assignments = management.of_type("aws:ssoadmin/accountAssignment:AccountAssignment")
    assert assignments and not [a for a in assignments if a.inputs["targetId"] == uat.id]
    # Its own stack still evaluates, and says it is retired.
    own = run_stack("uat", project)
    assert any("account uat is retired" in w for w in own.warnings)


def test_the_suspended_accounts_scp_leaves_only_the_administrators():
    document = scp.build("suspended-account", scp.ScpInputs(["us-east-1"], ["t3.*"])).document
    for role in (*(r for r in ANYONE_ELSE if r != "DiagnyxAuditReadOnly"), CI):
        assert denied("s3:GetObject", "*", role, DEV, document) == ["DenyAllButAdministrators"]
    for role in ("OrganizationAccountAccessRole", "DiagnyxAuditReadOnly", "DiagnyxDriftCheck"):
        assert denied("iam:ListRoles", "*", role, DEV, document) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("retire", "security"), "every stack depends on"),
        (("retire", "shared"), "every stack depends on"),
        (("retire", "management"), "unknown account 'management'"),
        (("retire", "nobody"), "unknown account 'nobody'"),
        (("unretire", "dev"), "'dev' is not retired"),
        (("retire", "dev"), "pulls images from shared services"),
    ],
)
def test_each_refusal_names_why_and_writes_nothing(tmp_path, args, message):
    for path in (*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"):
        shutil.copy(path, tmp_path)
    before = _management_text(tmp_path)
    result = invoke("accounts", *args, "--apply", "--project-dir", str(tmp_path))
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and "nothing written" in result.stderr
    assert "Traceback" not in result.stderr
    assert _management_text(tmp_path) == before


def test_an_invalid_project_is_not_edited(tmp_path):
    def broken(stack, config):
        if stack == "dev":
            config["diagnyx:budget"]["monthlyLimitUsd"] = 999  # disagrees with management

    project = edited_project(tmp_path, broken, stacks=["dev"])
    with pytest.raises(ConfigError):
        retire(project, "uat", apply=True)


def test_the_cli_prints_the_move_the_next_steps_and_what_closing_means(project):
    result = invoke("accounts", "retire", "uat", "--apply", "--project-dir", str(project))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "uat: NonProduction -> Suspended" in out
    assert "Developers/Developer" in out
    assert "pulumi up -s management" in out
    assert "90-day post-closure period" in out and "unretire uat" in out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda org: org["accounts"]["uat"].update(ou=SUSPENDED_OU), "holds retired accounts only"),
        (
            lambda org: org["accounts"]["uat"].update(retired={"ou": "NonProduction"}),
            "a retired account is in the 'Suspended' OU",
        ),
    ],
)
def test_only_retire_puts_an_account_in_the_suspended_ou(tmp_path, edit, message):
    def suspended(stack, config):
        if stack == "management":
            organization = config["diagnyx:organization"]
            organization["organizationalUnits"].append(
                {"name": SUSPENDED_OU, "policies": ["suspended-account"]}
            )
            edit(organization)

    project = edited_project(tmp_path, suspended, stacks=["management"])
    with pytest.raises(ConfigError) as refused:
        run_stack("management", project)
    assert message in json.dumps(refused.value.problems)
