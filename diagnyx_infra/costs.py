"""`diagnyx cost estimate`: the fixed monthly cost of what each stack deploys, from the recorded
resources and the price table (diagnyx_infra/data/prices.yaml)."""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .engine.recording import RecordedResource
from .engine.runner import StackRecording

PRICES = Path(__file__).parent / "data" / "prices.yaml"


@cache
def price_table() -> dict[str, Any]:
    return yaml.safe_load(PRICES.read_text())


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


@dataclass
class StackEstimate:
    stack: str
    fixed: list[Line] = field(default_factory=list)
    usage: list[Line] = field(default_factory=list)
    free: list[Line] = field(default_factory=list)

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
    return result


def total(estimates: list[StackEstimate]) -> float:
    return round(sum(e.monthly for e in estimates), 2)


def as_json(estimates: list[StackEstimate]) -> dict[str, Any]:
    return {
        "stacks": {
            e.stack: {
                "monthlyUsd": e.monthly,
                "fixed": [{**vars(line), "monthly": line.monthly} for line in e.fixed],
                "usage": [vars(line) for line in e.usage],
            }
            for e in estimates
        },
        "totalMonthlyUsd": total(estimates),
    }


def changes(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(stack, before, after) for every stack whose fixed monthly cost differs."""
    stacks = sorted(set(base.get("stacks", {})) | set(head.get("stacks", {})))
    found = []
    for stack in stacks:
        before = base.get("stacks", {}).get(stack, {}).get("monthlyUsd", 0.0)
        after = head.get("stacks", {}).get(stack, {}).get("monthlyUsd", 0.0)
        if round(before - after, 2):
            found.append((stack, before, after))
    return found
