"""`diagnyx accounts add`: one new account, two files. Its entry goes into the management stack's
file (the organization creates it there; its ID is `pending` until `accounts sync`), and its own
stack file is written with the baseline settings. No other stack file changes: each member stack
takes the organization's account IDs from the management file. The result is validated with the
whole project before anything is written, as every check config validation makes (e-mail unique,
OU known, budget, production kept apart), plus the organization's account quota."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..config.consistency import SOURCE_OF_TRUTH, load_project
from ..config.models import (
    MANAGEMENT_ACCOUNT,
    PENDING_ID,
    SUSPENDED_OU,
    WORKLOAD_ENVIRONMENTS,
    validate_account_name,
)
from ..config.stack_files import mapping_setting, round_trip_yaml, stack_file
from .stack_edits import EditRefused, dumped, write_validated

# Organizations' default quota of accounts (the management account included); raised through
# Service Quotas (docs/limits-and-prices.md).
DEFAULT_ACCOUNT_QUOTA = 10
# What a workload stack's external ID reads until it is set (`pulumi config set --secret`); the
# example stack files carry the same.
EXTERNAL_ID_PLACEHOLDER = "v1:REPLACE-ME-WITH-pulumi-config-set-secret"


class AddRefused(Exception):
    """Nothing was written: the account cannot be added as asked."""


@dataclass(frozen=True)
class NewAccount:
    name: str
    email: str
    ou: str
    environment: str
    monthly_budget_usd: float


@dataclass
class AddPlan:
    account: NewAccount
    files: list[str] = field(default_factory=list)
    written: bool = False

    def steps(self) -> list[str]:
        name = self.account.name
        steps = []
        if self.account.environment in {e.value for e in WORKLOAD_ENVIRONMENTS}:
            steps.append(
                f'pulumi config set --secret diagnyx:ciExternalId "$(openssl rand -hex 24)" '
                f"-s {name}"
            )
        return [
            *steps,
            f"pulumi up -s {MANAGEMENT_ACCOUNT}   # the organization creates {name}",
            "./run accounts sync   # records its ID in Pulumi.management.yaml",
            f"pulumi up -s {MANAGEMENT_ACCOUNT}   # trusts it (drift role, cost allocation)",
            "pulumi up -s security   # its buckets admit the new account's deliveries",
            f"pulumi stack init {name} && pulumi up -s {name}",
            f"./run checklist --account {name}",
            f"# CI: a GitHub environment named {name} (approvals, branch main), and {name} in "
            "the stack lists of .github/workflows/pull-request.yml and deploy.yml",
            "# optional, one setting each: sharedServices.pullAccounts in Pulumi.shared.yaml "
            f"(images, shared CI), diagnyx:network in Pulumi.{name}.yaml (a VPC)",
        ]


def add(project_dir: Path, account: NewAccount, apply: bool, quota: int) -> AddPlan:
    """The management entry and the new stack file for ``account`` (a dry run unless
    ``apply``)."""
    try:  # first: the name becomes a file name
        validate_account_name(account.name)
    except ValueError as error:
        raise AddRefused(f"NAME: {error}") from None
    zone = load_project(project_dir)
    management = zone[MANAGEMENT_ACCOUNT]
    organization = management.organization
    assert organization is not None
    if account.name in organization.accounts or account.name == MANAGEMENT_ACCOUNT:
        raise AddRefused(f"'{account.name}' is already an account of {SOURCE_OF_TRUTH}")
    own_file = stack_file(project_dir, account.name)
    if own_file.exists():
        raise AddRefused(f"{own_file.name} exists already; remove it or choose another name")
    workloads = sorted(e.value for e in WORKLOAD_ENVIRONMENTS)
    if account.environment not in workloads:
        raise AddRefused(
            f"--environment: '{account.environment}' is not a workload environment "
            f"({', '.join(workloads)}); the management, security and shared accounts are the "
            "landing zone's own"
        )
    core = sorted(
        name
        for name, member in organization.accounts.items()
        if member.ou == account.ou and member.environment.value not in workloads
    )
    if core:
        raise AddRefused(
            f"--ou: '{account.ou}' holds {', '.join(core)}, an account of the landing zone's "
            "own; a workload account goes into a workload OU (its guardrails are the "
            "workloads')"
        )
    if account.ou == SUSPENDED_OU:
        raise AddRefused(f"'{SUSPENDED_OU}' holds retired accounts only")
    total = len(organization.accounts) + 2  # the management account and the new one
    if total > quota:
        raise AddRefused(
            f"the organization would hold {total} accounts, over its quota of {quota} (AWS's "
            f"default is {DEFAULT_ACCOUNT_QUOTA}): raise it in Service Quotas (AWS "
            "Organizations, default maximum number of accounts), then pass --quota"
        )
    document = round_trip_yaml().load(stack_file(project_dir, MANAGEMENT_ACCOUNT).read_text())
    config = document["config"]
    entry = CommentedMap()
    entry["email"] = account.email.strip().lower()  # as validation reads it
    entry["monthlyBudgetUsd"] = _amount(account.monthly_budget_usd)
    entry["ou"] = account.ou
    entry["environment"] = account.environment
    mapping_setting(config, "organization", SOURCE_OF_TRUTH)["accounts"][account.name] = entry
    ids = mapping_setting(config, "accountIds", SOURCE_OF_TRUTH)
    ids[account.name] = DoubleQuotedScalarString(PENDING_ID)
    files = {
        stack_file(project_dir, MANAGEMENT_ACCOUNT).name: dumped(document),
        own_file.name: _stack_file_text(account, management.region),
    }
    try:
        written = write_validated(project_dir, files, apply)
    except EditRefused as refused:
        raise AddRefused(str(refused)) from None
    return AddPlan(account, sorted(files), written)


def _stack_file_text(account: NewAccount, region: str) -> str:
    """The new account's stack file: its region, environment and budget (the management entry
    says the same; validation checks they agree), and a workload's external ID to set."""
    config: dict[str, Any] = {
        "aws:region": region,
        "diagnyx:environment": account.environment,
        "diagnyx:budget": {"monthlyLimitUsd": _amount(account.monthly_budget_usd)},
    }
    if account.environment in {e.value for e in WORKLOAD_ENVIRONMENTS}:
        config["diagnyx:ciExternalId"] = {"secure": EXTERNAL_ID_PLACEHOLDER}
    header = (
        f"# The {account.name} account's stack (written by `diagnyx accounts add`).\n"
        "# Its account ID and every other account's come from Pulumi.management.yaml.\n"
    )
    return header + dumped({"config": config})


def _amount(usd: float) -> int | float:
    """Dollars as a person writes them: 50, not 50.0."""
    return int(usd) if float(usd).is_integer() else usd
