"""`diagnyx rehearse`: deploy the program's stacks, in the guide's order, into an in-process AWS
emulator (moto), then run the bootstrap checklist against the result.

The management stack creates the organization and its accounts; their IDs are synced into a copy
of the stack files as `diagnyx accounts sync` would; the member stacks then deploy through their
providers' assumed roles. Nothing leaves the process.
"""

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from moto import mock_aws

from ..config.models import MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT
from ..engine.runner import PROJECT_DIR, run_stack
from ..ops.accounts_sync import sync, write_account_ids
from ..ops.aws import Aws
from ..ops.checklist import Checklist
from ..ops.findings import Finding, Status
from ..ops.landing_zone import LandingZone
from .emulator import Created, EmulatorMocks, RehearsalFailure

REGION = "us-east-1"
PREREQUISITES = (MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT)
# Credentials the emulator accepts; real ones are never used or needed.
_EMULATOR_ENV = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
_CLEARED = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@dataclass
class StackResult:
    stack: str
    created: list[Created]
    seconds: float

    @property
    def not_emulated(self) -> list[Created]:
        return [c for c in self.created if not c.emulated]


@dataclass
class RehearsalResult:
    stacks: list[StackResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failure: RehearsalFailure | None = None


def _name_emulator_gaps(finding: Finding) -> Finding:
    """An item the emulator cannot answer is "not emulated", not a problem of the landing zone."""
    if finding.status == Status.CANNOT and "does not implement this API" in finding.detail:
        return replace(finding, detail=f"not emulated: {finding.detail}", hint="")
    return finding


@contextlib.contextmanager
def emulated_aws() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*_EMULATOR_ENV, *_CLEARED)}
    os.environ.update(_EMULATOR_ENV)
    for key in _CLEARED:
        os.environ.pop(key, None)
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _copy_project(project_dir: Path, target: Path) -> Path:
    for path in [*project_dir.glob("Pulumi*.yaml"), project_dir / "__main__.py"]:
        shutil.copy(path, target)
    return target


def rehearse(
    stacks: list[str],
    project_dir: Path = PROJECT_DIR,
    on_stack: Callable[[str, str], None] = lambda stack, state: None,
) -> RehearsalResult:
    """Deploy ``stacks`` and check the accounts they own. The organization (management) and its
    audit trail (security) come first whatever is asked: every account depends on both."""
    order = list(dict.fromkeys([*PREREQUISITES, *stacks]))
    result = RehearsalResult()
    with emulated_aws(), tempfile.TemporaryDirectory(prefix="diagnyx-rehearsal-") as scratch:
        work = _copy_project(project_dir, Path(scratch))
        caller = Aws.from_environment(REGION)
        # The operator works in the management account: its ID is the caller's.
        write_account_ids(work, {MANAGEMENT_ACCOUNT: caller.account_id}, write=True)
        for stack in order:
            if stack != MANAGEMENT_ACCOUNT:
                sync(caller, LandingZone.load(work), work, write=True)
            on_stack(stack, "deploying")
            mocks = EmulatorMocks(stack, caller)
            started = time.perf_counter()
            try:
                run_stack(stack, work, mocks=mocks)
            except Exception:
                if mocks.failure is None:
                    raise
            result.stacks.append(StackResult(stack, mocks.created, time.perf_counter() - started))
            if mocks.failure is not None:
                result.failure = mocks.failure
                on_stack(stack, "failed")
                return result
            on_stack(stack, "deployed")
        on_stack("checklist", "checking")
        zone = LandingZone.load(work)
        findings = Checklist(caller, zone).run([s for s in stacks if s in zone.account_ids])
        result.findings = [_name_emulator_gaps(f) for f in findings]
        on_stack("checklist", "checked")
    return result
