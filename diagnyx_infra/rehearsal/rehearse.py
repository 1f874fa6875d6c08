"""`diagnyx rehearse`: the documented deploy sequence (deploy_sequence.py), carried out from an
empty management account in an in-process AWS emulator (moto plus the AWS rules it lacks), then
the bootstrap checklist against the result.

Each `./run` command of the sequence runs in process on a scratch copy of the stack files, each
console step is a named emulated step (world.py), each `pulumi up` runs the real program under
mocks that carry its registrations out against the emulator. Nothing leaves the process, unless
an ``endpoint_url`` names a running emulator (`diagnyx emulator`, on a loopback address): the
rehearsal then deploys into it and leaves it, and the stack files holding its account IDs, for a
person to explore with the AWS CLI and the operations commands.
"""

import contextlib
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from moto import mock_aws

from ..config.models import MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, SHARED_SERVICES_ACCOUNT
from ..deploy_sequence import SEQUENCE, Step
from ..engine.runner import PROJECT_DIR, run_stack
from ..naming import ORG_ACCESS_ROLE
from ..ops.accounts_sync import sync
from ..ops.aws import Aws, classify
from ..ops.bootstrap import set_setting, start
from ..ops.checklist import Checklist
from ..ops.doctor import diagnose
from ..ops.drift import DriftCheck, DriftReport
from ..ops.findings import Finding, Status
from ..ops.landing_zone import LandingZone
from ..ops.maintenance import CADENCES as MAINTENANCE_CADENCES
from ..ops.maintenance import report as maintenance_report
from . import moto_speed  # noqa: F401 (moto made faster, for its effect)
from .emulator import Created, EmulatorMocks, RehearsalFailure
from .world import CONSOLE_STEPS, World, cost_allocation_tags_answered

REGION = "us-east-1"
PREREQUISITES = (MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT)
# Credentials the emulator accepts; real ones are never used or needed.
_EMULATOR_ENV = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # No stack looks up an AMI: without this, moto builds ~1,300 sample images per account
    # and region (and again when it resets), a sixth of a rehearsal's time.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
# What could send the rehearsal's calls anywhere but the emulator: a profile, an endpoint (of
# every service or of one), the SDK told to ignore configured endpoints or to use AWS's
# dual-stack or FIPS hosts (which moto in process does not catch).
_CLEARED = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
)
# The user's config and credentials files (~/.aws/config may name an endpoint of its own): none,
# rather than unset (unset, botocore reads ~/.aws).
_NO_FILES = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
# A proxy of the user's environment would be sent the calls to the emulator's loopback address.
_NO_PROXY = ("NO_PROXY", "no_proxy")


@dataclass
class StackResult:
    """One `pulumi up` of a stack within a step of the sequence. ``created`` is sorted by type and
    name and ``warnings`` by text, as the report lists them: a real engine registers resources
    as their inputs resolve, in no fixed order."""

    stack: str
    created: list[Created]
    seconds: float
    step: str = ""
    warnings: list[str] = field(default_factory=list)
    # Every resource the program registered, as `diagnyx plan` counts them: ``created`` (the
    # custom resources) plus the stack's components and its provider, which create nothing in
    # AWS. None when the deploy was refused part way.
    registered: int | None = None

    @property
    def not_emulated(self) -> list[Created]:
        return [c for c in self.created if not c.emulated]


class EmulatorNotFresh(Exception):
    """The running emulator already holds an organization: a rehearsal starts from none."""


class EmulatorUnreachable(Exception):
    """The running emulator did not answer (its first call's error, in one line)."""


@dataclass
class RehearsalResult:
    stacks: list[StackResult] = field(default_factory=list)  # every deploy, in sequence order
    steps: list[str] = field(default_factory=list)  # the steps carried out, by label
    findings: list[Finding] = field(default_factory=list)
    failure: RehearsalFailure | None = None
    order: list[str] = field(default_factory=list)  # the stacks to deploy, in deploy order
    total_steps: int = 0  # the steps of the sequence that apply (``steps`` once all are done)
    checked: list[str] = field(default_factory=list)  # the accounts the checklist checks
    seconds: float = 0.0
    # `diagnyx drift` of the checked accounts (and of the organization, with management's):
    # a landing zone just deployed by the program has not drifted from its config.
    drift: DriftReport | None = None
    # `diagnyx maintenance` of the checked accounts, every cadence (ops.maintenance.ITEMS):
    # a landing zone just deployed needs nothing; what moto cannot answer is "not emulated".
    maintenance: list[Finding] = field(default_factory=list)
    # Rehearsed into a running emulator: the stack files with its account IDs, kept.
    stack_files: Path | None = None


@dataclass(frozen=True)
class Advance:
    """Where a rehearsal is, for a progress display: ``done`` of ``total`` steps carried out,
    now ``step`` (its label, or "checklist"), and within it the ``stack`` being deployed."""

    done: int
    total: int
    step: str
    stack: str = ""


class StepFailed(Exception):
    """A non-Pulumi step of the sequence could not be carried out (a command's findings, a
    console step's precondition)."""


def _name_emulator_gaps(finding: Finding) -> Finding:
    """An item the emulator cannot answer is "not emulated", not a problem of the landing zone."""
    if finding.status == Status.CANNOT and "does not implement this API" in finding.detail:
        return replace(finding, detail=f"not emulated: {finding.detail}", hint="")
    return finding


@contextlib.contextmanager
def emulated_aws(endpoint_url: str | None = None) -> Iterator[None]:
    """The emulator's credentials for this process: moto in process, or the running emulator at
    ``endpoint_url``."""
    cleared = [*_CLEARED, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]
    saved = {k: os.environ.get(k) for k in (*_EMULATOR_ENV, *_NO_FILES, *_NO_PROXY, *cleared)}
    os.environ.update(_EMULATOR_ENV)
    os.environ.update(_NO_FILES)
    for key in _NO_PROXY:
        os.environ[key] = ",".join(filter(None, [os.environ.get(key), "127.0.0.1", "localhost",
                                                 "::1"]))  # fmt: skip
    for key in cleared:
        os.environ.pop(key, None)
    try:
        if endpoint_url is None:
            with mock_aws():
                yield
        else:
            os.environ["AWS_ENDPOINT_URL"] = endpoint_url
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


# --- the `./run ...` commands of the sequence, carried out in process -------------------------


# Runs `diagnyx <argv>` and returns (exit code, output). The command line passes itself in, so
# `diagnyx rehearse` carries out each command exactly as the README writes it.
CommandLine = Callable[[list[str]], tuple[int, str]]


def _operations(world: World, work: Path, argv: list[str]) -> tuple[int, str]:
    """Without the command line (a library call): the operations its commands run."""
    if argv[:2] == ["bootstrap", "start"]:
        start(world.management, work, write="--write" in argv)
        return 0, ""
    if argv[:2] == ["accounts", "sync"]:
        result = sync(world.management, LandingZone.load(work), work, write="--check" not in argv)
        return (1 if result.unresolved else 0), "; ".join(result.unresolved)
    return 2, f"no operation for `diagnyx {' '.join(argv)}`"


def _doctor(world: World, work: Path, command: str) -> None:
    """The step's point: the DNS delegation line passes. The registrar is the emulated one,
    which the command line cannot reach, so the check runs in process."""
    zone = LandingZone.load(work)
    findings = diagnose(world.management, zone, registrar=world.delegated_name_servers)
    line = next(f for f in findings if f.item == "DNS delegation")
    if line.status != Status.PASS:
        raise StepFailed(f"doctor: DNS delegation {line.status}: {line.detail}")


IN_PROCESS: dict[str, Callable[[World, Path, str], None]] = {"doctor": _doctor}


# Values the operator reads from AWS for a setting, as the emulated world answers them.
SETTING_VALUES: dict[str, Callable[[World], object]] = {
    "costGovernance.servicesMonitorArn": lambda world: world.services_monitor_arn(),
    "costGovernance.activateCostAllocationTags": lambda world: True,
    "sharedServices.delegationConfirmed": lambda world: True,
}


def with_added_accounts(sequence: tuple[Step, ...], stacks: list[str]) -> tuple[Step, ...]:
    """The sequence with every stack it does not name (an account `accounts add` vended)
    deployed where the workloads are: after shared services, once the IDs are synced."""
    named = {stack for step in sequence for stack in step.stacks}
    added = tuple(stack for stack in stacks if stack not in named)
    if not added:
        return sequence
    return tuple(
        replace(step, stacks=(*step.stacks, *added)) if step.key == "workloads" else step
        for step in sequence
    )


def _step_applies(step: Step, stacks: set[str]) -> bool:
    """A step for another stack, or one that only deploys stacks not asked for, is skipped."""
    if step.for_stack is not None and step.for_stack not in stacks:
        return False
    only_deploys = step.stacks and not (step.console or step.diagnyx or step.settings)
    return not only_deploys or any(stack in stacks for stack in step.stacks)


@dataclass(frozen=True)
class Resume:
    """What a rehearsal does from a step on, as a ``before_step`` hook asks: these steps of the
    sequence instead of the rest, on the stack files in ``work``, then the checklist of
    ``checked`` (None: the accounts asked for)."""

    steps: tuple[Step, ...]
    work: Path
    checked: list[str] | None = None
    reports: bool = True  # the maintenance reports too (a variation checking else leaves them)


# Called before each step is carried out, in the emulated AWS, with the step, the folder of the
# scratch stack files and the emulated world; returns None to go on, or how to go on.
BeforeStep = Callable[[Step, Path, World], "Resume | None"]


def rehearse(
    stacks: list[str],
    project_dir: Path = PROJECT_DIR,
    on_progress: Callable[[Advance], None] = lambda advance: None,
    sequence: tuple[Step, ...] = SEQUENCE,
    command_line: CommandLine | None = None,
    before_step: BeforeStep | None = None,
    endpoint_url: str | None = None,
) -> RehearsalResult:
    """Carry out the documented deploy sequence from an empty management account, for
    ``stacks`` (the organization and its audit trail come first whatever is asked: every
    account depends on both; a workload stack also needs shared services, whose deploy role
    its own trusts), then check the accounts they own. ``on_progress`` hears of each step and
    each deploy as it starts, and of the checklist. ``before_step`` may change what follows a
    step (the tests start variations of the sequence from one shared start). With
    ``endpoint_url`` (a running emulator, holding no organization yet: else EmulatorNotFresh)
    the rehearsal deploys there and keeps the stack files (``stack_files``)."""
    started = time.perf_counter()
    result = _rehearse(
        stacks, project_dir, on_progress, sequence, command_line, before_step, endpoint_url
    )
    result.seconds = time.perf_counter() - started
    return result


def _rehearse(
    stacks: list[str],
    project_dir: Path,
    on_progress: Callable[[Advance], None],
    sequence: tuple[Step, ...],
    command_line: CommandLine | None,
    before_step: BeforeStep | None,
    endpoint_url: str | None,
) -> RehearsalResult:
    configured = LandingZone.load(project_dir).stacks
    wanted = {*PREREQUISITES, *stacks}
    if any(stack.is_workload for name, stack in configured.items() if name in wanted):
        # Workload deploy roles trust the shared services deploy role, which must exist first.
        wanted.add(SHARED_SERVICES_ACCOUNT)
    sequence = with_added_accounts(sequence, list(configured))
    numbers = {step.key: n for n, step in enumerate(sequence, 1)}
    applicable = [step for step in sequence if _step_applies(step, wanted)]
    total = len(applicable)
    result = RehearsalResult(
        order=list(dict.fromkeys(s for step in applicable for s in step.stacks if s in wanted)),
        total_steps=total,
    )
    checked, reports = stacks, True
    owner = os.getpid()  # a hook may fork: only the process that made the scratch folder clears it
    scratch = Path(tempfile.mkdtemp(prefix="diagnyx-rehearsal-"))
    try:
        with emulated_aws(endpoint_url):
            work = _copy_project(project_dir, scratch)
            world = World(Aws.from_environment(REGION), REGION)
            if endpoint_url is not None:
                _refuse_an_organization(world)
                result.stack_files = work
            shared = configured.get(SHARED_SERVICES_ACCOUNT)
            if shared is not None and shared.shared_services is not None:
                world.register_domain(shared.shared_services.domain)
            done = 0
            while done < len(applicable):
                step = applicable[done]
                resume = before_step(step, work, world) if before_step else None
                if resume is not None:
                    applicable = applicable[:done] + [
                        s for s in resume.steps if _step_applies(s, wanted)
                    ]
                    work, checked = resume.work, resume.checked or checked
                    reports = resume.reports
                    total = result.total_steps = len(applicable)
                    continue
                label = f"step {numbers.get(step.key, done + 1)}: {step.title}"
                result.steps.append(label)
                on_progress(Advance(done, total, label))

                def deploying(
                    stack: str, done: int = done, total: int = total, label: str = label
                ) -> None:
                    on_progress(Advance(done, total, label, stack))

                try:
                    _carry_out(step, label, world, work, wanted, result, deploying, command_line)
                except RehearsalFailure as failure:
                    result.failure = failure
                    return result
                done += 1
            zone = LandingZone.load(work)
            result.checked = [s for s in checked if s in zone.account_ids]
            on_progress(Advance(total, total, "checklist"))
            with cost_allocation_tags_answered(world):
                findings = Checklist(world.management, zone).run(result.checked)
            result.findings = [_name_emulator_gaps(f) for f in findings]
            organization = MANAGEMENT_ACCOUNT in result.checked
            result.drift = DriftCheck(world.management, zone).run(result.checked, organization)
            if reports:
                result.maintenance = _maintenance_reports(world, zone, result.checked)
    finally:
        # Kept for a running emulator (its account IDs are in them); a hook may fork: only the
        # process that made the folder clears it.
        if os.getpid() == owner and result.stack_files is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return result


def _maintenance_reports(world: World, zone: LandingZone, accounts: list[str]) -> list[Finding]:
    """The three maintenance reports, read as the scheduled workflow reads them."""
    found = []
    for cadence in MAINTENANCE_CADENCES:
        report = maintenance_report(world.management, zone, cadence, accounts, ORG_ACCESS_ROLE)
        found += [_name_emulator_gaps(f) for f in report.findings]
    return found


def _refuse_an_organization(world: World) -> None:
    """A rehearsal starts from a management account with no organization, as a new AWS customer
    does; into an emulator that already holds one (an earlier rehearsal) it would fail half way."""
    organizations = world.management.client("organizations")
    try:
        reply = organizations.describe_organization()
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        return
    except Exception as error:
        raise EmulatorUnreachable(classify(error).message) from None
    organization = reply.get("Organization", {}).get("Id", "?")
    raise EmulatorNotFresh(
        f"the emulator already holds organization {organization} (an earlier rehearsal?): a "
        "rehearsal starts from none; stop `diagnyx emulator` and start it again"
    )


def _carry_out(
    step: Step,
    label: str,
    world: World,
    work: Path,
    wanted: set[str],
    result: RehearsalResult,
    deploying: Callable[[str], None],
    command_line: CommandLine | None,
) -> None:
    try:
        if step.console:
            CONSOLE_STEPS[step.key](world)
        for command in step.diagnyx:
            if command in IN_PROCESS:
                IN_PROCESS[command](world, work, command)
                continue
            argv = [*shlex.split(command), "--project-dir", str(work)]
            code, output = command_line(argv) if command_line else _operations(world, work, argv)
            if code != 0:
                raise StepFailed(f"`diagnyx {command}` exited {code}: {output[-800:]}")
        for setting in step.settings:
            if setting.stack in wanted:
                set_setting(work, setting.stack, setting.path, SETTING_VALUES[setting.path](world))
    except Exception as error:
        # A command's findings or a console step's precondition: named like a resource failure.
        kind = "console step" if step.console else "command"
        raise RehearsalFailure(
            step.for_stack or "-", kind, step.key, f"{type(error).__name__}: {error}", label
        ) from None
    for stack in step.stacks:
        if stack not in wanted:
            continue
        deploying(stack)
        mocks = EmulatorMocks(stack, world.management, world, label)
        started = time.perf_counter()
        try:
            recording = run_stack(stack, work, mocks=mocks)
        except Exception:
            if mocks.failure is None:
                raise
        created = sorted(mocks.created, key=lambda c: (c.type, c.name, c.account))
        deployed = StackResult(stack, created, time.perf_counter() - started, label)
        result.stacks.append(deployed)
        if mocks.failure is not None:
            raise mocks.failure
        deployed.warnings = sorted(recording.warnings)
        deployed.registered = len(recording.resources)
        world.outputs[stack] = recording.outputs
