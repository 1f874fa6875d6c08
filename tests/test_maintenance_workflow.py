"""The scheduled maintenance workflow: each schedule runs its cadence's report through the drift
role in the drift environment, and files it as one issue per cadence and period (its steps run
here with a stand-in `gh`, on reports the real code writes)."""

import datetime
import json
import shutil

import pytest

from diagnyx_infra import naming
from diagnyx_infra.delivery import DRIFT_ENVIRONMENT
from diagnyx_infra.ops.findings import Finding, Status
from diagnyx_infra.ops.maintenance import CADENCES, Report, markdown, period
from tests.test_workflows import (
    WORKFLOWS,
    _issue,
    _stand_in_gh,
    _step,
    _steps,
    load,
    run_step,
)

needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as on GitHub runners")


@pytest.fixture(scope="module")
def workflow():
    return load(WORKFLOWS / "maintenance.yml")


def test_the_reports_run_in_the_drift_environment_through_the_drift_role(workflow):
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["cadence"]["options"] == list(CADENCES)
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["maintenance"]
    assert job["environment"] == DRIFT_ENVIRONMENT  # the only subject the drift role trusts
    assert job["needs"] == "environment-protected"
    assert job["if"] == "github.ref == 'refs/heads/main'"
    assert job["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}
    # The same guard as the drift workflow's: the environment admits main only.
    drift = load(WORKFLOWS / "drift.yml")
    assert workflow["jobs"]["environment-protected"] == drift["jobs"]["environment-protected"]
    (credentials,) = [s for s in _steps(job) if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"].endswith(f":role/{naming.DRIFT_ROLE}")
    made = _step(job, "Make the report")["run"]
    assert f'maintenance "$CADENCE" --access-role {naming.DRIFT_ROLE} --markdown > report.md' in (
        made
    )
    assert "set +e" in made and 'echo "exit=$?"' in made


REPOSITORY_GH = """#!/usr/bin/env bash
# `gh api repos/o/r --jq .private`: whether the test made the repository private.
[ "$1 $2 $3 $4" = "api repos/o/r --jq .private" ] || exit 2
echo "$PRIVATE"
"""


@pytest.mark.parametrize(
    ("schedule", "chosen", "private", "cadence"),
    [
        ("23 6 * * 1", "", "true", "weekly"),
        ("41 6 1 * *", "", "true", "monthly"),
        ("59 6 1 1,4,7,10 *", "", "true", "quarterly"),
        ("", "monthly", "true", "monthly"),
        ("0 0 * * *", "", "true", None),
        ("", "daily", "true", None),
        # The reports hold costs and people's names: never filed where anyone can read them.
        ("23 6 * * 1", "", "false", None),
        ("23 6 * * 1", "", "", None),
    ],
)
def test_each_schedule_runs_its_cadence_in_a_private_repository_only(
    workflow, tmp_path, schedule, chosen, private, cadence
):
    crons = [s["cron"] for s in workflow["on"]["schedule"]]
    assert schedule in [*crons, "", "0 0 * * *"] and len(crons) == len(CADENCES)
    step = _step(workflow["jobs"]["maintenance"], "Which report")
    bin_dir, _ = _stand_in_gh(tmp_path, REPOSITORY_GH)
    output = tmp_path / "output"
    env = {"SCHEDULE": schedule, "CHOSEN": chosen, "GITHUB_OUTPUT": str(output), "REPO": "o/r"}
    env |= {"PRIVATE": private, "GH_TOKEN": "t"}
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin")
    if cadence is None:
        assert result.returncode != 0 and result.stdout.startswith("::error::")
        assert not output.exists()
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert output.read_text() == f"cadence={cadence}\n"


def test_a_scheduled_and_a_dispatched_run_of_a_cadence_wait_for_each_other(workflow):
    """The group is the cadence's name either way (the crons in the order "Which report" maps
    them to weekly, monthly, quarterly)."""
    weekly, monthly, _ = (s["cron"] for s in workflow["on"]["schedule"])
    assert workflow["concurrency"]["group"] == (
        "maintenance-${{ inputs.cadence"
        f" || (github.event.schedule == '{weekly}' && 'weekly')"
        f" || (github.event.schedule == '{monthly}' && 'monthly') || 'quarterly' }}}}"
    )


FAKE_GH = """#!/usr/bin/env bash
# `gh api --paginate LIST`: the issues the test stored; `gh api --method M PATH ARGS...`:
# recorded as one line (method, path, arguments; a body file's text kept apart); a POST answers
# the new issue's number.
if [ "$1 $2" = "api --paginate" ]; then
  case "$3" in
    "repos/o/r/issues?state=all&creator=github-actions%5Bbot%5D&since="*"&per_page=100") ;;
    *) exit 3 ;;
  esac
  [ -f "$FAKE_GH_DIR/issues.json" ] || { echo 'gh: HTTP 502' >&2; exit 1; }
  cat "$FAKE_GH_DIR/issues.json"
  exit
fi
[ "$1 $2" = "api --method" ] || exit 2
shift 2
method=$1
line="$1 $2"
shift 2
for arg in "$@"; do
  case "$arg" in
    body=@*)
      made=$(cat "$FAKE_GH_DIR/calls" 2>/dev/null | wc -l)
      cp "${arg#body=@}" "$FAKE_GH_DIR/body-$made.md"
      line="$line body" ;;
    -f|-F|--jq|.number) ;;
    *) line="$line $arg" ;;
  esac
done
echo "$line" >> "$FAKE_GH_DIR/calls"
[ "$method" = POST ] && echo 41
exit 0
"""
NOW = datetime.datetime(2026, 12, 7, 6, 23, tzinfo=datetime.UTC)
WEEK = period("weekly", NOW)
MARKER = f"<!-- diagnyx:maintenance:weekly:{WEEK} -->"
PASSED = Finding("dev", "Unused resources", Status.PASS, "nothing unused that costs money")
FAILED = Finding("dev", "Backup health", Status.FAIL, "point-in-time recovery is DISABLED")
REFUSED = Finding("uat", "Backup health", Status.CANNOT, "access denied", cause="denied")


def _report(*findings: Finding) -> str:
    return markdown(Report("weekly", list(findings), WEEK)) + "\n"


THIS_WEEKS = _issue(12, "github-actions[bot]", f"{MARKER}\nearlier run")
NOT_OURS = [
    _issue(3, "octocat", f"{MARKER}\nquoted by a person"),
    _issue(5, "github-actions[bot]", f"{MARKER}\na pull request", pull_request=True),
    _issue(7, "github-actions[bot]", "<!-- diagnyx:maintenance:weekly:2026-W49 -->\nlast week"),
    _issue(8, "github-actions[bot]", "<!-- diagnyx:drift -->\ndrift"),
]
LOOKUP_FAILS = None


@needs_jq
@pytest.mark.parametrize(
    ("exit_code", "report", "issues", "calls", "fails"),
    [
        pytest.param(
            "1",
            _report(PASSED, FAILED),
            NOT_OURS,
            [f"POST repos/o/r/issues title=Weekly maintenance: {WEEK} body"],
            False,
            id="needs action: this week's issue opened",
        ),
        pytest.param(
            "0",
            _report(PASSED),
            NOT_OURS,
            [
                f"POST repos/o/r/issues title=Weekly maintenance: {WEEK} body",
                "PATCH repos/o/r/issues/41 state=closed state_reason=completed",
            ],
            False,
            id="nothing to do: filed for the record, closed",
        ),
        pytest.param(
            "1",
            _report(FAILED),
            [*NOT_OURS, THIS_WEEKS],
            ["PATCH repos/o/r/issues/12 body state=open"],
            False,
            id="run again in the same week: the same issue updated and open",
        ),
        pytest.param(
            "0",
            _report(PASSED),
            [THIS_WEEKS],
            ["PATCH repos/o/r/issues/12 body state=closed state_reason=completed"],
            False,
            id="fixed within the week: the same issue updated and closed",
        ),
        pytest.param(
            "3",
            _report(PASSED, REFUSED),
            [],
            [f"POST repos/o/r/issues title=Weekly maintenance: {WEEK} body"],
            True,
            id="could not look: filed, and the run fails",
        ),
        pytest.param(
            "1",
            _report(FAILED, REFUSED),
            [],
            [f"POST repos/o/r/issues title=Weekly maintenance: {WEEK} body"],
            True,
            id="needs action and could not look: filed, and the run fails",
        ),
        pytest.param("2", "", [THIS_WEEKS], [], True, id="credentials refused: nothing filed"),
        pytest.param(
            "1", "Traceback (most recent call last):\n", [], [], True, id="a crash: nothing filed"
        ),
        pytest.param(
            "0", _report(FAILED), [], [], True, id="a verdict that disagrees: nothing filed"
        ),
        pytest.param(
            "1", _report(FAILED), LOOKUP_FAILS, [], True, id="the lookup fails: no second issue"
        ),
    ],
)
def test_each_period_has_one_issue_kept_up_to_date(
    workflow, tmp_path, exit_code, report, issues, calls, fails
):
    step = _step(workflow["jobs"]["maintenance"], "File the report as this period's issue")
    assert step["env"]["EXIT"] == "${{ steps.report.outputs.exit }}"
    bin_dir, answers = _stand_in_gh(tmp_path, FAKE_GH)
    if issues is not LOOKUP_FAILS:
        (answers / "issues.json").write_text(json.dumps(issues))
    (tmp_path / "report.md").write_text(report)
    env = {
        "GH_TOKEN": "t",
        "REPO": "o/r",
        "CADENCE": "weekly",
        "EXIT": exit_code,
        "RUN_URL": "https://github.com/o/r/actions/runs/1",
        "FAKE_GH_DIR": str(answers),
    }
    result = run_step(step, env, path=f"{bin_dir}:/usr/bin:/bin", cwd=tmp_path)
    assert (result.returncode != 0) is fails, result.stdout + result.stderr
    made = (answers / "calls").read_text().splitlines() if (answers / "calls").exists() else []
    assert made == calls
    if calls:
        body = (answers / "body-0.md").read_text()
        assert body.startswith(MARKER + "\n")
        assert "https://github.com/o/r/actions/runs/1" in body
        assert body.endswith(report)
