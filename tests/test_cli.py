"""`python -m diagnyx_infra plan` through its real entry point, as the README runs it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from diagnyx_infra.engine.runner import PROJECT_DIR
from tests.helpers import ALL_STACKS


def diagnyx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diagnyx_infra", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, tmp_path)
    return tmp_path


def test_plan_all_prints_every_stack_in_deployment_order():
    result = diagnyx("plan", "--all")
    assert result.returncode == 0, result.stderr
    positions = [result.stdout.index(f"stack {stack} ") for stack in ALL_STACKS]
    assert positions == sorted(positions)


def test_plan_management_json_counts_the_organization():
    result = diagnyx("plan", "management", "--json")
    assert result.returncode == 0, result.stderr
    (stack,) = json.loads(result.stdout)
    counts = stack["countsByType"]
    assert counts["aws:organizations/organization:Organization"] == 1
    assert counts["aws:organizations/organizationalUnit:OrganizationalUnit"] == 4
    assert counts["aws:organizations/account:Account"] == 6
    assert counts["aws:organizations/policy:Policy"] == 7  # six SCPs and the tag policy
    assert counts["aws:organizations/policyAttachment:PolicyAttachment"] == 7
    accounts = {r["name"]: r for r in stack["resources"] if r["type"].endswith("Account")}
    assert accounts["organization-account-prod"]["account"] == "management (111111111111)"
    assert accounts["organization-account-prod"]["protect"] is True


def test_bad_config_exits_2_with_the_message_and_no_traceback(project_copy):
    dev = project_copy / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("monthlyLimitUsd: 200", "monthlyLimitUsd: -200"))
    result = diagnyx("plan", "dev", "--project-dir", str(project_copy))
    assert result.returncode == 2
    assert "diagnyx:budget.monthlyLimitUsd: Input should be greater than 0" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_stack_and_missing_argument_are_usage_errors():
    assert diagnyx("plan", "sandbox").returncode == 2
    assert diagnyx("plan").returncode == 2
