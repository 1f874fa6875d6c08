"""Variations of the deploy sequence, each from where it starts to differ.

A rule test reintroduces one mistake and rehearses until the emulator refuses it. Rehearsing
from nothing for each costs seconds; the steps before the mistake matters are the same for all.
So one rehearsal runs the sequence, and before each step a variation starts at, a copy of this
process (fork: the emulated AWS, the world and everything else in memory, as they are) carries
the variation out from there: the mistake reintroduced, the rest of the sequence as the
variation has it, on its own copy of the stack files. Its result comes back as the report's
JSON (`diagnyx rehearse --json`), which holds everything the text shows.
"""

import json
import os
import shutil
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnyx_infra.deploy_sequence import SEQUENCE, Step
from diagnyx_infra.rehearsal.rehearse import RehearsalResult, Resume
from diagnyx_infra.rehearsal.report import from_json, to_json

# A variation takes a few seconds at most; this is its bound.
COPY_SECONDS = 120


@dataclass(frozen=True)
class Variation:
    """From the step ``start`` on: ``change`` reintroduces the mistake (patching this process,
    which is a copy), ``steps`` turns the rest of the sequence into the variation's, and the
    checklist checks ``checked`` (None: what the shared rehearsal checks)."""

    start: str
    change: Callable[[pytest.MonkeyPatch], None] = lambda patch: None
    steps: Callable[[tuple[Step, ...]], tuple[Step, ...]] = lambda rest: rest
    checked: list[str] | None = None


class Variations:
    """Carries out ``variations`` from a rehearsal they hook into: pass ``before_step`` to
    `rehearse`, then hand its result to ``done``. In a copy, ``done`` sends that result over
    and ends the process; in the rehearsal's own process it checks every variation ran, and
    ``results`` holds each one's result by name."""

    def __init__(self, variations: dict[str, Variation]) -> None:
        self.variations = variations
        self.results: dict[str, RehearsalResult] = {}
        self._pipe: list[int] = []  # in a copy: where its result goes

    def before_step(self, step: Step, work: Path) -> Resume | None:
        if self._pipe:  # a copy goes its own way
            return None
        for name, variation in self.variations.items():
            if variation.start != step.key or name in self.results:
                continue
            resume = _fork(name, variation, step, work, self.results, self._pipe)
            if resume is not None:
                return resume
        return None

    def done(self, result: RehearsalResult) -> None:
        if self._pipe:  # the copy's rehearsal ended: hand its result over, end at once
            _hand_over(self._pipe[0], {"result": to_json(result)})
        missing = set(self.variations) - set(self.results)
        assert not missing, f"never reached the steps these start at: {sorted(missing)}"

    def failed(self) -> None:
        """Call from an ``except`` around the rehearsal: a copy never returns into the test
        runner (it sends the traceback and ends); the rehearsal's own process goes on."""
        if self._pipe:
            _hand_over(self._pipe[0], {"error": traceback.format_exc()})


def _fork(
    name: str,
    variation: Variation,
    step: Step,
    work: Path,
    results: dict[str, RehearsalResult],
    pipe: list[int],
) -> Resume | None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy
        os.close(read)
        pipe.append(write)
        # A copy that hangs (a lock some thread held at the fork) ends by SIGALRM's default
        # action, and the test reports it, rather than the run waiting for ever.
        signal.alarm(COPY_SECONDS)
        try:
            variation.change(pytest.MonkeyPatch())
            own = work / f"variation-{os.getpid()}"
            own.mkdir()
            for path in [*work.glob("Pulumi*.yaml"), work / "__main__.py"]:
                shutil.copy(path, own)
            rest = SEQUENCE[[s.key for s in SEQUENCE].index(step.key) :]
            return Resume(variation.steps(rest), own, variation.checked)
        except BaseException:
            _hand_over(write, {"error": traceback.format_exc()})
    os.close(write)
    with os.fdopen(read) as answer:
        sent = answer.read()
    _, status = os.waitpid(pid, 0)
    reply = json.loads(sent) if sent else {"error": f"the copy ended with status {status}"}
    if "error" in reply:
        raise AssertionError(f"variation {name!r} failed in its copy:\n{reply['error']}")
    results[name] = from_json(reply["result"])
    return None


def _hand_over(write: int, reply: dict) -> None:
    """In a copy: send ``reply`` and end the process at once (no pytest, no clean-up: the
    shared rehearsal's process owns the scratch folder and the emulated AWS)."""
    try:
        with os.fdopen(write, "w") as out:
            json.dump(reply, out)
    finally:
        os._exit(0)
