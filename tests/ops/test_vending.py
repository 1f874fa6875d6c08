"""`diagnyx accounts add`: one new account touches two files; the program plans it; `accounts
sync` then records its ID in the management file alone; every refusal writes nothing."""

import shutil

import pytest

from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from diagnyx_infra.errors import ConfigError
from diagnyx_infra.ops.accounts_sync import sync
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.ops.vending import AddRefused, NewAccount, add
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from tests.helpers import dump_yaml, edited_project, load_yaml
from tests.test_cli import invoke

SANDBOX = NewAccount("sandbox", "aws+sandbox@diagnyx.ai", "NonProduction", "development", 50)


def _files(project) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(project.glob("Pulumi*.yaml"))}


def _members_list_no_ids(stack, config):
    """Stack files as `accounts add` writes them: a member lists no account IDs. (uat pulls no
    images here: the end-to-end test retires it.)"""
    if stack != "management":
        config.pop("diagnyx:accountIds", None)
    if stack == "shared":
        pulls = config["diagnyx:sharedServices"]["pullAccounts"]
        config["diagnyx:sharedServices"]["pullAccounts"] = [a for a in pulls if a != "uat"]


@pytest.fixture
def project(tmp_path):
    return edited_project(tmp_path, _members_list_no_ids)


def test_adding_an_account_is_a_dry_run_unless_applied(project):
    before = _files(project)
    plan = add(project, SANDBOX, apply=False, quota=10)
    assert plan.files == ["Pulumi.management.yaml", "Pulumi.sandbox.yaml"]
    assert not plan.written and _files(project) == before


def test_an_added_account_touches_two_files_and_the_program_plans_it(project):
    before = _files(project)
    assert add(project, SANDBOX, apply=True, quota=10).written
    after = _files(project)
    changed = sorted(n for n in after if before.get(n) != after[n])
    assert changed == ["Pulumi.management.yaml", "Pulumi.sandbox.yaml"]
    management = load_yaml(after["Pulumi.management.yaml"])["config"]
    assert management["diagnyx:accountIds"]["sandbox"] == "pending"
    assert management["diagnyx:organization"]["accounts"]["sandbox"] == {
        "email": "aws+sandbox@diagnyx.ai",
        "monthlyBudgetUsd": 50,
        "ou": "NonProduction",
        "environment": "development",
    }
    own = load_yaml(after["Pulumi.sandbox.yaml"])["config"]
    assert "diagnyx:accountIds" not in own
    assert own["diagnyx:ciExternalId"] == {"secure": "v1:REPLACE-ME-WITH-pulumi-config-set-secret"}
    # The organization creates it in its OU; its stack plans once sync has recorded its ID.
    plan = run_stack("management", project)
    (account,) = [
        a for a in plan.of_type("aws:organizations/account:Account") if a.name.endswith("-sandbox")
    ]
    ous = {
        o.id: o.inputs["name"]
        for o in plan.of_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    assert ous[account.inputs["parentId"]] == "NonProduction"
    text = (project / "Pulumi.management.yaml").read_text()
    (project / "Pulumi.management.yaml").write_text(
        text.replace('sandbox: "pending"', 'sandbox: "888888888888"')
    )
    sandbox = run_stack("sandbox", project)
    assert sandbox.outputs["accountId"] == "888888888888"
    assert sandbox.of_type("aws:kms/key:Key")  # the baseline


def test_sync_records_a_new_accounts_id_in_the_management_file_alone(project):
    add(project, SANDBOX, apply=True, quota=10)
    with emulated_aws():
        aws = Aws.from_environment("us-east-1")
        zone = LandingZone.load(project, check_account_ids=False)
        assert zone.management.organization is not None
        # moto's organization is managed by the caller's account.
        path = project / "Pulumi.management.yaml"
        data = load_yaml(path.read_text())
        data["config"]["diagnyx:accountIds"]["management"] = aws.account_id
        del data["config"]["diagnyx:costGovernance"]["servicesMonitorArn"]  # names 111111111111
        path.write_text(dump_yaml(data, sort_keys=False))
        organizations = aws.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        for name, account in zone.management.organization.accounts.items():
            organizations.create_account(AccountName=name, Email=account.email)
        before = _files(project)
        sync(aws, LandingZone.load(project, check_account_ids=False), project, write=True)
    after = _files(project)
    assert sorted(n for n in after if before[n] != after[n]) == ["Pulumi.management.yaml"]
    ids = load_yaml(after["Pulumi.management.yaml"])["config"]["diagnyx:accountIds"]
    assert ids["sandbox"] != "pending" and len(ids["sandbox"]) == 12


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "dev"}, "'dev' is already an account"),
        ({"name": "drift"}, "is reserved"),
        ({"name": "x" * 300}, "is not a valid account name"),
        ({"environment": "security"}, "is not a workload environment"),
        ({"ou": "Security"}, "holds security, an account of the landing zone's own"),
        ({"ou": "Nowhere"}, "unknown organizational unit 'Nowhere'"),
        ({"ou": "Suspended"}, "holds retired accounts only"),
        ({"email": "aws+dev@diagnyx.ai"}, "is already the e-mail of account 'dev'"),
        ({"environment": "production"}, "mixes production accounts"),
        ({"environment": "qa"}, "environment"),
        ({"budget": "0"}, "monthlyBudgetUsd"),
        ({"name": "Bad_Name"}, "is not a valid account name"),
        ({"quota": "7"}, "over its quota of 7"),
    ],
)
def test_each_refusal_names_why_and_writes_nothing(tmp_path, options, message):
    for path in (*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"):
        shutil.copy(path, tmp_path)
    before = _files(tmp_path)
    values = {
        "name": "sandbox",
        "ou": "NonProduction",
        "email": "aws+sandbox@diagnyx.ai",
        "environment": "development",
        "budget": "50",
        "quota": "10",
        **options,
    }
    result = invoke(
        "accounts",
        "add",
        values["name"],
        *("--ou", values["ou"], "--email", values["email"]),
        *("--environment", values["environment"], "--budget", values["budget"]),
        *("--quota", values["quota"], "--apply", "--project-dir", str(tmp_path)),
    )
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and "nothing written" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _files(tmp_path) == before


def test_an_existing_stack_file_is_never_overwritten(project):
    (project / "Pulumi.sandbox.yaml").write_text("config: {}\n")
    # A file of an account the organization does not have: the project itself is refused.
    with pytest.raises((AddRefused, ConfigError)):
        add(project, SANDBOX, apply=True, quota=10)
    assert (project / "Pulumi.sandbox.yaml").read_text() == "config: {}\n"


def test_a_planted_link_is_not_followed(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "target"
    outside.write_text("untouched\n")
    for name in ("Pulumi.management.yaml.partial", ".Pulumi.management.yaml.partial"):
        (project / name).symlink_to(outside)
    add(project, SANDBOX, apply=True, quota=10)
    assert outside.read_text() == "untouched\n"
    assert not (project / "Pulumi.management.yaml").is_symlink()


def test_an_added_and_a_retired_account_rehearsed_from_nothing(tmp_path):
    """End to end: `accounts add` vends sandbox and `accounts retire` retires uat in the stack
    files; the documented sequence, rehearsed from an empty management account, creates sandbox
    in its OU with its baseline (deployed with the workloads, once sync has recorded its ID in
    the management file) and uat in the Suspended OU under its SCP, with no assignment; the
    checklist of both passes and nothing has drifted."""
    from diagnyx_infra.ops.retirement import retire
    from diagnyx_infra.rehearsal.rehearse import rehearse

    project = edited_project(tmp_path, _members_list_no_ids)
    add(project, SANDBOX, apply=True, quota=10)
    retire(project, "uat", apply=True)
    worlds: list = []
    held: dict = {}

    def before_step(step, work, world):
        worlds[:] = [world]

    def on_progress(advance):
        if advance.step == "checklist":  # the emulated AWS is still there
            held.update(_placement(worlds[0]))

    result = rehearse(["management", "security", "sandbox", "uat"], project, on_progress,
                      before_step=before_step)  # fmt: skip
    assert result.failure is None, str(result.failure)
    # Deployed with the workloads, after uat (the sequence's own), once each.
    assert [d.stack for d in result.stacks if d.stack in ("sandbox", "uat")] == ["uat", "sandbox"]
    failed = [f for f in result.findings if f.status == "fail"]
    assert failed == [], failed
    checked = {f.account for f in result.findings}
    assert {"sandbox", "uat"} <= checked
    assert result.drift is not None and result.drift.drifts == []
    # sandbox has its OU's access; no one is assigned to the retired uat.
    assert held["diagnyx-sandbox"] == (
        "NonProduction",
        ["Administrator", "Auditor", "DevOps", "Developer"],
    )
    assert held["diagnyx-uat"] == ("Suspended", [])
    assert held["Suspended policies"] >= {"DiagnyxSuspendedAccount"}


def _placement(world) -> dict:
    """Each account's OU and the permission sets assigned in it, read from the emulated
    organization and Identity Center, and the Suspended OU's SCPs."""
    organizations = world.management.client("organizations")
    sso = world.management.client("sso-admin")
    instance = sso.list_instances()["Instances"][0]["InstanceArn"]
    sets = {
        arn: sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)[
            "PermissionSet"
        ]["Name"]
        for arn in sso.list_permission_sets(InstanceArn=instance)["PermissionSets"]
    }
    root = organizations.list_roots()["Roots"][0]["Id"]
    units = organizations.list_organizational_units_for_parent(ParentId=root)
    names = {o["Id"]: o["Name"] for o in units["OrganizationalUnits"]}
    placed: dict = {}
    for account in organizations.list_accounts()["Accounts"]:
        parents = organizations.list_parents(ChildId=account["Id"])["Parents"]
        assigned = sorted(
            name
            for arn, name in sets.items()
            if sso.list_account_assignments(
                InstanceArn=instance, AccountId=account["Id"], PermissionSetArn=arn
            )["AccountAssignments"]
        )
        placed[account["Name"]] = (names.get(parents[0]["Id"], "root"), assigned)
    suspended = next(i for i, n in names.items() if n == "Suspended")
    policies = organizations.list_policies_for_target(
        TargetId=suspended, Filter="SERVICE_CONTROL_POLICY"
    )["Policies"]
    placed["Suspended policies"] = {p["Name"] for p in policies}
    return placed
