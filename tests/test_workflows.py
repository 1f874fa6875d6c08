"""The delivery pipeline: workflows validate against GitHub's schema, and their branch-to-stack
mapping, stacks and permissions match the program."""

import datetime
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from diagnyx_infra import naming
from diagnyx_infra.config.stack_files import stack_names
from diagnyx_infra.delivery import (
    BRANCH_DEPLOYED,
    DEPLOY_BRANCHES,
    DRIFT_ENVIRONMENT,
    GATED_BRANCH,
    deploy_ref,
    github_deploy_subject,
    github_drift_subject,
    needs_approval,
)
from diagnyx_infra.engine.runner import PROJECT_DIR
from tests.test_cli import invoke

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
ACTION = PROJECT_DIR / ".github" / "actions" / "pulumi-up" / "action.yml"
CURRENT_MAJORS = {
    "actions/checkout": "v6",
    "actions/setup-python": "v6",
    # From v8 on setup-uv publishes immutable release tags only, no major tag.
    "astral-sh/setup-uv": "v8.3.2",
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
    """`check-jsonschema --builtin-schema <schema> <paths>`, its click command run in this
    process (a process of its own costs a fifth of a second to start)."""
    from check_jsonschema import main
    from ruamel.yaml import SafeConstructor

    args = ["--builtin-schema", schema, *map(str, paths)]
    # check-jsonschema has ruamel.yaml's safe loader read timestamps as text by changing the
    # loader's table in place, for the whole process: it is put back as found.
    constructors = dict(SafeConstructor.yaml_constructors)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        SafeConstructor.yaml_constructors.clear()
        SafeConstructor.yaml_constructors.update(constructors)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_workflows_match_githubs_schema():
    result = check_jsonschema("vendor.github-workflows", *sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    result = check_jsonschema("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_leaves_yaml_loading_as_it_was():
    from ruamel.yaml import YAML

    check_jsonschema("vendor.github-actions", ACTION)
    assert isinstance(YAML(typ="safe").load("when: 2001-12-14")["when"], datetime.date)


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
    result = invoke("ci-target", "--branch", branch)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["stack"] == stack
    assert lines["approval"] == approval
    assert lines["backend"] == f"s3://diagnyx-pulumi-state-{lines['account_id']}-us-east-1"


def test_a_feature_branch_deploys_nothing():
    # In process, as the mapping above (test_cli.py runs the console script's exit 2 for a
    # refused input, and test_run_passes_paths_relative_to_where_the_user_stands runs
    # `./run ci-target` as the workflow does).
    result = invoke("ci-target", "--branch", "feature/x")
    assert result.returncode == 2
    assert "feature/x" in result.stderr


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


def test_least_permissions(deploy, pull_request, drift):
    for workflow in (deploy, pull_request, drift):
        assert workflow["permissions"] == {"contents": "read"}
        for name, job in workflow["jobs"].items():
            granted = job.get("permissions", {})
            assert set(granted) <= {"actions", "contents", "id-token", "pull-requests", "issues"}
            if "issues" in granted:  # the drift issue, nothing else
                assert workflow is drift and name == "drift"
            if "actions" in granted:  # reading an environment's protection rules, nothing more
                assert granted == {"actions": "read"}, name
                assert all("gh api" in s.get("run", "") for s in _steps(job)), name
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
    # `--edit-last` edits whatever the token wrote last, such as a preview.
    assert "--edit-last" not in script
    (base,) = [s for s in job["steps"] if s.get("with", {}).get("path") == "base"]
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    estimate = _step(job, "Estimate the base branch and this pull request")
    assert estimate["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    post = _step(job, "Post the estimate")
    assert post["env"]["MARKER"] == COST_MARKER
    assert post["env"]["REPO"] == "${{ github.repository }}"
    assert post["env"]["PR"] == "${{ github.event.pull_request.number }}"


# --- Dependencies: one lock, installed by uv, cached between jobs ----------------------------

COST_MARKER = "<!-- diagnyx:cost -->"
UV = Path(sys.executable).parent / "uv"  # the locked uv, installed with the dev group
# The hashed requirement files exported from uv.lock, and what `uv export` is given for each.
EXPORTS = {
    "requirements.lock": ["--no-emit-project"],
    "policy-pack/requirements.txt": ["--no-emit-project", "--only-group", "policy"],
}


def uv(*args: str) -> subprocess.CompletedProcess:
    """The locked uv on the project, offline, ignoring the user's uv configuration."""
    return subprocess.run(
        [str(UV), "--no-config", "--offline", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )


def test_uv_lock_holds_the_pins_of_pyproject():
    """The versions are chosen in pyproject.toml only; uv.lock is their resolution, with hashes."""
    result = uv("lock", "--check")
    assert result.returncode == 0, result.stderr  # run `uv lock` (then the exports below)


@pytest.mark.parametrize("path", sorted(EXPORTS))
def test_hashed_requirements_are_exported_from_uv_lock(path):
    """requirements.lock (`./run`, pip users) and the policy pack's requirements hold exactly what
    uv.lock holds for them, hashes included, so `./run`, Pulumi and CI install the same files."""
    args = EXPORTS[path]
    header, command, body = (PROJECT_DIR / path).read_text().split("\n", 2)
    assert header == "# This file was autogenerated by uv via the following command:"
    assert command == f"#    uv export --frozen {' '.join(args)} -o {path}"
    result = uv("export", "--frozen", "--quiet", "--no-header", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == body, f"run `uv export --frozen {' '.join(args)} -o {path}`"
    requirements = [line for line in body.splitlines() if line and not line.startswith(" ")]
    assert requirements
    assert all(line.endswith("\\") for line in requirements), "every requirement has its hashes"


def test_run_installs_the_lock_with_uv_and_hashes():
    """`./run` installs requirements.lock with uv, checking every hash; the uv it bootstraps with
    pip when none is at hand is the locked one, hashes checked too."""
    script = (PROJECT_DIR / "run").read_text()
    assert re.search(r"pip sync [^\n]*--require-hashes \"\$LOCK\"", script)
    assert "--require-hashes --target" in script  # pip, bootstrapping uv
    assert '"$UV" venv' in script
    assert "LOCK=requirements.lock" in script
    lock = (PROJECT_DIR / "requirements.lock").read_text()
    (entry,) = re.findall(r"^uv==[^\n]*(?:\n .*)*", lock, re.MULTILINE)
    assert "--hash=sha256:" in entry


def _jobs_with_steps() -> list[tuple[str, dict, list]]:
    """(name, job or action, steps) of every workflow job and of the composite action."""
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in load(path)["jobs"].items():
            found.append((f"{path.name}:{name}", job, _steps(job)))
    action = yaml.safe_load(ACTION.read_text())
    found.append(("pulumi-up", action, action["runs"]["steps"]))
    return found


def test_every_job_that_installs_gets_the_locked_uv_and_its_cache():
    """Every job that runs `./run` (which installs .venv) first sets up the uv that uv.lock pins,
    with uv's cache keyed on uv.lock: a workflow's first job saves it, the jobs after restore it."""
    checked = set()
    for name, job, steps in _jobs_with_steps():
        runs = [
            i
            for i, s in enumerate(steps)
            if re.search(r"(^|\s)(\./run|\.ci/run)\b", s.get("run", ""))
        ]
        uses_action = any(s.get("uses") == "./.github/actions/pulumi-up" for s in steps)
        if not runs:
            assert uses_action or not any("setup-uv" in s.get("uses", "") for s in steps), name
            continue
        (setup,) = [(i, s) for i, s in enumerate(steps) if "setup-uv" in s.get("uses", "")]
        index, step = setup
        assert index < runs[0], name
        options = step["with"]
        assert options["version-file"] == "uv.lock", name
        assert options["enable-cache"] is True, name
        assert options["cache-dependency-glob"] == "uv.lock", name
        assert options["prune-cache"] is False, name  # the wheels are what the other jobs reuse
        # Each workflow's first job that installs (the drift workflow has only one).
        first = name in {
            "pull-request.yml:checks",
            "deploy.yml:target",
            "drift.yml:drift",
            "maintenance.yml:maintenance",
        }
        assert options.get("save-cache", True) is first, name
        if name != "pulumi-up":
            assert "needs" in job or first, name
        checked.add(name)
    assert {
        "pull-request.yml:checks",
        "pull-request.yml:cost",
        "pull-request.yml:preview",
    } <= checked
    scheduled = {"drift.yml:drift", "maintenance.yml:maintenance"}
    assert {"deploy.yml:target", "pulumi-up", *scheduled} <= checked


def test_pull_requests_run_what_ci_runs(pull_request):
    """The `checks` job runs .ci/run itself: lint, the README's test command, the rehearsal and the
    offline plan, with nothing left to drift apart."""
    steps = _steps(pull_request["jobs"]["checks"])
    assert steps[-1]["run"] == "bash .ci/run"
    ci = (PROJECT_DIR / ".ci" / "run").read_text()
    commands = [line.split(">")[0].strip() for line in ci.splitlines() if line.startswith("./run")]
    assert commands == ["./run lint", "./run test", "./run rehearse --all", "./run plan --all"]
    readme = (PROJECT_DIR / "README.md").read_text()
    assert re.search(r"^\./run test\b", readme, re.MULTILINE)
    for name in ("cost", "preview"):
        assert _needs(pull_request["jobs"][name]) == ["checks"], name


def test_the_policy_pack_venv_gets_the_hashed_requirements(pull_request):
    step = _step(pull_request["jobs"]["preview"], "Policy pack and its config for this stack")
    assert (
        "python -m venv policy-pack/venv" in step["run"]
    )  # with pip, as the pack's toolchain expects
    assert (
        "uv pip install --quiet --python policy-pack/venv/bin/python --require-hashes "
        "-r policy-pack/requirements.txt" in step["run"]
    )


FAKE_RUN = """#!/usr/bin/env bash
# A `./run` that answers `cost estimate` as told by the test ($FAKE_BASE / $FAKE_HEAD).
side=$( [ "$(basename "$PWD")" = base ] && echo "$FAKE_BASE" || echo "$FAKE_HEAD")
echo "Setting up .venv (first run or dependencies changed)..." >&2
case "$side:$*" in
  fail:*) echo "Error: No such command 'cost'." >&2; exit 2 ;;
  unusable:*--compare*) echo "error: --compare base-cost.json: not JSON" >&2; exit 2 ;;
  *:*--json*) echo '{"stacks": {"dev": {"monthlyUsd": 1.0}}}' ;;
  *:*--compare*) echo "estimate"; echo "Change against base-cost.json:" ;;
  *) echo "estimate" ;;
esac
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    ("base", "head", "compared"),
    [("ok", "ok", True), ("fail", "ok", False), ("ok", "unusable", False)],
)
def test_a_base_without_an_estimate_is_compared_with_nothing(
    pull_request, tmp_path, base, head, compared
):
    step = _step(pull_request["jobs"]["cost"], "Estimate the base branch and this pull request")
    (tmp_path / "base").mkdir()
    for folder in (tmp_path, tmp_path / "base"):
        (folder / "run").write_text(FAKE_RUN)
        (folder / "run").chmod(0o755)
    env = {"BASE_SHA": "0123456789abcdef", "FAKE_BASE": base, "FAKE_HEAD": head}
    result = run_step(step, env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    note = (tmp_path / "note.md").read_text()
    cost = (tmp_path / "cost.txt").read_text()
    if compared:
        assert note == "Compared with the base branch (0123456789ab).\n"
        assert "Change against base-cost.json:" in cost
    else:
        assert note.startswith("The base branch (0123456789ab) could not produce an estimate")
        assert "compared with nothing" in note
        assert ("No such command" if base == "fail" else "not JSON") in note
        assert cost == "estimate\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_estimate_step_fails_when_this_pull_request_cannot_estimate(pull_request, tmp_path):
    step = _step(pull_request["jobs"]["cost"], "Estimate the base branch and this pull request")
    (tmp_path / "base").mkdir()
    for folder in (tmp_path, tmp_path / "base"):
        (folder / "run").write_text(FAKE_RUN)
        (folder / "run").chmod(0o755)
    env = {"BASE_SHA": "0123456789abcdef", "FAKE_BASE": "ok", "FAKE_HEAD": "fail"}
    assert run_step(step, env, cwd=tmp_path).returncode != 0


FAKE_GH_COMMENTS = """#!/usr/bin/env bash
# `gh api --paginate LIST`: the comments the test stored, as two pages; `gh api --method M PATH
# -F body=@FILE`: recorded (method, path, body).
if [ "$1 $2" = "api --paginate" ]; then
  [ "$3" = "repos/o/r/issues/7/comments" ] || exit 3
  cat "$FAKE_GH_DIR/page1.json" "$FAKE_GH_DIR/page2.json"
  exit
fi
[ "$1 $2" = "api --method" ] || exit 2
[ "$5" = "-F" ] && [ "${6%%=*}" = body ] || exit 4
printf '%s %s\n' "$3" "$4" >> "$FAKE_GH_DIR/calls"
cp "${6#body=@}" "$FAKE_GH_DIR/body.md"
"""


def _stand_in_gh(tmp_path: Path, script: str) -> tuple[Path, Path]:
    """A folder holding ``script`` as `gh` (to put first on PATH), and the empty folder of the
    answers it reads and the calls it records."""
    bin_dir, answers = tmp_path / "bin", tmp_path / "answers"
    bin_dir.mkdir()
    answers.mkdir()
    (bin_dir / "gh").write_text(script)
    (bin_dir / "gh").chmod(0o755)
    return bin_dir, answers


def _comment(id_: int, login: str, body: str) -> dict:
    return {"id": id_, "user": {"login": login, "type": "Bot"}, "body": body}


PREVIEW = "#### :tropical_drink: `preview` on diagnyx/dev\n\n<details>..."


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as on GitHub-hosted runners")
@pytest.mark.parametrize(
    ("page1", "page2", "call"),
    [
        pytest.param(
            [_comment(1, "github-actions[bot]", PREVIEW)],
            [],
            "POST repos/o/r/issues/7/comments",
            id="first estimate",
        ),
        pytest.param(
            # The preview is the token's last comment: it stays as it is.
            [_comment(5, "github-actions[bot]", f"{COST_MARKER}\nold estimate")],
            [_comment(9, "github-actions[bot]", PREVIEW)],
            "PATCH repos/o/r/issues/comments/5",
            id="estimate then preview",
        ),
        pytest.param(
            # Someone quoting the marker: not the bot's comment, never edited.
            [_comment(3, "octocat", f"{COST_MARKER}\nquoted")],
            [_comment(8, "github-actions[bot]", f"{COST_MARKER}\nold estimate")],
            "PATCH repos/o/r/issues/comments/8",
            id="a person quoting the marker",
        ),
    ],
)
def test_the_cost_comment_is_updated_in_place_and_nothing_else(
    pull_request, tmp_path, page1, page2, call
):
    step = _step(pull_request["jobs"]["cost"], "Post the estimate")
    bin_dir, answers = _stand_in_gh(tmp_path, FAKE_GH_COMMENTS)
    (answers / "page1.json").write_text(json.dumps(page1))
    (answers / "page2.json").write_text(json.dumps(page2))
    (tmp_path / "note.md").write_text("Compared with the base branch (0123456789ab).\n")
    (tmp_path / "cost.txt").write_text("total $9.50\n")
    env = {
        "GH_TOKEN": "t",
        "REPO": "o/r",
        "PR": "7",
        "MARKER": COST_MARKER,
        "FAKE_GH_DIR": str(answers),
    }
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (answers / "calls").read_text() == call + "\n"
    body = (answers / "body.md").read_text()
    assert body.startswith(COST_MARKER + "\n### Fixed monthly cost\n"), body
    assert "Compared with the base branch" in body
    assert "total $9.50" in body


# --- Which ref may deploy which stack ---------------------------------------------------------

GATED_STACKS = ("prod", "uat", "management", "security", "shared")
# github.ref of a run: the deploy branches, a feature branch, a tag and a pull request's merge ref
# named like main, and a branch whose name only starts like main.
REFS = (
    *sorted({deploy_ref(stack) for stack in stack_names(PROJECT_DIR)}),
    "refs/heads/feature/x",
    "refs/heads/main-hotfix",
    "refs/tags/main",
    "refs/pull/1/merge",
)

_TOKEN = re.compile(r"\s*(?:(&&|\|\||==|!=|!|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][\w.-]*))")


def evaluate(expression: str, context: dict[str, str]) -> bool:
    """A GitHub Actions `if:` made of context names, string literals, `==`, `!=`, `!`, `&&`, `||`
    and parentheses (anything else raises). Strings compare ignoring case, as GitHub does."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"unexpected {text[pos:]!r} in {expression!r}")
        op, literal, name = match.groups()
        if op:
            tokens.append(op)
        elif literal is not None:
            tokens.append(("str", literal.replace("''", "'")))
        else:
            tokens.append(("name", name))
        pos = match.end()

    def value(token):
        kind, text = token
        if kind == "str":
            return text
        return {"true": True, "false": False}.get(text, context.get(text, KeyError))

    def unary(i):
        if tokens[i] == "!":
            v, i = unary(i + 1)
            return not v, i
        if tokens[i] == "(":
            v, i = disjunction(i + 1)
            assert tokens[i] == ")", expression
            return v, i + 1
        v = value(tokens[i])
        if v is KeyError:
            raise KeyError(f"{tokens[i][1]} (give it in the test's context)")
        return v, i + 1

    def comparison(i):
        left, i = unary(i)
        while i < len(tokens) and tokens[i] in ("==", "!="):
            op = tokens[i]
            right, i = unary(i + 1)
            assert type(left) is type(right), expression
            if isinstance(left, str):
                left, right = left.lower(), right.lower()
            left = (left == right) if op == "==" else (left != right)
        return left, i

    def conjunction(i):
        left, i = comparison(i)
        while i < len(tokens) and tokens[i] == "&&":
            right, i = comparison(i + 1)
            left = bool(left) and bool(right)
        return left, i

    def disjunction(i):
        left, i = conjunction(i)
        while i < len(tokens) and tokens[i] == "||":
            right, i = conjunction(i + 1)
            left = bool(left) or bool(right)
        return left, i

    result, end = disjunction(0)
    assert end == len(tokens), expression
    return bool(result)


def test_the_expression_reader_follows_github():
    context = {"github.ref": "refs/heads/Main"}
    assert evaluate("${{ github.ref == 'refs/heads/main' }}", context)  # case ignored
    assert evaluate("!(github.ref != 'refs/heads/main') && true", context)
    assert not evaluate("github.ref == 'refs/heads/main' && false || false", context)
    with pytest.raises(KeyError):
        evaluate("github.event_name == 'push'", context)
    with pytest.raises(ValueError):
        evaluate("startsWith(github.ref, 'refs/heads/')", context)


def _context(stack: str, ref: str) -> dict[str, str]:
    return {
        "needs.target.outputs.stack": stack,
        "needs.target.outputs.approval": "true" if needs_approval(stack) else "false",
        "github.ref": ref,
    }


def condition_holds(deploy: dict, job: str, stack: str, ref: str) -> bool:
    """The job's own `if:`, whatever the jobs it needs did."""
    return evaluate(deploy["jobs"][job].get("if", "true"), _context(stack, ref))


def jobs_that_run(deploy: dict, stack: str, ref: str) -> set[str]:
    """The jobs after `target` that start for this stack and ref (`target` succeeding): a job
    starts when its `if:` holds and every job it needs started, as GitHub skips the rest."""
    started: set[str] = set()
    seen: set[str] = set()
    for name, job in deploy["jobs"].items():
        needs = set(_needs(job))
        assert needs <= seen, f"{name} needs a job listed after it (or none such)"
        seen.add(name)
        if name == "target" or (needs <= started and condition_holds(deploy, name, stack, ref)):
            started.add(name)
    return started - {"target"}


def _needs(job: dict) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else needs


def test_gated_branch_is_main_for_every_stack_with_approval():
    assert DEPLOY_BRANCHES["prod"] == GATED_BRANCH == "main"
    for stack in stack_names(PROJECT_DIR):
        assert needs_approval(stack) == (stack in GATED_STACKS), stack
        if needs_approval(stack):
            assert deploy_ref(stack) == f"refs/heads/{GATED_BRANCH}"
        else:
            assert deploy_ref(stack) == f"refs/heads/{BRANCH_DEPLOYED[stack]}"


@pytest.mark.parametrize("stack", GATED_STACKS)
def test_gated_stacks_deploy_only_from_main(deploy, stack):
    for ref in REFS:
        started = jobs_that_run(deploy, stack, ref)
        assert "deploy-branch" not in started, (stack, ref)
        from_main = ref == f"refs/heads/{GATED_BRANCH}"
        # Each job that touches the environment is conditioned on main itself, not only through
        # the jobs it needs.
        for job in ("environment-protected", "deploy-approved"):
            assert condition_holds(deploy, job, stack, ref) == from_main, (job, stack, ref)
            assert (job in started) == from_main, (job, stack, ref)


@pytest.mark.parametrize("stack", sorted(BRANCH_DEPLOYED))
def test_dev_and_staging_deploy_only_from_their_branch(deploy, stack):
    for ref in REFS:
        started = jobs_that_run(deploy, stack, ref)
        assert not started & {"deploy-approved", "environment-protected"}, (stack, ref)
        assert ("deploy-branch" in started) == (ref == deploy_ref(stack)), (stack, ref)
        assert condition_holds(deploy, "deploy-branch", stack, ref) == (ref == deploy_ref(stack))


def _step(job: dict, name: str) -> dict:
    (step,) = [s for s in _steps(job) if s.get("name") == name]
    return step


def run_step(step: dict, env: dict[str, str], path: str | None = None, cwd: Path | None = None):
    """Runs a step's script the way a GitHub-hosted runner does: `bash -e` when the step names no
    shell, `bash -eo pipefail` for `shell: bash` (GitHub Actions, "jobs.<job_id>.steps[*].shell"),
    with the step's `env:` replaced by ``env``; the script must not hold `${{ }}` expressions."""
    assert "${{" not in step["run"]
    base = {"PATH": path or "/usr/bin:/bin"}
    options = ["-eo", "pipefail"] if step.get("shell") == "bash" else ["-e"]
    return subprocess.run(
        ["bash", "--noprofile", "--norc", *options, "-c", step["run"]],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_target_refuses_any_other_ref_case_sensitively(deploy):
    """GitHub's `==` ignores case, so the jobs' `if:` admit refs/heads/Main; this step does not."""
    guard = _step(deploy["jobs"]["target"], "Only the stack's own branch deploys it")
    steps = deploy["jobs"]["target"]["steps"]
    assert steps.index(guard) == len(steps) - 1, "the guard is the target job's last step"
    assert guard["env"] == {
        "STACK": "${{ steps.target.outputs.stack }}",
        "APPROVAL": "${{ steps.target.outputs.approval }}",
        "REF": "${{ github.ref }}",
    }
    for stack in stack_names(PROJECT_DIR):
        approval = "true" if needs_approval(stack) else "false"
        for ref in (*REFS, "refs/heads/Main", "refs/heads/Develop"):
            result = run_step(guard, {"STACK": stack, "APPROVAL": approval, "REF": ref})
            assert (result.returncode == 0) == (ref == deploy_ref(stack)), (stack, ref)
            if result.returncode:
                assert f"deploys from {deploy_ref(stack)} only" in result.stdout
    # Without the approval output (a broken ci-target) it holds the stack to main.
    assert run_step(guard, {"STACK": "dev", "APPROVAL": "", "REF": "refs/heads/develop"}).returncode


PROTECTED = {
    "name": "prod",
    "can_admins_bypass": False,
    "protection_rules": [
        {
            "id": 1,
            "type": "required_reviewers",
            "prevent_self_review": True,
            "reviewers": [{"type": "Team", "reviewer": {"slug": "platform"}}],
        },
    ],
    "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
}
MAIN_ONLY = {"total_count": 1, "branch_policies": [{"id": 7, "name": "main", "type": "branch"}]}
FAKE_GH = """#!/usr/bin/env bash
# `gh api PATH`: the JSON the test stored for PATH, or gh's answer to a 404.
[ "$1" = api ] || exit 2
file="$FAKE_GH_DIR/$(printf %s "$2" | tr / _).json"
[ -f "$file" ] || { echo 'gh: Not Found (HTTP 404)' >&2; exit 1; }
cat "$file"
"""


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as on GitHub-hosted runners")
@pytest.mark.parametrize(
    ("case", "environment", "policies", "error"),
    [
        ("protected", PROTECTED, MAIN_ONLY, None),
        ("never created", None, None, "missing"),
        # What GitHub creates when a job names an environment that does not exist.
        (
            "created on first use",
            {"name": "prod", "protection_rules": [], "deployment_branch_policy": None},
            None,
            "no required reviewers",
        ),
        (
            "reviewers without reviewers",
            {
                **PROTECTED,
                "protection_rules": [{"id": 1, "type": "required_reviewers", "reviewers": []}],
            },
            MAIN_ONLY,
            "no required reviewers",
        ),
        (
            "a wait timer only",
            {**PROTECTED, "protection_rules": [{"id": 2, "type": "wait_timer", "wait_timer": 5}]},
            MAIN_ONLY,
            "no required reviewers",
        ),
        (
            "any branch",
            {**PROTECTED, "deployment_branch_policy": None},
            MAIN_ONLY,
            "not limited to selected branches",
        ),
        (
            # develop and staging are protected branches too
            "protected branches",
            {
                **PROTECTED,
                "deployment_branch_policy": {
                    "protected_branches": True,
                    "custom_branch_policies": False,
                },
            },
            MAIN_ONLY,
            "not limited to selected branches",
        ),
        (
            "main and develop",
            PROTECTED,
            {
                "total_count": 2,
                "branch_policies": [
                    {"id": 7, "name": "main", "type": "branch"},
                    {"id": 8, "name": "develop", "type": "branch"},
                ],
            },
            "must be exactly 'main'",
        ),
        (
            "a pattern",
            PROTECTED,
            {"total_count": 1, "branch_policies": [{"id": 9, "name": "*", "type": "branch"}]},
            "must be exactly 'main'",
        ),
        (
            "a tag named main",
            PROTECTED,
            {"total_count": 1, "branch_policies": [{"id": 9, "name": "main", "type": "tag"}]},
            "must be exactly 'main'",
        ),
    ],
)
def test_the_environment_must_exist_with_reviewers_and_main_only(
    deploy, tmp_path, case, environment, policies, error
):
    job = deploy["jobs"]["environment-protected"]
    assert job["permissions"] == {"actions": "read"}  # what GET .../environments/... requires
    assert "environment" not in job  # it runs before anything names the environment
    assert "environment-protected" in _needs(deploy["jobs"]["deploy-approved"])
    (step,) = _steps(job)
    assert step["env"]["GATED_BRANCH"] == GATED_BRANCH
    assert step["env"]["STACK"] == "${{ needs.target.outputs.stack }}"
    bin_dir, answers = _environment_answers(tmp_path, "prod", environment, policies)
    env = {"REPO": "o/r", "STACK": "prod", "GATED_BRANCH": GATED_BRANCH, "GH_TOKEN": "t"}
    env["FAKE_GH_DIR"] = str(answers)
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin")
    if error is None:
        assert result.returncode == 0, result.stdout + result.stderr
    else:
        assert result.returncode != 0, case
        assert result.stdout.startswith("::error::environment 'prod': "), result.stdout
        assert error in result.stdout, result.stdout


def test_pull_requests_reach_no_environment_and_no_deploy_role(pull_request):
    """A pull request runs its branch's code: no environment (the deploy role's subjects), no
    deploy action, and no secret but the config passphrase and the job's own token."""
    for name, job in pull_request["jobs"].items():
        assert "environment" not in job, name
        assert "pulumi-up" not in str(_steps(job)), name
    text = (WORKFLOWS / "pull-request.yml").read_text()
    assert "DiagnyxCrossAccountCICD" not in text
    assert set(re.findall(r"secrets\.(\w+)", text)) <= {"PULUMI_CONFIG_PASSPHRASE", "GITHUB_TOKEN"}
    assert "pull_request_target" not in pull_request["on"]


def test_readme_lists_the_repository_settings_for_every_gated_environment():
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Delivery pipeline", 1)[1].split("\n## ", 1)[0]
    settings = section.split("Repository settings to apply", 1)[1]
    for stack in GATED_STACKS:
        assert f"`{stack}`" in settings, stack
    for phrase in ("required reviewers", "`main`", "PULUMI_CONFIG_PASSPHRASE", "environment:"):
        assert phrase in settings, phrase


# --- The scheduled drift check ------------------------------------------------------------------


@pytest.fixture(scope="module")
def drift():
    return load(WORKFLOWS / "drift.yml")


def test_the_drift_job_takes_the_drift_role_in_its_own_environment_daily(drift):
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    assert drift["permissions"] == {"contents": "read"}
    assert drift["concurrency"] == {"group": "drift", "cancel-in-progress": False}
    job = drift["jobs"]["drift"]
    # The environment whose OIDC subject the management account's drift role trusts.
    assert job["environment"] == DRIFT_ENVIRONMENT
    assert github_drift_subject("repo:o/r") == f"repo:o/r:environment:{job['environment']}"
    assert job["needs"] == "environment-protected"
    assert (
        job["if"]
        == drift["jobs"]["environment-protected"]["if"]
        == "github.ref == 'refs/heads/main'"
    )
    assert job["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}
    (credentials,) = [s for s in _steps(job) if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"].endswith(f":role/{naming.DRIFT_ROLE}")
    assert "ci-target management" in _step(job, "The management account and region")["run"]
    compare = _step(job, "Compare AWS with config")["run"]
    assert f"drift --all --access-role {naming.DRIFT_ROLE} --markdown > drift.md" in compare
    assert "set +e" in compare and 'echo "exit=$?"' in compare


def _environment_answers(tmp_path, name, environment, policies) -> tuple[Path, Path]:
    """A stand-in `gh` answering for environment ``name``, and the folder of its answers."""
    bin_dir, answers = _stand_in_gh(tmp_path, FAKE_GH)
    base = f"repos_o_r_environments_{name}"
    if environment is not None:
        (answers / f"{base}.json").write_text(json.dumps(environment))
    if policies is not None:
        (answers / f"{base}_deployment-branch-policies.json").write_text(json.dumps(policies))
    return bin_dir, answers


UNREVIEWED = {**PROTECTED, "name": "drift", "protection_rules": []}


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as on GitHub-hosted runners")
@pytest.mark.parametrize(
    ("environment", "policies", "error"),
    [
        pytest.param(UNREVIEWED, MAIN_ONLY, None, id="main only, no reviewers needed"),
        pytest.param(None, None, "missing", id="never created"),
        pytest.param(
            {**UNREVIEWED, "deployment_branch_policy": None},
            MAIN_ONLY,
            "not limited to selected branches",
            id="any branch",
        ),
        pytest.param(
            UNREVIEWED,
            {"total_count": 1, "branch_policies": [{"id": 9, "name": "*", "type": "branch"}]},
            "must be exactly 'main'",
            id="a pattern",
        ),
    ],
)
def test_the_drift_environment_must_admit_main_only(drift, tmp_path, environment, policies, error):
    job = drift["jobs"]["environment-protected"]
    assert job["permissions"] == {"actions": "read"}
    assert "environment" not in job
    (step,) = _steps(job)
    assert step["env"]["ENVIRONMENT"] == DRIFT_ENVIRONMENT
    assert step["env"]["GATED_BRANCH"] == GATED_BRANCH
    bin_dir, answers = _environment_answers(tmp_path, DRIFT_ENVIRONMENT, environment, policies)
    env = {**step["env"], "REPO": "o/r", "GH_TOKEN": "t", "FAKE_GH_DIR": str(answers)}
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin")
    if error is None:
        assert result.returncode == 0, result.stdout + result.stderr
    else:
        assert result.returncode != 0
        assert result.stdout.startswith("::error::environment 'drift': "), result.stdout
        assert error in result.stdout, result.stdout


FAKE_GH_ISSUES = """#!/usr/bin/env bash
# `gh api --paginate LIST`: the issues the test stored, as two pages; `gh api --method M PATH
# ARGS...`: recorded as one line (method, path, the arguments; a body file's text kept apart).
if [ "$1 $2" = "api --paginate" ]; then
  [ "$3" = "repos/o/r/issues?state=open&creator=github-actions%5Bbot%5D&per_page=100" ] || exit 3
  [ -f "$FAKE_GH_DIR/page1.json" ] || { echo 'gh: HTTP 502' >&2; exit 1; }
  cat "$FAKE_GH_DIR/page1.json" "$FAKE_GH_DIR/page2.json"
  exit
fi
[ "$1 $2" = "api --method" ] || exit 2
shift 2
line="$1 $2"
shift 2
for arg in "$@"; do
  case "$arg" in
    body=@*)
      made=$(cat "$FAKE_GH_DIR/calls" 2>/dev/null | wc -l)
      cp "${arg#body=@}" "$FAKE_GH_DIR/body-$made.md"
      line="$line body" ;;
    -f|-F) ;;
    *) line="$line $arg" ;;
  esac
done
echo "$line" >> "$FAKE_GH_DIR/calls"
"""
DRIFT_MARKER = "<!-- diagnyx:drift -->"


def _issue(number: int, login: str, body: str, pull_request: bool = False) -> dict:
    issue = {"number": number, "user": {"login": login, "type": "Bot"}, "body": body}
    return {**issue, "pull_request": {"url": "x"}} if pull_request else issue


BOTS_ISSUE = _issue(12, "github-actions[bot]", f"{DRIFT_MARKER}\nold findings")
NOT_OURS = [
    _issue(3, "octocat", f"{DRIFT_MARKER}\nquoted by a person"),
    _issue(5, "github-actions[bot]", f"{DRIFT_MARKER}\na pull request", pull_request=True),
    _issue(7, "github-actions[bot]", "another bot issue"),
]


REPORT = "| account | kind |\n| --- | --- |\n| dev | IAM user |\n\n**1 drifted, in dev**\n"
NOT_LOOKED = "Not looked at:\n- account (dev): refused\n\n**no drift where AWS could be looked at; not everything was (exit 3)**\n"  # noqa: E501
LOOKUP_FAILS = None  # GitHub answers the issue lookup with an error


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as on GitHub-hosted runners")
@pytest.mark.parametrize(
    ("exit_code", "report", "open_issues", "calls", "fails"),
    [
        pytest.param(
            "1",
            REPORT,
            NOT_OURS,
            ["POST repos/o/r/issues title=Drift: AWS differs from config body"],
            False,
            id="drift: the issue opened",
        ),
        pytest.param(
            "1",
            REPORT,
            [*NOT_OURS, BOTS_ISSUE],
            ["PATCH repos/o/r/issues/12 body"],
            False,
            id="drift lasting: the same issue updated",
        ),
        pytest.param(
            "0",
            "**no drift: AWS matches config**\n",
            [*NOT_OURS, BOTS_ISSUE],
            [
                "POST repos/o/r/issues/12/comments body",
                "PATCH repos/o/r/issues/12 state=closed state_reason=completed",
            ],
            False,
            id="clean again: closed",
        ),
        pytest.param(
            "0",
            "**no drift: AWS matches config**\n",
            NOT_OURS,
            [],
            False,
            id="clean: nothing to do",
        ),
        pytest.param(
            "0", "", [BOTS_ISSUE], [], True, id="exit 0 without its report: the issue stays open"
        ),
        pytest.param(
            "1",
            "Not looked at:\n- `account` (`prod`): `refused`\n\n" + REPORT,
            [BOTS_ISSUE],
            ["PATCH repos/o/r/issues/12 body"],
            True,
            id="drift and a part not looked at: in the issue, and the run fails",
        ),
        pytest.param(
            "3",
            NOT_LOOKED,
            [BOTS_ISSUE],
            ["PATCH repos/o/r/issues/12 body"],
            True,
            id="a part not looked at: in the issue, and the run fails",
        ),
        pytest.param("2", "", [], [], True, id="credentials refused: nothing opened"),
        pytest.param("1", REPORT, LOOKUP_FAILS, [], True, id="the lookup fails: no second issue"),
        pytest.param(
            "0",
            "**no drift: AWS matches config**\n",
            LOOKUP_FAILS,
            [],
            True,
            id="the lookup fails: the issue is not left open",
        ),
        pytest.param(
            "1",
            "Traceback (most recent call last):\n",
            [BOTS_ISSUE],
            [],
            True,
            id="a crash's exit 1: the issue is left as it was",
        ),
    ],
)
def test_the_drift_issue_is_kept_one_and_up_to_date(
    drift, tmp_path, exit_code, report, open_issues, calls, fails
):
    step = _step(drift["jobs"]["drift"], "Keep the drift issue up to date")
    assert step["env"]["EXIT"] == "${{ steps.drift.outputs.exit }}"
    assert step["env"]["MARKER"] == DRIFT_MARKER
    bin_dir, answers = _stand_in_gh(tmp_path, FAKE_GH_ISSUES)
    if open_issues is not LOOKUP_FAILS:
        (answers / "page1.json").write_text(json.dumps(open_issues[:2]))
        (answers / "page2.json").write_text(json.dumps(open_issues[2:]))
    (tmp_path / "drift.md").write_text(report)
    env = {
        "GH_TOKEN": "t",
        "REPO": "o/r",
        "EXIT": exit_code,
        "RUN_URL": "https://github.com/o/r/actions/runs/1",
        "MARKER": DRIFT_MARKER,
        "FAKE_GH_DIR": str(answers),
    }
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin", cwd=tmp_path)
    assert (result.returncode != 0) is fails, result.stdout + result.stderr
    made = (answers / "calls").read_text().splitlines() if (answers / "calls").exists() else []
    assert made == calls
    if calls and "body" in calls[-1] and exit_code != "0":
        body = (answers / "body-0.md").read_text()
        assert body.startswith(DRIFT_MARKER + "\n")
        assert "https://github.com/o/r/actions/runs/1" in body
        assert body.endswith(report)


def test_a_report_too_long_for_an_issue_is_cut_keeping_its_summary(drift, tmp_path):
    step = _step(drift["jobs"]["drift"], "Keep the drift issue up to date")
    bin_dir, answers = _stand_in_gh(tmp_path, FAKE_GH_ISSUES)
    (answers / "page1.json").write_text("[]")
    (answers / "page2.json").write_text("[]")
    rows = "".join(
        f"| dev | IAM user | user u{i:05d} | none | a key | delete it |\n" for i in range(2000)
    )
    (tmp_path / "drift.md").write_text(rows + "\n**2000 drifted, in dev**\n")
    env = {"GH_TOKEN": "t", "REPO": "o/r", "EXIT": "1", "RUN_URL": "u", "MARKER": DRIFT_MARKER,
           "FAKE_GH_DIR": str(answers)}  # fmt: skip
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    body = (answers / "body-0.md").read_text()
    assert len(body) < 65536
    assert body.endswith(
        "(cut here: the whole report is in the run's log)\n**2000 drifted, in dev**\n"
    )
    assert all(line.endswith("|") for line in body.splitlines()[3:-3])  # no row cut in half


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_rollback_deploys_an_earlier_commit_of_the_branch_only(deploy, tmp_path):
    """The guide's "revert to previous version": a dispatch with rollback_to deploys that commit
    of the branch being run, through the same jobs, environments and approvals."""
    dispatch = deploy["on"]["workflow_dispatch"]["inputs"]["rollback_to"]
    assert (dispatch["type"], dispatch["required"], dispatch["default"]) == ("string", False, "")
    target = deploy["jobs"]["target"]
    assert target["outputs"]["source"] == "${{ steps.source.outputs.sha }}"
    assert target["steps"][0]["with"]["fetch-depth"] == 0
    step = _step(target, "Which commit this run deploys")
    for job in ("deploy-branch", "deploy-approved"):
        steps = _steps(deploy["jobs"][job])
        deployed, own = [s for s in steps if "checkout" in s.get("uses", "")]
        assert deployed["with"]["ref"] == "${{ needs.target.outputs.source }}"
        # The deploy action is this run's own, with its preview, whatever commit is deployed.
        assert "ref" not in own["with"] and own["with"]["path"] == ".deploy-action"
        (action,) = [s for s in steps if "pulumi-up" in s.get("uses", "")]
        assert action["uses"] == "./.deploy-action/.github/actions/pulumi-up"
    assert "rollback to" in deploy["run-name"]

    def git(*args: str) -> str:
        env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
               "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # fmt: skip
        done = subprocess.run(["git", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=True)  # fmt: skip
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("commit", "-q", "--allow-empty", "-m", "earlier")
    earlier = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "head")
    head = git("rev-parse", "HEAD")
    git("checkout", "-q", "-b", "elsewhere", earlier)
    git("commit", "-q", "--allow-empty", "-m", "another branch")
    other = git("rev-parse", "HEAD")
    git("checkout", "-q", "main")

    def outcome(rollback_to: str):
        output = tmp_path / "output"
        output.write_text("")
        env = {"ROLLBACK_TO": rollback_to, "HEAD_SHA": head, "GITHUB_OUTPUT": str(output)}
        result = run_step(step, env, cwd=tmp_path)
        return result, output.read_text()

    assert outcome("")[1] == f"sha={head}\n"
    assert outcome(earlier)[1] == f"sha={earlier}\n"
    for refused, why in (
        (other, "is not a commit of this branch's history"),
        (earlier[:12], "must be a full commit SHA"),
        ("main; curl evil", "must be a full commit SHA"),
    ):
        result, written = outcome(refused)
        assert result.returncode == 1 and why in result.stdout and written == "", refused


def test_every_deploy_previews_before_it_applies():
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    commands = [s["with"]["command"] for s in steps if "pulumi/actions" in s.get("uses", "")
                and "command" in s.get("with", {})]  # fmt: skip
    assert commands == ["preview", "up"]
