"""A moto server on 127.0.0.1 for the tooling's end-to-end tests, and landing zones of seven
accounts built in it. Building one takes seconds, so a module shares one healthy landing zone;
tests that break something put it back."""

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from moto.server import ThreadedMotoServer

from diagnyx_infra.engine.runner import PROJECT_DIR
from diagnyx_infra.ops.accounts_sync import sync
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.bootstrap import set_setting
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.landscape import build_healthy, create_organization

DIAGNYX = Path(sys.executable).parent / "diagnyx"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


@pytest.fixture
def blank_project(aws_env, moto_endpoint, tmp_path) -> Path:
    """An empty moto server and fresh stack files."""
    reset(moto_endpoint)
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="module")
def healthy(aws_env, moto_endpoint, tmp_path_factory) -> Path:
    """One healthy landing zone per test module."""
    reset(moto_endpoint)
    project = build_organization(copy_project(tmp_path_factory.mktemp("project")))
    build_healthy(Aws.from_environment(), LandingZone.load(project))
    return project


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
