"""The `diagnyx` command line (also `python -m diagnyx_infra`).

Exit codes: 0 all good, 1 findings, 2 usage or config error.
"""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import plan as plan_view
from .components.baseline import state_bucket_name
from .config.loading import settings_from_config
from .config.stack_files import load_stack_config, stack_names
from .delivery import needs_approval, stack_for_branch
from .engine.runner import PROJECT_DIR, run_stack
from .errors import ConfigError

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
    print(f"backend=s3://{state_bucket_name(settings.account_id, settings.region)}")
    print(f"approval={'true' if needs_approval(stack) else 'false'}")


def main() -> None:
    app()
