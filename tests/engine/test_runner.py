"""The offline engine itself: how it runs a program, apart from what the program registers."""

import asyncio
from pathlib import Path

from diagnyx_infra.config.stack_files import StackConfig
from diagnyx_infra.engine.runner import run_stack

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
    a recursion error from about a thousand resources (a hundred accounts)."""
    recording = run_stack("test", project_dir=_program(tmp_path, 1500), config=_CONFIG)
    assert len(recording.resources) == 1501  # the things and their root


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
