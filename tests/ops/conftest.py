"""Moto servers on 127.0.0.1 for the tooling's end-to-end tests, and the healthy landing zone of
seven accounts built in one. Building it takes seconds, so a run builds it once, in a server that
no test talks to, and each module that needs it gets a copy of that server (a fork of its process:
milliseconds): as built, whatever the modules before it did. Tests that need an empty server get
a copy of one that stays empty (``blank_env``)."""

import atexit
import contextlib
import fcntl
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import botocore.retries.standard
import pytest
import requests

from diagnyx_infra import PROJECT_DIR
from diagnyx_infra.ops.accounts_sync import sync
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.bootstrap import set_setting
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.landscape import build_healthy, create_organization
from tests.ops.prebuild import FAKE_AWS

DIAGNYX = Path(sys.executable).parent / "diagnyx"

# A moto server that can copy itself: POST /_diagnyx/copy?port=P&watch=W forks its process (the
# copy has all of its state) into one serving on P (0: any port) until process W ends; the reply
# names the copy's process and port. Each server ends with the process it watches (the run for
# the templates, a worker for its copies), so a run killed midway leaves none behind. Its
# process is started in the background (the starter returns at once) and prints its port.
# Besides: one request at a time, no request log lines, no Flask in the way (BackendApp), and
# moto made faster as the emulator makes it (rehearsal/moto_speed.py: lookups moto makes on
# every request done once, its KMS keys sharing one RSA key pair).
_SERVE = r"""
import contextlib, gc, json, logging, os, signal, sys, threading, time
from urllib.parse import parse_qs

logging.getLogger("werkzeug").setLevel(logging.ERROR)
import diagnyx_infra.rehearsal.moto_gaps  # what moto lacks and AWS does (CloudTrail's admin)
import diagnyx_infra.rehearsal.moto_speed  # moto's lookups made once, KMS keys sharing RSA
from botocore.exceptions import ClientError
from moto.core.request import Request
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app,
)
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server
from werkzeug.wrappers import Response


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # werkzeug formats every request's line before the logger drops it


class BackendApp:
    # moto's Flask app of a service, used for its URL map and handlers only: a request goes
    # straight to its handler, as moto.core.utils.convert_to_flask_response hands it over,
    # without Flask's request context, debug checks and CORS headers (a tenth of the server's
    # time). An HTTP error a handler raises (413, say) is answered as Flask answers it; anything
    # else reaches werkzeug's server, as in moto's debug-mode app: a 500.
    def __init__(self, service):
        flask_app = create_backend_app(service)
        self.urls = flask_app.url_map
        self.handlers = {name: view.callback for name, view in flask_app.view_functions.items()}

    def __call__(self, environ, start_response):
        try:
            endpoint, _ = self.urls.bind_to_environ(environ).match()
        except HTTPException as error:  # no such path or method, as Flask answers it
            return error(environ, start_response)
        request = ServerRequest(environ)
        try:
            recorder._record_request(request)
            result = self.handlers[endpoint](request, request.raw_url, dict(request.headers))
        except ClientError as error:
            result = 400, {}, error.response["Error"]["Message"]
        except HTTPException as error:
            return error(environ, start_response)
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response(environ, start_response)


class ServerRequest(Request):
    from_wsgi_server = True  # as moto's Flask app marks its requests


def backend_app(service):
    # moto's own API (reset, and a dashboard that renders Flask templates) keeps its Flask app.
    return create_backend_app(service) if service == "moto_api" else BackendApp(service)


moto_app = DomainDispatcherApplication(backend_app)  # as in moto's ThreadedMotoServer
server = None


def watch(pid):
    def run():
        while True:
            time.sleep(0.5)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=run, daemon=True).start()


def set_aside():
    # What the server holds now (moto's modules, a template's landing zone) is left out of
    # garbage collection: every full collection would walk it again (see engine/runner.py).
    gc.collect()
    gc.freeze()


def serve(port, report, pid):
    global server
    watch(pid)
    # One request at a time: a copy has one client (a worker's tests, one call after another),
    # a template only the workers' short copy requests, and a thread per request costs more
    # than the requests themselves.
    server = make_server(
        "127.0.0.1", port, app, threaded=False, request_handler=QuietRequestHandler
    )
    os.write(report, b"%d\n" % server.server_port)
    if report == 1:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    else:
        os.close(report)
    server.serve_forever()


def app(environ, start_response):
    if environ.get("PATH_INFO") != "/_diagnyx/copy":
        return moto_app(environ, start_response)
    query = {k: int(v[0]) for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    # Set aside here, before the fork, rather than in each copy: a copy collecting a landing
    # zone built since the template started would walk (and copy the pages of) all of it.
    set_aside()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            server.socket.close()
            with contextlib.suppress(Exception):
                environ["werkzeug.socket"].close()
            serve(query["port"], write, query["watch"])
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        port = answer.readline().strip()
    if not port:
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]
    body = json.dumps({"pid": pid, "port": int(port)}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the copies are reaped as they end
if os.fork() == 0:
    set_aside()
    serve(0, 1, int(sys.argv[1]))
os._exit(0)
"""


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def _port(endpoint: str) -> int:
    port = urlsplit(endpoint).port
    assert port is not None, endpoint
    return port


def _listening(endpoint: str | None) -> bool:
    if endpoint is None:
        return False
    try:
        socket.create_connection(("127.0.0.1", _port(endpoint)), timeout=5).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _pointed_at(endpoint: str) -> Iterator[None]:
    """AWS_ENDPOINT_URL of this process set to ``endpoint`` for a while."""
    saved = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = saved


class MotoServers:
    """The run's moto servers: in processes of their own, as moto keeps its state per process (a
    test elsewhere in the worker that mocks AWS in process resets every backend moto has, and
    must not empty them). Two templates for the whole run, shared by its workers through
    ``shared``: one that stays empty, and one the healthy landing zone is built in once; each
    worker serves tests from copies of them."""

    def __init__(self, shared: Path, run: int) -> None:
        self.shared = shared
        self.run = run  # the process whose end ends the run
        self.copies: dict[int, int] = {}  # port -> process of this worker's copy there

    def templates(self, build: Callable[[str], dict[str, str]] | None = None) -> dict[str, str]:
        """The templates' endpoints ("empty" and, once ``build`` has filled it, "healthy"),
        started or built by the first worker that needs them; what ``build`` returned."""
        with _locked(self.shared / "moto.lock"):
            saved = self.shared / "moto.json"
            state = json.loads(saved.read_text()) if saved.exists() else {}
            if not _listening(state.get("empty")):
                state = {"empty": self._start()}
            if build is not None and not _listening(state.get("healthy")):
                healthy = self._fork(state["empty"], 0, self.run)[1]
                state = {"empty": state["empty"], "healthy": healthy, **build(healthy)}
            saved.write_text(json.dumps(state))
        return state

    def healthy(self) -> dict[str, str]:
        """The templates, the healthy landing zone built (``build_template``) if it is not yet."""
        return self.templates(build=functools.partial(build_template, self))

    def copy(self, template: str, port: int) -> None:
        """A copy of ``template`` serving on ``port``, in place of the one there."""
        self.stop(port)
        self.copies[port] = self._fork(template, port, os.getpid())[0]

    def stop(self, port: int) -> None:
        pid = self.copies.pop(port, None)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # gone once its parent has reaped it
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.005)

    def close(self) -> None:
        for port in list(self.copies):
            self.stop(port)

    def _start(self) -> str:
        with (
            (self.shared / "moto.log").open("ab") as log,
            subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(self.run)],
                stdout=subprocess.PIPE,
                stderr=log,
                # No test looks up an AMI: moto would make ~1,300 for each account's EC2.
                env={**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},
            ) as starter,
        ):
            assert starter.stdout is not None
            port = starter.stdout.readline().strip()
        if not port:
            raise RuntimeError(f"the moto server did not start: see {self.shared / 'moto.log'}")
        return f"http://127.0.0.1:{int(port)}"

    @staticmethod
    def _fork(template: str, port: int, watch: int) -> tuple[int, str]:
        reply = requests.post(
            f"{template}/_diagnyx/copy", params={"port": port, "watch": watch}, timeout=60
        )
        reply.raise_for_status()
        copy = reply.json()
        return copy["pid"], f"http://127.0.0.1:{copy['port']}"


@pytest.fixture(scope="package", autouse=True)
def _no_backoff_between_retries() -> Iterator[None]:
    """botocore waits a random fraction of a second before it retries a call; these tests
    check what is retried and what the commands make of it, not botocore's waits (a second
    of each run, the cores idle). The bounds the commands put on a whole call still hold."""
    backoff = botocore.retries.standard.ExponentialBackoff
    original = backoff.delay_amount
    backoff.delay_amount = lambda self, context: 0
    yield
    backoff.delay_amount = original


@pytest.fixture(scope="session")
def moto_servers(tmp_path_factory) -> Iterator[MotoServers]:
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the run's folder, and its controller
        servers = MotoServers(base.parent, os.getppid())
    else:
        servers = MotoServers(base, os.getpid())
    yield servers
    servers.close()


@pytest.fixture(scope="session")
def moto_endpoint(moto_servers) -> str:
    """This worker's moto server: empty until a module asks for the healthy landing zone."""
    port = _free_port()
    moto_servers.copy(moto_servers.templates()["empty"], port)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def aws_env(moto_endpoint) -> Iterator[dict[str, str]]:
    """Fake credentials pointed at the moto server, for this process and the CLI's."""
    env = {"AWS_ENDPOINT_URL": moto_endpoint, **FAKE_AWS}
    saved = {k: os.environ.get(k) for k in [*env, "AWS_PROFILE", "AWS_SESSION_TOKEN"]}
    os.environ.update(env)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def reset(endpoint: str) -> None:
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)


def copy_project(target: Path) -> Path:
    """A copy of the stack files (IDs still placeholders) to run the tooling on."""
    target.mkdir(parents=True, exist_ok=True)
    for path in _project_template().iterdir():
        shutil.copy(path, target)
    return target


@functools.cache
def _project_template() -> Path:
    """The stack files as copy_project gives them, edited once per process (a round-trip edit
    of the management file costs tens of milliseconds)."""
    template = Path(tempfile.mkdtemp(prefix="diagnyx-project-"))
    atexit.register(shutil.rmtree, template, ignore_errors=True)
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, template)
    # The example's services monitor belongs to the example management account; this
    # organization's is not named yet.
    set_setting(template, "management", "costGovernance.servicesMonitorArn", None)
    return template


def record_management(project: Path) -> Path:
    """The caller's account as the management account, as `bootstrap start` records it: sync
    refuses an organization whose management account the files do not name."""
    set_setting(project, "management", "accountIds.management", Aws.from_environment().account_id)
    return project


def build_organization(project: Path) -> Path:
    """The organization with its seven accounts; stack files synced to their IDs."""
    caller = Aws.from_environment()
    create_organization(caller, LandingZone.load(project))
    record_management(project)
    sync(caller, LandingZone.load(project, check_account_ids=False), project, write=True)
    return project


class Landscape:
    """Copies of the run's healthy landing zone on this worker's moto server."""

    def __init__(
        self, servers: MotoServers, endpoint: str, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        self.servers = servers
        self.endpoint = endpoint
        self.tmp_path_factory = tmp_path_factory

    def fresh(self) -> Path:
        """The landing zone as built, in place of whatever the server held: its stack files."""
        state = self.servers.healthy()
        self.servers.copy(state["healthy"], _port(self.endpoint))
        # Stack files of its own for each copy: what is cached by project is this copy's.
        project = self.tmp_path_factory.mktemp("project")
        for path in Path(state["project"]).iterdir():
            shutil.copy(path, project)
        return project

    def put_back(self) -> None:
        """The landing zone as built again, whatever a test changed: a new copy of the run's in
        place of the server's (milliseconds), for the same stack files. The new copy does not
        know the credentials of roles assumed from the old one (moto would answer them as its
        default account): sessions made before are not to be used after."""
        self.servers.copy(self.servers.healthy()["healthy"], _port(self.endpoint))

    def keep(self) -> str:
        """A copy of what the server holds now, kept on a port of its own: tests that each start
        from the same changed landing zone start from copies of it (``start_from``) rather than
        making the change again. Its endpoint; ``discard`` ends it."""
        port = _free_port()
        self.servers.copy(self.endpoint, port)
        return f"http://127.0.0.1:{port}"

    def start_from(self, kept: str) -> None:
        """A copy of ``kept`` in place of what the server holds, for the same stack files."""
        self.servers.copy(kept, _port(self.endpoint))

    def discard(self, kept: str) -> None:
        """Ends ``kept`` without waiting for it to be reaped: its parent, the copy it was made
        from, has been replaced, so init reaps it, in its own time. (A later copy that drew the
        same free port would find it still bound, and fail to start, rather than serve wrong
        state: the run would say so.)"""
        pid = self.servers.copies.pop(_port(kept), None)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def build_template(servers: MotoServers, endpoint: str) -> dict[str, str]:
    """The healthy landing zone, built in the server at ``endpoint``: its stack files."""
    project = copy_project(Path(tempfile.mkdtemp(prefix="project-", dir=servers.shared)))
    with _pointed_at(endpoint):
        build_organization(project)
        build_healthy(Aws.from_environment(), LandingZone.load(project))
    return {"project": str(project)}


@pytest.fixture(scope="session")
def landscape(aws_env, moto_servers, moto_endpoint, tmp_path_factory) -> Landscape:
    return Landscape(moto_servers, moto_endpoint, tmp_path_factory)


@pytest.fixture(scope="session")
def blank_moto_endpoint(moto_servers) -> str:
    """A second moto server of the worker, for the tests that need an empty one: emptying the
    first would cost the worker its healthy landing zone."""
    port = _free_port()
    moto_servers.copy(moto_servers.templates()["empty"], port)
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def blank_env(aws_env, blank_moto_endpoint, monkeypatch) -> dict[str, str]:
    """The credentials of ``aws_env`` pointed at an empty moto server, for this process (while
    the test runs) and the CLI's."""
    reset(blank_moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", blank_moto_endpoint)
    return {**aws_env, "AWS_ENDPOINT_URL": blank_moto_endpoint}


@pytest.fixture
def blank_project(blank_env, tmp_path) -> Path:
    """Fresh stack files, for an empty moto server (``blank_env``)."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def put_back_afterwards(landscape) -> Iterator[None]:
    """What the test changes in the healthy landing zone is undone afterwards (Landscape.put_back):
    the module's next test finds it as built."""
    yield
    landscape.put_back()


@pytest.fixture(scope="module")
def healthy(landscape) -> Path:
    """The healthy landing zone for this module: a copy of the run's, as built (tests that break
    something put it back for the module's next tests)."""
    return landscape.fresh()


def run_diagnyx(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """`diagnyx <args>` with exactly ``env`` for AWS, in this process: a console-script process
    per call would cost a second of start-up each (tests/test_cli.py and test_faults.py run the
    real script). An exception the command does not handle is raised here, as a traceback
    would be printed there."""
    from typer.testing import CliRunner

    from diagnyx_infra.cli import app

    aws_unset = {k: None for k in os.environ if k.startswith("AWS_") and k not in env}
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(
            app, list(args), env={**aws_unset, **env, "COLUMNS": "250"}, catch_exceptions=True
        )
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        [str(DIAGNYX), *args], result.exit_code, result.stdout, result.stderr
    )
