"""Shared fixtures: each real stack evaluated once under Pulumi mocks."""

import gc

import pytest

from diagnyx_infra.engine.runner import StackRecording, run_stack
from tests.helpers import ALL_STACKS


@pytest.fixture(scope="session")
def recordings() -> dict[str, StackRecording]:
    return {stack: run_stack(stack) for stack in ALL_STACKS}


@pytest.fixture(scope="session")
def management(recordings) -> StackRecording:
    return recordings["management"]


def pytest_collection_finish(session) -> None:
    """The modules every test module imported are set aside from garbage collection once
    collected: otherwise each full collection during the run walks them all again (a fifth of
    the suite's time; engine/runner.py does the same for the program's evaluations)."""
    gc.collect()
    gc.freeze()
