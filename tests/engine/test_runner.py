"""The offline engine itself: how it runs a program, apart from what the program registers."""

import asyncio
import shutil
import sys
import threading
import traceback
from pathlib import Path

import pytest

from diagnyx_infra import PROJECT_DIR
from diagnyx_infra.config.stack_files import StackConfig
from diagnyx_infra.engine import runner
from diagnyx_infra.engine.runner import run_stack
from diagnyx_infra.errors import ConfigError

# Every resource waits on one before it, as a large organization's accounts, policies and
# assignments wait on the organization.
_FAN = """
import pulumi


class Thing(pulumi.CustomResource):
    def __init__(self, name, after=None):
        super().__init__("test:index:Thing", name, {{"after": after}})


root = Thing("root")
for n in range({count}):
    Thing(f"thing-{{n}}", root.id)
"""
_CONFIG = StackConfig("test", "test", {}, frozenset())


def _program(tmp_path: Path, count: int) -> Path:
    (tmp_path / "__main__.py").write_text(_FAN.format(count=count))
    return tmp_path


def test_many_registrations_do_not_nest(tmp_path):
    """Answered in the event loop's own thread, each registration's wait ran inside another's:
    a recursion error from about a thousand resources (a hundred accounts). The depth an
    evaluation needs must not grow with the resources: with only 250 frames to spare here, 400
    resources failed that way (as 1,500 did under Python's default limit)."""
    outcome: list = []

    def evaluate() -> None:
        sys.setrecursionlimit(len(traceback.extract_stack()) + 250)
        try:
            outcome.append(run_stack("test", project_dir=_program(tmp_path, 400), config=_CONFIG))
        except BaseException as error:  # handed to the test's own thread
            outcome.append(error)

    limit = sys.getrecursionlimit()
    try:
        # In a thread with a deadline: with too few frames to spare, the engine's own thread
        # can fail where nobody hears it, and the evaluation waits for ever.
        thread = threading.Thread(target=evaluate, daemon=True)
        thread.start()
        thread.join(timeout=120)
    finally:
        sys.setrecursionlimit(limit)
    assert outcome, "the evaluation hung"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    assert len(outcome[0].resources) == 401  # the things and their root


def test_an_evaluation_leaves_no_event_loop_open(tmp_path, monkeypatch):
    """The mock monitor uses an event loop in each thread that answers it; they are closed when
    the evaluation ends, not left for the garbage collector (which warns about each)."""
    opened: list[asyncio.AbstractEventLoop] = []
    real = asyncio.new_event_loop

    def recorded() -> asyncio.AbstractEventLoop:
        opened.append(real())
        return opened[-1]

    monkeypatch.setattr(asyncio, "new_event_loop", recorded)
    run_stack("test", project_dir=_program(tmp_path, 20), config=_CONFIG)
    assert len(opened) >= 2  # the evaluation's own, and those of the threads that answered it
    assert all(loop.is_closed() for loop in opened)


def test_the_test_runs_reused_evaluations_tell_any_stack_file_apart(tmp_path):
    """The test run evaluates the same files once (tests/conftest.py); the program checks
    every stack file against the others, so an edit to another stack's file is another input."""
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, tmp_path)
    runner.run_stack("uat", tmp_path)  # remembered
    management = tmp_path / "Pulumi.management.yaml"
    management.write_text(management.read_text().replace('uat: "', 'uat: "9'))
    with pytest.raises(ConfigError):
        runner.run_stack("uat", tmp_path)
