"""Checks across stack files: every file that names an account must give it the same ID, each
member stack's environment must match the organization's description of that account, and all
network stacks must list the same VPCs."""

import json
from pathlib import Path

from .stack_files import load_stack_config, stack_names

ACCOUNT_IDS_KEY = "diagnyx:accountIds"
NETWORKS_KEY = "diagnyx:networks"


def account_ids_by_file(project_dir: Path) -> dict[str, dict[str, str]]:
    """Stack file name -> its ``accountIds`` mapping, as written."""
    found = {}
    for stack in stack_names(project_dir):
        config = load_stack_config(project_dir, stack)
        raw = config.values.get(ACCOUNT_IDS_KEY)
        ids = json.loads(raw) if raw else {}
        found[f"Pulumi.{stack}.yaml"] = {str(k): str(v) for k, v in ids.items()}
    return found


def disagreements(project_dir: Path) -> list[str]:
    problems = []
    seen: dict[str, dict[str, list[str]]] = {}
    for file_name, ids in account_ids_by_file(project_dir).items():
        for account, account_id in ids.items():
            seen.setdefault(account, {}).setdefault(account_id, []).append(file_name)
    for account, variants in sorted(seen.items()):
        if len(variants) > 1:
            detail = "; ".join(
                f"{i} in {', '.join(files)}" for i, files in sorted(variants.items())
            )
            problems.append(f"account '{account}' has different IDs: {detail}")
    problems.extend(_environment_disagreements(project_dir))
    problems.extend(_network_disagreements(project_dir))
    return problems


def _network_disagreements(project_dir: Path) -> list[str]:
    """Every network stack must see the same set of VPCs, or overlap checks mean nothing."""
    variants: dict[str, list[str]] = {}
    for stack in stack_names(project_dir):
        raw = load_stack_config(project_dir, stack).values.get(NETWORKS_KEY)
        if raw:
            canonical = json.dumps(json.loads(raw), sort_keys=True)
            variants.setdefault(canonical, []).append(f"Pulumi.{stack}.yaml")
    if len(variants) <= 1:
        return []
    groups = " vs ".join(", ".join(files) for files in variants.values())
    return [f"'{NETWORKS_KEY}' differs between stack files: {groups}"]


def _environment_disagreements(project_dir: Path) -> list[str]:
    stacks = stack_names(project_dir)
    if "management" not in stacks:
        return []
    management = load_stack_config(project_dir, "management").values
    organization = json.loads(management.get("diagnyx:organization", "{}"))
    problems = []
    for name, account in (organization.get("accounts") or {}).items():
        if name not in stacks:
            continue
        values = load_stack_config(project_dir, name).values
        environment = values.get("diagnyx:environment")
        if environment != account.get("environment"):
            problems.append(
                f"account '{name}': Pulumi.management.yaml says environment "
                f"'{account.get('environment')}', Pulumi.{name}.yaml says '{environment}'"
            )
        budget = json.loads(values.get("diagnyx:budget", "{}")).get("monthlyLimitUsd")
        if budget != account.get("monthlyBudgetUsd"):
            problems.append(
                f"account '{name}': Pulumi.management.yaml says a budget of "
                f"{account.get('monthlyBudgetUsd')}, Pulumi.{name}.yaml says {budget}"
            )
    return problems
