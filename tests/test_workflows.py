"""The delivery pipeline: workflows validate against GitHub's schema, and their branch-to-stack
mapping, stacks and permissions match the program."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from diagnyx_infra.config.stack_files import stack_names
from diagnyx_infra.delivery import DEPLOY_BRANCHES, github_deploy_subject, needs_approval
from diagnyx_infra.engine.runner import PROJECT_DIR
from tests.test_cli import diagnyx

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
ACTION = PROJECT_DIR / ".github" / "actions" / "pulumi-up" / "action.yml"
CURRENT_MAJORS = {
    "actions/checkout": "v6",
    "actions/setup-python": "v6",
    "aws-actions/configure-aws-credentials": "v5",
    "pulumi/actions": "v7",
}


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


@pytest.fixture(scope="module")
def deploy():
    return load(WORKFLOWS / "deploy.yml")


@pytest.fixture(scope="module")
def pull_request():
    return load(WORKFLOWS / "pull-request.yml")


def check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
    )


def test_workflows_match_githubs_schema():
    result = check_jsonschema("vendor.github-workflows", *sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    result = check_jsonschema("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_pushes_trigger_exactly_the_deploy_branches(deploy):
    assert sorted(deploy["on"]["push"]["branches"]) == sorted(DEPLOY_BRANCHES.values())


def test_every_stack_file_can_be_previewed_and_dispatched(deploy, pull_request):
    stacks = set(stack_names(PROJECT_DIR))
    assert set(pull_request["jobs"]["preview"]["strategy"]["matrix"]["stack"]) == stacks
    assert set(deploy["on"]["workflow_dispatch"]["inputs"]["stack"]["options"]) == stacks


@pytest.mark.parametrize(
    ("branch", "stack", "approval"),
    [("develop", "dev", "false"), ("staging", "staging", "false"), ("main", "prod", "true")],
)
def test_branch_to_stack_mapping_through_the_cli(branch, stack, approval):
    result = diagnyx("ci-target", "--branch", branch)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["stack"] == stack
    assert lines["approval"] == approval
    assert lines["backend"] == f"s3://diagnyx-pulumi-state-{lines['account_id']}-us-east-1"


def test_a_feature_branch_deploys_nothing():
    assert diagnyx("ci-target", "--branch", "feature/x").returncode == 2


def test_approval_jobs_use_the_environment_the_trust_policy_expects(deploy):
    approved = deploy["jobs"]["deploy-approved"]
    assert approved["environment"] == "${{ needs.target.outputs.stack }}"
    for stack in ("prod", "uat", "management", "security", "shared"):
        assert needs_approval(stack)
        assert github_deploy_subject("repo:o/r", stack) == f"repo:o/r:environment:{stack}"
    branch = deploy["jobs"]["deploy-branch"]
    assert "environment" not in branch
    assert github_deploy_subject("repo:o/r", "dev") == "repo:o/r:ref:refs/heads/develop"


def test_deployments_of_one_stack_never_overlap(deploy):
    for name in ("deploy-branch", "deploy-approved"):
        concurrency = deploy["jobs"][name]["concurrency"]
        assert concurrency["group"] == "deploy-${{ needs.target.outputs.stack }}"
        assert concurrency["cancel-in-progress"] is False


def test_least_permissions(deploy, pull_request):
    for workflow in (deploy, pull_request):
        assert workflow["permissions"] == {"contents": "read"}
        for name, job in workflow["jobs"].items():
            granted = job.get("permissions", {})
            assert set(granted) <= {"contents", "id-token", "pull-requests"}, name
            if "id-token" in granted:
                assert any("configure-aws-credentials" in str(s) for s in _steps(job)) or any(
                    "pulumi-up" in str(s) for s in _steps(job)
                ), name


def _steps(job: dict) -> list:
    return job.get("steps", [])


def test_actions_pinned_to_current_major_versions():
    files = [*WORKFLOWS.glob("*.yml"), ACTION]
    uses = [u for f in files for u in re.findall(r"uses:\s*(\S+)", f.read_text())]
    assert uses
    for use in uses:
        if use.startswith("./"):
            continue
        action, version = use.split("@")
        assert CURRENT_MAJORS.get(action) == version, use


def test_roles_match_the_baseline():
    pull_request_text = (WORKFLOWS / "pull-request.yml").read_text()
    action_text = ACTION.read_text()
    assert ":role/DiagnyxCICDPreview" in pull_request_text
    assert ":role/DiagnyxCrossAccountCICD" in action_text
    # No hard-coded external ID or single ACCOUNT_ID secret (the guide's example does both).
    for text in (pull_request_text, action_text, (WORKFLOWS / "deploy.yml").read_text()):
        assert "external-id" not in text.lower()
        assert "secrets.ACCOUNT_ID" not in text


def test_every_preview_runs_the_policy_pack_with_its_stacks_config(pull_request):
    steps = pull_request["jobs"]["preview"]["steps"]
    (preview,) = [s for s in steps if s.get("with", {}).get("command") == "preview"]
    assert preview["with"]["policyPacks"] == "policy-pack"
    assert preview["with"]["policyPackConfigs"] == "policy-config.json"
    assert (PROJECT_DIR / "policy-pack" / "PulumiPolicy.yaml").exists()
    assert any("./run policy-config" in s.get("run", "") for s in steps)


def test_pull_requests_get_the_cost_estimate_and_its_change_against_main(pull_request):
    job = pull_request["jobs"]["cost"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "cost estimate --all --json" in script
    assert "--compare base-cost.json" in script
    assert "gh pr comment" in script
    (base,) = [s for s in job["steps"] if s.get("with", {}).get("path") == "base"]
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
