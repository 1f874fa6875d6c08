"""The run's healthy landing zone, built ahead in a process of its own (light on imports: the
pytest controller starts it before its workers collect)."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Credentials moto accepts, for the tests and the CLI they run.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto answers an unimplemented API with HTTP 500; do not wait through retries for it.
    "AWS_MAX_ATTEMPTS": "1",
}
_STARTED: list[subprocess.Popen] = []


def prebuild(shared: Path, run: int) -> subprocess.Popen:
    """Builds the run's healthy landing zone in a process of its own, started while the workers
    are still collecting (the cores are half idle then): the first module that needs it finds it
    built, or waits on the lock for the rest. Should it fail, that module builds it."""
    env = {**os.environ, **FAKE_AWS}
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(key, None)
    code = (
        "import sys, pathlib; from tests.ops import conftest as c; "
        "c.MotoServers(pathlib.Path(sys.argv[1]), int(sys.argv[2])).healthy()"
    )
    with (shared / "prebuild.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(shared), str(run)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    _STARTED.append(process)  # kept, so that it is not reported as left running
    return process
