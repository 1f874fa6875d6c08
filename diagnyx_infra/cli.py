"""The `diagnyx` command line (also `python -m diagnyx_infra`).

Exit codes: 0 all good, 1 findings, 2 usage or config error.
"""

import json
from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

# The Pulumi engine, pulumi-aws and the emulator load only in the commands that use them: the
# operations commands start in a fraction of the time.
from . import PROJECT_DIR, naming
from .config.loading import settings_from_config
from .config.stack_files import load_stack_config, stack_names
from .delivery import needs_approval, stack_for_branch
from .errors import ConfigError
from .ops.accounts_sync import sync
from .ops.aws import Aws, classify
from .ops.bootstrap import (
    RECORDS_DIR,
    AlreadyInOrganization,
    WouldReplaceOrganization,
    start,
)
from .ops.checklist import Checklist
from .ops.cost_report import last_full_month, month_range
from .ops.cost_report import report as build_cost_report
from .ops.doctor import diagnose
from .ops.findings import EXIT_FINDINGS, Finding, exit_code
from .ops.findings import as_json as findings_json
from .ops.findings import render as render_findings
from .ops.isolation import Isolation, Record, record_path
from .ops.landing_zone import LandingZone
from .policy_config import pack_config_file

EXIT_CONFIG_ERROR = 2
# The guide's deployment order (design.md): organization first, workloads last.
STACK_ORDER = ("management", "security", "shared", "dev", "staging", "uat", "prod")

app = typer.Typer(
    help="Diagnyx landing zone: offline plan and operations tooling.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Diagnyx landing zone: offline plan and operations tooling."""


def ordered_stacks(project_dir: Path) -> list[str]:
    present = stack_names(project_dir)
    known = [s for s in STACK_ORDER if s in present]
    return known + [s for s in present if s not in STACK_ORDER]


@app.command()
def plan(
    stack: Annotated[str | None, typer.Argument(help="Stack to plan, e.g. management")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Plan every stack")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    project_dir: Annotated[
        Path, typer.Option(help="Folder holding Pulumi.yaml and the stack files")
    ] = PROJECT_DIR,
) -> None:
    """Run the Pulumi program for a stack under mocks and show what it would create.

    Needs no AWS credentials and no Pulumi CLI.
    """
    from . import plan as plan_view
    from .engine.runner import run_stack

    console = Console()
    err = Console(stderr=True)
    if all_stacks == (stack is not None):
        err.print("error: give either a STACK or --all")
        raise typer.Exit(EXIT_CONFIG_ERROR)
    stacks = ordered_stacks(project_dir) if all_stacks else [stack]
    if stack is not None and stack not in stack_names(project_dir):
        err.print(f"error: no stack file Pulumi.{stack}.yaml in {project_dir}")
        raise typer.Exit(EXIT_CONFIG_ERROR)

    results = []
    for name in stacks:
        try:
            recording = run_stack(name, project_dir)
        except ConfigError as error:
            err.print(f"error: stack {name}: {error}", markup=False, highlight=False)
            raise typer.Exit(EXIT_CONFIG_ERROR) from None
        if as_json:
            results.append(plan_view.as_json(recording))
        else:
            plan_view.render(recording, console)
    if as_json:
        print(json.dumps(results, indent=2, default=str))


@app.command("ci-target")
def ci_target(
    stack: Annotated[str | None, typer.Argument(help="Stack to deploy or preview")] = None,
    branch: Annotated[
        str | None, typer.Option(help="Git branch pushed; prints the stack it deploys")
    ] = None,
    project_dir: Annotated[Path, typer.Option(help="Folder holding the stack files")] = PROJECT_DIR,
) -> None:
    """Print `key=value` lines for $GITHUB_OUTPUT: stack, account_id, region, backend, approval.

    The workflows use this so the branch-to-stack mapping and account IDs live in one place.
    """
    err = Console(stderr=True)
    if (stack is None) == (branch is None):
        err.print("error: give either a STACK or --branch")
        raise typer.Exit(EXIT_CONFIG_ERROR)
    if branch is not None:
        stack = stack_for_branch(branch)
        if stack is None:
            err.print(f"error: branch '{branch}' deploys no stack")
            raise typer.Exit(EXIT_CONFIG_ERROR)
    assert stack is not None
    try:
        config = load_stack_config(project_dir, stack)
        settings = settings_from_config(stack, config.values, config.secret_keys)
    except ConfigError as error:
        err.print(f"error: stack {stack}: {error}", markup=False, highlight=False)
        raise typer.Exit(EXIT_CONFIG_ERROR) from None
    print(f"stack={stack}")
    print(f"account_id={settings.account_id}")
    print(f"region={settings.region}")
    print(f"backend=s3://{naming.state_bucket_name(settings.account_id, settings.region)}")
    print(f"approval={'true' if needs_approval(stack) else 'false'}")


@app.command("deploy-sequence")
def deploy_sequence() -> None:
    """Print the documented deploy sequence (the README's "Deploying for real") as Markdown.

    The same sequence `diagnyx rehearse` carries out from an empty management account.
    """
    from .deploy_sequence import render_markdown

    print(render_markdown(), end="")


@app.command("policy-config")
def policy_config(
    stack: Annotated[str, typer.Argument(help="Stack whose config the policy pack follows")],
    project_dir: Annotated[Path, typer.Option(help="Folder holding the stack files")] = PROJECT_DIR,
) -> None:
    """Print the policy pack's config for a stack (`pulumi preview --policy-pack-config`)."""
    try:
        config = load_stack_config(project_dir, stack)
        settings = settings_from_config(stack, config.values, config.secret_keys)
    except ConfigError as error:
        raise _fail(f"stack {stack}: {error}", EXIT_CONFIG_ERROR) from None
    print(json.dumps(pack_config_file(settings), indent=2))


# --- operations tooling (boto3) -------------------------------------------------------------

accounts_app = typer.Typer(help="Account IDs in the stack files.", no_args_is_help=True)
cost_app = typer.Typer(help="Cost reports.", no_args_is_help=True)
bootstrap_app = typer.Typer(help="A new organization's first steps.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(bootstrap_app, name="bootstrap")
app.add_typer(cost_app, name="cost")

ProjectDir = Annotated[Path, typer.Option(help="Folder holding the stack files")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
Region = Annotated[str | None, typer.Option(help="AWS region for API calls (default AWS_REGION)")]
AccessRole = Annotated[str, typer.Option(help="Role the tooling assumes in member accounts")]


def _fail(message: str, code: int) -> typer.Exit:
    Console(stderr=True).print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(code)


def _landing_zone(project_dir: Path) -> LandingZone:
    try:
        return LandingZone.load(project_dir)
    except ConfigError as error:
        raise _fail(str(error), EXIT_CONFIG_ERROR) from None


def _caller(region: str | None) -> Aws:
    aws = Aws.from_environment(region)
    try:
        aws.account_id  # noqa: B018 - fail early and clearly without credentials
    except NoCredentialsError:
        raise _fail(
            "no AWS credentials: log in to the management account (aws sso login, or a profile)",
            EXIT_CONFIG_ERROR,
        ) from None
    except Exception as error:
        raise _fail(f"cannot reach AWS: {classify(error).message}", EXIT_FINDINGS) from None
    return aws


@accounts_app.command("sync")
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
    zone = _landing_zone(project_dir)
    caller = _caller(region)
    try:
        result = sync(caller, zone, project_dir, write=not check)
    except (ClientError, BotoCoreError) as error:
        raise _fail(classify(error).message, EXIT_FINDINGS) from None
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


@bootstrap_app.command("start")
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
    except (AlreadyInOrganization, WouldReplaceOrganization) as error:
        raise _fail(str(error), EXIT_CONFIG_ERROR) from None
    except (ClientError, BotoCoreError) as error:
        raise _fail(classify(error).message, EXIT_FINDINGS) from None
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
def checklist(
    account: Annotated[str | None, typer.Option(help="One account by name")] = None,
    all_accounts: Annotated[bool, typer.Option("--all", help="Every account")] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """Verify the guide's Account Bootstrap Checklist against AWS. Exit 1 on any failure."""
    zone = _landing_zone(project_dir)
    if (account is None) == (not all_accounts):
        raise _fail("give either --account NAME or --all", EXIT_CONFIG_ERROR)
    names = zone.account_names() if all_accounts else [account]
    unknown = [n for n in names if n not in zone.account_ids]
    if unknown:
        raise _fail(
            f"unknown account {unknown[0]} (known: {', '.join(zone.account_names())})",
            EXIT_CONFIG_ERROR,
        )
    findings = Checklist(_caller(region), zone, access_role).run(names)
    _report(findings, "Account bootstrap checklist", as_json)


@app.command()
def doctor(
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """The guide's troubleshooting: identity, organization, accounts, SSO, DNS delegation, and who
    can assume each cross-account role."""
    zone = _landing_zone(project_dir)
    _report(diagnose(_caller(region), zone), "Doctor", as_json)


def _report(findings: list[Finding], title: str, as_json: bool) -> None:
    if as_json:
        print(findings_json(findings))
    else:
        render_findings(findings, title, Console())
    raise typer.Exit(exit_code(findings))


@cost_app.command("report")
def cost_report(
    month: Annotated[str | None, typer.Option(help="YYYY-MM; default the last full month")] = None,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Spend per account from Cost Explorer against each account's budget. Exit 1 when an
    account reaches the 80% alert threshold or the total exceeds the organization budget."""
    month = month or last_full_month()
    try:
        month_range(month)
    except ValueError:
        raise _fail(f"--month: '{month}' is not YYYY-MM", EXIT_CONFIG_ERROR) from None
    zone = _landing_zone(project_dir)
    try:
        result = build_cost_report(_caller(region), zone, month)
    except (ClientError, BotoCoreError) as error:
        raise _fail(f"Cost Explorer: {classify(error).message}", EXIT_FINDINGS) from None
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
        Path | None, typer.Option(help="A previous `--json` estimate to compare with (e.g. main)")
    ] = None,
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Fixed monthly cost of what each stack deploys, from the price table
    (diagnyx_infra/data/prices.yaml); usage-priced items are listed apart. Offline."""
    from . import costs
    from .engine.runner import run_stack

    if all_stacks == (stack is not None):
        raise _fail("give either a STACK or --all", EXIT_CONFIG_ERROR)
    stacks = ordered_stacks(project_dir) if all_stacks else [stack]
    try:
        estimates = [costs.estimate(run_stack(name, project_dir)) for name in stacks]
    except ConfigError as error:
        raise _fail(str(error), EXIT_CONFIG_ERROR) from None
    result = costs.as_json(estimates)
    delta = None
    if compare is not None:
        try:
            delta = costs.changes(json.loads(compare.read_text()), result)
        except (OSError, ValueError) as error:
            raise _fail(f"--compare: cannot read {compare}: {error}", EXIT_CONFIG_ERROR) from None
        result["changes"] = [{"stack": s, "beforeUsd": b, "afterUsd": a} for s, b, a in delta]
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console = Console()
    table = Table(title="Fixed monthly cost (USD, before usage)")
    for column in ("stack", "item", "count", "each", "monthly"):
        table.add_column(
            column, justify="right" if column in ("count", "each", "monthly") else "left"
        )
    for estimate in estimates:
        for line in estimate.fixed:
            table.add_row(
                estimate.stack,
                line.item,
                str(line.count),
                f"${line.unit_monthly:.2f}",
                f"${line.monthly:.2f}",
            )
        table.add_row(
            estimate.stack,
            "[bold]stack total[/bold]",
            "",
            "",
            f"[bold]${estimate.monthly:.2f}[/bold]",
        )
    table.add_row(
        "all", "[bold]total[/bold]", "", "", f"[bold]${costs.total(estimates):.2f}[/bold]"
    )
    console.print(table)
    usage = {(line.item, line.note) for e in estimates for line in e.usage}
    console.print("Depends on usage:")
    for item, note in sorted(usage):
        console.print(f"  {item}: {note}")
    if delta is not None:
        console.print("Change against the comparison:")
        for name, before, after in delta or [("(none)", 0.0, 0.0)]:
            console.print(f"  {name}: ${before:.2f} -> ${after:.2f} ({after - before:+.2f})")


@app.command()
def isolate(
    account: Annotated[str, typer.Argument(help="Account to cut off (name)")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Act; without it, only show the plan")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    records_dir: Annotated[Path, typer.Option(help="Where isolation records are written")] = Path(
        "isolation-records"
    ),
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """The guide's account isolation: remove CICDPolicy and the account's SSO assignments.

    Dry run by default. With --apply a record of exactly what is removed is written first, so
    `diagnyx restore RECORD --apply` puts it back.
    """
    zone = _landing_zone(project_dir)
    if account not in zone.account_ids:
        raise _fail(f"unknown account {account}", EXIT_CONFIG_ERROR)
    isolation = Isolation(_caller(region), zone, access_role)
    try:
        record = isolation.plan(account)
    except (ClientError, BotoCoreError) as error:
        raise _fail(classify(error).message, EXIT_FINDINGS) from None
    _print_items(record, "would remove" if not apply else "removing", as_json)
    _go_ahead(
        bool(record.items), "the account is already isolated", apply, yes, f"Isolate {account}?"
    )
    path = record_path(records_dir, account)
    try:
        isolation.isolate(record, path)
    except (ClientError, BotoCoreError) as error:
        done = sum(i.removed for i in record.items)
        raise _fail(
            f"stopped after {done} of {len(record.items)} removals: {classify(error).message}; "
            f"the record {path} lists what was removed",
            EXIT_FINDINGS,
        ) from None
    Console(stderr=True).print(f"isolated {account}; record: {path}")


@app.command()
def restore(
    record_file: Annotated[Path, typer.Argument(help="Record written by `diagnyx isolate`")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Act; without it, only show the plan")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    project_dir: ProjectDir = PROJECT_DIR,
    region: Region = None,
    access_role: AccessRole = naming.ORG_ACCESS_ROLE,
    as_json: AsJson = False,
) -> None:
    """Put back what `diagnyx isolate` removed, as its record says. Dry run by default."""
    try:
        record = Record.load(record_file)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise _fail(
            f"{record_file}: not an isolation record ({error})", EXIT_CONFIG_ERROR
        ) from None
    zone = _landing_zone(project_dir)
    pending = [i for i in record.items if i.removed and not i.restored]
    shown = Record(record.account, record.account_id, record.created, pending)
    _print_items(shown, "would restore" if not apply else "restoring", as_json)
    _go_ahead(bool(pending), "nothing to restore", apply, yes, f"Restore {record.account}?")
    try:
        Isolation(_caller(region), zone, access_role).restore(record, record_file)
    except (ClientError, BotoCoreError) as error:
        raise _fail(
            f"restore stopped: {classify(error).message}; run it again", EXIT_FINDINGS
        ) from None
    Console(stderr=True).print(f"restored {record.account}")


def _go_ahead(has_work: bool, idle: str, apply: bool, yes: bool, question: str) -> None:
    """Stop here unless there is work, --apply was given and the operator confirms."""
    err = Console(stderr=True)
    if not has_work:
        err.print(f"nothing to do: {idle}")
        raise typer.Exit(0)
    if not apply:
        err.print("dry run: nothing changed (use --apply)")
        raise typer.Exit(0)
    if not yes and not typer.confirm(question, default=False):
        raise _fail("aborted", EXIT_FINDINGS)


def _print_items(record: Record, verb: str, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "account": record.account,
                    "accountId": record.account_id,
                    "items": [vars(i) for i in record.items],
                },
                indent=2,
                default=str,
            )
        )
        return
    console = Console()
    for item in record.items:
        console.print(f"{record.account}: {verb} {item.describe()}")


@app.command()
def rehearse(
    stack: Annotated[
        str | None, typer.Argument(help="One stack (management and security deploy first)")
    ] = None,
    all_stacks: Annotated[
        bool, typer.Option("--all", help="Every stack, in the guide's order")
    ] = False,
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Deploy the stacks into an embedded AWS emulator and run the checklist on the result.

    Needs no AWS account, no Pulumi CLI and no network. Exit 1 if the emulated API refuses a
    resource or a checklist item fails.
    """
    from .rehearsal.rehearse import rehearse as run_rehearsal
    from .rehearsal.report import render as render_rehearsal
    from .rehearsal.report import to_json as rehearsal_json

    if all_stacks == (stack is not None):
        raise _fail("give either a STACK or --all", EXIT_CONFIG_ERROR)
    _landing_zone(project_dir)  # every stack file valid before anything is deployed
    stacks = ordered_stacks(project_dir) if all_stacks else [stack]
    if stack is not None and stack not in stack_names(project_dir):
        raise _fail(f"no stack file Pulumi.{stack}.yaml", EXIT_CONFIG_ERROR)
    err = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
    ) as progress:
        task = progress.add_task("starting the emulator")
        result = run_rehearsal(
            stacks,
            project_dir,
            lambda name, state: progress.update(task, description=f"{name}: {state}"),
            command_line=_command_line_in_process,
        )
    if as_json:
        print(json.dumps(rehearsal_json(result), indent=2))
    else:
        render_rehearsal(result, Console())
    if result.failure is not None:
        raise _fail(str(result.failure), EXIT_FINDINGS)
    raise typer.Exit(exit_code(result.findings))


@app.command()
def access(
    as_json: AsJson = False,
    project_dir: ProjectDir = PROJECT_DIR,
) -> None:
    """Who can assume each role the landing zone creates and what it can do, and every chain from
    a foothold (a shared or workload account, a pull request, a Developer, DevOps, Finance or
    Auditor seat) to organization write or to the audit trail, archive or key. Offline: reads
    the program's documents. Exit 1 if any chain exists."""
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


def _command_line_in_process(argv: list[str]) -> tuple[int, str]:
    """`diagnyx <argv>` in this process (the rehearsal's emulator lives here), output captured."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, argv)
    return result.exit_code, result.output


def main() -> None:
    app()
