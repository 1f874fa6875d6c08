"""`diagnyx cost estimate`: the fixed monthly cost of what each stack deploys, from the recorded
resources and the price table (diagnyx_infra/data/prices.yaml), with what is free, what is priced
by use, and the options the program does not turn on."""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from .engine.recording import RecordedResource
from .engine.runner import StackRecording

PRICES = Path(__file__).parent / "data" / "prices.yaml"
VPC = "aws:ec2/vpc:Vpc"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"


@cache
def price_table() -> dict[str, Any]:
    return yaml.safe_load(PRICES.read_text())


def assumptions() -> list[str]:
    """What every figure assumes (region, hours in a month, no usage, options apart)."""
    return list(price_table().get("assumptions", []))


@dataclass(frozen=True)
class Line:
    item: str
    type: str
    count: int
    unit_monthly: float = 0.0
    note: str = ""

    @property
    def monthly(self) -> float:
        return round(self.count * self.unit_monthly, 2)


@dataclass(frozen=True)
class Option:
    """A service or setting the program does not turn on, counted over the estimated stacks."""

    item: str
    per: str  # "account" or "VPC"
    count: int
    stacks: tuple[str, ...]
    note: str
    source: str
    unit_monthly: float | None  # fixed price of each; None when priced by use only

    @property
    def monthly(self) -> float | None:
        return None if self.unit_monthly is None else round(self.count * self.unit_monthly, 2)


@dataclass
class StackEstimate:
    stack: str
    fixed: list[Line] = field(default_factory=list)
    usage: list[Line] = field(default_factory=list)
    free: list[Line] = field(default_factory=list)
    # option item -> how many of what it is counted by this stack has (1 account; VPCs)
    option_counts: dict[str, int] = field(default_factory=dict)

    @property
    def monthly(self) -> float:
        return round(sum(line.monthly for line in self.fixed), 2)


def _matches(entry: dict[str, Any], resource: RecordedResource) -> bool:
    if entry["type"] != resource.type:
        return False
    return all(resource.inputs.get(k, False) == v for k, v in (entry.get("when") or {}).items())


def estimate(recording: StackRecording) -> StackEstimate:
    table = price_table()
    result = StackEstimate(recording.stack)
    custom = [r for r in recording.resources if r.custom and not r.is_provider]
    for section, target in (
        ("fixed", result.fixed),
        ("usage", result.usage),
        ("free", result.free),
    ):
        for entry in table[section]:
            count = sum(1 for r in custom if _matches(entry, r))
            if count:
                target.append(
                    Line(
                        item=entry.get("item") or entry["type"].rsplit(":", 1)[-1],
                        type=entry["type"],
                        count=count,
                        unit_monthly=float(entry.get("monthly", 0.0)),
                        note=entry.get("note", ""),
                    )
                )
    types = [r.type for r in custom]
    for entry in table.get("options", []):
        if entry["per"] == "account":
            count = 1  # a stack is an account
        else:  # each VPC without a NAT gateway
            count = max(types.count(VPC) - types.count(NAT_GATEWAY), 0)
        if count:
            result.option_counts[entry["item"]] = count
    return result


def options(estimates: list[StackEstimate]) -> list[Option]:
    """Each option of the price table with how many accounts or VPCs of ``estimates`` it
    would apply to, and its fixed monthly price where it has one (from the fixed entries it
    adds, so each price lives in one place)."""
    table = price_table()
    fixed_prices = {entry["type"]: float(entry["monthly"]) for entry in table["fixed"]}
    found = []
    for entry in table.get("options", []):
        stacks = tuple(e.stack for e in estimates if entry["item"] in e.option_counts)
        adds = entry.get("adds") or []
        found.append(
            Option(
                item=entry["item"],
                per=entry["per"],
                count=sum(e.option_counts.get(entry["item"], 0) for e in estimates),
                stacks=stacks,
                note=entry.get("note", ""),
                source=entry.get("source", ""),
                unit_monthly=round(sum(fixed_prices[t] for t in adds), 2) if adds else None,
            )
        )
    return found


def total(estimates: list[StackEstimate]) -> float:
    return round(sum(e.monthly for e in estimates), 2)


def _line_json(line: Line, priced: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {"item": line.item, "type": line.type, "count": line.count}
    if priced:
        shown |= {"unitMonthlyUsd": line.unit_monthly, "monthlyUsd": line.monthly}
    return shown | {"note": line.note}


def as_json(estimates: list[StackEstimate]) -> dict[str, Any]:
    return {
        "assumptions": assumptions(),
        "stacks": {
            e.stack: {
                "monthlyUsd": e.monthly,
                "fixed": [_line_json(line, priced=True) for line in e.fixed],
                "usage": [_line_json(line, priced=False) for line in e.usage],
                "free": [_line_json(line, priced=False) for line in e.free],
            }
            for e in estimates
        },
        "totalMonthlyUsd": total(estimates),
        "options": [
            {
                "item": o.item,
                "per": o.per,
                "count": o.count,
                "stacks": list(o.stacks),
                "unitMonthlyUsd": o.unit_monthly,
                "monthlyUsd": o.monthly,
                "note": o.note,
                "source": o.source,
            }
            for o in options(estimates)
        ],
    }


def render(estimates: list[StackEstimate], console: Console) -> None:
    """The table for people: per stack its fixed and free items and total, then what is priced
    by use, the options not turned on, and the assumptions."""
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
        for line in estimate.free:
            table.add_row(estimate.stack, line.item, str(line.count), "free", "$0.00")
        table.add_row(
            estimate.stack, "[bold]stack total[/bold]", "", "", f"[bold]${estimate.monthly:.2f}[/]"
        )
    table.add_row("all", "[bold]total[/bold]", "", "", f"[bold]${total(estimates):.2f}[/bold]")
    console.print(table)

    usage: dict[tuple[str, str], list[str]] = {}
    for estimate in estimates:
        for line in estimate.usage:
            usage.setdefault((line.item, line.note), []).append(estimate.stack)
    if usage:
        priced_by_use = Table(title="Priced by use (not in the total)")
        for column in ("item", "stacks", "price"):
            priced_by_use.add_column(column)
        for (item, note), stacks in usage.items():
            priced_by_use.add_row(item, _stacks(stacks, estimates), note)
        console.print(priced_by_use)

    offered = [o for o in options(estimates) if o.count]
    if offered:
        not_on = Table(title="Options the program does not turn on (not in the total)")
        for column in ("option", "count", "each", "monthly", "price"):
            not_on.add_column(
                column, justify="right" if column in ("count", "each", "monthly") else "left"
            )
        for option in offered:
            priced = option.unit_monthly is not None
            not_on.add_row(
                option.item,
                f"{option.count} {option.per}{'' if option.count == 1 else 's'}",
                f"${option.unit_monthly:.2f}" if priced else "by use",
                f"+${option.monthly:.2f}" if priced else "-",
                option.note,
            )
        console.print(not_on)
    console.print("Assumptions: " + "; ".join(assumptions()), highlight=False)


def _stacks(stacks: list[str], estimates: list[StackEstimate]) -> str:
    return "every stack" if len(stacks) == len(estimates) > 1 else ", ".join(stacks)


def changes(
    base: dict[str, Any], head: dict[str, Any], only: list[str] | None = None
) -> list[tuple[str, float, float]]:
    """(stack, before, after) for every stack whose fixed monthly cost differs: a stack in one
    of them only costs 0 in the other. ``only`` limits the comparison to those stacks (one
    stack estimated against a base of all of them)."""
    found = []
    for stack in compared_stacks(base, head, only):
        before = base.get("stacks", {}).get(stack, {}).get("monthlyUsd", 0.0)
        after = head.get("stacks", {}).get(stack, {}).get("monthlyUsd", 0.0)
        if round(before - after, 2):
            found.append((stack, before, after))
    return found


def compare(
    base: dict[str, Any], head: dict[str, Any], base_name: str, only: list[str] | None = None
) -> dict[str, Any]:
    """What `--compare` adds to the estimate's JSON: the base's name, the stacks compared, each
    change and the total's."""
    delta = changes(base, head, only)
    before = round(sum(b for _, b, _ in delta), 2)
    after = round(sum(a for _, _, a in delta), 2)
    return {
        "comparedWith": base_name,
        "comparedStacks": compared_stacks(base, head, only),
        "changes": [{"stack": s, "beforeUsd": b, "afterUsd": a} for s, b, a in delta],
        "totalChangeUsd": round(after - before, 2),
    }


def comparison_lines(comparison: dict[str, Any], named: bool) -> list[str]:
    """``compare``'s result for people; ``named``: say which stacks were compared (one was
    estimated against a base of more)."""
    which = f" ({', '.join(comparison['comparedStacks'])} compared)" if named else ""
    base = comparison["comparedWith"]
    if not comparison["changes"]:
        return [f"no change against {base}{which}"]
    return [
        f"Change against {base}{which}:",
        *(
            f"  {c['stack']}: ${c['beforeUsd']:.2f} -> ${c['afterUsd']:.2f} "
            f"({c['afterUsd'] - c['beforeUsd']:+.2f})"
            for c in comparison["changes"]
        ),
        f"  total: {comparison['totalChangeUsd']:+.2f} a month",
    ]


def compared_stacks(
    base: dict[str, Any], head: dict[str, Any], only: list[str] | None = None
) -> list[str]:
    """The stacks ``changes`` compares, sorted."""
    stacks = sorted(set(base.get("stacks", {})) | set(head.get("stacks", {})))
    return [s for s in stacks if only is None or s in only]


def comparable(base: Any) -> str | None:
    """Why ``base`` is not a `cost estimate --json` output to compare with, or None."""
    if not isinstance(base, dict) or not isinstance(base.get("stacks"), dict):
        return 'not a `cost estimate --json` output (no "stacks" mapping)'
    for stack, shown in base["stacks"].items():
        monthly = shown.get("monthlyUsd") if isinstance(shown, dict) else None
        if isinstance(monthly, bool) or not isinstance(monthly, int | float):
            return f'stack {stack!r} has no numeric "monthlyUsd"'
        if not 0 <= monthly < 10**9:
            return f'stack {stack!r}: "monthlyUsd" {monthly} is not an amount a stack can cost'
    return None
