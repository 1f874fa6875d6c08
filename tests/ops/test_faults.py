"""Operations commands under faults (issue 13, section 5): AWS unreachable or not AWS exits 3
with one line naming the endpoint, a silent endpoint is given up on within bounds, a checklist
that could not check everything does not exit 0, and `cost report --month` refuses months
Cost Explorer cannot report.

The faults are small servers on 127.0.0.1 that the commands reach through AWS_ENDPOINT_URL."""

import datetime as dt
import http.server
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from diagnyx_infra import cli
from diagnyx_infra.cli import app
from diagnyx_infra.ops.aws import (
    READ_TIMEOUT,
    NotAwsReply,
    SettingError,
    classify,
    max_attempts,
)
from diagnyx_infra.ops.checklist import ITEMS, Checklist
from diagnyx_infra.ops.cost_report import MonthError, check_month
from diagnyx_infra.ops.findings import (
    EXIT_CANNOT_LOOK,
    EXIT_FINDINGS,
    EXIT_OK,
    MANUAL,
    Finding,
    Status,
    exit_code,
    explain,
    stopped,
)
from tests.ops.conftest import DIAGNYX, copy_project

# --- the faults --------------------------------------------------------------------------------


def _http_server(status: int, body: bytes, content_type: str) -> http.server.HTTPServer:
    class Reply(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, *args) -> None:  # no request lines in the test output
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Reply)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class SilentServer:
    """Accepts TCP connections and never answers (until closed)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def _closed_port() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


HTML = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"


@pytest.fixture(scope="module")
def faults() -> Iterator[dict[str, tuple[str, str]]]:
    """Fault name -> (endpoint URL, what the one-line message must say)."""
    servers = {
        "html 200": (_http_server(200, HTML, "text/html"), "HTML page"),
        "garbage 500": (_http_server(500, b"\x00\x01 not json {{", "text/plain"), "HTTP 500"),
        "html 404": (_http_server(404, b"<html>Not Found</html>", "text/html"), "HTTP 404"),
    }
    found = {
        name: (f"http://127.0.0.1:{server.server_address[1]}", said)
        for name, (server, said) in servers.items()
    }
    found["closed port"] = (_closed_port(), "connection refused")
    # A reserved top-level domain (RFC 6761): never resolves.
    found["no such host"] = ("http://diagnyx-no-such-host.invalid", "DNS lookup failed")
    yield found
    for server, _ in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("faults"))


def fault_env(endpoint: str) -> dict[str, str | None]:
    """Dummy credentials pointed at ``endpoint``; AWS_MAX_ATTEMPTS unset (the defaults)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": None,
        "AWS_PROFILE": None,
        "AWS_SESSION_TOKEN": None,
        "COLUMNS": "250",
    }


COMMANDS = {
    "accounts sync": ["accounts", "sync", "--check"],
    "bootstrap start": ["bootstrap", "start"],
    "checklist": ["checklist", "--all"],
    "doctor": ["doctor"],
    "cost report": ["cost", "report"],
}


def invoke(env: dict[str, str | None], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def assert_one_line_exit_3(result, endpoint: str, said: str) -> None:
    assert result.exit_code == EXIT_CANNOT_LOOK, result.output
    # A clean exit with a message, not an exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("error: cannot look at AWS:"), line
    assert endpoint in line and said in line, line
    assert "Traceback" not in result.output


# --- AWS unreachable, or not AWS: exit 3 -------------------------------------------------------


@pytest.mark.parametrize("fault", ["html 200", "garbage 500", "html 404", "closed port"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_operations_command_exits_3_with_one_line(faults, project, command, fault):
    endpoint, said = faults[fault]
    result = invoke(fault_env(endpoint), *COMMANDS[command], "--project-dir", str(project))
    assert_one_line_exit_3(result, endpoint, said)


def test_an_unresolvable_host_exits_3(faults, project):
    endpoint, said = faults["no such host"]
    result = invoke(fault_env(endpoint), "doctor", "--project-dir", str(project))
    assert_one_line_exit_3(result, endpoint, said)


def _run_console_script(env: dict[str, str | None], *args: str) -> tuple[int, str, str, float]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    started = time.monotonic()
    result = subprocess.run(
        [str(DIAGNYX), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**inherited, **{k: v for k, v in env.items() if v is not None}},
    )
    return result.returncode, result.stdout, result.stderr, time.monotonic() - started


def test_a_silent_endpoint_is_given_up_on_within_bounds(project):
    """It accepts the connection and never answers: botocore's defaults (60 s read timeout,
    retries) took minutes; the tooling's bound is NETWORK_ATTEMPTS x READ_TIMEOUT."""
    silent = SilentServer()
    try:
        code, stdout, stderr, elapsed = _run_console_script(
            fault_env(silent.url), "checklist", "--all", "--project-dir", str(project)
        )
    finally:
        silent.close()
    print(f"silent endpoint given up on after {elapsed:.1f} s")  # measured, not asserted tightly
    assert code == EXIT_CANNOT_LOOK, stdout + stderr
    assert "Traceback" not in stderr
    (line,) = stderr.strip().splitlines()
    assert silent.url in line and f"no reply within {READ_TIMEOUT} s" in line, line
    assert elapsed < 60  # a hang guard; the bound itself is about NETWORK_ATTEMPTS x READ_TIMEOUT


def test_the_console_script_prints_no_traceback_for_a_refused_connection(faults, project):
    endpoint, said = faults["closed port"]
    code, stdout, stderr, _ = _run_console_script(
        fault_env(endpoint), "cost", "report", "--project-dir", str(project)
    )
    assert code == EXIT_CANNOT_LOOK
    assert "Traceback" not in stdout + stderr
    assert stderr.strip() == f"error: cannot look at AWS: cannot connect to {endpoint}: {said}"


def test_an_endpoint_that_failed_once_is_not_waited_for_again(faults):
    """A checklist of many items meets a dead endpoint once, not once per item: the session
    (and the sessions it assumes) remember it."""
    from diagnyx_infra.ops.aws import Aws

    endpoint, _ = faults["closed port"]
    env = {k: v for k, v in fault_env(endpoint).items() if k != "COLUMNS"}
    saved = {k: os.environ.get(k) for k in env}
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        aws = Aws.from_environment()
        with pytest.raises(Exception) as first:
            aws.client("sts").get_caller_identity()
        with pytest.raises(Exception) as second:
            aws.client("organizations").describe_organization()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert classify(first.value).kind == classify(second.value).kind == "unreachable"
    assert "not tried again" in classify(second.value).message


# --- what botocore raises, sorted ----------------------------------------------------------------


def test_classify_is_total():
    assert classify(KeyError("x")).kind == "failed"
    assert classify(RuntimeError("boom")).message == "RuntimeError: boom"
    reply = NotAwsReply(endpoint="http://x", status=200, what="an HTML page")
    assert classify(reply).kind == "unreachable"
    assert classify(NotAwsReply(endpoint="http://x", status=500, what="garbage")).kind == (
        "unavailable"
    )


def test_a_command_stopped_on_an_unreachable_endpoint_exits_3():
    error = NotAwsReply(endpoint="http://x", status=404, what="an HTML page")
    code, message = stopped(error, "Cost Explorer")
    assert code == EXIT_CANNOT_LOOK
    assert message == (
        "cannot look at AWS: Cost Explorer: http://x answered HTTP 404 with an HTML page, not an "
        "AWS API reply"
    )


# --- AWS_MAX_ATTEMPTS ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5"])
def test_an_unusable_max_attempts_is_a_usage_error(monkeypatch, value):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", value)
    with pytest.raises(SettingError, match="AWS_MAX_ATTEMPTS"):
        max_attempts()


def test_max_attempts_defaults_and_reads_the_variable(monkeypatch):
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    assert max_attempts() == 5
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", " 3 ")
    assert max_attempts() == 3


def test_the_command_line_names_an_unusable_max_attempts(faults, project):
    endpoint, _ = faults["closed port"]
    env = {**fault_env(endpoint), "AWS_MAX_ATTEMPTS": "many"}
    code, stdout, stderr, _ = _run_console_script(env, "doctor", "--project-dir", str(project))
    assert code == 2
    assert "Traceback" not in stdout + stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith("error: AWS_MAX_ATTEMPTS='many'"), line


# --- a checklist that could not check everything -------------------------------------------


def _finding(status: Status, cause: str = "") -> Finding:
    return Finding("dev", "an item", status, "detail", "", cause)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([_finding(Status.PASS)], EXIT_OK),
        ([_finding(Status.PASS), _finding(Status.FAIL)], EXIT_FINDINGS),
        # Could not look: not "all is well".
        ([_finding(Status.PASS), _finding(Status.CANNOT, "unreachable")], EXIT_CANNOT_LOOK),
        ([_finding(Status.CANNOT, "denied")], EXIT_CANNOT_LOOK),
        ([_finding(Status.CANNOT, "pending")], EXIT_CANNOT_LOOK),
        ([_finding(Status.CANNOT, "failed")], EXIT_CANNOT_LOOK),
        ([_finding(Status.CANNOT)], EXIT_CANNOT_LOOK),  # no cause given: not vouched for
        # A failure still wins.
        ([_finding(Status.FAIL), _finding(Status.CANNOT, "unreachable")], EXIT_FINDINGS),
        # An API the endpoint does not offer, or an item only a person can check: named in the
        # summary, the run still passes.
        ([_finding(Status.PASS), _finding(Status.CANNOT, "unavailable")], EXIT_OK),
        ([_finding(Status.PASS), _finding(Status.CANNOT, MANUAL)], EXIT_OK),
    ],
)
def test_exit_code_rule(findings, expected):
    assert exit_code(findings) == expected


def test_a_checklist_of_pending_accounts_exits_3():
    zone = SimpleNamespace(account_ids={"dev": "pending", "uat": "pending"})
    findings = Checklist(caller=None, zone=zone).run(["dev", "uat"])
    assert len(findings) == 2 * len(ITEMS)
    assert exit_code(findings) == EXIT_CANNOT_LOOK
    assert explain(findings) == (
        f"cannot check: {2 * len(ITEMS)} account ID pending: not everything was checked "
        "(exit 3 unless an item failed)"
    )


def test_the_checklist_command_exits_3_and_says_why(monkeypatch, project):
    """Through the command line: JSON on stdout, the reason on stderr, exit 3."""
    findings = [
        Finding("dev", "state bucket", Status.PASS, "ok"),
        Finding("dev", "budget", Status.CANNOT, "cannot connect", "", "unreachable"),
        Finding("dev", "cost allocation tags", Status.CANNOT, "no API", "", "unavailable"),
    ]
    monkeypatch.setattr(cli, "_caller", lambda region: None)
    monkeypatch.setattr(cli, "Checklist", lambda *args: SimpleNamespace(run=lambda names: findings))
    result = invoke(
        {"COLUMNS": "250"}, "checklist", "--all", "--json", "--project-dir", str(project)
    )
    assert result.exit_code == EXIT_CANNOT_LOOK, result.output
    report = json.loads(result.stdout)
    assert report["cannotCheck"] == {"unreachable": 1, "unavailable": 1}
    assert result.stderr.strip() == (
        "cannot check: 1 AWS could not be reached; 1 not offered by this endpoint (cost "
        "allocation tags): not everything was checked (exit 3 unless an item failed)"
    )
    human = invoke({"COLUMNS": "250"}, "checklist", "--all", "--project-dir", str(project))
    assert human.exit_code == EXIT_CANNOT_LOOK
    assert "1 pass, 0 fail, 2 cannot check" in human.stdout
    assert "1 AWS could not be reached" in human.stdout


# --- cost report --month -----------------------------------------------------------------------

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    ("month", "multi_year", "said"),
    [
        ("9999-12", False, "9999-12 is in the future: the last complete month is 2026-10"),
        ("2026-11", False, "2026-11 is not complete yet: the last complete month is 2026-10"),
        ("2024-1", False, "'2024-1' is not YYYY-MM"),
        ("24-01", False, "'24-01' is not YYYY-MM"),
        ("2026-13", False, "'2026-13' is not YYYY-MM"),
        ("2026-00", False, "'2026-00' is not YYYY-MM"),
        ("2026-10-01", False, "'2026-10-01' is not YYYY-MM"),
        ("2025-09", False, "older than Cost Explorer keeps (14 months including the current one"),
        ("2025-09", False, "add --multi-year"),
        ("2023-09", True, "older than Cost Explorer keeps (38 months including the current one"),
    ],
)
def test_months_cost_explorer_cannot_report_are_refused(month, multi_year, said):
    with pytest.raises(MonthError) as refused:
        check_month(month, TODAY, multi_year)
    assert said in str(refused.value)


@pytest.mark.parametrize(
    ("month", "multi_year"), [("2026-10", False), ("2025-10", False), ("2023-10", True)]
)
def test_months_within_the_history_are_accepted(month, multi_year):
    check_month(month, TODAY, multi_year)


@pytest.mark.parametrize(
    ("month", "said"),
    [
        ("9999-12", "is in the future"),
        ("2024-1", "is not YYYY-MM"),
        ("2000-01", "older than Cost Explorer keeps"),
    ],
)
def test_cost_report_refuses_the_month_before_looking(project, month, said):
    # No endpoint is needed: the month is refused before any AWS call.
    env = fault_env("http://127.0.0.1:9")
    result = invoke(env, "cost", "report", "--month", month, "--project-dir", str(project))
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: --month: ") and said in line, line


def test_cost_report_of_a_far_future_month_prints_no_traceback(project):
    code, stdout, stderr, _ = _run_console_script(
        fault_env("http://127.0.0.1:9"),
        "cost",
        "report",
        "--month",
        "9999-12",
        "--project-dir",
        str(project),
    )
    assert code == 2
    assert "Traceback" not in stdout + stderr
    assert "--month: 9999-12 is in the future" in stderr
