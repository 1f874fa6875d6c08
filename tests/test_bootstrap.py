"""The first deploy from an empty management account: what runs in which step is decided by config
(pending account IDs, settings that wait for AWS) and by what exists (Identity Center), never by
an exception inside Pulumi; what waits is skipped with one warning naming the step."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from diagnyx_infra.deploy_sequence import SEQUENCE, render_markdown
from diagnyx_infra.engine.recording import RecordingMocks
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from diagnyx_infra.errors import ConfigError
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.bootstrap import (
    EXAMPLE_MANAGEMENT_ID,
    RECORDS_DIR,
    AlreadyInOrganization,
    WouldReplaceOrganization,
    start,
)
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from tests.helpers import MEMBER_STACKS, edited_config, edited_project

ROLE = "aws:iam/role:Role"
WORKLOADS = ("dev", "staging", "uat", "prod")


def _pending(*names: str):
    def edit(config):
        for name in names:
            config["diagnyx:accountIds"][name] = "pending"

    return edit


def _pending_everywhere(tmp_path, *names: str):
    """The project as `bootstrap start` leaves it: every file marks the same accounts pending."""
    return edited_project(tmp_path, lambda stack, config: _pending(*names)(config))


def _everything_in(recording) -> str:
    return json.dumps([r.inputs for r in recording.resources])


def test_first_management_deploy_trusts_and_grants_no_pending_account(tmp_path):
    recording = run_stack("management", _pending_everywhere(tmp_path, *MEMBER_STACKS))
    text = _everything_in(recording)
    real = edited_config("management", lambda c: None).values["diagnyx:accountIds"]
    for name in MEMBER_STACKS:
        assert json.loads(real)[name] not in text, name  # the example IDs appear nowhere
    roles = {r.inputs["name"]: r for r in recording.of_type(ROLE)}
    assert "DiagnyxAuditReadOnly" not in roles
    trust = json.loads(roles["DiagnyxCrossAccountCICD"].inputs["assumeRolePolicy"])
    assert [s["Sid"] for s in trust["Statement"]] == ["GitHubActionsDeployRef"]
    # The organization still creates every member account, in its OU, with its own tags.
    accounts = recording.of_type("aws:organizations/account:Account")
    assert len(accounts) == len(MEMBER_STACKS)
    waits = [w for w in recording.warnings if "pending" in w]
    assert waits and all('"Record the member account IDs"' in w for w in waits)


def test_a_stack_whose_own_account_is_pending_is_refused_before_anything(tmp_path):
    with pytest.raises(ConfigError) as refused:
        run_stack("dev", _pending_everywhere(tmp_path, "dev"))
    assert "diagnyx:accountIds.dev: is 'pending'" in str(refused.value)
    assert "accounts sync" in str(refused.value)


def test_shared_services_grant_pulls_only_to_known_accounts(tmp_path):
    recording = run_stack("shared", _pending_everywhere(tmp_path, "prod"))
    prod = json.loads(edited_config("shared", lambda c: None).values["diagnyx:accountIds"])["prod"]
    assert prod not in _everything_in(recording)
    assert any("image pulls for account 'prod'" in w for w in recording.warnings)


class NoIdentityCenter(RecordingMocks):
    def call(self, args):
        if args.token == "aws:ssoadmin/getInstances:getInstances":
            return {"arns": [], "identityStoreIds": [], "id": "us-east-1"}, []
        return super().call(args)


def test_identity_center_not_enabled_is_skipped_with_one_warning():
    recording = run_stack("management", mocks=NoIdentityCenter())
    assert not recording.of_type("aws:identitystore/group:Group")
    assert not recording.of_type("aws:ssoadmin/permissionSet:PermissionSet")
    assert "ssoPortalUrl" not in recording.outputs
    (warning,) = [w for w in recording.warnings if "Identity Center" in w]
    assert '"Enable IAM Identity Center"' in warning
    # Everything else of the organization is still there.
    assert recording.of_type("aws:organizations/organization:Organization")


def test_member_accounts_carry_their_own_environment_tag(management):
    accounts = management.of_type("aws:organizations/account:Account")
    environments = {a.inputs["name"]: a.inputs["tags"]["Environment"] for a in accounts}
    assert environments["diagnyx-prod"] == "production"
    assert environments["diagnyx-dev"] == "development"
    assert "management" not in environments.values()


def test_trusted_services_are_config_and_must_keep_what_the_program_needs():
    extra = "config.amazonaws.com"

    def add_config(config):
        services = ["cloudtrail.amazonaws.com", "sso.amazonaws.com", extra]
        config["diagnyx:organization"]["trustedServices"] = services

    recording = run_stack("management", config=edited_config("management", add_config))
    (org,) = recording.of_type("aws:organizations/organization:Organization")
    assert extra in org.inputs["awsServiceAccessPrincipals"]

    def drop_sso(config):
        config["diagnyx:organization"]["trustedServices"] = ["cloudtrail.amazonaws.com"]

    with pytest.raises(ConfigError, match=r"trustedServices: must include sso\.amazonaws\.com"):
        run_stack("management", config=edited_config("management", drop_sso))


def test_certificates_wait_for_the_delegation_and_zones_are_kept(recordings):
    shared = recordings["shared"]
    (delegation_set,) = shared.of_type("aws:route53/delegationSet:DelegationSet")
    zones = shared.of_type("aws:route53/zone:Zone")
    assert delegation_set.protect and delegation_set.retain_on_delete
    assert all(z.protect and z.retain_on_delete for z in zones)
    (parent,) = [z for z in zones if z.inputs["name"] == "diagnyx.ai"]
    assert parent.inputs["delegationSetId"] == delegation_set.id
    assert "nameServers" in shared.outputs

    def unconfirmed(config):
        config["diagnyx:sharedServices"]["delegationConfirmed"] = False

    waiting = run_stack("shared", config=edited_config("shared", unconfirmed))
    assert not waiting.of_type("aws:acm/certificate:Certificate")
    assert not waiting.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert len(waiting.of_type("aws:route53/zone:Zone")) == len(zones)
    (warning,) = [w for w in waiting.warnings if "certificates wait" in w]
    assert '"Delegate the domain"' in warning


def _project_copy(tmp_path: Path) -> Path:
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, tmp_path)
    return tmp_path


def test_bootstrap_start_makes_the_files_those_of_a_new_organization(tmp_path):
    project = _project_copy(tmp_path)
    with emulated_aws():
        caller = Aws.from_environment("us-east-1")
        dry = start(caller, project, write=False)
        assert (
            dry
            and (project / "Pulumi.dev.yaml").read_text()
            == (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
        )
        start(caller, project, write=True)
        for path in project.glob("Pulumi.*.yaml"):
            config = yaml.safe_load(path.read_text())["config"]
            ids = config["diagnyx:accountIds"]
            assert ids.pop("management") == caller.account_id
            assert set(ids.values()) == {"pending"}, path.name
        management = yaml.safe_load((project / "Pulumi.management.yaml").read_text())["config"]
        assert management["diagnyx:costGovernance"]["servicesMonitorArn"] is None
        assert management["diagnyx:costGovernance"]["activateCostAllocationTags"] is False
        shared = yaml.safe_load((project / "Pulumi.shared.yaml").read_text())["config"]
        assert shared["diagnyx:sharedServices"]["delegationConfirmed"] is False
        assert "# One delegated zone" in (project / "Pulumi.shared.yaml").read_text()
        assert start(caller, project, write=True) == []  # nothing left to change

        (record,) = (project / RECORDS_DIR).glob("bootstrap-start-*.json")
        recorded = {(e["file"], e["setting"]): e for e in json.loads(record.read_text())}
        assert recorded[("Pulumi.dev.yaml", "accountIds.prod")]["before"] == "777777777777"
        assert recorded[("Pulumi.shared.yaml", "sharedServices.delegationConfirmed")] == {
            "file": "Pulumi.shared.yaml",
            "setting": "sharedServices.delegationConfirmed",
            "before": True,
            "after": False,
        }

        caller.client("organizations").create_organization(FeatureSet="ALL")
        with pytest.raises(AlreadyInOrganization, match="accounts sync"):
            start(caller, project, write=True)


def test_bootstrap_start_does_not_reset_another_organizations_files(tmp_path):
    project = _project_copy(tmp_path)
    live = "987654321098"  # the files of a live organization, run with the wrong credentials
    for path in project.glob("Pulumi.*.yaml"):
        path.write_text(
            path.read_text().replace('management: "111111111111"', f'management: "{live}"')
        )
    before = {p.name: p.read_text() for p in project.glob("Pulumi.*.yaml")}
    with emulated_aws():
        caller = Aws.from_environment("us-east-1")
        with pytest.raises(WouldReplaceOrganization, match=f"--replacing {live}"):
            start(caller, project, write=True)
        assert {p.name: p.read_text() for p in project.glob("Pulumi.*.yaml")} == before
        assert not (project / RECORDS_DIR).exists()
        assert start(caller, project, write=False, replacing=live)  # confirmed: allowed


def test_the_repository_files_describe_the_example_organization():
    ids = yaml.safe_load((PROJECT_DIR / "Pulumi.management.yaml").read_text())["config"]
    assert ids["diagnyx:accountIds"]["management"] == EXAMPLE_MANAGEMENT_ID


def test_statements_whose_every_principal_is_pending_are_left_out(tmp_path):
    def only_security_reads_costs(stack, config):
        config["diagnyx:accountIds"]["security"] = "pending"
        if stack == "management":
            config["diagnyx:costGovernance"]["costExplorerAccess"] = [
                {"account": "security", "role": "Auditors"}
            ]

    (tmp_path / "security").mkdir()
    management = run_stack(
        "management", edited_project(tmp_path / "security", only_security_reads_costs)
    )
    names = {r.inputs["name"] for r in management.of_type(ROLE)}
    assert "DiagnyxCostExplorerAccess" not in names
    assert any("DiagnyxCostExplorerAccess waits" in w for w in management.warnings)

    (tmp_path / "workloads").mkdir()
    shared = run_stack("shared", _pending_everywhere(tmp_path / "workloads", *WORKLOADS))
    (policy,) = shared.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy")[:1]
    sids = [s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]]
    assert "WorkloadAccountsPull" not in sids
    (key,) = shared.of_type("aws:kms/key:Key")
    key_sids = [s["Sid"] for s in json.loads(key.inputs["policy"])["Statement"]]
    assert "WorkloadAccountsDecryptImages" not in key_sids
    assert '"AWS": []' not in _everything_in(shared)


def test_readme_deploying_for_real_is_the_sequence():
    readme = (PROJECT_DIR / "README.md").read_text()
    begin, end = "<!-- deploy-sequence:begin -->\n", "<!-- deploy-sequence:end -->"
    documented = readme[readme.index(begin) + len(begin) : readme.index(end)]
    assert documented == render_markdown(), "run `./run deploy-sequence` and paste its output"
    for step in SEQUENCE:
        for stack in step.stacks:
            assert f"pulumi up -s {stack}" in documented


def test_pulumi_cli_finds_the_dependencies_on_a_fresh_clone():
    """`runtime.options.toolchain: uv` with `virtualenv: .venv`: before each run the Pulumi CLI runs
    `uv sync` into .venv from uv.lock, which holds every version with its hashes; requirements.lock,
    which `./run` installs, is exported from it (tests/test_workflows.py keeps them equal)."""
    import tomllib

    runtime = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"] == {"toolchain": "uv", "virtualenv": ".venv"}
    locked = {p["name"]: p for p in tomllib.loads((PROJECT_DIR / "uv.lock").read_text())["package"]}
    for package in ("pulumi", "pulumi-aws", "pydantic", "pyyaml", "ruamel-yaml"):
        assert locked[package]["wheels"], package
        assert all(wheel["hash"].startswith("sha256:") for wheel in locked[package]["wheels"])
    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    # Nothing to build (the program imports its package from the folder, below), and `uv sync`
    # installs the `dev` group by default: it neither needs the network on a current .venv nor
    # strips the tools `./run` installed.
    assert pyproject["tool"]["uv"]["package"] is False
    assert "dev" in pyproject["dependency-groups"]
    requirements = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    assert [line for line in requirements if not line.startswith("#")] == ["-r requirements.lock"]
    # The program imports its package from the project folder, not from an installed copy.
    probe = subprocess.run(
        ["python3", "-S", "-c", "import sys; sys.path.insert(0, '.'); import diagnyx_infra"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
