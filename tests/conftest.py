"""Shared fixtures (each real stack evaluated once under Pulumi mocks), where the run keeps its
scratch files and how it collects garbage."""

import fcntl
import functools
import gc
import hashlib
import os
import pickle
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from diagnyx_infra.engine.runner import StackRecording

# The imports of the program, the CLI and typer are left to the fixtures that use them: the
# xdist controller loads this file too, and starts the workers only once it has.

# Scratch files in memory where the machine has room for them there: the tests write copies of
# the project, isolation records (each fsync'd, as the tool does) and the emulators' folders,
# about 10 MB a run, and on a disk the waits leave the cores idle a second of each run. Set
# before the workers start, so that they, the moto servers and the commands the tests run all
# inherit it; a TMPDIR the user set is kept.
RAM_FOLDER = Path("/dev/shm")
RAM_NEEDED = 1024**3


def _scratch_in_memory() -> None:
    if os.environ.get("TMPDIR") or not RAM_FOLDER.is_dir() or not os.access(RAM_FOLDER, os.W_OK):
        return
    space = os.statvfs(RAM_FOLDER)
    # Some tests run scripts they write there (noexec: Docker's default, hardened hosts).
    if space.f_bavail * space.f_frsize < RAM_NEEDED or space.f_flag & os.ST_NOEXEC:
        return
    os.environ["TMPDIR"] = str(RAM_FOLDER)
    tempfile.tempdir = None  # found again from TMPDIR on next use


_scratch_in_memory()


@pytest.fixture(scope="session", autouse=True)
def _one_click_command_per_app():
    """typer builds the click command of an app afresh on every CliRunner.invoke (milliseconds
    each, hundreds of times); it is the same command each time. (Set without MonkeyPatch: a
    patch in place makes every evaluation run afresh, see _one_evaluation_per_input.)"""
    import typer.main
    import typer.testing

    original = typer.testing._get_command
    typer.testing._get_command = functools.cache(typer.main.get_command)
    yield
    typer.testing._get_command = original


@pytest.fixture(scope="session", autouse=True)
def _one_evaluation_per_input(tmp_path_factory):
    """The commands evaluate the program through ``engine.runner.run_stack`` (plan, cost
    estimate, access analysis); in this run they evaluate the same stack of the same files many
    times (up to a tenth of a second each). An evaluation is a function of the program and the
    project's files, so each is made once: the same files (__main__.py and every Pulumi*.yaml of
    the folder, which the program checks against each other) give the recording already made,
    the same object, as ``recordings`` shares its own: no test may change one. Nothing is
    remembered for an evaluation given its own config or mocks, or made while a test has
    anything patched (its patch may change what the program does); tests that import run_stack
    call it directly, as before. The workers of a run share what they made (_shared_evaluation):
    both evaluate every real stack, about 0.6 s of CPU each."""
    from diagnyx_infra.engine import runner

    evaluate = runner.run_stack
    made: dict[tuple, StackRecording] = {}
    # The run's folder, shared by its workers (each has a folder of its own in it).
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent

    def once_per_input(stack, project_dir=runner.PROJECT_DIR, config=None, mocks=None):
        if config is not None or mocks is not None or _patched():
            return evaluate(stack, project_dir, config, mocks)
        folder = Path(project_dir)
        files = [*sorted(folder.glob("Pulumi*.yaml")), folder / "__main__.py"]
        try:
            key = (stack, *((file.name, file.read_bytes()) for file in files))
        except OSError:  # a file missing: the evaluation says so
            return evaluate(stack, project_dir, config, mocks)
        if key not in made:
            made[key] = _shared_evaluation(shared, key, lambda: evaluate(stack, project_dir))
        return made[key]

    runner.run_stack = once_per_input
    yield
    runner.run_stack = evaluate


def _shared_evaluation(
    shared: Path, key: tuple, evaluate: "Callable[[], StackRecording]"
) -> "StackRecording":
    """The recording of ``key``'s evaluation as another worker of the run made it, or made here
    and left for the others: one worker evaluates an input, the others read its pickle
    (milliseconds). A worker that asks while another is evaluating it evaluates it too rather
    than wait with its core idle. A failed evaluation leaves nothing: each raises its own
    error."""
    name = hashlib.sha256(pickle.dumps(key)).hexdigest()[:32]
    folder = shared / "evaluations"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.pickle"
    with (folder / f"{name}.lock").open("a") as lock:
        try:  # released as the lock file is closed
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another worker is evaluating it: as soon done here as waited
            return evaluate()
        if path.exists():
            return pickle.loads(path.read_bytes())
        recording = evaluate()
        written = path.with_suffix(".partial")
        written.write_bytes(pickle.dumps(recording))
        written.replace(path)
        return recording


# The MonkeyPatches the tests and their fixtures make (pytest's own plugins keep some of their
# own for the whole run).
_MONKEYPATCHES: "weakref.WeakSet[pytest.MonkeyPatch]" = weakref.WeakSet()
_make_monkeypatch = pytest.MonkeyPatch.__init__
_in_a_test = False


def _tracked_monkeypatch(self: pytest.MonkeyPatch) -> None:
    _make_monkeypatch(self)
    if _in_a_test:
        _MONKEYPATCHES.add(self)


pytest.MonkeyPatch.__init__ = _tracked_monkeypatch  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    global _in_a_test
    _in_a_test = True
    try:
        return (yield)
    finally:
        _in_a_test = False


def _patched() -> bool:
    """Whether a test's MonkeyPatch has anything set now (attributes, items, the environment)."""
    return any(patch._setattr or patch._setitem for patch in list(_MONKEYPATCHES))


@pytest.fixture(scope="session")
def recordings() -> "dict[str, StackRecording]":
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import ALL_STACKS

    return {stack: run_stack(stack) for stack in ALL_STACKS}


@pytest.fixture(scope="session")
def management(recordings) -> "StackRecording":
    return recordings["management"]


@pytest.hookimpl(trylast=True)  # after the temporary folders are set up
def pytest_configure(config: pytest.Config) -> None:
    controller = not os.environ.get("PYTEST_XDIST_WORKER")
    if controller and not config.option.collectonly and _runs_operations_tests(config):
        from tests.ops.prebuild import prebuild

        prebuild(config._tmp_path_factory.getbasetemp(), os.getpid())
    # Importing the test modules (pulumi-aws, moto, botocore) allocates millions of objects
    # that all live to the end: collecting garbage among them is a quarter of the import time.
    # (xdist's controller collects nothing: it keeps collecting garbage.)
    if controller and config.getoption("numprocesses", None):
        return
    gc.disable()


_hypothesis_ready = False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """The controller imports hypothesis while the workers run (at the first report it gets):
    hypothesis's plugin imports it for the run's summary otherwise, at the very end, when
    nothing else is left to do (a tenth of a second the run waits for)."""
    global _hypothesis_ready
    if _hypothesis_ready or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    _hypothesis_ready = True
    import hypothesis.internal.observability  # noqa: F401


def _runs_operations_tests(config: pytest.Config) -> bool:
    operations = (Path(__file__).parent / "ops").resolve()
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == operations or operations in path.parents or path in operations.parents:
            return True
    return False


# Files are handed to the workers in this order: the one that takes longest (a whole
# rehearsal, with its variations forked beside it) first, files of a fraction of a second last,
# the rest as collected. Handed out late, a long file left the other worker idle at the end
# (xdist orders files by their number of tests otherwise).
LONGEST_FIRST = ("tests/rehearsal/test_rehearse.py",)
QUICKEST_LAST = (
    "tests/policies/",
    "tests/policy_pack/",
    "tests/rehearsal/test_",  # the rule files (test_rehearse.py goes first, above)
    "tests/test_data_safety.py",
    "tests/test_no_deprecated_api.py",
    "tests/test_self_contained.py",
    "tests/test_stacks.py",
)


def _turn(item: pytest.Item) -> int:
    file = item.nodeid.split("::")[0]
    if file in LONGEST_FIRST:
        return 0
    return 2 if file.startswith(QUICKEST_LAST) else 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_turn)  # stable: collection order within each turn


def pytest_collection_finish(session: pytest.Session) -> None:
    """The modules every test module imported are set aside from garbage collection once
    collected: otherwise each full collection during the run walks them all again (a fifth of
    the suite's time; engine/runner.py does the same for the program's evaluations). From here
    on the collector runs only when an evaluation calls it (see pytest_runtest_teardown).
    Importing leaves next to no garbage (some 11,000 objects among a million): it is set aside
    with them rather than looked for, which would walk them all (a fifth of a second per
    worker)."""
    gc.freeze()
    gc.disable()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """What a module's tests leave (botocore's parsed models, moto's backends, the evaluations'
    caches, and garbage) is set aside from garbage collection once they are done, not looked
    through: the collector, triggered by allocations, kept walking the same survivors (a
    twentieth of the suite's CPU), and looking through each module's leftovers for garbage cost
    another 1.4 s of CPU a run. A worker's memory peaks about 150 MB higher (650 MB). Each
    evaluation of the program still collects before it starts (engine/runner.py), so what the
    Pulumi SDK leaves unawaited warns there, as in `plan`."""
    if nextitem is None or nextitem.module is not item.module:
        gc.freeze()
