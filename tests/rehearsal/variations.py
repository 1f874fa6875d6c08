"""Variations of the deploy sequence, each from where it starts to differ.

A rule test reintroduces one mistake and rehearses until the emulator refuses it. Rehearsing
from nothing for each costs seconds; the steps before the mistake matters are the same for all.
So one rehearsal runs the sequence, and before each step a variation starts at, a copy of this
process (fork: the emulated AWS, the world and everything else in memory, as they are) carries
the variation out from there, beside the rehearsal: the mistake reintroduced, the rest of the
sequence as the variation has it, on its own copy of the stack files. Its result comes back as
the report's JSON (`diagnyx rehearse --json`), which holds everything the text shows.
"""

import contextlib
import faulthandler
import gc
import json
import os
import shutil
import signal
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnyx_infra.deploy_sequence import SEQUENCE, Step
from diagnyx_infra.rehearsal.rehearse import RehearsalResult, Resume
from diagnyx_infra.rehearsal.report import from_json, to_json
from diagnyx_infra.rehearsal.world import World

# A variation takes a few seconds at most; this is its bound.
COPY_SECONDS = 120


@dataclass(frozen=True)
class Variation:
    """From the step ``start`` on: ``change`` reintroduces the mistake (patching this process,
    which is a copy), ``left`` makes the emulated AWS what the mistake would have left by then
    (so that a variation can start where its mistake shows, not at every step that carries it),
    ``steps`` turns the rest of the sequence into the variation's, and the checklist checks
    ``checked`` (None: what the shared rehearsal checks)."""

    start: str
    change: Callable[[pytest.MonkeyPatch], None] = lambda patch: None
    left: Callable[[World], None] = lambda world: None
    steps: Callable[[tuple[Step, ...]], tuple[Step, ...]] = lambda rest: rest
    checked: list[str] | None = None


class Variations:
    """Carries out ``variations`` from a rehearsal they hook into: pass ``before_step`` to
    `rehearse`, then hand its result to ``done`` (or call ``failed`` if it raised). Each copy
    runs beside the rehearsal it was made from (the two cores share the work). In a copy,
    ``done`` writes its result and ends the process; in the rehearsal's own process it waits for
    every copy, checks every variation ran, and ``results`` holds each one's result by name."""

    def __init__(self, variations: dict[str, Variation]) -> None:
        self.variations = variations
        self.results: dict[str, RehearsalResult] = {}
        self._folder = Path(tempfile.mkdtemp(prefix="diagnyx-variations-"))
        self._copies: dict[str, tuple[int, Path]] = {}  # name -> the copy's process, its answer
        self._answer: Path | None = None  # in a copy: where its result goes

    def before_step(self, step: Step, work: Path, world: World) -> Resume | None:
        if self._answer is not None:  # a copy goes its own way
            return None
        for name, variation in self.variations.items():
            if variation.start != step.key or name in self._copies:
                continue
            resume = self._fork(name, variation, step, work, world)
            if resume is not None:
                return resume
        return None

    def done(self, result: RehearsalResult) -> None:
        if self._answer is not None:  # the copy's rehearsal ended: hand its result over, end
            _hand_over(self._answer, {"result": to_json(result)})
        try:
            self._collect()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
        missing = set(self.variations) - set(self.results)
        assert not missing, f"never reached the steps these start at: {sorted(missing)}"

    def failed(self) -> None:
        """Call from an ``except`` around the rehearsal: a copy never returns into the test
        runner (it sends the traceback and ends); the rehearsal's own process stops its copies
        and goes on."""
        if self._answer is not None:
            _hand_over(self._answer, {"error": traceback.format_exc()})
        for pid, _ in self._copies.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        shutil.rmtree(self._folder, ignore_errors=True)

    def _fork(
        self, name: str, variation: Variation, step: Step, work: Path, world: World
    ) -> Resume | None:
        # The copy's stack files are taken now: the rehearsal goes on changing its own.
        own = self._folder / f"variation-{len(self._copies)}"
        own.mkdir()
        for path in [*work.glob("Pulumi*.yaml"), work / "__main__.py"]:
            shutil.copy(path, own)
        answer = own / "answer.json"
        # What is alive now is set aside from garbage collection first (this process would walk
        # it at its next evaluation anyway): each copy's collections would walk it too, writing
        # to every page it is on, which the kernel then copies (a twentieth of the file's CPU).
        gc.collect()
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the copy
            self._answer = answer
            # A copy that hangs (a lock some thread held at the fork) writes where each of its
            # threads stood when SIGALRM comes, then ends by its default action, and the test
            # reports it, rather than the run waiting for ever. (Not faulthandler's timer: its
            # thread is not in the copy, and re-arming it there waits for ever on the lock that
            # thread held when the parent has one running, as pytest's faulthandler_timeout.)
            stacks = (own / "hung.txt").open("w")
            faulthandler.register(signal.SIGALRM, file=stacks, all_threads=True, chain=True)
            signal.alarm(COPY_SECONDS)
            try:
                variation.change(pytest.MonkeyPatch())
                variation.left(world)
                rest = SEQUENCE[[s.key for s in SEQUENCE].index(step.key) :]
                return Resume(variation.steps(rest), own, variation.checked, reports=False)
            except BaseException:
                _hand_over(answer, {"error": traceback.format_exc()})
        self._copies[name] = (pid, answer)
        return None

    def _collect(self) -> None:
        failures = []
        for name, (pid, answer) in self._copies.items():  # every copy is waited for
            _, status = os.waitpid(pid, 0)
            try:
                reply = json.loads(answer.read_text())
            except (OSError, ValueError):
                hung = answer.with_name("hung.txt")
                stacks = hung.read_text() if hung.exists() else ""
                reply = {"error": f"the copy ended with status {status} and no answer\n{stacks}"}
            if "error" in reply:
                failures.append(f"variation {name!r} failed in its copy:\n{reply['error']}")
                continue
            try:
                self.results[name] = from_json(reply["result"])
            except Exception:
                failures.append(
                    f"variation {name!r}: its answer could not be read back:\n"
                    f"{traceback.format_exc()}"
                )
        if failures:
            raise AssertionError("\n".join(failures))


def _hand_over(answer: Path, reply: dict) -> None:
    """In a copy: write ``reply`` and end the process at once (no pytest, no clean-up: the
    rehearsal's own process owns the scratch folders and the emulated AWS)."""
    try:
        written = answer.with_suffix(".partial")
        written.write_text(json.dumps(reply))
        written.replace(answer)  # whole or not at all
    finally:
        os._exit(0)
