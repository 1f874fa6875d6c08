"""Offline plan: what each stack registers, as a tree with the account each resource lands in."""

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from .engine.recording import RecordedResource
from .engine.runner import StackRecording

COMPONENT = "-"
AMBIENT = "ambient credentials (no explicit provider)"


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: str
    account: str
    protect: bool


def target_accounts(recording: StackRecording) -> dict[str, str]:
    """URN -> "<account name> (<id>)" of the provider that will create it."""
    names_by_id = _account_names(recording)
    by_urn = recording.by_urn()
    targets = {}
    for resource in recording.resources:
        if not resource.custom:
            targets[resource.urn] = COMPONENT
            continue
        provider = resource if resource.is_provider else by_urn.get(resource.provider_urn)
        if provider is None:
            targets[resource.urn] = AMBIENT
            continue
        ids = provider.inputs.get("allowedAccountIds") or []
        targets[resource.urn] = (
            ", ".join(f"{names_by_id.get(i, '?')} ({i})" for i in ids) or AMBIENT
        )
    return targets


def _account_names(recording: StackRecording) -> dict[str, str]:
    raw = recording.config.values.get("diagnyx:accountIds", "{}")
    try:
        ids = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return {str(v): k for k, v in ids.items()} if isinstance(ids, dict) else {}


def planned_resources(recording: StackRecording) -> list[PlannedResource]:
    targets = target_accounts(recording)
    by_urn = recording.by_urn()
    return [
        PlannedResource(
            type=r.type,
            name=r.name,
            parent=by_urn[r.parent].name if r.parent in by_urn else "",
            account=targets[r.urn],
            protect=r.protect,
        )
        for r in recording.resources
    ]


def counts_by_type(recording: StackRecording) -> dict[str, int]:
    return dict(sorted(Counter(r.type for r in recording.resources).items()))


def as_json(recording: StackRecording) -> dict[str, Any]:
    return {
        "stack": recording.stack,
        "resources": [vars(p) for p in planned_resources(recording)],
        "countsByType": counts_by_type(recording),
        "outputs": recording.outputs,
        # What the program skipped because it cannot exist yet, each naming the step that
        # turns it on (pending account IDs, Identity Center, Cost Explorer, DNS delegation).
        "waits": recording.warnings,
    }


def render(recording: StackRecording, console: Console) -> None:
    targets = target_accounts(recording)
    tree = Tree(f"[bold]stack {recording.stack}[/bold]  ({len(recording.resources)} resources)")
    children: dict[str, list[RecordedResource]] = {}
    by_urn = recording.by_urn()
    for resource in recording.resources:
        parent = resource.parent if resource.parent in by_urn else ""
        children.setdefault(parent, []).append(resource)
    _add_children(tree, "", children, targets)
    console.print(tree)

    table = Table(title=f"{recording.stack}: resources by type")
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_, count in counts_by_type(recording).items():
        table.add_row(type_, str(count))
    console.print(table)
    for warning in recording.warnings:
        console.print(f"[yellow]waits[/yellow]: {warning}", highlight=False)


def _add_children(
    node: Tree, parent: str, children: dict[str, list[RecordedResource]], targets: dict[str, str]
) -> None:
    # Registration order depends on async scheduling; sort so the same program prints the same.
    for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
        child = node.add(_label(resource, targets[resource.urn]))
        _add_children(child, resource.urn, children, targets)


def _label(resource: RecordedResource, account: str) -> str:
    flags = " [yellow]protected[/yellow]" if resource.protect else ""
    where = "" if account == COMPONENT else f"  [dim]-> {account}[/dim]"
    return f"[cyan]{resource.type}[/cyan]  {resource.name}{flags}{where}"
