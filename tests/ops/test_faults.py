"""Operations commands under faults (issue 13, section 5): AWS unreachable or not AWS exits 3
with one line naming the endpoint, a silent endpoint is given up on within bounds, so is one
that answers a byte at a time (a deadline over each whole call), a checklist that could not
check everything does not exit 0, only moto's known gaps count as "not offered by this
endpoint", and `cost report --month` refuses months Cost Explorer cannot report (an empty one
too).

The faults are small servers on 127.0.0.1 that the commands reach through AWS_ENDPOINT_URL."""

import datetime as dt
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from typer.testing import CliRunner

from diagnyx_infra import cli
from diagnyx_infra.cli import app
from diagnyx_infra.ops import aws as aws_module
from diagnyx_infra.ops.aws import (
    Aws,
    CallDeadlineExceeded,
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

# How often a fault server's loop looks for shutdown(): the default 0.5 s made every shutdown()
# wait up to that long.
POLL_INTERVAL = 0.02


def serve(server: http.server.HTTPServer) -> None:
    """Runs ``server`` in a daemon thread; its shutdown() returns within POLL_INTERVAL."""
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
    ).start()


def _http_server(
    status: int, body: bytes, content_type: str, server: str = "BaseHTTP/0.6 Python/3"
) -> http.server.HTTPServer:
    class Reply(http.server.BaseHTTPRequestHandler):
        server_version, sys_version = server, ""

        def version_string(self) -> str:  # the Server header
            return self.server_version

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
    serve(server)
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


class DripServer:
    """Answers every request, too slowly: the status line and headers, then one body byte every
    ``every`` seconds ("body"), or the status line, then one header line every ``every`` seconds
    ("headers"). Each socket read gets data well within READ_TIMEOUT: only a deadline over the
    whole call ends it."""

    def __init__(self, mode: str, every: float = 0.25) -> None:
        self.mode, self.every = mode, every
        self.closed = threading.Event()
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536) or b"\r\n\r\n"
                if self.mode == "body":
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                        b"Content-Length: 100000\r\n\r\n"
                    )
                    piece = b"<"
                else:
                    connection.sendall(b"HTTP/1.1 200 OK\r\n")
                    piece = b"X-Drip: 1\r\n"
                while not self.closed.wait(self.every):
                    connection.sendall(piece)
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.socket.close()


class StsOnlyProxy:
    """Forwards STS to ``upstream`` (a moto server) and answers every other call with one fixed
    reply: a proxy or gateway that fails almost everything, while the caller's identity and the
    role assumptions still work."""

    def __init__(
        self, upstream: str, status: int, body: bytes, content_type: str, server: str
    ) -> None:
        class Proxy(http.server.BaseHTTPRequestHandler):
            def version_string(self) -> str:
                return server

            def _answer(self) -> None:
                sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                scope = (self.headers.get("Authorization") or "").split("Credential=")[-1]
                if scope.split("/")[3:4] == ["sts"]:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    reply = requests.request(
                        self.command, upstream + self.path, headers=headers, data=sent, timeout=10
                    )
                    code, content = reply.status_code, reply.content
                    kind = reply.headers.get("Content-Type", "text/xml")
                else:
                    code, content, kind = status, body, content_type
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        serve(self.server)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# What a moto server answers for an action it lacks: Werkzeug's internal-error page (moto 5.2).
WERKZEUG_500 = (
    b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable"
    b" to complete your request. Either the server is overloaded or there is an error in the "
    b"application.</p>\n"
)
WERKZEUG = "Werkzeug/3.1.9 Python/3.11.7"
NGINX_500 = (
    b"<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal "
    b"Server Error</h1></center><hr><center>nginx</center></body></html>"
)
# Replies to every call but STS that must not pass for an emulator's gap.
FAILING_EVERYTHING = {
    "nginx 500 page": (500, NGINX_500, "text/html", "nginx"),
    # A proxy on Flask that fails: moto's page, also for the APIs moto has.
    "Werkzeug 500 page": (500, WERKZEUG_500, "text/html; charset=utf-8", WERKZEUG),
    "500 JSON without a code": (500, b"{}", "application/json", "proxy"),
    "501 XML without a code": (501, b"<Error></Error>", "text/xml", "proxy"),
}


# The timeouts the tests that wait on them set (the mechanism is the same as with the real
# settings; waiting out those would take seconds a test). The dripping server sends well within
# each read timeout, so only the deadline over the whole call ends it.
TEST_READ_TIMEOUT = 0.05
TEST_DEADLINE = 0.08
DRIP_EVERY = 0.02


def _refusing_socket() -> socket.socket:
    """A port bound but never listening: connections are refused, and, since we keep it bound
    for the module's life, no other test's server can take it over (a port merely closed once
    was reused by a moto server running in parallel, which then answered)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


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
    refusing = _refusing_socket()
    found["closed port"] = (f"http://127.0.0.1:{refusing.getsockname()[1]}", "connection refused")
    # A reserved top-level domain (RFC 6761): never resolves.
    found["no such host"] = ("http://diagnyx-no-such-host.invalid", "DNS lookup failed")
    yield found
    refusing.close()
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


def test_a_silent_endpoint_is_given_up_on_within_bounds(project, monkeypatch):
    """It accepts the connection and never answers: botocore's defaults (60 s read timeout,
    retries) took minutes; the tooling's bound is NETWORK_ATTEMPTS x READ_TIMEOUT. Measured here
    with a read timeout of TEST_READ_TIMEOUT (the mechanism is the same; the real figure is
    printed)."""
    from diagnyx_infra.ops import aws

    print(f"bound with the real settings: {aws.NETWORK_ATTEMPTS * aws.READ_TIMEOUT} s")
    assert aws.NETWORK_ATTEMPTS * aws.READ_TIMEOUT <= 30
    monkeypatch.setattr(aws, "READ_TIMEOUT", TEST_READ_TIMEOUT)
    silent = SilentServer()
    env = {k: v for k, v in fault_env(silent.url).items()}
    started = time.monotonic()
    try:
        result = CliRunner().invoke(
            app, ["checklist", "--all", "--project-dir", str(project)], env=env
        )
    finally:
        silent.close()
    elapsed = time.monotonic() - started
    print(f"silent endpoint given up on after {elapsed:.1f} s")  # measured, not asserted tightly
    assert result.exit_code == EXIT_CANNOT_LOOK, result.output
    assert not isinstance(result.exception, Exception), result.exception
    (line,) = result.stderr.strip().splitlines()
    assert silent.url in line and f"no reply within {TEST_READ_TIMEOUT} s" in line, line
    assert elapsed < 30  # a hang guard: one endpoint, NETWORK_ATTEMPTS waits, not one per item


@pytest.mark.parametrize("mode", ["body", "headers"])
def test_an_endpoint_answering_a_byte_at_a_time_is_given_up_on(project, monkeypatch, mode):
    """A byte (or a header line) every few seconds: every socket read succeeds, so READ_TIMEOUT
    never fires and `checklist --all` ran for minutes. The deadline over each whole call ends it:
    exit 3, one line. Measured with a deadline of TEST_DEADLINE and a byte every DRIP_EVERY (the
    real figures are printed)."""
    print(
        f"bound with the real settings: {aws_module.NETWORK_ATTEMPTS * aws_module.CALL_DEADLINE} s"
    )
    # SIGALRM reaches the main thread only; the commands run there.
    assert threading.current_thread() is threading.main_thread()
    monkeypatch.setattr(aws_module, "CALL_DEADLINE", TEST_DEADLINE)
    drip = DripServer(mode, DRIP_EVERY)
    started = time.monotonic()
    try:
        result = invoke(fault_env(drip.url), "checklist", "--all", "--project-dir", str(project))
    finally:
        drip.close()
    elapsed = time.monotonic() - started
    print(f"dripping endpoint ({mode}) given up on after {elapsed:.1f} s")
    assert_one_line_exit_3(result, drip.url, "no complete reply from")
    assert f"within {TEST_DEADLINE} s" in result.stderr
    # NETWORK_ATTEMPTS x TEST_DEADLINE and a backoff, once: the endpoint is then down for the run.
    assert elapsed < 10
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def _point_at(monkeypatch, endpoint: str) -> None:
    for key, value in fault_env(endpoint).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


def test_the_deadline_puts_back_the_sigalrm_handler(monkeypatch):
    monkeypatch.setattr(aws_module, "CALL_DEADLINE", TEST_DEADLINE)
    monkeypatch.setattr(aws_module, "NETWORK_ATTEMPTS", 1)
    drip = DripServer("body", DRIP_EVERY)
    _point_at(monkeypatch, drip.url)
    alarms: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: alarms.append(signum))
    handler = signal.getsignal(signal.SIGALRM)
    try:
        started = time.monotonic()
        with pytest.raises(CallDeadlineExceeded) as stopped_call:
            Aws.from_environment().client("sts").get_caller_identity()
        assert time.monotonic() - started < 5
        assert str(stopped_call.value) == (
            f"no complete reply from {drip.url} within {TEST_DEADLINE} s"
        )
        assert classify(stopped_call.value).kind == "unreachable"
        assert signal.getsignal(signal.SIGALRM) is handler
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert alarms == []  # the alarm was the deadline's, not passed on
    finally:
        drip.close()
        signal.signal(signal.SIGALRM, previous)


def test_the_deadline_leaves_a_running_timer_alone(faults, monkeypatch):
    """ITIMER_REAL is one per process: a timer someone else set (a test runner's limit) keeps
    running, with its handler, through the calls."""
    endpoint, _ = faults["html 200"]  # answers at once (not as AWS)
    _point_at(monkeypatch, endpoint)
    alarms: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: alarms.append(signum))
    handler = signal.getsignal(signal.SIGALRM)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with pytest.raises(NotAwsReply):
            Aws.from_environment().client("sts").get_caller_identity()
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < left <= 30
        assert signal.getsignal(signal.SIGALRM) is handler
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert alarms == []


def test_calls_from_another_thread_work_without_the_deadline(faults, monkeypatch):
    """signal.signal works only in the main thread: elsewhere the watchdog stays out."""
    endpoint, _ = faults["html 200"]
    _point_at(monkeypatch, endpoint)
    handler = signal.getsignal(signal.SIGALRM)
    raised: list[BaseException] = []

    def call() -> None:
        try:
            Aws.from_environment().client("sts").get_caller_identity()
        except BaseException as error:
            raised.append(error)

    worker = threading.Thread(target=call)
    worker.start()
    worker.join(30)
    (error,) = raised
    assert isinstance(error, NotAwsReply), error
    assert signal.getsignal(signal.SIGALRM) is handler


# --- only moto's known gaps are "not offered by this endpoint" ----------------------------------


@pytest.mark.parametrize(
    ("reply", "api", "kind"),
    [
        # moto's server for an action it lacks, on an API it lacks: set aside.
        ((500, WERKZEUG_500, "text/html; charset=utf-8", WERKZEUG), "ce", "unavailable"),
        # The same page for an API moto has, from another server, or another page: not AWS.
        ((500, WERKZEUG_500, "text/html; charset=utf-8", WERKZEUG), "organizations", "unreachable"),
        ((500, WERKZEUG_500, "text/html; charset=utf-8", "nginx"), "ce", "unreachable"),
        ((500, NGINX_500, "text/html", WERKZEUG), "ce", "unreachable"),
        ((502, WERKZEUG_500, "text/html", WERKZEUG), "ce", "unreachable"),
        ((500, b"{}", "application/json", WERKZEUG), "ce", "unreachable"),
        ((501, b"", "application/json", WERKZEUG), "ce", "unreachable"),
    ],
    ids=[
        "moto gap",
        "page for another API",
        "another server",
        "another page",
        "another status",
        "json without code",
        "empty 501",
    ],
)
def test_only_a_known_emulator_gap_is_unavailable(monkeypatch, reply, api, kind):
    server = _http_server(*reply)
    _point_at(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    try:
        client = Aws.from_environment().client(api)
        with pytest.raises(Exception) as failed:
            if api == "ce":
                client.list_cost_allocation_tags()
            else:
                client.describe_organization()
    finally:
        server.shutdown()
        server.server_close()
    problem = classify(failed.value)
    assert problem.kind == kind, problem
    if kind == "unavailable":
        assert "does not implement this API" in problem.message
        assert "ce:ListCostAllocationTags" in problem.message


WERKZEUG_404 = (
    b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on the server. If you entered the URL manually please "
    b"check your spelling and try again.</p>\n"
)


@pytest.mark.parametrize(
    ("api", "reply", "endpoint", "gap"),
    [
        ("ce:GetAnomalies", (500, WERKZEUG_500, WERKZEUG), "http://127.0.0.1:5000", "server"),
        ("backup:ListBackupJobs", (404, WERKZEUG_404, WERKZEUG), "http://localhost:1", "server"),
        ("backup:ListBackupJobs", (404, b"Not yet implemented", None), "https://x", "in process"),
        # From AWS's own hosts the page is a proxy's, never an emulator's gap.
        ("ce:GetAnomalies", (500, WERKZEUG_500, WERKZEUG), "https://ce.amazonaws.com", None),
        ("ce:GetAnomalies", (500, WERKZEUG_500, WERKZEUG), "https://ce.amazonaws.com.cn", None),
        ("backup:ListBackupJobs", (404, WERKZEUG_404, WERKZEUG), "https://b.api.aws", None),
        ("ce:GetAnomalies", (500, WERKZEUG_500, WERKZEUG), "https://C.API.aws.ic.gov.", None),
        # An HTTP server's reply carries headers; moto in process answers without any.
        ("backup:ListBackupJobs", (404, b"Not yet implemented", "nginx"), "https://x", None),
        # Another API's 404 page: not a gap.
        ("ce:GetCostAndUsage", (404, WERKZEUG_404, WERKZEUG), "http://127.0.0.1:5000", None),
    ],
)  # fmt: skip
def test_a_gap_is_an_emulators_only_off_awss_hosts(api, reply, endpoint, gap):
    import botocore.session

    from diagnyx_infra.ops.aws import _emulator_gap

    service, operation = api.split(":")
    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    status, body, server = reply
    answer = {"status_code": status, "body": body, "headers": {"Server": server} if server else {}}
    found = _emulator_gap(model, answer, endpoint)
    assert (found[1] if found else None) == gap


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
    # A 500 (or 501) page is no emulator's gap unless it is a known one.
    for status in (500, 501):
        assert classify(NotAwsReply(endpoint="http://x", status=status, what="a page")).kind == (
            "unreachable"
        )
    gap = NotAwsReply(
        endpoint="http://x", status=500, what="an HTML page", gap="ce:ListCostAllocationTags"
    )
    assert classify(gap).kind == "unavailable"
    # moto in process raises NotImplementedError for an action it lacks.
    assert classify(NotImplementedError("The x action has not been implemented")).kind == (
        "unavailable"
    )
    deadline = CallDeadlineExceeded(endpoint_url="http://x", seconds=15)
    assert classify(deadline) == aws_module.ErrorKind(
        "unreachable", "no complete reply from http://x within 15 s"
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
    result = invoke(env, "doctor", "--project-dir", str(project))
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    (line,) = result.stderr.strip().splitlines()
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
        ("", False, "empty: give a complete month as YYYY-MM (e.g. 2026-10)"),
        ("  ", False, "empty: give a complete month as YYYY-MM"),
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
        # An unset $MONTH in CI (`--month "$MONTH"`): refused, not the default month.
        ("", "empty: give a complete month as YYYY-MM"),
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
    result = invoke(
        fault_env("http://127.0.0.1:9"),
        "cost",
        "report",
        "--month",
        "9999-12",
        "--project-dir",
        str(project),
    )
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "--month: 9999-12 is in the future" in result.stderr
