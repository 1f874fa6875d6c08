"""Findings: one line per checked item, rendered for people or as JSON, and the exit code."""

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

from rich.console import Console
from rich.table import Table

from .aws import classify


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    CANNOT = "cannot check"


@dataclass(frozen=True)
class Finding:
    account: str
    item: str
    status: Status
    detail: str = ""
    hint: str = ""


EXIT_OK = 0
EXIT_FINDINGS = 1
# Usage or config error: 2 (cli.EXIT_CONFIG_ERROR). AWS could not be reached or did not answer
# (network, timeout, an endpoint that is not AWS): nothing was judged, so not a finding.
EXIT_CANNOT_LOOK = 3

_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.CANNOT: "yellow"}


class CannotCheck(Exception):
    """A check cannot answer from here; the message says how a person can."""


def run_check(
    account: str, item: str, check: Callable[[], tuple[bool, str]], hint: str = ""
) -> Finding:
    """Run one check; AWS errors become findings, never tracebacks."""
    try:
        ok, detail = check()
    except CannotCheck as reason:
        return Finding(account, item, Status.CANNOT, str(reason), hint)
    except Exception as error:
        problem = classify(error)
        if problem.kind == "missing":
            return Finding(account, item, Status.FAIL, f"missing: {problem.message}", hint)
        return Finding(account, item, Status.CANNOT, problem.message, hint)
    return Finding(account, item, Status.PASS if ok else Status.FAIL, detail, "" if ok else hint)


def exit_code(findings: list[Finding]) -> int:
    return EXIT_FINDINGS if any(f.status == Status.FAIL for f in findings) else EXIT_OK


def summary(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.status for f in findings)
    return {status.value: counts.get(status, 0) for status in Status}


def render(findings: list[Finding], title: str, console: Console) -> None:
    table = Table(title=title)
    for column in ("account", "item", "status", "detail"):
        table.add_column(column)
    for f in findings:
        detail = f.detail + (f"\n[dim]hint: {f.hint}[/dim]" if f.hint else "")
        table.add_row(f.account, f.item, f"[{_STYLE[f.status]}]{f.status.value}[/]", detail)
    console.print(table)
    counts = summary(findings)
    console.print(", ".join(f"{n} {status}" for status, n in counts.items()))


def as_json(findings: list[Finding]) -> str:
    return json.dumps(
        {"findings": [asdict(f) for f in findings], "summary": summary(findings)}, indent=2
    )
