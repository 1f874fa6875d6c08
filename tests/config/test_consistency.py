"""Stack files cannot disagree: Pulumi.management.yaml is the organization's source of truth, and
every entry point (the Pulumi program for any stack, plan, cost estimate, rehearse, ci-target,
policy-config and the operations commands) refuses a disagreement before doing anything, naming
both files and the key."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diagnyx_infra.cli import app
from diagnyx_infra.config.consistency import account_ids_by_file, disagreements
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from diagnyx_infra.errors import ConfigError
from tests.helpers import ALL_STACKS, dump_yaml, load_yaml, spy_registrations

Edit = Callable[[Path], None]


def test_the_repository_stack_files_agree():
    assert disagreements(PROJECT_DIR) == []


def test_every_stack_file_names_all_seven_accounts():
    for file_name, ids in account_ids_by_file(PROJECT_DIR).items():
        assert set(ids) == set(ALL_STACKS), file_name


def _edit_config(stack: str, change: Callable[[dict], None]) -> Edit:
    def apply(project: Path) -> None:
        path = project / f"Pulumi.{stack}.yaml"
        data = load_yaml(path.read_text())
        change(data["config"])
        path.write_text(dump_yaml(data, sort_keys=False))

    return apply


def _relabel_prod_and_give_developers_prod(config: dict) -> None:
    config["diagnyx:organization"]["accounts"]["prod"]["environment"] = "uat"
    developers = next(
        a for a in config["diagnyx:identityCenter"]["assignments"] if a["group"] == "Developers"
    )
    developers["targets"].append("prod")


def _copy_dev_as(name: str) -> Edit:
    def apply(project: Path) -> None:
        data = load_yaml((project / "Pulumi.dev.yaml").read_text())
        data["config"]["diagnyx:accountIds"][name] = "888888888888"
        for key in ("diagnyx:network", "diagnyx:networks"):  # valid alone: no VPC
            data["config"].pop(key)
        (project / f"Pulumi.{name}.yaml").write_text(dump_yaml(data))

    return apply


# case -> (edit of a copy of the project, what the one problem says)
DISAGREEMENTS: dict[str, tuple[Edit, str]] = {
    "a member file's ID for another account": (
        _edit_config("dev", lambda c: c["diagnyx:accountIds"].update(prod="999999999999")),
        "Pulumi.dev.yaml diagnyx:accountIds.prod: '999999999999', but Pulumi.management.yaml "
        "(the source of truth) says '777777777777'",
    ),
    "the shared file granting pulls to a foreign account": (
        _edit_config("shared", lambda c: c["diagnyx:accountIds"].update(dev="999999999999")),
        "Pulumi.shared.yaml diagnyx:accountIds.dev: '999999999999', but Pulumi.management.yaml",
    ),
    "the organization's budget for an account differs from its own": (
        _edit_config(
            "management",
            lambda c: c["diagnyx:organization"]["accounts"]["uat"].update(monthlyBudgetUsd=350),
        ),
        "Pulumi.uat.yaml diagnyx:budget.monthlyLimitUsd: 300, but Pulumi.management.yaml "
        "diagnyx:organization.accounts.uat.monthlyBudgetUsd is 350",
    ),
    "a network map that differs from the VPC's own file": (
        _edit_config("prod", lambda c: c["diagnyx:networks"]["dev"].update(cidr="10.11.0.0/16")),
        "Pulumi.prod.yaml diagnyx:networks.dev: cidr 10.11.0.0/16, environment development, but "
        "Pulumi.dev.yaml says cidr 10.10.0.0/16, environment development",
    ),
    "two VPCs that overlap, in files that do not list each other": (
        _edit_config(
            "uat",
            lambda c: (
                c["diagnyx:networks"].pop("staging"),
                c["diagnyx:networks"]["uat"].update(cidr="10.20.128.0/17"),
            ),
        ),
        "the VPCs of staging (10.20.0.0/16) and uat (10.20.128.0/17, Pulumi.uat.yaml) overlap",
    ),
    "prod relabelled uat in the management file only": (
        _edit_config("management", _relabel_prod_and_give_developers_prod),
        "Pulumi.prod.yaml diagnyx:environment: 'production', but Pulumi.management.yaml "
        "diagnyx:organization.accounts.prod.environment is 'uat'",
    ),
    "a stack file for an account outside the organization": (
        _copy_dev_as("qa"),
        "Pulumi.qa.yaml: 'qa' is not an account of the organization",
    ),
    "no management file": (
        lambda project: (project / "Pulumi.management.yaml").unlink(),
        "Pulumi.management.yaml: missing; it describes the organization",
    ),
    "a region the region guardrail denies": (
        _edit_config(
            "dev", lambda c: c.update({"diagnyx:allowedRegions": ["us-east-1", "eu-west-1"]})
        ),
        "Pulumi.dev.yaml diagnyx:allowedRegions: eu-west-1 not in Pulumi.management.yaml",
    ),
    "another repository deploying one stack": (
        _edit_config("staging", lambda c: c.update({"diagnyx:githubRepository": "evil/fork"})),
        "Pulumi.staging.yaml diagnyx:githubRepository: 'evil/fork', but Pulumi.management.yaml "
        "says 'diagnyx/diagnyx-infra'",
    ),
}


def _project(tmp_path: Path, edit: Edit) -> Path:
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, tmp_path)
    edit(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", DISAGREEMENTS, ids=list(DISAGREEMENTS))
def test_the_program_of_any_stack_refuses_before_registering(case, tmp_path, monkeypatch):
    edit, expected = DISAGREEMENTS[case]
    project = _project(tmp_path, edit)
    registered = spy_registrations(monkeypatch)
    # `pulumi preview` / `pulumi up` of an untouched stack refuses too: the files are one whole.
    for stack in ("security", "dev"):
        with pytest.raises(ConfigError) as raised:
            run_stack(stack, project)
        assert any(expected in p for p in raised.value.problems), raised.value.problems
    assert [t for t in registered if t != "pulumi:pulumi:Stack"] == []


ENTRY_POINTS = {
    "plan": ["plan", "--all"],
    "cost estimate": ["cost", "estimate", "--all"],
    "rehearse": ["rehearse", "--all"],
    "ci-target": ["ci-target", "security"],
    "policy-config": ["policy-config", "security"],
    "checklist": ["checklist", "--all"],
    "access": ["access"],
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(
    "case",
    [
        "a member file's ID for another account",
        "prod relabelled uat in the management file only",
        "a network map that differs from the VPC's own file",
    ],
)
def test_every_command_refuses_with_exit_2_naming_both_files(entry, case, tmp_path):
    edit, expected = DISAGREEMENTS[case]
    project = _project(tmp_path, edit)
    result = CliRunner().invoke(app, [*ENTRY_POINTS[entry], "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_accounts_sync_repairs_ids_instead_of_refusing_them(tmp_path):
    from diagnyx_infra.ops.landing_zone import LandingZone

    project = _project(tmp_path, DISAGREEMENTS["a member file's ID for another account"][0])
    with pytest.raises(ConfigError):
        LandingZone.load(project)
    zone = LandingZone.load(project, check_account_ids=False)
    assert zone.account_ids["prod"] == "777777777777"  # the management file's
