"""How a rehearsal is shown: per stack what was created (and what the emulator lacks), then the
checklist."""

from collections import Counter
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from ..ops.findings import as_json as findings_json
from ..ops.findings import render as render_findings
from .rehearse import RehearsalResult


def render(result: RehearsalResult, console: Console) -> None:
    for label in result.steps:
        console.print(f"[bold]{label}[/bold]")
    for stack in result.stacks:
        table = Table(
            title=f"{stack.step}, pulumi up -s {stack.stack}: {len(stack.created)} resources "
            f"in {stack.seconds:.1f} s"
        )
        table.add_column("type")
        table.add_column("emulated", justify="right")
        table.add_column("not emulated", justify="right")
        emulated = Counter(c.type for c in stack.created if c.emulated)
        missing = Counter(c.type for c in stack.created if not c.emulated)
        for type_ in sorted(set(emulated) | set(missing)):
            table.add_row(type_, str(emulated.get(type_, "")), str(missing.get(type_, "")))
        console.print(table)
        for created in stack.not_emulated:
            console.print(
                f"  [yellow]not emulated[/yellow]: {created.name} ({created.type}): {created.note}"
            )
        for warning in stack.warnings:
            console.print(f"  [yellow]waits[/yellow]: {warning}")
    if result.failure is not None:
        console.print(f"[red]rehearsal failed[/red]: {result.failure}")
        return
    render_findings(result.findings, "Checklist of the rehearsed landing zone", console)


def to_json(result: RehearsalResult) -> dict[str, Any]:
    import json

    return {
        "steps": result.steps,
        "stacks": [
            {
                "step": s.step,
                "stack": s.stack,
                "warnings": s.warnings,
                "seconds": round(s.seconds, 2),
                "created": [asdict(c) for c in s.created],
            }
            for s in result.stacks
        ],
        "failure": None
        if result.failure is None
        else {
            "step": result.failure.step,
            "stack": result.failure.stack,
            "resource": result.failure.name,
            "type": result.failure.type,
            "error": result.failure.error,
        },
        "checklist": json.loads(findings_json(result.findings)),
    }
