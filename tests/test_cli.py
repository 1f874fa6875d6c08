"""The `diagnyx` command line: `python -m diagnyx_infra plan` through its real entry point, as
the README runs it, and every command's shared behaviour in process (one unknown-stack message,
config errors naming the file, paths relative to where the user stands, help, --json)."""

import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from diagnyx_infra import cli
from diagnyx_infra.engine.runner import PROJECT_DIR
from tests.helpers import ALL_STACKS, edited_project, table_rows


def diagnyx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diagnyx_infra", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


def invoke(*args: str, columns: int = 200) -> subprocess.CompletedProcess:
    """`diagnyx <args>` in this process (a console-script process costs a second per call); an
    exception the command does not handle is raised here, as it would print a traceback."""
    result = CliRunner().invoke(
        cli.app, list(args), env={"COLUMNS": str(columns)}, prog_name="diagnyx"
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, tmp_path)
    return tmp_path


def test_plan_all_prints_every_stack_in_deployment_order():
    result = invoke("plan", "--all")
    assert result.returncode == 0, result.stderr
    positions = [result.stdout.index(f"stack {stack} ") for stack in ALL_STACKS]
    assert positions == sorted(positions)
    # It closes with the stacks side by side and their total, as `rehearse` does.
    summary = result.stdout[result.stdout.index("Plan: 7 stacks") :]
    rows = table_rows(summary)
    assert [row[0] for row in rows] == [*ALL_STACKS, "all"]
    assert int(rows[-1][1]) == sum(int(row[1]) for row in rows[:-1])


def test_plan_management_json_counts_the_organization():
    result = invoke("plan", "management", "--json")
    assert result.returncode == 0, result.stderr
    (stack,) = json.loads(result.stdout)
    counts = stack["countsByType"]
    assert counts["aws:organizations/organization:Organization"] == 1
    assert counts["aws:organizations/organizationalUnit:OrganizationalUnit"] == 4
    assert counts["aws:organizations/account:Account"] == 6
    # six SCPs, the security services' guard and the tag policy
    assert counts["aws:organizations/policy:Policy"] == 8
    # 4 on the root, the tag policy, one each on two OUs, the guard on each of the four OUs
    assert counts["aws:organizations/policyAttachment:PolicyAttachment"] == 11
    accounts = {r["name"]: r for r in stack["resources"] if r["type"].endswith("Account")}
    prod = accounts["organization-account-prod"]
    assert prod["target"] == "account"
    assert prod["accounts"] == [{"name": "management", "id": "111111111111"}]
    assert prod["protect"] is True
    components = [r for r in stack["resources"] if r["type"].startswith("diagnyx:")]
    assert components and all(r["target"] == "component" for r in components)
    assert all(r["accounts"] == [] for r in components)


def test_bad_config_exits_2_with_the_message_and_no_traceback(project_copy):
    dev = project_copy / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("monthlyLimitUsd: 200", "monthlyLimitUsd: -200"))
    result = diagnyx("plan", "dev", "--project-dir", str(project_copy))
    assert result.returncode == 2
    assert (
        "Pulumi.dev.yaml: diagnyx:budget.monthlyLimitUsd: Input should be greater than 0"
        in result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_stack_and_missing_argument_are_usage_errors():
    assert invoke("plan", "sandbox").returncode == 2
    assert invoke("plan").returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("cost", "estimate", "--all", "--jsn"),
            "No such option: --jsn (Possible options: --json)",
        ),
        (("plann", "dev"), "No such command 'plann'. Did you mean 'plan'?"),
        (("checklist", "--account"), "Option '--account' requires an argument."),
    ],
)
def test_a_mistyped_command_line_is_one_error_line(args, message):
    """As every other error of the CLI: one `error: ...` line naming what is wrong, exit 2,
    nothing on stdout (typer drew a box with the usage above it)."""
    result = invoke(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {message}")


def test_the_commands_alone_still_print_their_help():
    for args in ((), ("cost",)):
        result = invoke(*args)
        assert result.returncode == 2
        assert "Usage: diagnyx" in result.stdout and result.stderr == ""


# --- config errors: every message names its stack file; --all prints nothing before failing ---


def _pending(account: str):
    def edit(stack, config):
        config["diagnyx:accountIds"][account] = "pending"

    return edit


def test_a_problem_the_program_finds_names_the_stack_file(tmp_path):
    # Every file is valid and they agree; the program refuses dev (its account is not created).
    project = edited_project(tmp_path, _pending("dev"))
    result = invoke("plan", "dev", "--project-dir", str(project))
    assert result.returncode == 2 and result.stdout == ""
    assert "Pulumi.dev.yaml: diagnyx:accountIds.dev: is 'pending'" in result.stderr


@pytest.mark.parametrize("command", [("plan", "--all"), ("cost", "estimate", "--all")])
def test_all_leaves_out_an_account_the_organization_has_not_created(tmp_path, command):
    """A vended account is `pending` until its first management deploy and `accounts sync`:
    --all plans every other stack (a pull request adding an account passes CI) and says why
    that one is left out. Planned alone, it is refused (above)."""
    project = edited_project(tmp_path, _pending("dev"))
    result = invoke(*command, "--json", "--project-dir", str(project))
    assert result.returncode == 0, result.stderr
    assert "dev: left out: its account ID is pending" in result.stderr
    planned = json.loads(result.stdout)
    names = [s["stack"] for s in planned] if isinstance(planned, list) else list(planned["stacks"])
    assert "dev" not in names and "prod" in names and "management" in names


def test_all_names_the_file_of_every_stack_the_program_refuses(tmp_path):
    project = edited_project(tmp_path, _pending("management"))  # no stack can deploy yet
    result = invoke("plan", "--all", "--json", "--project-dir", str(project))
    assert result.returncode == 2 and result.stdout == ""
    for stack in ALL_STACKS:
        assert f"Pulumi.{stack}.yaml: diagnyx:accountIds.management: is 'pending'" in (
            result.stderr
        )


def test_an_invalid_file_is_refused_before_anything_runs(tmp_path):
    def bad_budget(stack, config):
        config["diagnyx:budget"]["monthlyLimitUsd"] = -200

    project = edited_project(tmp_path, bad_budget, stacks=["prod"])
    for command in (("plan", "--all"), ("cost", "estimate", "--all"), ("plan", "dev")):
        result = invoke(*command, "--project-dir", str(project))
        assert result.returncode == 2 and result.stdout == "", command
        assert "Pulumi.prod.yaml: diagnyx:budget.monthlyLimitUsd" in result.stderr


# --- one unknown-stack message, one unknown-account message ---------------------------------

UNKNOWN_STACK = (
    f"error: unknown stack 'sandbox': no Pulumi.sandbox.yaml in {PROJECT_DIR} "
    f"(stacks: {', '.join(ALL_STACKS)})\n"
)


@pytest.mark.parametrize(
    "command",
    [
        ("plan", "sandbox"),
        ("plan", "sandbox", "--json"),
        ("cost", "estimate", "sandbox"),
        ("ci-target", "sandbox"),
        ("ci-target", "sandbox", "--json"),
        ("policy-config", "sandbox"),
        ("rehearse", "sandbox"),
    ],
)
def test_an_unknown_stack_is_one_message_listing_the_stacks(command):
    result = invoke(*command, columns=80)  # one line, however narrow the terminal
    assert result.returncode == 2
    assert result.stderr == UNKNOWN_STACK
    assert result.stdout == ""


@pytest.mark.parametrize("command", [("checklist", "--account", "sandbox"), ("isolate", "sandbox")])
def test_an_unknown_account_is_one_message_listing_the_accounts(command):
    # Refused before any AWS call: no credentials are needed to see it.
    result = invoke(*command, columns=80)
    assert result.returncode == 2
    assert result.stderr == (
        "error: unknown account 'sandbox': not an account of Pulumi.management.yaml "
        f"(accounts: {', '.join(ALL_STACKS)})\n"
    )


# --- paths on the command line are relative to where the user stands ------------------------


def _renumbered_dev(stack, config):
    config["diagnyx:accountIds"]["dev"] = "999999999999"


def test_a_relative_project_dir_is_from_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "copy").mkdir()
    edited_project(tmp_path / "copy", _renumbered_dev)  # differs from the repository's files
    monkeypatch.chdir(tmp_path)
    result = invoke("ci-target", "dev", "--json", "--project-dir", "copy")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accountId"] == "999999999999"
    config = invoke("policy-config", "dev", "--project-dir", "copy")
    assert config.returncode == 0, config.stderr

    missing = invoke("plan", "dev", "--project-dir", "elsewhere", columns=80)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == (
        f"error: --project-dir elsewhere: no Pulumi.yaml in that folder (relative to "
        f"{tmp_path}); give the folder of the Pulumi project (Pulumi.yaml, __main__.py and the "
        "stack files)\n"
    )
    # The stack files without the program: said once, not once per stack.
    (tmp_path / "no-program").mkdir()
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / "no-program")
    partial = invoke("plan", "--all", "--project-dir", "no-program", columns=80)
    assert partial.returncode == 2 and partial.stdout == ""
    (line,) = partial.stderr.splitlines()
    assert line.startswith("error: --project-dir no-program: no __main__.py in that folder")


def test_a_relative_compare_file_is_from_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = invoke("cost", "estimate", "dev", "--compare", "base.json")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == (
        f"error: --compare base.json: file not found (relative to {tmp_path})\n"
    )
    base = invoke("cost", "estimate", "dev", "--json")
    (tmp_path / "base.json").write_text(base.stdout)
    again = invoke("cost", "estimate", "dev", "--compare", "base.json")
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith("no change against base.json (dev compared)")


def test_a_relative_restore_record_is_from_the_current_folder(tmp_path, monkeypatch):
    record = {
        "version": 2,
        "account": "dev",
        "account_id": "999999999999",  # not dev's: refused, naming the file, before any AWS call
        "created": "2026-01-01T00:00:00+00:00",
        "finished": True,
        "items": [],
    }
    (tmp_path / "record.json").write_text(json.dumps(record))
    monkeypatch.chdir(tmp_path)
    result = invoke("restore", "record.json")
    assert result.returncode == 2
    assert result.stderr.startswith("error: record.json: account_id: 999999999999 is not the ID")


def test_a_relative_records_dir_is_from_the_current_folder(tmp_path, monkeypatch):
    from diagnyx_infra.ops import isolation

    class Isolation:  # AWS as far as isolate's record goes: one policy to remove
        def __init__(self, caller, zone, access_role):
            pass

        def plan(self, account):
            detail = isolation.RolePolicyDetail(
                role_name="DiagnyxCrossAccountCICD", policy_name="CICDPolicy", document=None
            )
            item = isolation.RolePolicyItem(kind="role-policy", detail=detail, state="planned")
            return isolation.Record(
                version=isolation.RECORD_VERSION,
                account=account,
                account_id="444444444444",
                created="2026-01-01T00:00:00+00:00",
                finished=False,
                items=[item],
            )

        def isolate(self, record, path):
            record.save(path)

    monkeypatch.setattr(cli, "connect", lambda region, zone: None)
    monkeypatch.setattr(cli, "Isolation", Isolation)
    monkeypatch.chdir(tmp_path)
    result = invoke("isolate", "dev", "--apply", "--yes", "--records-dir", "records", "--json")
    assert result.returncode == 0, result.stderr
    (written,) = (tmp_path / "records").glob("isolation-dev-*.json")
    assert json.loads(result.stdout)["record"] == f"records/{written.name}"
    assert f"record: records/{written.name}" in result.stderr


# --- help -------------------------------------------------------------------------------------


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = list(_commands(typer.main.get_command(cli.app)))


def _prose(paragraph: str) -> str:
    """A docstring paragraph as the help prints it: one line, code spans without backticks."""
    return " ".join(paragraph.replace("`", "").split())


def test_the_root_help_names_run_test_and_lint_and_every_command_on_one_line():
    result = invoke("--help", columns=250)
    assert result.returncode == 0
    commands = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ")]
    assert "test" in commands and "lint" in commands  # in the list, with every other command
    assert "Run the test suite (./run test)" in result.stdout
    for path, command in COMMANDS:
        if len(path) == 1:
            first = _prose(inspect.cleandoc(command.help or "").split("\n\n")[0])
            assert first in result.stdout, path


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_help_is_rewrapped_and_shows_no_placeholder_for_flags(path):
    result = invoke(*path, "--help", columns=250)
    assert result.returncode == 0
    assert "<bool>" not in result.stdout
    # Markdown help would print __main__.py as a bold "main.py"; the default folder is this
    # machine's checkout, which the text names instead.
    if "--project-dir" in result.stdout:
        assert "__main__.py" in result.stdout
        assert str(PROJECT_DIR) not in result.stdout
    command = dict(COMMANDS)[path]
    for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
        # At 250 columns a paragraph's first 200 characters fit one line: a docstring line
        # break kept in the output would split them.
        assert _prose(paragraph)[:200] in result.stdout, paragraph


def test_every_flag_is_shown_without_a_value():
    result = invoke("isolate", "--help", columns=120)
    for flag in ("--apply", "--yes", "--allow-critical-account", "--json", "--help"):
        (row,) = [r for r in result.stdout.splitlines() if r.startswith(f"│ {flag} ")]
        assert not row.split()[2].startswith("<"), row  # the help text follows the flag


# --- --json: on every command that prints results, with fields, not "name (id)" strings ------

COMPOSITE = re.compile(r'"[^"]*\(\d{12}\)[^"]*"')


def test_ci_target_json_has_the_key_value_lines_as_fields():
    lines = invoke("ci-target", "prod")
    assert lines.returncode == 0
    assert lines.stdout.splitlines()[:2] == ["stack=prod", "account_id=777777777777"]
    shown = json.loads(invoke("ci-target", "prod", "--json").stdout)
    assert shown == {
        "stack": "prod",
        "accountId": "777777777777",
        "region": "us-east-1",
        "stateBucket": "diagnyx-pulumi-state-777777777777-us-east-1",
        "backend": "s3://diagnyx-pulumi-state-777777777777-us-east-1",
        "approval": True,
    }


def test_deploy_sequence_json_lists_the_steps_the_markdown_shows():
    from diagnyx_infra.deploy_sequence import SEQUENCE

    markdown = invoke("deploy-sequence").stdout
    steps = json.loads(invoke("deploy-sequence", "--json").stdout)["steps"]
    assert [s["key"] for s in steps] == [s.key for s in SEQUENCE]
    for step in steps:
        assert step["title"] in markdown
        assert all(isinstance(c, str) for c in step["commands"])
    assert "./run bootstrap start --write" in steps[0]["commands"]


def test_policy_config_accepts_json_as_every_command_does():
    plain = invoke("policy-config", "prod")
    assert plain.returncode == 0
    assert invoke("policy-config", "prod", "--json").stdout == plain.stdout
    json.loads(plain.stdout)


@pytest.mark.parametrize(
    "command",
    [
        ("plan", "prod", "--json"),
        ("cost", "estimate", "prod", "--json"),
        ("ci-target", "prod", "--json"),
        ("deploy-sequence", "--json"),
        ("policy-config", "prod"),
    ],
)
def test_json_output_has_no_name_and_id_in_one_string(command):
    result = invoke(*command)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
    assert not COMPOSITE.findall(result.stdout)


def test_a_usage_error_with_json_is_one_line_on_stderr_and_no_json():
    for command in (("plan", "--json"), ("cost", "estimate", "--all", "prod", "--json")):
        result = invoke(*command, columns=40)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr == "error: give either a STACK or --all\n"


def test_run_passes_paths_relative_to_where_the_user_stands(tmp_path):
    """`./run` sets itself up in the repository, then runs the command where it was started."""
    import shutil
    import subprocess

    project = tmp_path / "elsewhere"
    project.mkdir()
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, project)
    result = subprocess.run(
        [str(PROJECT_DIR / "run"), "ci-target", "dev", "--json", "--project-dir", "elsewhere"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stack"] == "dev"
