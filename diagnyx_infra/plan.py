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
class Account:
    name: str
    id: str


@dataclass(frozen=True)
class Target:
    """Where a resource lands: ``kind`` is "account" (its provider's allowed accounts),
    "component" (a component resource, created nowhere) or "ambient" (no explicit provider)."""

    kind: str
    accounts: tuple[Account, ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "component":
            return COMPONENT
        if self.kind == "ambient":
            return AMBIENT
        return ", ".join(f"{a.name} ({a.id})" for a in self.accounts)


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: str
    target: Target
    protect: bool

    def as_json(self) -> dict[str, Any]:
        """Fields, not the tree's "name (id)" label: ``target`` says which kind of target,
        ``accounts`` lists each account by name and ID (empty unless the kind is "account")."""
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "target": self.target.kind,
            "accounts": [vars(a) for a in self.target.accounts],
            "protect": self.protect,
        }


def targets(recording: StackRecording) -> dict[str, Target]:
    """URN -> where the provider that will create it deploys."""
    names_by_id = _account_names(recording)
    by_urn = recording.by_urn()
    found = {}
    for resource in recording.resources:
        if not resource.custom:
            found[resource.urn] = Target("component")
            continue
        provider = resource if resource.is_provider else by_urn.get(resource.provider_urn)
        ids = (provider.inputs.get("allowedAccountIds") or []) if provider is not None else []
        accounts = tuple(Account(names_by_id.get(str(i), "?"), str(i)) for i in ids)
        found[resource.urn] = Target("account", accounts) if accounts else Target("ambient")
    return found


def target_accounts(recording: StackRecording) -> dict[str, str]:
    """URN -> "<account name> (<id>)" of the provider that will create it."""
    return {urn: target.label for urn, target in targets(recording).items()}


def _account_names(recording: StackRecording) -> dict[str, str]:
    """ID -> account name, from the stack file's accountIds and, for a file that lists none
    (its stack takes them from the management file), the stack's own account."""
    names = {}
    own = recording.outputs.get("accountId")
    if isinstance(own, str):
        names[own] = recording.stack
    raw = recording.config.values.get("diagnyx:accountIds", "{}")
    try:
        ids = json.loads(raw)
    except json.JSONDecodeError:
        return names
    if isinstance(ids, dict):
        names.update({str(v): k for k, v in ids.items()})
    return names


def planned_resources(recording: StackRecording) -> list[PlannedResource]:
    found = targets(recording)
    by_urn = recording.by_urn()
    return [
        PlannedResource(
            type=r.type,
            name=r.name,
            parent=by_urn[r.parent].name if r.parent in by_urn else "",
            target=found[r.urn],
            protect=r.protect,
        )
        for r in recording.resources
    ]


def counts_by_type(recording: StackRecording) -> dict[str, int]:
    return dict(sorted(Counter(r.type for r in recording.resources).items()))


def as_json(recording: StackRecording) -> dict[str, Any]:
    return {
        "stack": recording.stack,
        "resources": [p.as_json() for p in planned_resources(recording)],
        "countsByType": counts_by_type(recording),
        "outputs": recording.outputs,
        # What the program skipped because it cannot exist yet, each naming the step that
        # turns it on (pending account IDs, Identity Center, Cost Explorer, DNS delegation).
        "waits": recording.warnings,
    }


def render(recording: StackRecording, console: Console) -> None:
    labels = target_accounts(recording)
    tree = Tree(f"[bold]stack {recording.stack}[/bold]  ({len(recording.resources)} resources)")
    children: dict[str, list[RecordedResource]] = {}
    by_urn = recording.by_urn()
    for resource in recording.resources:
        parent = resource.parent if resource.parent in by_urn else ""
        children.setdefault(parent, []).append(resource)
    _add_children(tree, "", children, labels)
    console.print(tree)

    table = Table(title=f"{recording.stack}: resources by type")
    table.add_column("type", overflow="fold")  # whole in a pipe's 80 columns, never cut with …
    table.add_column("count", justify="right")
    for type_, count in counts_by_type(recording).items():
        table.add_row(type_, str(count))
    console.print(table)
    for warning in recording.warnings:
        console.print(f"[yellow]waits[/yellow]: {warning}", highlight=False)


def render_summary(recordings: list[StackRecording], console: Console) -> None:
    """The stacks side by side with their total, closing a plan of several stacks (each stack's
    own tables come before it)."""
    table = Table(title=f"Plan: {len(recordings)} stacks")
    table.add_column("stack")
    table.add_column("resources", justify="right")
    table.add_column("waits", justify="right")
    for recording in recordings:
        table.add_row(recording.stack, str(len(recording.resources)), str(len(recording.warnings)))
    table.add_section()
    table.add_row(
        "all",
        str(sum(len(r.resources) for r in recordings)),
        str(sum(len(r.warnings) for r in recordings)),
    )
    console.print(table)


def _add_children(
    node: Tree, parent: str, children: dict[str, list[RecordedResource]], labels: dict[str, str]
) -> None:
    # Registration order depends on async scheduling; sort so the same program prints the same.
    for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
        child = node.add(_label(resource, labels[resource.urn]))
        _add_children(child, resource.urn, children, labels)


def _label(resource: RecordedResource, account: str) -> str:
    flags = " [yellow]protected[/yellow]" if resource.protect else ""
    where = "" if account == COMPONENT else f"  [dim]-> {account}[/dim]"
    return f"[cyan]{resource.type}[/cyan]  {resource.name}{flags}{where}"
