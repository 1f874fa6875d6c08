"""The project's stack files as one organization: every file validated, and every value that two
files both state checked against the one file that owns it.

``Pulumi.management.yaml`` is the organization's source of truth: account IDs, each account's
environment and budget, the allowed regions and the repository that deploys. A VPC's entry in
``networks`` is owned by that account's own file. Every entry point (the Pulumi program, `plan`,
`rehearse`, `cost estimate` and the operations commands) refuses a disagreement before it
registers or changes anything, naming both files and the key.
"""

import functools
import ipaddress
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from .loading import settings_from_config, with_organization_ids
from .models import MANAGEMENT_ACCOUNT, WORKLOAD_ENVIRONMENTS, NetworkEntry, StackSettings
from .stack_files import (
    PROJECT_FILE,
    ProjectDefaults,
    load_stack_config,
    organization_account_ids,
    project_defaults,
    stack_config_from_texts,
    stack_file,
    stack_names,
)
from .yaml_reader import parse_json_value, read_bounded_text

SOURCE_OF_TRUTH = f"Pulumi.{MANAGEMENT_ACCOUNT}.yaml"
ACCOUNT_IDS_KEY = "diagnyx:accountIds"


def file_of(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def validated_stack(project_dir: Path, stack: str) -> StackSettings:
    """One stack file, validated; every problem is prefixed with the file's name. The outcome is
    kept for as long as Pulumi.yaml and the stack file read the same: the program, the commands
    and the tests validate the same files many times in one process. The settings are shared
    between callers: treat them as read-only (their model is frozen)."""
    project = project_defaults(read_bounded_text(project_dir / PROJECT_FILE))
    organization_ids = (
        None if stack == MANAGEMENT_ACCOUNT else organization_account_ids(project_dir)
    )
    outcome = _validated(
        stack, project, read_bounded_text(stack_file(project_dir, stack)), organization_ids
    )
    if isinstance(outcome, tuple):
        raise ConfigError(list(outcome))
    return outcome


@functools.lru_cache(maxsize=256)
def _validated(
    stack: str, project: ProjectDefaults, stack_text: str, organization_ids: str | None
) -> StackSettings | tuple[str, ...]:
    """The settings (frozen), or the problems that refused them. ``organization_ids``: the
    management file's accountIds, for the accounts a member file does not list."""
    try:
        config = stack_config_from_texts(stack, project, stack_text)
    except ConfigError as error:  # its problems name the file already
        return tuple(error.problems)
    try:
        values = with_organization_ids(stack, config.values, organization_ids)
        return settings_from_config(stack, values, config.secret_keys)
    except ConfigError as error:
        return tuple(in_file(stack, error).problems)


def in_file(stack: str, error: ConfigError) -> ConfigError:
    name = file_of(stack)
    return ConfigError([p if p.startswith(name) else f"{name}: {p}" for p in error.problems])


def load_project(
    project_dir: Path,
    current: StackSettings | None = None,
    *,
    check_account_ids: bool = True,
) -> dict[str, StackSettings]:
    """Every stack of the project, validated and in agreement. ``current`` replaces its stack's
    file (the Pulumi program passes the config the engine gave it). A ConfigError lists every
    problem, each naming its file."""
    problems: list[str] = []
    stacks: dict[str, StackSettings] = {}
    names = stack_names(project_dir)
    if current is not None and current.stack not in names:
        names.append(current.stack)
    for stack in names:
        if current is not None and stack == current.stack:
            stacks[stack] = current
            continue
        try:
            stacks[stack] = validated_stack(project_dir, stack)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    problems = disagreements_between(stacks, check_account_ids=check_account_ids)
    if problems:
        raise ConfigError(problems)
    return stacks


def disagreements(project_dir: Path) -> list[str]:
    """What the project's stack files disagree about (empty when they agree)."""
    try:
        load_project(project_dir)
    except ConfigError as error:
        return error.problems
    return []


def account_ids_by_file(project_dir: Path) -> dict[str, dict[str, str]]:
    """Stack file name -> its ``accountIds`` mapping, as written."""
    found = {}
    for stack in stack_names(project_dir):
        raw = load_stack_config(project_dir, stack).values.get(ACCOUNT_IDS_KEY)
        try:
            ids = parse_json_value(raw) if raw else {}
        except ValueError as error:
            raise ConfigError([f"{file_of(stack)}: {ACCOUNT_IDS_KEY}: {error}"]) from None
        if not isinstance(ids, dict):
            raise ConfigError([f"{file_of(stack)}: {ACCOUNT_IDS_KEY}: must be a mapping"])
        found[file_of(stack)] = {str(k): str(v) for k, v in ids.items()}
    return found


# --- the checks -------------------------------------------------------------------------------


def disagreements_between(
    stacks: Mapping[str, StackSettings], *, check_account_ids: bool = True
) -> list[str]:
    management = stacks.get(MANAGEMENT_ACCOUNT)
    if management is None:
        return [
            f"{SOURCE_OF_TRUTH}: missing; it describes the organization and every stack file "
            "is checked against it"
        ]
    assert management.organization is not None
    problems = []
    for stack, settings in stacks.items():
        if stack == MANAGEMENT_ACCOUNT:
            continue
        if stack not in management.organization.accounts:
            problems.append(
                f"{file_of(stack)}: '{stack}' is not an account of the organization "
                f"({SOURCE_OF_TRUTH} diagnyx:organization.accounts)"
            )
            continue
        if check_account_ids:
            problems.extend(_account_id_problems(settings, management))
        problems.extend(_member_problems(settings, management))
    problems.extend(_network_problems(stacks, management))
    return problems


def _account_id_problems(settings: StackSettings, management: StackSettings) -> list[str]:
    problems = []
    for name, account_id in settings.account_ids.items():
        key = f"{file_of(settings.stack)} diagnyx:accountIds.{name}"
        truth = management.account_ids.get(name)
        if truth is None:
            problems.append(f"{key}: no account '{name}' in {SOURCE_OF_TRUTH}")
        elif truth != account_id:
            problems.append(
                f"{key}: '{account_id}', but {SOURCE_OF_TRUTH} (the source of truth) says "
                f"'{truth}'; `diagnyx accounts sync` writes the organization's IDs everywhere"
            )
    return problems


def _member_problems(settings: StackSettings, management: StackSettings) -> list[str]:
    assert management.organization is not None
    file = file_of(settings.stack)
    member = management.organization.accounts[settings.stack]
    where = f"{SOURCE_OF_TRUTH} diagnyx:organization.accounts.{settings.stack}"
    problems = []
    if settings.environment != member.environment:
        problems.append(
            f"{file} diagnyx:environment: '{settings.environment.value}', but {where}"
            f".environment is '{member.environment.value}'"
        )
    if settings.budget.monthly_limit_usd != member.monthly_budget_usd:
        problems.append(
            f"{file} diagnyx:budget.monthlyLimitUsd: {settings.budget.monthly_limit_usd:g}, "
            f"but {where}.monthlyBudgetUsd is {member.monthly_budget_usd:g}"
        )
    outside = [r for r in settings.allowed_regions if r not in management.allowed_regions]
    if outside:
        problems.append(
            f"{file} diagnyx:allowedRegions: {', '.join(outside)} not in {SOURCE_OF_TRUTH} "
            f"diagnyx:allowedRegions ({', '.join(management.allowed_regions)}), which the "
            "region guardrail enforces"
        )
    for key, value, truth in (
        ("githubRepository", settings.github_repository, management.github_repository),
        (
            "githubSubjectPrefix",
            settings.effective_github_subject_prefix,
            management.effective_github_subject_prefix,
        ),
    ):
        if value != truth:
            problems.append(
                f"{file} diagnyx:{key}: '{value}', but {SOURCE_OF_TRUTH} says '{truth}' (one "
                "repository deploys every stack)"
            )
    if settings.shared_services is not None:
        accounts = management.organization.accounts
        for name in settings.shared_services.pull_accounts:
            account = accounts.get(name)
            if account is not None and account.environment not in WORKLOAD_ENVIRONMENTS:
                problems.append(
                    f"{file} diagnyx:sharedServices.pullAccounts: '{name}' is a "
                    f"{account.environment.value} account in {SOURCE_OF_TRUTH}; only workload "
                    "accounts pull images"
                )
    return problems


def _network_problems(stacks: Mapping[str, StackSettings], management: StackSettings) -> list[str]:
    """Each VPC's entry is owned by its account's file, with the organization's environment; a
    network stack lists its own VPC and those it peers with (it may list more), each as the
    owner says; and no two VPCs of the project overlap, whichever files list them (so a new
    account's VPC is written in its own file only)."""
    assert management.organization is not None
    accounts = management.organization.accounts
    with_networks = {s: settings.networks for s, settings in stacks.items() if settings.networks}
    problems = []
    names = sorted({name for networks in with_networks.values() for name in networks})
    for name in names:
        listing = [s for s, networks in with_networks.items() if name in networks]
        owner = name if name in listing else listing[0]
        truth = with_networks[owner][name]
        owner_key = f"{file_of(owner)} diagnyx:networks.{name}"
        account = accounts.get(name)
        if account is None:
            problems.append(f"{owner_key}: no account '{name}' in {SOURCE_OF_TRUTH}")
        elif truth.environment != account.environment:
            problems.append(
                f"{owner_key}.environment: '{truth.environment.value}', but {SOURCE_OF_TRUTH} "
                f"diagnyx:organization.accounts.{name}.environment is "
                f"'{account.environment.value}'"
            )
        for stack, networks in with_networks.items():
            key = f"{file_of(stack)} diagnyx:networks.{name}"
            if name in networks and networks[name] != truth:
                problems.append(
                    f"{key}: {_describe(networks[name])}, but {file_of(owner)} says "
                    f"{_describe(truth)}"
                )
    return problems + _overlaps(with_networks, names)


def _overlaps(with_networks: Mapping[str, Mapping[str, NetworkEntry]], names: list[str]) -> list:
    """Every pair of VPCs of the project whose CIDRs overlap, each by its owner's entry (a
    file checks only the VPCs it lists)."""
    owners = {}
    for name in names:
        listing = [s for s, networks in with_networks.items() if name in networks]
        owner = name if name in listing else listing[0]
        owners[name] = (owner, ipaddress.IPv4Network(with_networks[owner][name].cidr))
    problems = []
    ordered = sorted(owners.items(), key=lambda item: item[1][1])
    for index, (first, (first_file, first_cidr)) in enumerate(ordered):
        for second, (second_file, second_cidr) in ordered[index + 1 :]:
            if second_cidr.network_address > first_cidr.broadcast_address:
                break  # sorted by address: nothing further overlaps the first
            problems.append(
                f"{file_of(first_file)} diagnyx:networks.{first}: the VPCs of {first} "
                f"({first_cidr}) and {second} ({second_cidr}, {file_of(second_file)}) overlap"
            )
    return problems


def _describe(entry: NetworkEntry) -> str:
    vpc = f", vpcId {entry.vpc_id}" if entry.vpc_id else ""
    return f"cidr {entry.cidr}, environment {entry.environment.value}{vpc}"
