"""The `diagnyx` command line (also `python -m diagnyx_infra`).

Exit codes: 0 all good, 1 findings, 2 usage or config error, 3 AWS could not be reached or did not
answer (nothing was judged).
"""

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from botocore.exceptions import NoCredentialsError
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

# The Pulumi engine, pulumi-aws and the emulator load only in the commands that use them: the
# operations commands start in a fraction of the time.
from . import PROJECT_DIR, collect_young_garbage_less_often, naming
from .config.consistency import SOURCE_OF_TRUTH, file_of, load_project
from .config.models import MANAGEMENT_ACCOUNT, StackSettings
from .config.stack_files import PROJECT_FILE, stack_names
from .config.yaml_reader import parse_json_value, read_bounded_text
from .delivery import needs_approval, stack_for_branch
from .errors import ConfigError
from .ops.accounts_sync import SyncRefused, sync
from .ops.aws import AWS_ERRORS, Aws, classify
from .ops.bootstrap import (
    RECORDS_DIR,
    AlreadyInOrganization,
    WouldReplaceOrganization,
    start,
)
from .ops.checklist import Checklist
from .ops.cost_report import MonthError, check_month, last_full_month
from .ops.cost_report import report as build_cost_report
from .ops.doctor import diagnose
from .ops.drift import DriftCheck
from .ops.drift import as_markdown as drift_markdown
from .ops.drift import render as render_drift
from .ops.findings import (
    EXIT_CANNOT_LOOK,
    EXIT_FINDINGS,
    Finding,
    exit_code,
    exit_for,
    explain,
    one_line,
    stopped,
)
from .ops.findings import as_json as findings_json
from .ops.findings import render as render_findings
from .ops.isolation import (
    Isolation,
    IsolationError,
    Record,
    check_record,
    connect,
    critical_reason,
    record_path,
    writable_folder,
)
from .ops.isolation import Item as IsolationItem
from .ops.landing_zone import LandingZone
from .policy_config import pack_config_file

if TYPE_CHECKING:
    from .engine.runner import StackRecording

EXIT_CONFIG_ERROR = 2
# The guide's deployment order, organization first and workloads last
# (docs/design.md#deployment-order).
STACK_ORDER = ("management", "security", "shared", "dev", "staging", "uat", "prod")

EPILOG = """`./run` sets up `.venv` on first use, then runs what it is given: `./run <command>` is
any command above (`./run test` and `./run lint` included).

Exit codes: 0 all good, 1 findings, 2 usage or config error, 3 AWS could not be reached or did
not answer. With `--json`, stdout carries only the JSON: a usage or config error prints none,
says why on stderr (`error: ...`) and exits 2.
"""


# Help is Markdown: a docstring's paragraphs are rewrapped to the terminal, as Markdown joins
# single line breaks (in Typer's "rich" mode every docstring line break is kept).
class _OneLineUsageErrors(TyperGroup):
    """A usage error (an unknown option or command, a missing argument) is one `error: ...` line
    on stderr and exit 2, as every other error of the CLI: typer drew a box with the usage above
    it. `diagnyx` alone, or a group alone, still prints its help."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as error:  # the help is printed already, as typer does
            raise SystemExit(error.exit_code) from None
        except UsageError as error:
            hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
            _stderr().print(f"error: {error.format_message()}{hint}", markup=False, highlight=False)
            raise SystemExit(error.exit_code) from None
        except ClickException as error:
            error.show()
            raise SystemExit(error.exit_code) from None
        except typer.Abort:
            _stderr().print("error: aborted", markup=False, highlight=False)
            raise SystemExit(1) from None
        raise SystemExit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineUsageErrors,
    help="Diagnyx landing zone: offline plan and operations tooling.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _flags_without_type_placeholder() -> None:
    """Typer 0.29's Rich help puts the option's type in a column for every option: a flag,
    `--help` included, shows `<bool>` as if it took a value. Its plain-text help leaves flags
    out (TyperOption.get_help_record checks ``is_flag``); the Rich help is made to do the same.
    """
    from typer.core import TyperOption

    display_type_rich = TyperOption.display_type_rich
    if getattr(display_type_rich, "skips_flags", False):
        return

    def without_flags(self: TyperOption, ctx: typer.Context) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return display_type_rich(self, ctx)

    without_flags.skips_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = without_flags  # type: ignore[method-assign]


_flags_without_type_placeholder()


@app.callback()
def _root() -> None:
    """Diagnyx landing zone: offline plan and operations tooling."""


def _validated_stack(project_dir: Path, stack: str) -> StackSettings:
    """One stack's settings, after every stack file is validated and found in agreement."""
    known = stack_names(project_dir)
    if stack not in known:
        raise _fail(_unknown_stack(stack, project_dir), EXIT_CONFIG_ERROR)
    return _validated_project(project_dir)[stack]


def _validated_project(project_dir: Path) -> dict[str, StackSettings]:
    try:
        return load_project(project_dir)
    except ConfigError as error:
        raise _fail(str(error), EXIT_CONFIG_ERROR) from None


def _unknown_stack(stack: str, project_dir: Path) -> str:
    """The one message for a stack the project does not have, naming the ones it has."""
    known = ", ".join(ordered_stacks(project_dir)) or "none"
    return f"unknown stack '{stack}': no Pulumi.{stack}.yaml in {project_dir} (stacks: {known})"


def _unknown_account(account: str, zone: LandingZone) -> str:
    """The unknown-stack message's counterpart for an account name."""
    known = ", ".join(zone.account_names())
    return f"unknown account '{account}': not an account of {SOURCE_OF_TRUTH} (accounts: {known})"


def _checked_project_dir(project_dir: Path) -> Path:
    """--project-dir as given: a relative path is from the current folder. A folder without
    Pulumi.yaml or the program beside it is refused here, once, with the folder it was looked
    for in."""
    for needed in (PROJECT_FILE, "__main__.py"):
        if not (project_dir / needed).is_file():
            where = "" if project_dir.is_absolute() else f" (relative to {Path.cwd()})"
            raise _fail(
                f"--project-dir {project_dir}: no {needed} in that folder{where}; give the "
                "folder of the Pulumi project (Pulumi.yaml, __main__.py and the stack files)",
                EXIT_CONFIG_ERROR,
            )
    return project_dir


def _run_stacks(stacks: list[str], project_dir: Path) -> list["StackRecording"]:
    """Every stack's recording, or exit 2 with every stack's problems, each naming its file,
    before anything is printed."""
    from .engine.runner import run_stack

    recordings, problems = [], []
    for name in stacks:
        try:
            recordings.append(run_stack(name, project_dir))
        except ConfigError as error:
            problems.extend(_in_stack_file(name, error, project_dir))
    if problems:
        raise _fail(str(ConfigError(problems)), EXIT_CONFIG_ERROR)
    return recordings


def _in_stack_file(stack: str, error: ConfigError, project_dir: Path) -> list[str]:
    """The program's problems for one stack, each naming the file: a problem about one of the
    stack's settings (``diagnyx:...``, as the program reports it) is prefixed with the stack's
    file; one that already names a file or the folder is kept as it is."""
    file = file_of(stack)
    return [
        p if p.startswith(("Pulumi.", str(project_dir))) else f"{file}: {p}" for p in error.problems
    ]


def ordered_stacks(project_dir: Path) -> list[str]:
    present = stack_names(project_dir)
    known = [s for s in STACK_ORDER if s in present]
    return known + [s for s in present if s not in STACK_ORDER]


# Every command's --project-dir and --json. A relative --project-dir is from the current folder.
ProjectDir = Annotated[
    Path,
    typer.Option(
        help="Folder of the Pulumi project: Pulumi.yaml, `__main__.py` and the stack files "
        "(relative to the current folder; default: this repository)",
        callback=_checked_project_dir,
        show_default=False,
    ),
]
AsJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Machine-readable output: JSON on stdout; a usage or config error prints no JSON, "
        "says why on stderr and exits 2",
    ),
]


def _stacks_to_run(stack: str | None, all_stacks: bool, project_dir: Path) -> list[str]:
    """STACK or --all, checked: one of them, a stack the project has, every stack file valid
    and in agreement. Nothing is printed on stdout before this passes."""
    if all_stacks == (stack is not None):
        raise _fail("give either a STACK or --all", EXIT_CONFIG_ERROR)
    if stack is not None and stack not in stack_names(project_dir):
        raise _fail(_unknown_stack(stack, project_dir), EXIT_CONFIG_ERROR)
    project = _validated_project(project_dir)  # every file valid and in agreement first
    if stack is not None:
        return [stack]
    return [name for name in ordered_stacks(project_dir) if not _waits_for_its_id(project, name)]


def _waits_for_its_id(project: dict[str, StackSettings], stack: str) -> bool:
    """A member stack whose account the organization has not created yet (vended by `accounts
    add`, its ID `pending`): --all leaves it out, saying so, until `accounts sync` records it."""
    management = project.get(MANAGEMENT_ACCOUNT)
    if stack == MANAGEMENT_ACCOUNT or management is None:
        return False
    if management.known_management_account_id is None:
        return False  # nothing can deploy yet: each stack says why
    if management.known_account_id(stack) is not None:
        return False
    _stderr().print(
        f"{stack}: left out: its account ID is pending (`pulumi up -s management` creates it, "
        "then `diagnyx accounts sync` records it)",
        markup=False,
        highlight=False,
    )
    return True


@app.command()
def plan(
    stack: Annotated[str | None, typer.Argument(help="Stack to plan, e.g. management")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Plan every stack")] = False,
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Run the Pulumi program for a stack under mocks and show what it would create.

    Needs no AWS credentials and no Pulumi CLI. With --all, every stack runs before anything
    is printed: a stack the program refuses stops the plan with every stack's problems.
    """
    from . import plan as plan_view

    recordings = _run_stacks(_stacks_to_run(stack, all_stacks, project_dir), project_dir)
    if as_json:
        print(json.dumps([plan_view.as_json(r) for r in recordings], indent=2, default=str))
        return
    console = Console()
    for recording in recordings:
        plan_view.render(recording, console)
    if len(recordings) > 1:
        plan_view.render_summary(recordings, console)


@app.command("ci-target")
def ci_target(
    stack: Annotated[str | None, typer.Argument(help="Stack to deploy or preview")] = None,
    branch: Annotated[
        str | None, typer.Option(help="Git branch pushed; prints the stack it deploys")
    ] = None,
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Print `key=value` lines for $GITHUB_OUTPUT: stack, account_id, region, backend, approval.

    The workflows use this so the branch-to-stack mapping and account IDs live in one place.
    """
    if (stack is None) == (branch is None):
        raise _fail("give either a STACK or --branch", EXIT_CONFIG_ERROR)
    if branch is not None:
        stack = stack_for_branch(branch)
        if stack is None:
            raise _fail(f"branch '{branch}' deploys no stack", EXIT_CONFIG_ERROR)
    assert stack is not None
    settings = _validated_stack(project_dir, stack)
    bucket = naming.state_bucket_name(settings.account_id, settings.region)
    if as_json:
        target = {
            "stack": stack,
            "accountId": settings.account_id,
            "region": settings.region,
            "stateBucket": bucket,
            "backend": f"s3://{bucket}",
            "approval": needs_approval(stack),
        }
        print(json.dumps(target, indent=2))
        return
    print(f"stack={stack}")
    print(f"account_id={settings.account_id}")
    print(f"region={settings.region}")
    print(f"backend=s3://{bucket}")
    print(f"approval={'true' if needs_approval(stack) else 'false'}")


@app.command("deploy-sequence")
def deploy_sequence(as_json: AsJson = False) -> None:
    """Print the documented deploy sequence (the README's "Deploying for real") as Markdown.

    The same sequence `diagnyx rehearse` carries out from an empty management account. With
    --json, each step with its credentials, console action, commands in order and check.
    """
    from .deploy_sequence import SEQUENCE, render_markdown

    if not as_json:
        print(render_markdown(), end="")
        return
    steps = [
        {
            "key": step.key,
            "title": step.title,
            "credentials": step.credentials,
            "console": step.console,
            "commands": step.commands(),
            "settings": [vars(setting) for setting in step.settings],
            "stacks": list(step.stacks),
            "check": step.check,
            "forStack": step.for_stack,
        }
        for step in SEQUENCE
    ]
    print(json.dumps({"steps": steps}, indent=2))


@app.command("policy-config")
def policy_config(
    stack: Annotated[str, typer.Argument(help="Stack whose config the policy pack follows")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Accepted for uniformity: the output is always JSON")
    ] = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Print the policy pack's config for a stack, as JSON (`pulumi preview
    --policy-pack-config`)."""
    settings = _validated_stack(project_dir, stack)
    print(json.dumps(pack_config_file(settings), indent=2))


# --- operations tooling (boto3) -------------------------------------------------------------

accounts_app = typer.Typer(
    help="Account IDs in the stack files; retiring an account and bringing it back.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
cost_app = typer.Typer(
    help="Cost: estimated from the program, reported from Cost Explorer.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
bootstrap_app = typer.Typer(
    help="A new organization's first steps.", no_args_is_help=True, rich_markup_mode="markdown"
)
state_app = typer.Typer(
    help="A stack's Pulumi state in its versioned state bucket: its versions, a restore.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(state_app, name="state")
app.add_typer(bootstrap_app, name="bootstrap")
app.add_typer(cost_app, name="cost")

Region = Annotated[str | None, typer.Option(help="AWS region for API calls (default AWS_REGION)")]
AccessRole = Annotated[str, typer.Option(help="Role the tooling assumes in member accounts")]


def _stderr() -> Console:
    """Messages for people on stderr, never wrapped to the terminal's width: one line stays one
    line (a config error's list of problems keeps one line per problem)."""
    return Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int) -> typer.Exit:
    _stderr().print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(code)


def _stopped(error: Exception, what: str = "") -> typer.Exit:
    """A command stopped by an AWS error: one line, and the exit code its kind calls for."""
    code, message = stopped(error, what)
    return _fail(message, code)


def _landing_zone(project_dir: Path, *, check_account_ids: bool = True) -> LandingZone:
    try:
        return LandingZone.load(project_dir, check_account_ids=check_account_ids)
    except ConfigError as error:
        raise _fail(str(error), EXIT_CONFIG_ERROR) from None


def _caller(region: str | None) -> Aws:
    """The caller's session, checked by its first call (STS GetCallerIdentity). No or refused
    credentials, an unusable AWS_MAX_ATTEMPTS, AWS_ENDPOINT_URL or profile: exit 2. AWS not
    reached, or an endpoint that does not answer as AWS: exit 3. One line either way."""
    try:
        aws = Aws.from_environment(region)
    except Exception as error:  # AWS_MAX_ATTEMPTS, a profile that does not exist
        raise _fail(one_line(classify(error).message), EXIT_CONFIG_ERROR) from None
    try:
        aws.account_id  # noqa: B018 - fail early and clearly without credentials
    except NoCredentialsError:
        raise _fail(
            "no AWS credentials: log in to the management account (aws sso login, or a profile)",
            EXIT_CONFIG_ERROR,
        ) from None
    except Exception as error:
        problem = classify(error)
        message = one_line(problem.message)
        if exit_for(problem) == EXIT_CONFIG_ERROR:
            prefix = "AWS credentials: " if problem.kind == "credentials" else ""
            raise _fail(f"{prefix}{message}", EXIT_CONFIG_ERROR) from None
        endpoint = aws.endpoint("sts")
        if endpoint and endpoint.rstrip("/") not in message:
            message = f"{message} (endpoint {endpoint})"
        raise _fail(f"cannot look at AWS: {message}", EXIT_CANNOT_LOOK) from None
    return aws


def _management_caller(region: str | None, zone: LandingZone) -> Aws:
    """The caller's session, refused (exit 2) unless it is the organization's management
    account: Cost Explorer and Organizations answer for the whole organization only there."""
    caller = _caller(region)
    problem = zone.not_management(caller.account_id)
    if problem:
        raise _fail(problem, EXIT_CONFIG_ERROR)
    return caller


def _aws_replies(command):
    """An operations command: a reply from AWS that its code cannot read (a field missing, or of
    another type than the API documents) ends it with exit 3 and one line, not a traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (KeyError, TypeError, AttributeError, IndexError, ValidationError) as error:
            problem = one_line(f"{type(error).__name__}: {error}")
            raise _fail(
                f"cannot look at AWS: a reply is not what the API answers ({problem}); stopped "
                "there",
                EXIT_CANNOT_LOOK,
            ) from None

    return run


@accounts_app.command("sync")
@_aws_replies
def accounts_sync(
    check: Annotated[
        bool, typer.Option("--check", help="Only report differences (for CI)")
    ] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Write the organization's real account IDs into every stack file (the guide's Step 2).

    Accounts are matched by the e-mail in Pulumi.management.yaml; comments and order survive.
    """
    # Sync is how account IDs that disagree are repaired: it does not refuse them.
    zone = _landing_zone(project_dir, check_account_ids=False)
    caller = _caller(region)
    try:
        result = sync(caller, zone, project_dir, write=not check)
    except (SyncRefused, ConfigError) as refused:
        raise _fail(str(refused), EXIT_CONFIG_ERROR) from None
    except AWS_ERRORS as error:
        raise _stopped(error) from None
    if as_json:
        print(
            json.dumps(
                {"changes": [vars(c) for c in result.changes], "unresolved": result.unresolved},
                indent=2,
            )
        )
    else:
        console = Console()
        for change in result.changes:
            verb = "differs" if check else "written"
            before = change.written or "(none)"
            console.print(f"{change.file}: {change.account} {before} -> {change.actual} ({verb})")
        for problem in result.unresolved:
            console.print(f"[red]{problem}[/red]")
        if not result.changes and not result.unresolved:
            console.print("every stack file has the organization's account IDs")
    failed = result.unresolved or (check and result.changes)
    raise typer.Exit(EXIT_FINDINGS if failed else 0)


AccountName = Annotated[str, typer.Argument(help="An account of Pulumi.management.yaml")]
Apply = Annotated[bool, typer.Option("--apply", help="Write the change (default: a dry run)")]


@accounts_app.command("add")
def accounts_add(
    name: Annotated[str, typer.Argument(help="The new account's name (its stack's name too)")],
    ou: Annotated[str, typer.Option(help="Its organizational unit")],
    email: Annotated[str, typer.Option(help="Its root user's e-mail, unique to it")],
    environment: Annotated[str, typer.Option(help="Its Environment tag value")],
    budget: Annotated[float, typer.Option(help="Its monthly budget in USD")],
    quota: Annotated[
        int, typer.Option(help="The organization's account quota (Service Quotas)")
    ] = 10,
    apply: Apply = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """A new account in two files: its entry in Pulumi.management.yaml (ID `pending`) and its
    own Pulumi.<name>.yaml with the baseline settings; no other stack file changes. Validated
    with every stack file first (e-mail unique, OU known, budget, quota); a dry run unless
    --apply. Prints the next steps."""
    from .ops.vending import AddRefused, NewAccount, add

    account = NewAccount(name, email, ou, environment, budget)
    try:
        plan = add(project_dir, account, apply, quota)
    except (AddRefused, ConfigError) as refused:
        raise _fail(f"{refused}; nothing written", EXIT_CONFIG_ERROR) from None
    console = Console(soft_wrap=True)
    console.print(
        f"{name}: {environment} account in {ou}, ${budget:.2f} a month; files: "
        + ", ".join(plan.files),
        markup=False,
        highlight=False,
    )
    if not plan.written:
        console.print("dry run: nothing written (--apply writes the two files)")
        return
    console.print("written. Next:", markup=False)
    for step in plan.steps():
        console.print(f"  {step}", markup=False, highlight=False)


@accounts_app.command("retire")
def accounts_retire(
    name: AccountName, apply: Apply = False, project_dir: ProjectDir = PROJECT_DIR
) -> None:
    """Take an account out of use without closing it: it moves to the Suspended OU (whose SCP
    denies everything but the break-glass, audit and drift roles) and loses the Identity Center
    assignments that name it, each recorded in its entry. Edits Pulumi.management.yaml only;
    `pulumi up -s management` carries it out; `accounts unretire` undoes it."""
    from .ops.retirement import CLOSING, retire

    plan = _retirement(lambda: retire(project_dir, name, apply))
    removed = ", ".join(f"{a.group}/{a.permission_set}" for a in plan.access) or "none"
    lines = [
        f"{name}: {plan.from_ou} -> {plan.to_ou}"
        + (" (the OU is added, with the suspended-account SCP)" if plan.suspended_ou_added else ""),
        f"assignments naming {name} removed (recorded in its entry): {removed}; those through "
        f"its OU end with the move",
    ]
    _print_retirement(plan, lines, CLOSING.format(name=name))


@accounts_app.command("unretire")
def accounts_unretire(
    name: AccountName, apply: Apply = False, project_dir: ProjectDir = PROJECT_DIR
) -> None:
    """Bring a retired account back to the OU it came from, with the assignments retiring it
    removed. Edits Pulumi.management.yaml only (a dry run unless --apply)."""
    from .ops.retirement import unretire

    plan = _retirement(lambda: unretire(project_dir, name, apply))
    given = ", ".join(f"{a.group}/{a.permission_set}" for a in plan.access) or "none"
    lines = [f"{name}: {plan.from_ou} -> {plan.to_ou}", f"assignments given back: {given}"]
    _print_retirement(plan, lines, "")


def _retirement(change):
    from .ops.retirement import RetirementRefused

    try:
        return change()
    except (RetirementRefused, ConfigError) as refused:
        raise _fail(f"{refused}; nothing written", EXIT_CONFIG_ERROR) from None


def _print_retirement(plan, lines: list[str], closing: str) -> None:
    console = Console(soft_wrap=True)
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if plan.written:
        console.print("Pulumi.management.yaml written. Next:", markup=False)
        for step in plan.steps():
            console.print(f"  {step}", markup=False, highlight=False)
    else:
        console.print("dry run: nothing written (--apply writes Pulumi.management.yaml)")
    if closing:
        console.print(closing, markup=False, highlight=False)


StackName = Annotated[str, typer.Argument(help="A stack of the project, e.g. prod")]


def _state_session(stack: str, project_dir: Path, region: str | None, access_role: str):
    """The stack's settings and a session in its account (the caller in management's; the
    access role elsewhere), and the Pulumi project's name."""
    from .config.stack_files import project_defaults

    zone = _landing_zone(project_dir)
    settings = zone.stacks.get(stack)
    if settings is None:
        raise _fail(_unknown_stack(stack, project_dir), EXIT_CONFIG_ERROR)
    caller = _caller(region)
    try:
        aws = (
            caller
            if stack == MANAGEMENT_ACCOUNT
            else caller.assume(settings.account_id, access_role)
        )
    except AWS_ERRORS as error:
        raise _stopped(error, f"assuming {access_role} in {stack}") from None
    project = project_defaults(read_bounded_text(project_dir / PROJECT_FILE)).name
    return settings, aws, project


@state_app.command("versions")
@_aws_replies
def state_versions(
    stack: StackName,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """Every version of the stack's state the versioned state bucket keeps, newest first (the
    guide's "revert to previous version"). Read-only."""
    from .ops.state import StateRefused, location, versions

    settings, aws, project = _state_session(stack, project_dir, region, access_role)
    try:
        where = location(aws, settings, project)
        found = versions(aws, where)
    except StateRefused as refused:
        raise _fail(str(refused), EXIT_CONFIG_ERROR) from None
    except AWS_ERRORS as error:
        raise _stopped(error) from None
    if as_json:
        print(json.dumps({"bucket": where.bucket, "key": where.key,
                          "versions": [vars(v) for v in found]}, indent=2))  # fmt: skip
        return
    console = Console(soft_wrap=True)
    console.print(f"s3://{where.bucket}/{where.key}", markup=False, highlight=False)
    for version in found:
        mark = "  (current)" if version.is_latest else ""
        console.print(
            f"{version.version_id}  {version.last_modified}  {version.size} bytes{mark}",
            markup=False,
            highlight=False,
        )


@state_app.command("restore")
@_aws_replies
def state_restore(
    stack: StackName,
    version: Annotated[str, typer.Argument(help="A version ID from `state versions`")],
    apply: Apply = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
) -> None:
    """Make an earlier version of the stack's state current: a dry run unless --apply; refused
    while the stack is locked, for a version that is not this stack's checkpoint, or the
    current one. The replaced state stays a noncurrent version: restoring it undoes this. Then
    `pulumi refresh -s STACK` reconciles the state with AWS."""
    from .ops.state import StateRefused, restore

    settings, aws, project = _state_session(stack, project_dir, region, access_role)
    try:
        done = restore(aws, settings, project, version, apply)
    except StateRefused as refused:
        raise _fail(f"{refused}; nothing changed", EXIT_CONFIG_ERROR) from None
    except AWS_ERRORS as error:
        raise _stopped(error) from None
    console = Console(soft_wrap=True)
    where = f"s3://{done.location.bucket}/{done.location.key}"
    console.print(
        f"{where}: {done.replaced.version_id} ({done.resources_before} resources, current) -> "
        f"{done.version.version_id} ({done.resources_after} resources, "
        f"{done.version.last_modified})",
        markup=False,
        highlight=False,
    )
    if not done.written:
        console.print("dry run: nothing changed (--apply restores it)")
        return
    console.print(
        f"restored. Undo: `./run state restore {stack} {done.replaced.version_id} --apply`. "
        f"Next: `pulumi refresh -s {stack}` (the state against what AWS holds), then "
        f"`pulumi preview -s {stack}`",
        markup=False,
        highlight=False,
    )


@bootstrap_app.command("start")
@_aws_replies
def bootstrap_start(
    write: Annotated[bool, typer.Option("--write", help="Change the stack files")] = False,
    replacing: Annotated[
        str | None,
        typer.Option(
            help="The management account ID the files name now, to confirm replacing it "
            "(only needed when it is neither the example's nor the caller's)"
        ),
    ] = None,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Step 1 of "Deploying for real": make the stack files those of a new organization.

    The management account becomes the caller's; every member account is `pending` until the
    organization creates it; what waits for AWS (services monitor, cost allocation tags, DNS
    delegation, peer VPC IDs) is marked not done. Refused when the caller's account already
    belongs to an organization. Dry run unless --write; nothing in AWS changes.
    """
    _landing_zone(project_dir)
    try:
        edits = start(_caller(region), project_dir, write, replacing)
    except (AlreadyInOrganization, WouldReplaceOrganization, ConfigError) as error:
        raise _fail(str(error), EXIT_CONFIG_ERROR) from None
    except AWS_ERRORS as error:
        raise _stopped(error) from None
    if as_json:
        print(json.dumps({"written": write, "edits": [vars(e) for e in edits]}, default=str))
        return
    console = Console()
    for edit in edits:
        after = "(removed)" if edit.after is None else edit.after
        console.print(f"{edit.file}: {edit.setting}: {edit.before} -> {after}")
    if not edits:
        console.print("the stack files already describe a new organization")
    elif not write:
        console.print("dry run: nothing written; run again with --write")
    else:
        console.print(f"written; the previous values are recorded under {RECORDS_DIR}/")


@app.command()
@_aws_replies
def checklist(
    account: Annotated[str | None, typer.Option(help="One account by name")] = None,
    all_accounts: Annotated[bool, typer.Option("--all", help="Every account")] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """Verify the guide's Account Bootstrap Checklist against AWS, one line per item per account.

    Exit 0 every item passed; 1 an item failed; 2 usage, config or credentials error; 3 AWS
    could not be reached, or nothing failed but an item could not be checked (AWS unreachable,
    access denied, an account ID still pending). An item the endpoint does not offer (an
    emulator's gap) or that only a person can check is named in the summary and leaves the exit
    code 0.
    """
    zone = _landing_zone(project_dir)
    if (account is None) == (not all_accounts):
        raise _fail("give either --account NAME or --all", EXIT_CONFIG_ERROR)
    names = zone.account_names() if all_accounts else [account]
    unknown = [n for n in names if n not in zone.account_ids]
    if unknown:
        raise _fail(_unknown_account(unknown[0], zone), EXIT_CONFIG_ERROR)
    findings = Checklist(_caller(region), zone, access_role).run(names)
    _report(findings, "Account bootstrap checklist", as_json)


@app.command()
@_aws_replies
def drift(
    stack: Annotated[
        str | None, typer.Argument(help="One account, by its stack's name", show_default=False)
    ] = None,
    all_accounts: Annotated[
        bool, typer.Option("--all", help="The organization and every account")
    ] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
    as_markdown: Annotated[
        bool,
        typer.Option(
            "--markdown", help="Print the report as GitHub Markdown (the drift workflow's issue)"
        ),
    ] = False,
) -> None:
    """What changed in AWS outside the program, against what config says the landing zone is.

    Read-only. Compares accounts, OUs, SCPs, the tag policy, trusted services, delegated
    administrators, the organization trail, Identity Center assignments, IAM users, the baseline
    roles and their policies, state bucket, key, budget, default security groups and peerings.
    The organization's own parts are compared with --all or for the management stack.

    Exit 0 nothing drifted; 1 something drifted; 2 usage, config or credentials error; 3 a part
    could not be looked at (and nothing drifted).
    """
    zone = _landing_zone(project_dir)
    if (stack is None) == (not all_accounts):
        raise _fail("give either a STACK or --all", EXIT_CONFIG_ERROR)
    if as_json and as_markdown:
        raise _fail("give --json or --markdown, not both", EXIT_CONFIG_ERROR)
    names = zone.account_names() if all_accounts else [stack]
    unknown = [n for n in names if n not in zone.account_ids]
    if unknown:
        raise _fail(_unknown_account(unknown[0], zone), EXIT_CONFIG_ERROR)
    caller = _caller(region)
    if refused := zone.not_management(caller.account_id):
        raise _fail(refused, EXIT_CONFIG_ERROR)
    organization = all_accounts or stack == MANAGEMENT_ACCOUNT
    report = DriftCheck(caller, zone, access_role).run(names, organization)
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
        for missed in report.not_looked:  # stdout is JSON: say why on stderr too
            _stderr().print(
                f"could not look at {missed.part} ({missed.account}): {missed.reason}",
                markup=False,
                highlight=False,
            )
    elif as_markdown:
        print(drift_markdown(report), end="")
    else:
        render_drift(report, Console())
    raise typer.Exit(report.exit_code)


@app.command()
@_aws_replies
def doctor(
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """The guide's troubleshooting: identity, organization, accounts, SSO, DNS delegation, and
    who can assume each cross-account role.

    Exit 0 every item passed; 1 an item failed; 2 usage, config or credentials error; 3 AWS
    could not be reached, or nothing failed but an item could not be checked (AWS unreachable,
    access denied, an account ID still pending). An item the endpoint does not offer (an
    emulator's gap) or that only a person can check is named in the summary and leaves the exit
    code 0.
    """
    zone = _landing_zone(project_dir)
    _report(diagnose(_caller(region), zone), "Doctor", as_json)


@app.command()
@_aws_replies
def maintenance(
    cadence: Annotated[str, typer.Argument(help="weekly, monthly or quarterly")],
    account: Annotated[str | None, typer.Option(help="One account by name")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Markdown, fit to archive or paste into an issue")
    ] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """The guide's Maintenance Tasks, with live data, read-only.

    Weekly: unused resources that cost money (with their monthly price), backup health, cost
    anomalies. Monthly: budget against actual; unused roles, users and old access keys; Identity
    Center group memberships. Quarterly: SCPs with their targets and drift; cross-account roles
    and who may assume them; reservation and Savings Plans coverage; open Security Hub findings.
    In every account (or --account), run from the management account. Exit codes as
    `checklist`: 1 when an item needs action, 3 when one could not be looked at."""
    from .ops.maintenance import CADENCES, accounts_to_read, report
    from .ops.maintenance import markdown as as_markdown

    if cadence not in CADENCES:
        raise _fail(
            f"unknown cadence {cadence!r} (expected: {', '.join(CADENCES)})", EXIT_CONFIG_ERROR
        )
    if markdown and as_json:
        raise _fail("give either --markdown or --json", EXIT_CONFIG_ERROR)
    zone = _landing_zone(project_dir)
    if account is not None and account not in zone.account_ids:
        raise _fail(_unknown_account(account, zone), EXIT_CONFIG_ERROR)
    names, pending = accounts_to_read(zone) if account is None else ([account], [])
    for name in pending:
        _stderr().print(
            f"{name}: left out: its account ID is pending (`diagnyx accounts sync` records it "
            "once `pulumi up -s management` has created it)",
            markup=False,
            highlight=False,
        )
    result = report(_management_caller(region, zone), zone, cadence, names, access_role)
    if markdown:
        print(as_markdown(result))
        raise typer.Exit(exit_code(result.findings))
    _report(result.findings, f"{cadence.capitalize()} maintenance, {result.period}", as_json)


def _report(findings: list[Finding], title: str, as_json: bool) -> None:
    """The findings, and the exit code findings.exit_code gives them (see its rule)."""
    code = exit_code(findings)
    if as_json:
        print(findings_json(findings))
        if code == EXIT_CANNOT_LOOK:  # stdout is JSON: say why on stderr too
            _stderr().print(explain(findings), markup=False, highlight=False)
    else:
        render_findings(findings, title, Console())
    raise typer.Exit(code)


@cost_app.command("report")
@_aws_replies
def cost_report(
    month: Annotated[
        str | None, typer.Option(help="YYYY-MM, a complete month; default the last one")
    ] = None,
    multi_year: Annotated[
        bool,
        typer.Option(
            "--multi-year",
            help="Cost Explorer's multi-year data is enabled: months up to 38 back, not 14",
        ),
    ] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Spend per account from Cost Explorer against each account's budget.

    Exit 1 when an account reaches the 80% alert threshold or the total exceeds the
    organization budget; 2 for a usage error (a month that is empty, malformed, not complete
    yet, or older than Cost Explorer keeps) or missing credentials; 3 when AWS could not be
    reached.
    """
    # An empty --month (an unset $MONTH in CI) is refused, not read as the default.
    month = last_full_month() if month is None else month
    try:
        check_month(month, multi_year=multi_year)
    except MonthError as error:
        raise _fail(f"--month: {error}", EXIT_CONFIG_ERROR) from None
    zone = _landing_zone(project_dir)
    caller = _management_caller(region, zone)
    try:
        result = build_cost_report(caller, zone, month)
    except AWS_ERRORS as error:
        raise _stopped(error, "Cost Explorer") from None
    over_total = result.total_usd > result.organization_budget_usd
    if as_json:
        print(
            json.dumps(
                {
                    "month": result.month,
                    "accounts": [
                        {**vars(r), "percent": r.percent, "overAlert": r.over_alert}
                        for r in result.rows
                    ],
                    "totalUsd": result.total_usd,
                    "organizationBudgetUsd": result.organization_budget_usd,
                },
                indent=2,
            )
        )
    else:
        table = Table(title=f"Spend by account, {result.month}")
        for column in ("account", "id", "spend", "budget", "used", ""):
            table.add_column(
                column, justify="right" if column in ("spend", "budget", "used") else "left"
            )
        for row in result.rows:
            table.add_row(
                row.account,
                row.account_id,
                f"${row.spend_usd:,.2f}",
                f"${row.budget_usd:,.0f}" if row.budget_usd else "-",
                f"{row.percent:.0f}%" if row.percent is not None else "-",
                "[red]over 80%[/red]" if row.over_alert else "",
            )
        table.add_row(
            "total",
            "",
            f"${result.total_usd:,.2f}",
            f"${result.organization_budget_usd:,.0f}",
            f"{100 * result.total_usd / result.organization_budget_usd:.0f}%",
            "[red]over[/red]" if over_total else "",
        )
        Console().print(table)
    flagged = any(r.over_alert for r in result.rows) or over_total
    raise typer.Exit(EXIT_FINDINGS if flagged else 0)


@cost_app.command("estimate")
def cost_estimate(
    stack: Annotated[str | None, typer.Argument(help="One stack")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every stack")] = False,
    compare: Annotated[
        Path | None,
        typer.Option(
            help="A previous `--json` estimate to compare with, e.g. main's (relative to the "
            "current folder)"
        ),
    ] = None,
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Fixed monthly cost of what each stack deploys, from the price table. Offline.

    The price table is diagnyx_infra/data/prices.yaml, each price with its source and the date
    it was checked. Per stack: the fixed items and their total, and the free items (the
    organization trail, budgets, public certificates). Apart, not in the total: what is priced
    by use (storage, requests, events, data), and the options the program does not turn on (a
    NAT gateway per VPC), counted over the stacks estimated. The security services
    (organization.securityServices: GuardDuty, Security Hub, AWS Config) are usage-based
    estimates from the price table's stated usage: in the total when switched on, shown as what
    each would add when off. The assumptions (region, a 730-hour month, no usage) are printed
    with them.
    --compare shows the change of each stack's fixed cost against an earlier `--json`
    estimate, or says there is none.
    """
    from . import costs

    stacks = _stacks_to_run(stack, all_stacks, project_dir)
    base = None if compare is None else _comparison(compare)
    estimates = [costs.estimate(r) for r in _run_stacks(stacks, project_dir)]
    result = costs.as_json(estimates)
    comparison = None
    if base is not None:
        comparison = costs.compare(base, result, str(compare), None if all_stacks else stacks)
        result.update(comparison)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console = Console()
    costs.render(estimates, console)
    if comparison is not None:
        for line in costs.comparison_lines(comparison, named=not all_stacks):
            console.print(line, markup=False, highlight=False)


def _comparison(compare: Path) -> dict:
    """The earlier estimate --compare names (a relative path is from the current folder)."""
    from . import costs

    where = "" if compare.is_absolute() else f" (relative to {Path.cwd()})"
    try:
        base = parse_json_value(read_bounded_text(compare, f"--compare {compare}"))
    except ConfigError as error:  # not a readable regular file of a sane size
        raise _fail(f"{error.problems[0]}{where}", EXIT_CONFIG_ERROR) from None
    except ValueError as error:
        message = f"--compare {compare}: not usable JSON: it {error}"
        raise _fail(message, EXIT_CONFIG_ERROR) from None
    problem = costs.comparable(base)
    if problem:
        raise _fail(f"--compare {compare}: {problem}", EXIT_CONFIG_ERROR)
    return base


@app.command()
@_aws_replies
def isolate(
    account: Annotated[str, typer.Argument(help="Account to cut off (name)")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Act; without it, only show the plan")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    allow_critical_account: Annotated[
        bool,
        typer.Option(
            "--allow-critical-account",
            help="Allow isolating the management or security account",
        ),
    ] = False,
    records_dir: Annotated[
        Path,
        typer.Option(help="Where isolation records are written (relative to the current folder)"),
    ] = Path("isolation-records"),
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """The guide's account isolation: remove CICDPolicy and the account's SSO assignments.

    Dry run by default. With --apply the record is written first and each removal is recorded
    before and after its AWS call, so `diagnyx restore RECORD --apply` puts everything back even
    after a crash or a lost reply. The management and security accounts need
    --allow-critical-account. Exit 0 done, 1 AWS refused or aborted, 2 usage or config error,
    3 AWS could not be reached.
    """
    zone = _landing_zone(project_dir)
    if account not in zone.account_ids:
        raise _fail(_unknown_account(account, zone), EXIT_CONFIG_ERROR)
    from .ops.isolation import known_account_id

    try:
        known_account_id(zone, account)  # a pending account: exit 2 before any AWS call
    except IsolationError as error:
        raise _fail(str(error), error.exit_code) from None
    critical = critical_reason(account)
    if critical and not allow_critical_account:
        raise _fail(
            f"refusing to isolate {account}: {critical}. Pass --allow-critical-account if that "
            "is what you mean",
            EXIT_CONFIG_ERROR,
        )
    if apply:
        problem = writable_folder(records_dir)
        if problem:
            raise _fail(f"--records-dir {records_dir}: {problem}", EXIT_CONFIG_ERROR)
    err = _stderr()
    if critical:
        err.print(f"warning: {critical}", markup=False, highlight=False)
    path = record_path(records_dir, account)
    try:
        isolation = Isolation(connect(region, zone), zone, access_role)
        record = isolation.plan(account)
    except IsolationError as error:
        raise _fail(str(error), error.exit_code) from None
    verb = "removing" if apply else "would remove"
    _print_items(
        record.account,
        record.account_id,
        [(verb, item) for item in record.items],
        as_json,
        path if apply and record.items else None,
    )
    _go_ahead(
        bool(record.items), "the account is already isolated", apply, yes, f"Isolate {account}?"
    )
    try:
        isolation.isolate(record, path)
    except IsolationError as error:
        raise _fail(str(error), error.exit_code) from None
    except KeyboardInterrupt:
        done = sum(i.state == "removed" for i in record.items)
        raise _fail(
            f"interrupted after {done} of {len(record.items)} removals. The record {path} lists "
            f"what was removed and what was being removed; `diagnyx restore {path} --apply` "
            "puts it back and is safe to run again",
            EXIT_FINDINGS,
        ) from None
    err.print(f"isolated {account}; record: {path}", markup=False, highlight=False)


@app.command()
@_aws_replies
def restore(
    record_file: Annotated[
        Path,
        typer.Argument(help="Record written by `diagnyx isolate` (relative to the current folder)"),
    ],
    apply: Annotated[
        bool, typer.Option("--apply", help="Act; without it, only show the plan")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """Give an isolated account back what config grants it. Dry run by default.

    Whatever the record lists, every grant of config is checked in AWS and put back if missing
    (CICDPolicy as the program renders it, every assignment of the access matrix for the
    account), then AWS is checked again. The record names the account and says what isolation
    removed; a record that disagrees with config is refused, and a removed assignment the access
    matrix does not grant is never put back. A record copied and pointed at another isolated
    account restores that account to config's grants, as its own record would: check the
    account name and ID shown before confirming. Exit 0 done, 1 AWS refused, aborted, something
    not put back or removed access config does not grant, 2 usage, config or record error, 3 AWS
    could not be reached; running it again is always safe.
    """
    try:
        record = Record.load(record_file)
    except IsolationError as error:
        raise _fail(str(error), error.exit_code) from None
    zone = _landing_zone(project_dir)
    try:
        check_record(record, zone, record_file)
        isolation = Isolation(connect(region, zone), zone, access_role)
        steps = isolation.restore_plan(record)
    except IsolationError as error:
        raise _fail(str(error), error.exit_code) from None
    verbs = {
        "restore": "restoring" if apply else "would restore",
        "present": "already has",
        "not granted": "will not restore",
    }
    _print_items(
        record.account,
        record.account_id,
        [(verbs[s.action], s.item, s.note) for s in steps],
        as_json,
        record_file,
    )
    err = _stderr()
    ungranted = sum(s.action == "not granted" for s in steps)
    if ungranted:
        err.print(
            f"warning: {ungranted} removed assignment(s) are not in the access matrix; restore "
            "never puts them back (grant them in config, or by hand)",
            markup=False,
            highlight=False,
        )
    account = f"{record.account} ({record.account_id})"
    _go_ahead(
        any(s.action == "restore" for s in steps),
        f"{account} has everything config grants it",
        apply,
        yes,
        f"Restore {account} to what config grants it?",
        # Something isolation removed stays removed, dry run or not: the same exit 1 each time.
        stopped_code=EXIT_FINDINGS if ungranted else 0,
    )
    try:
        isolation.restore(record, record_file, steps)
        verified = isolation.verify(record.account)
    except IsolationError as error:
        raise _fail(str(error), error.exit_code) from None
    except KeyboardInterrupt:
        raise _fail(
            f"interrupted; running `diagnyx restore {record_file} --apply` again checks every "
            "grant of config against AWS and is safe",
            EXIT_FINDINGS,
        ) from None
    if verified.extra:
        err.print(
            f"warning: {account} also has {len(verified.extra)} SSO assignment(s) the access "
            f"matrix does not grant ({'; '.join(i.describe() for i in verified.extra)}); "
            "restore never removes anything",
            markup=False,
            highlight=False,
        )
    if verified.missing:
        raise _fail(
            f"{account} still lacks what config grants it, checked in AWS after the restore: "
            f"{'; '.join(verified.missing)}. Running `diagnyx restore {record_file} --apply` "
            "again is safe",
            EXIT_FINDINGS,
        )
    granted = sum(s.action != "not granted" for s in steps)
    err.print(
        f"restored {account} as config has it: checked in AWS, it has all {granted} grant(s) "
        f"of config; record: {record_file}",
        markup=False,
        highlight=False,
    )
    if ungranted:
        raise typer.Exit(EXIT_FINDINGS)


def _go_ahead(
    has_work: bool, idle: str, apply: bool, yes: bool, question: str, stopped_code: int = 0
) -> None:
    """Stop here (with ``stopped_code``) unless there is work, --apply was given and the
    operator confirms."""
    err = _stderr()
    if not has_work:
        err.print(f"nothing to do: {idle}")
        raise typer.Exit(stopped_code)
    if not apply:
        err.print("dry run: nothing changed (use --apply)")
        raise typer.Exit(stopped_code)
    if not yes and not typer.confirm(question, default=False, err=True):
        raise _fail("aborted", EXIT_FINDINGS)


def _print_items(
    account: str,
    account_id: str,
    lines: list[tuple[str, IsolationItem] | tuple[str, IsolationItem, str]],
    as_json: bool,
    record: Path | None = None,
) -> None:
    """One line per item: ``(verb, item)`` or ``(verb, item, note)``."""
    if as_json:
        print(
            json.dumps(
                {
                    "account": account,
                    "accountId": account_id,
                    "record": None if record is None else str(record),
                    "items": [
                        {
                            "action": line[0],
                            **line[1].model_dump(mode="json"),
                            "note": line[2] if len(line) > 2 else "",
                        }
                        for line in lines
                    ],
                },
                indent=2,
            )
        )
        return
    console = Console()
    for line in lines:
        note = f" ({line[2]})" if len(line) > 2 and line[2] else ""
        console.print(
            f"{account}: {line[0]} {line[1].describe()}{note}", markup=False, highlight=False
        )


@app.command()
def rehearse(
    stack: Annotated[
        str | None, typer.Argument(help="One stack (management and security deploy first)")
    ] = None,
    all_stacks: Annotated[
        bool, typer.Option("--all", help="Every stack, in the guide's order")
    ] = False,
    as_json: AsJson = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also each stack's resources per deploy, every resource not emulated and the "
            "full checklist",
        ),
    ] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            help="A running emulator (`diagnyx emulator`, loopback only) to deploy into and leave "
            "as deployed, with the stack files of its accounts, instead of the embedded one",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Deploy the stacks into an embedded AWS emulator, then run the checklist, `drift` and the
    three `maintenance` reports on the result.

    Needs no AWS account, no Pulumi CLI and no network. Shows progress on stderr, then one
    summary table (a row per stack) and what needs a look. Exit 1 if the emulated API refuses a
    resource, a checklist or maintenance item fails or the landing zone just deployed has
    drifted from config.
    With --endpoint-url, exit 2 if the emulator already holds an organization, 3 if it cannot
    be reached.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.table import Column

    from .rehearsal.rehearse import Advance, EmulatorNotFresh, EmulatorUnreachable
    from .rehearsal.rehearse import rehearse as run_rehearsal
    from .rehearsal.report import render as render_rehearsal
    from .rehearsal.report import to_json as rehearsal_json
    from .rehearsal.server import NotLoopback, emulator_url

    if all_stacks == (stack is not None):
        raise _fail("give either a STACK or --all", EXIT_CONFIG_ERROR)
    if endpoint_url is not None:
        try:
            endpoint_url = emulator_url(endpoint_url)
        except NotLoopback as error:
            raise _fail(f"--endpoint-url: {error}", EXIT_CONFIG_ERROR) from None
    _landing_zone(project_dir)  # every stack file valid before anything is deployed
    stacks = ordered_stacks(project_dir) if all_stacks else [stack]
    if stack is not None and stack not in stack_names(project_dir):
        raise _fail(_unknown_stack(stack, project_dir), EXIT_CONFIG_ERROR)
    # While it runs, on stderr and gone once it ends: "3/14 steps" and what runs now.
    with Progress(
        SpinnerColumn(),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        # The line fills the terminal and only the step's name is cut to fit: the counter and
        # the time always show.
        TextColumn(
            "{task.description}",
            table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
        console=(err := Console(stderr=True)),
        transient=True,
        expand=True,
        disable=not err.is_terminal,  # a log or a pipe gets the result only
    ) as progress:
        task = progress.add_task("starting the emulator", total=None)

        def on_progress(where: Advance) -> None:
            doing = f"{where.step} · pulumi up -s {where.stack}" if where.stack else where.step
            progress.update(task, total=where.total, completed=where.done, description=doing)

        try:
            result = run_rehearsal(
                stacks,
                project_dir,
                on_progress,
                command_line=_command_line_in_process,
                endpoint_url=endpoint_url,
            )
        except EmulatorNotFresh as error:
            raise _fail(f"--endpoint-url {endpoint_url}: {error}", EXIT_CONFIG_ERROR) from None
        except EmulatorUnreachable as error:
            raise _fail(
                f"cannot reach the emulator at {endpoint_url}: {one_line(str(error))}",
                EXIT_CANNOT_LOOK,
            ) from None
    if as_json:
        print(json.dumps(rehearsal_json(result), indent=2))
        if result.failure is not None:
            raise _fail(str(result.failure), EXIT_FINDINGS)
    else:
        render_rehearsal(result, Console(), verbose=verbose)  # names the failure, once
    if result.stack_files is not None:
        _explore_hint(endpoint_url, result.stack_files, stack)
    if result.failure is not None:
        raise typer.Exit(EXIT_FINDINGS)
    codes = {exit_code(result.findings), exit_code(result.maintenance)}
    if result.drift is not None:  # a rehearsed landing zone that drifted fails as a finding
        codes.add(result.drift.exit_code)
    raise typer.Exit(next(c for c in (EXIT_FINDINGS, EXIT_CANNOT_LOOK, 0) if c in codes))


@app.command()
def access(
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Who can assume each role the landing zone creates, what it can do, and every chain of
    assumptions to organization write or the audit trail. Offline.

    A chain starts from a foothold (a shared or workload account, a pull request, a Developer,
    DevOps, Finance or Auditor seat) and ends at organization write or at the audit trail,
    archive or key. Reads the program's documents. Exit 1 if any chain exists.
    """
    from .access_analysis import analyse_project
    from .access_analysis import as_json as access_json

    _landing_zone(project_dir)  # every stack file valid first
    analysis = analyse_project(project_dir, ordered_stacks(project_dir))
    if as_json:
        print(json.dumps(access_json(analysis), indent=2))
    else:
        _render_access(analysis, Console())
    raise typer.Exit(EXIT_FINDINGS if analysis.chains else 0)


def _render_access(analysis, console: Console) -> None:
    table = Table(title="Roles: who can assume them, what they can do")
    for column in ("account", "role", "trusted by", "powers"):
        table.add_column(column, overflow="fold")
    for role in analysis.roles():
        table.add_row(
            role.account,
            role.arn.split(":role/", 1)[-1],
            "\n".join(role.trusted_by),
            ", ".join(sorted(role.capabilities)) or "-",
        )
    console.print(table)
    console.print(
        "powers: administrator of an account, organization / trail / archive / key write, data "
        "read; '-' is none of them (configuration only)"
    )
    if analysis.chains:
        for chain in analysis.chains:
            console.print(f"[red]chain[/red]: {' -> '.join(chain)}")
    else:
        console.print(
            f"no chain from {len(analysis.attackers)} footholds (shared and workload accounts, "
            "pull requests, Developer/DevOps/Finance/Auditor seats) to organization write or "
            "the audit trail, archive or key"
        )


_DEVELOPMENT = "Development (in a clone of the repository)"
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command("test", rich_help_panel=_DEVELOPMENT, context_settings=_PASS_THROUGH)
def run_tests(context: typer.Context) -> None:
    """Run the test suite (`./run test`); further arguments go to pytest."""
    from .development import run_tests as run

    raise typer.Exit(run(context.args))


@app.command("lint", rich_help_panel=_DEVELOPMENT)
def lint() -> None:
    """Run ruff: check, then format check (`./run lint`)."""
    from .development import lint as run

    raise typer.Exit(run())


def _explore_hint(endpoint_url: str | None, stack_files: Path, stack: str | None) -> None:
    """How to look at what a rehearsal left in a running emulator (on stderr: stdout may be
    JSON): the checklist and drift of the stacks rehearsed."""
    from .rehearsal.server import CREDENTIALS

    env = " ".join(f"{k}={v}" for k, v in {"AWS_ENDPOINT_URL": endpoint_url, **CREDENTIALS}.items())
    accounts = ("--all", "--all") if stack is None else (f"--account {stack}", stack)
    _stderr().print(
        f"left in the emulator at {endpoint_url}; the stack files with its account IDs: "
        f"{stack_files}\n  export {env}\n"
        f"  ./run checklist {accounts[0]} --project-dir {stack_files}\n"
        f"  ./run drift {accounts[1]} --project-dir {stack_files}",
        markup=False,
        highlight=False,
    )


@app.command()
def emulator(
    port: Annotated[
        int, typer.Option(help="Port to listen on (0: any free one)", min=0, max=65535)
    ] = 5000,
    host: Annotated[
        str, typer.Option(help="Loopback address to listen on (127.0.0.1, ::1 or localhost)")
    ] = "127.0.0.1",
) -> None:
    """Run the rehearsal's AWS emulator until Ctrl-C, for `rehearse --endpoint-url` and for
    exploring a rehearsed organization with the AWS CLI and the operations commands.

    moto's server, with what the rehearsal adds to moto's model. It answers anyone who reaches
    it with any credentials and keeps nothing once stopped, so it listens on loopback only.
    Exit 2 for another address or a port it cannot listen on.
    """
    from .rehearsal.server import CREDENTIALS, NotLoopback, serve

    def ready(url: str) -> None:
        env = " ".join(f"{k}={v}" for k, v in {"AWS_ENDPOINT_URL": url, **CREDENTIALS}.items())
        print(
            f"emulator listening on {url} (Ctrl-C stops it; nothing is kept)\n"
            f"  ./run rehearse --all --endpoint-url {url}\n"
            f"  export {env}",
            flush=True,
        )

    try:
        serve(host, port, ready)
    except NotLoopback as error:
        raise _fail(f"--host: {error}", EXIT_CONFIG_ERROR) from None
    except OSError as error:
        raise _fail(
            f"cannot listen on {host}:{port}: {error.strerror or error}", EXIT_CONFIG_ERROR
        ) from None
    except KeyboardInterrupt:
        _stderr().print("emulator stopped", markup=False, highlight=False)


def _command_line_in_process(argv: list[str]) -> tuple[int, str]:
    """`diagnyx <argv>` in this process (the rehearsal's emulator lives here), output captured."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, argv)
    return result.exit_code, result.output


def main() -> None:
    collect_young_garbage_less_often()
    app()
