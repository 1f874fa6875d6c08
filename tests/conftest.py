"""Shared fixtures: each real stack evaluated once under Pulumi mocks."""

import pytest

from diagnyx_infra.engine.runner import StackRecording, run_stack
from tests.helpers import ALL_STACKS


@pytest.fixture(scope="session")
def recordings() -> dict[str, StackRecording]:
    return {stack: run_stack(stack) for stack in ALL_STACKS}


@pytest.fixture(scope="session")
def management(recordings) -> StackRecording:
    return recordings["management"]
