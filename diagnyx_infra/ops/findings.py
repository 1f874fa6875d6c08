"""Findings: one line per checked item, rendered for people or as JSON, and the exit code."""

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .aws import ErrorKind, classify


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    CANNOT = "cannot check"


# Why an item could not be checked (Finding.cause): an ErrorKind's kind, or one of these.
PENDING = "pending"  # the account's ID is not in config yet
UNCONFIGURED = "unconfigured"  # an account of the organization without its stack file
MANUAL = "manual"  # the tool cannot answer from here by design; the detail says how a person can
# Causes that leave a run able to say "all is well" (exit 0): an API the endpoint does not
# offer (only one of moto's known gaps, aws.EMULATOR_GAPS, answered as moto answers them; any
# other 5xx or page is "unreachable"; listed in the summary) and what only a person can check.
NOT_BLOCKING = frozenset({"unavailable", MANUAL})
_CAUSES = {
    "unreachable": "AWS could not be reached",
    "denied": "access denied",
    "credentials": "credentials refused",
    PENDING: "account ID pending",
    UNCONFIGURED: "no stack file",
    "failed": "AWS answered with an error",
    "unavailable": "not offered by this endpoint",
    MANUAL: "to check by hand",
}


@dataclass(frozen=True)
class Finding:
    account: str
    item: str
    status: Status
    detail: str = ""
    hint: str = ""
    cause: str = ""  # for "cannot check": why (see _CAUSES); empty otherwise


EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2  # usage or config error (cli.EXIT_CONFIG_ERROR): no or refused credentials too
# AWS could not be reached or did not answer as AWS (network, timeout, an endpoint that is not
# AWS), or a checklist could not check everything: nothing (or not all) was judged, so not a
# finding, and not "all is well" either.
EXIT_CANNOT_LOOK = 3

_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.CANNOT: "yellow"}


def one_line(text: str, limit: int = 400) -> str:
    """An AWS or HTTP message on one line, of bounded length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def stopped(error: Exception, what: str = "") -> tuple[int, str]:
    """A command stopped by ``error``: its exit code (exit_for) and one line saying why."""
    problem = classify(error)
    code = exit_for(problem)
    message = one_line(f"{what}: {problem.message}" if what else problem.message)
    if code == EXIT_CANNOT_LOOK:
        message = f"cannot look at AWS: {message}"
    return code, message


def exit_for(problem: ErrorKind) -> int:
    """The exit code of a command that stopped on ``problem``: 2 when the environment must be
    fixed (credentials, AWS_MAX_ATTEMPTS, AWS_ENDPOINT_URL), 3 when AWS did not answer as AWS
    (unreachable, or an endpoint without the API), 1 when AWS answered with an error."""
    if problem.kind in ("credentials", "setting"):
        return EXIT_USAGE
    if problem.kind in ("unreachable", "unavailable"):
        return EXIT_CANNOT_LOOK
    return EXIT_FINDINGS


class CannotCheck(Exception):
    """A check cannot answer from here; the message says how a person can."""


def run_check(
    account: str, item: str, check: Callable[[], tuple[bool, str]], hint: str = ""
) -> Finding:
    """Run one check; AWS errors become findings, never tracebacks."""
    try:
        ok, detail = check()
    except CannotCheck as reason:
        return Finding(account, item, Status.CANNOT, str(reason), hint, MANUAL)
    except Exception as error:
        problem = classify(error)
        if problem.kind == "missing":
            return Finding(account, item, Status.FAIL, f"missing: {problem.message}", hint)
        return Finding(account, item, Status.CANNOT, problem.message, hint, problem.kind)
    return Finding(account, item, Status.PASS if ok else Status.FAIL, detail, "" if ok else hint)


def exit_code(findings: list[Finding]) -> int:
    """1 if any item failed. Otherwise 3 if any item could not be checked for a reason that
    leaves the run unable to vouch for it (AWS unreachable, access denied, an account ID still
    pending, an AWS error); 0 if every item passed, or could not be checked only because the
    endpoint does not offer the API (an emulator's gap) or only a person can check it (both
    named in the summary)."""
    if any(f.status == Status.FAIL for f in findings):
        return EXIT_FINDINGS
    if any(f.status == Status.CANNOT and f.cause not in NOT_BLOCKING for f in findings):
        return EXIT_CANNOT_LOOK
    return EXIT_OK


def summary(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.status for f in findings)
    return {status.value: counts.get(status, 0) for status in Status}


def cannot_check(findings: list[Finding]) -> dict[str, int]:
    """Items that could not be checked, by cause."""
    return dict(Counter(f.cause or "failed" for f in findings if f.status == Status.CANNOT))


def explain(findings: list[Finding]) -> str:
    """One line on what the items that could not be checked mean for the exit code."""
    causes = cannot_check(findings)
    if not causes:
        return ""
    parts = []
    for cause, count in causes.items():
        items = sorted({f.item for f in findings if f.status == Status.CANNOT and f.cause == cause})
        named = f" ({', '.join(items)})" if cause in NOT_BLOCKING else ""
        parts.append(f"{count} {cause_text(cause)}{named}")
    blocking = any(cause not in NOT_BLOCKING for cause in causes)
    verdict = (
        "not everything was checked (exit 3 unless an item failed)"
        if blocking
        else "these do not change the exit code"
    )
    return f"cannot check: {'; '.join(parts)}: {verdict}"


def printable(text: str) -> str:
    """``text`` without control characters (an escape sequence from a name in AWS would drive
    the terminal): each becomes U+FFFD; line breaks stay."""
    return "".join(c if c.isprintable() or c == "\n" else "\ufffd" for c in text)


def render(findings: list[Finding], title: str, console: Console) -> None:
    table = Table(title=title)
    for column in ("account", "item", "status", "detail"):
        table.add_column(column)
    for f in findings:
        # What AWS answered is text, never markup (a name may hold "[link=...]").
        detail = escape(printable(f.detail))
        detail += f"\n[dim]hint: {escape(printable(f.hint))}[/dim]" if f.hint else ""
        status = f"[{_STYLE[f.status]}]{f.status.value}[/]"
        table.add_row(escape(printable(f.account)), escape(printable(f.item)), status, detail)
    console.print(table)
    counts = summary(findings)
    console.print(", ".join(f"{n} {status}" for status, n in counts.items()))
    if line := explain(findings):
        console.print(line, markup=False, highlight=False, emoji=False)


def cause_text(cause: str) -> str:
    """Why an item could not be checked, in words."""
    return _CAUSES.get(cause, cause)


def as_json(findings: list[Finding]) -> str:
    return json.dumps(
        {
            "findings": [asdict(f) for f in findings],
            "summary": summary(findings),
            "cannotCheck": cannot_check(findings),
        },
        indent=2,
    )


def markdown_code(text: str, in_table: bool = True) -> str:
    """``text`` as a code span on one line, fenced by more backticks than it holds; no control
    character (an escape sequence) gets through. In a table its pipes are escaped: a table
    splits its cells before it reads code spans."""
    text = printable(" ".join(text.split()))
    if in_table:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}" if text else ""
