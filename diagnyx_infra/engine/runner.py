"""Run the real ``__main__.py`` for one stack under Pulumi mocks and record what it registers.

This is what ``plan`` prints and what the tests assert: the program exactly as ``pulumi up``
runs it, with the stack's real config, but no engine, no credentials and no cloud.
"""

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
import runpy
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource_runtime
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func

from .. import PROJECT_DIR
from ..config.stack_files import StackConfig, load_stack_config
from ..errors import ConfigError, ReportedFailure
from .recording import RecordedResource, RecordingMocks, RecordingMonitor


@dataclass
class StackRecording:
    stack: str
    config: StackConfig
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def named(self, name: str) -> RecordedResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r} in stack {self.stack}")
        return matches[0]


class _LoopClosingExecutor(concurrent.futures.ThreadPoolExecutor):
    """The executor of one evaluation's event loop. The SDK hands every call to the engine to
    it, and in each of its threads the mock monitor uses an event loop of that thread, which it
    opens and never closes (left to the garbage collector, each one warns when collected). This
    executor opens those loops itself and closes them when it is shut down. (Answering the calls
    in the loop's own thread instead nests the SDK's waits one in another: a recursion error
    from a few hundred resources.) One thread: the mocks answer one call at a time and no call
    waits for another, so more threads only pass the interpreter lock back and forth (with the
    default six an evaluation took 8% longer)."""

    def __init__(self) -> None:
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()
        super().__init__(max_workers=1, initializer=self._open_loop)

    def _open_loop(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with self._loops_lock:
            self._loops.append(loop)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=True, cancel_futures=cancel_futures)  # the loops are idle then
        with self._loops_lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            loop.close()


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_stack(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    config: StackConfig | None = None,
    mocks: pulumi_mocks.Mocks | None = None,
) -> StackRecording:
    """Evaluate ``project_dir/__main__.py`` for ``stack``.

    ``config`` replaces the stack's files (tests use it for bad configs); ``mocks`` replaces the
    answers to registrations (the rehearsal carries them out against an AWS emulator). A
    ``ConfigError`` raised by the program propagates unchanged.
    """
    program = project_dir / "__main__.py"
    if not program.is_file():
        raise ConfigError(
            [f"{project_dir}: no __main__.py here; give the folder that holds Pulumi.yaml"]
        )
    config = config or load_stack_config(project_dir, stack)
    _spare_the_collector()
    mocks = mocks or RecordingMocks()
    monitor = RecordingMonitor(mocks)
    collector = _WarningCollector()
    logger = logging.getLogger(f"diagnyx.engine.{stack}")
    logger.propagate = False
    logger.handlers = [collector]

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_reported_failures)
    loop.set_default_executor(_LoopClosingExecutor())
    asyncio.set_event_loop(loop)
    try:
        runtime_config.set_all_config(dict(config.values), sorted(config.secret_keys))
        pulumi_mocks.set_mocks(
            mocks,
            project=config.project,
            stack=stack,
            preview=False,
            logger=logger,
            monitor=monitor,
        )
        # pulumi-aws logs every deprecated class or argument used through the engine log, which
        # the collector keeps; warnings it raises while importing its own modules are not usage.
        with _no_source_positions():
            loop.run_until_complete(run_pulumi_func(lambda: runpy.run_path(str(program))))
        outputs = loop.run_until_complete(_resolve_outputs())
    except BaseException:
        _abandon(loop)
        raise
    finally:
        runtime_settings.reset_options()
        runtime_config.set_all_config({}, [])
        asyncio.set_event_loop(None)
        loop.close()
    return StackRecording(stack, config, monitor.recorded, outputs, collector.messages)


def _spare_the_collector() -> None:
    """Collect what earlier evaluations left, then set everything still alive (the SDK's and
    pulumi-aws's modules above all: half a million objects) aside from garbage collection. An
    evaluation allocates fast enough to trigger many collections, and each full one would walk
    all of those objects again: a third of an evaluation's time. Objects freed later are still
    freed as usual; only cycles among them wait for the process to end (an earlier rehearsal's
    emulated AWS: about 30 MB per rehearsal in a process that runs several, as the tests do;
    each command of the CLI is a process of its own). Collecting the frozen set again from time
    to time was tried: it cost the test suite a quarter more time."""
    gc.collect()
    gc.freeze()


def _abandon(loop: asyncio.AbstractEventLoop) -> None:
    """A program that stopped (a config error, a resource the emulator refused) leaves outputs
    that will never resolve: cancel them and collect their coroutines now, quietly, instead of
    letting the garbage collector print "never awaited" warnings into later output."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if not pending:  # stopped before registering anything (a config error): nothing to collect
        return
    for task in pending:
        task.cancel()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        gc.collect()


@contextlib.contextmanager
def _no_source_positions() -> Iterator[None]:
    """The SDK walks the Python stack of every registration to tell the engine where in the
    program it happened (a quarter of an evaluation's time); the mocks have no use for it."""
    original = getattr(pulumi_resource_runtime, "_get_stack_trace", None)
    if original is None:  # the SDK changed: keep its behaviour
        yield
        return
    pulumi_resource_runtime._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource_runtime._get_stack_trace = original


def _quiet_reported_failures(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A failure the mocks already captured surfaces once, from its caller; the engine's other
    futures that carry it would each print it again with a traceback."""
    if isinstance(context.get("exception"), ReportedFailure):
        return
    loop.default_exception_handler(context)


async def _resolve_outputs() -> dict[str, Any]:
    root = runtime_settings.get_root_resource()
    exported = getattr(root, "outputs", {}) or {}
    resolved = {}
    for name, value in exported.items():
        resolved[name] = await pulumi.Output.from_input(value).future()
    return resolved
