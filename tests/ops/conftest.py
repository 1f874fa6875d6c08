"""A moto server on 127.0.0.1 for the tooling's end-to-end tests, and landing zones of seven
accounts built in it. Building one takes seconds, so a worker builds one healthy landing zone
and every module shares it: tests that break something put it back, and after each module a
fingerprint of what tests change (read through the server) is compared with the one taken when
it was built; a module that left it otherwise has the next module get a new one. Tests that need
an empty server get a second one (``blank_env``)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from diagnyx_infra.engine.runner import PROJECT_DIR
from diagnyx_infra.ops.accounts_sync import sync
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.bootstrap import set_setting
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.landscape import build_healthy, create_organization, fingerprint

DIAGNYX = Path(sys.executable).parent / "diagnyx"


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 in a process of its own: moto keeps its state per process, and
    a test elsewhere in the worker that mocks AWS in process (moto's mock_aws resets every
    backend it has) must not empty the server the landing zone is built in."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            try:
                reset(endpoint)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() - started > 60:
                    raise RuntimeError(f"the moto server for {endpoint} did not start") from None
                time.sleep(0.05)
        yield endpoint
    finally:
        server.kill()  # nothing to keep: a clean shutdown only waits on werkzeug's poll
        server.wait()


# The server's process: SIGTERM when the worker that started it ends (Linux's
# PR_SET_PDEATHSIG), so a worker killed mid-run leaves no server behind; no request log lines;
# moto's list of its own service packages read once (its server lists the package directory on
# every request to route it, a quarter of its time per request; the directory does not change
# while it runs); then moto's own server.
_SERVE = """
import contextlib, ctypes, logging, signal, sys
with contextlib.suppress(OSError, AttributeError):
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
logging.getLogger("werkzeug").setLevel(logging.ERROR)
import moto.backends
modules = tuple(moto.backends.list_of_moto_modules())
moto.backends.list_of_moto_modules = lambda: iter(modules)
from moto.server import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def aws_env(moto_endpoint) -> Iterator[dict[str, str]]:
    """Fake credentials pointed at the moto server, for this process and the CLI's."""
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # moto answers an unimplemented API with HTTP 500; do not wait through retries for it.
        "AWS_MAX_ATTEMPTS": "1",
    }
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
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, target)
    # The example's services monitor belongs to the example management account; this
    # organization's is not named yet.
    set_setting(target, "management", "costGovernance.servicesMonitorArn", None)
    return target


def build_organization(project: Path) -> Path:
    """The organization with its seven accounts; stack files synced to their IDs."""
    caller = Aws.from_environment()
    create_organization(caller, LandingZone.load(project))
    sync(caller, LandingZone.load(project), project, write=True)
    return project


class Landscape:
    """The worker's healthy landing zone: built when first needed, again only after a module
    changed it and did not put it back (``spoiled``)."""

    def __init__(self, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.moto_endpoint = moto_endpoint
        self.tmp_path_factory = tmp_path_factory
        self.project: Path | None = None
        self.built = ""  # the fingerprint as built
        self.organization: str | None = None
        self.caller: Aws | None = None
        self.sessions: dict[str, Aws] = {}  # account ID -> assumed session, for fingerprints

    def get(self) -> Path:
        if self.project is not None and self._organization() != self.organization:
            self.spoiled()  # the server was emptied since
        if self.project is None:
            reset(self.moto_endpoint)
            project = build_organization(copy_project(self.tmp_path_factory.mktemp("project")))
            build_healthy(Aws.from_environment(), LandingZone.load(project))
            self.caller, self.sessions = Aws.from_environment(), {}
            self.organization = self._organization()
            self.built = self.fingerprint(project)
            self.project = project
        return self.project

    def _organization(self) -> str | None:
        """The organization's ID (moto makes a new one for every organization), or None."""
        try:
            organizations = (self.caller or Aws.from_environment()).client("organizations")
            return organizations.describe_organization()["Organization"]["Id"]
        except Exception:  # no organization, or no answer: not the landing zone built
            return None

    def fingerprint(self, project: Path) -> str:
        assert self.caller is not None
        return fingerprint(self.caller, self.sessions, LandingZone.load(project))

    def spoiled(self) -> None:
        self.project = None
        self.caller, self.sessions = None, {}


@pytest.fixture(scope="session")
def landscape(aws_env, moto_endpoint, tmp_path_factory) -> Landscape:
    return Landscape(moto_endpoint, tmp_path_factory)


@pytest.fixture(scope="session")
def blank_moto_endpoint() -> Iterator[str]:
    """A second moto server, for the tests that need an empty one: emptying the first would cost
    the worker's healthy landing zone. Started when a test first needs it."""
    with moto_server() as endpoint:
        yield endpoint


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


@pytest.fixture(scope="module")
def healthy(request, landscape) -> Iterator[Path]:
    """The worker's healthy landing zone, as built, for this module; checked after it."""
    project = landscape.get()
    yield project
    try:
        left = landscape.fingerprint(project)
    except Exception as error:  # whatever it is, the next module builds anew
        left = f"unreadable: {error}"
    if left != landscape.built:
        landscape.spoiled()
        warnings.warn(
            f"{request.module.__name__} left the landing zone changed: the next module that "
            "needs it gets a new one",
            stacklevel=1,
        )


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
