"""Shared fixtures (each real stack evaluated once under Pulumi mocks) and how the run collects
garbage."""

import functools
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from diagnyx_infra import collect_young_garbage_less_often

if TYPE_CHECKING:
    from diagnyx_infra.engine.runner import StackRecording

# The imports of the program, the CLI and typer are left to the fixtures that use them: the
# xdist controller loads this file too, and starts the workers only once it has.


@pytest.fixture(scope="session", autouse=True)
def _one_click_command_per_app():
    """typer builds the click command of an app afresh on every CliRunner.invoke (milliseconds
    each, hundreds of times); it is the same command each time."""
    import typer.main
    import typer.testing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
        yield


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


def _runs_operations_tests(config: pytest.Config) -> bool:
    operations = (Path(__file__).parent / "ops").resolve()
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == operations or operations in path.parents or path in operations.parents:
            return True
    return False


# The file that takes longest (a whole rehearsal, with its variations forked beside it) is
# handed to a worker first: handed out late, as xdist orders files by their number of tests,
# it left the other worker idle at the end.
LONGEST_FIRST = ("tests/rehearsal/test_rehearse.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The modules every test module imported are set aside from garbage collection once
    collected: otherwise each full collection during the run walks them all again (a fifth of
    the suite's time; engine/runner.py does the same for the program's evaluations)."""
    gc.collect()
    gc.freeze()
    gc.enable()
    collect_young_garbage_less_often()  # as `diagnyx` does
