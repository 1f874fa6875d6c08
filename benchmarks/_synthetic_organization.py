"""A synthetic project of N member accounts, written as a whole: Pulumi.yaml, the program, the
management file (the real one with N generated accounts, one in ten production, and every
account's ID) and a stack file per member account as `accounts add` writes one (its region,
environment, budget and a workload's external ID; no account IDs: each member stack takes them
from the management file). With ``every_id_in_every_file`` each member file lists every account's
ID, as all stack files did before issue 17. The security and shared accounts keep their real
stack files' own settings."""

import json
import shutil
from pathlib import Path

import yaml

from diagnyx_infra.config.stack_files import load_stack_config
from diagnyx_infra.engine.runner import PROJECT_DIR

MANAGEMENT_ID = "111111111111"
# The baseline needs these two by name; the rest are generated workloads.
NAMED = {"security": ("Security", "security"), "shared": ("SharedServices", "shared-services")}


def member_names(members: int) -> list[str]:
    return [
        list(NAMED)[index] if index < len(NAMED) else f"workload-{index:04d}"
        for index in range(members)
    ]


def account_entry(index: int, name: str) -> dict:
    ou, environment = NAMED.get(
        name,
        ("Production", "production") if index % 10 == 2 else ("NonProduction", "development"),
    )
    return {
        "email": f"aws+{name}@diagnyx.ai",
        "ou": ou,
        "environment": environment,
        "monthlyBudgetUsd": 100,
    }


def account_id(index: int) -> str:
    return f"{200000000000 + index:012d}"


def _decoded(value: str):
    try:
        return json.loads(value) if value[:1] in "[{" else value
    except json.JSONDecodeError:
        return value


def _own_settings(stack: str) -> dict:
    """A real stack file's settings, decoded (secure values as the file writes them)."""
    config = load_stack_config(PROJECT_DIR, stack)
    data = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {
        key: data[key] if key in config.secret_keys else _decoded(value)
        for key, value in config.values.items()
    }


def write_project(
    folder: Path,
    members: int,
    ids: dict[str, str] | None = None,
    every_id_in_every_file: bool = False,
) -> Path:
    """The project of ``members`` accounts in ``folder``; ``ids`` (name -> ID or "pending")
    replaces the generated IDs."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, folder)
    names = member_names(members)
    account_ids = {"management": MANAGEMENT_ID, **{n: account_id(i) for i, n in enumerate(names)}}
    account_ids.update(ids or {})
    management = _own_settings("management")
    management["diagnyx:organization"]["accounts"] = {
        name: account_entry(i, name) for i, name in enumerate(names)
    }
    management["diagnyx:accountIds"] = account_ids
    if account_ids["management"] != MANAGEMENT_ID:  # the monitor's ARN names its account
        management["diagnyx:costGovernance"].pop("servicesMonitorArn", None)
    _write(folder, "management", management)
    workload = _own_settings("dev")
    for index, name in enumerate(names):
        if name in NAMED:
            settings = _own_settings(name)
            settings["diagnyx:budget"] = {"monthlyLimitUsd": 100}
            if name == "shared":  # its CI deploys, and its images are pulled by, the workloads
                workloads = [n for n in names if n not in NAMED]
                settings["diagnyx:sharedServices"]["pullAccounts"] = workloads or ["security"]
        else:
            entry = account_entry(index, name)
            settings = {
                "aws:region": "us-east-1",
                "diagnyx:environment": entry["environment"],
                "diagnyx:budget": {"monthlyLimitUsd": 100},
                "diagnyx:ciExternalId": workload["diagnyx:ciExternalId"],
            }
        if every_id_in_every_file:
            settings["diagnyx:accountIds"] = account_ids
        else:
            settings.pop("diagnyx:accountIds", None)
        _write(folder, name, settings)
    return folder


def _write(folder: Path, stack: str, settings: dict) -> None:
    (folder / f"Pulumi.{stack}.yaml").write_text(
        yaml.safe_dump({"config": settings}, sort_keys=False)
    )


def config_lines(folder: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in folder.glob("Pulumi.*.yaml"))
