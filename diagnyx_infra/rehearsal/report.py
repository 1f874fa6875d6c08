"""How a rehearsal is shown (while it runs, `diagnyx rehearse` shows a progress bar on stderr
from rehearse()'s ``on_progress``). By default, one summary table (a row per stack,
in deploy order) and what needs a look, each once: the failure, failed checklist items, items
that could not be checked, resources the emulator does not carry out (by type, moto's reason
shortened to one line) and what still waits after a stack's last deploy; maintenance items
that failed or could not look are among them. ``verbose`` adds the details first: the steps,
each stack's resources by type per deploy, every resource not emulated, the full checklist,
each maintenance item's count of accounts by status. The JSON holds everything
(``from_json`` rebuilds the result from it). Every list is in a fixed order, so two
rehearsals print the same but for the timings and, in the JSON and the verbose checklist, the
member account IDs moto makes up at random.
"""

import re
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..ops.drift import from_json as drift_from_json
from ..ops.findings import Finding, Status, one_line
from ..ops.findings import as_json as findings_json
from ..ops.findings import render as render_findings
from ..ops.findings import summary as findings_summary
from ..ops.maintenance import ITEMS as MAINTENANCE_ITEMS
from .emulator import Created, RehearsalFailure
from .rehearse import RehearsalResult, StackResult

CHECKLIST_TITLE = "Checklist of the rehearsed landing zone"
COUNTS_NOTE = (
    "resources: what the stack's last deploy created in AWS; (registered): every resource the "
    "program registers, as `diagnyx plan` counts them: those plus the stack's components and "
    "provider, which create nothing in AWS."
)

# --- moto's reasons on one line -----------------------------------------------------------------

_MOTO_ACTION = re.compile(r"The (\w+) action has not been implemented")
_MOTO_SERVER_GAP = re.compile(r"answered (\S+) as a moto server answers an action it lacks")
_NOT_EMULATED = "not emulated: "


def short_reason(text: str) -> str:
    """Why the emulator could not do something, on one short line: moto's "not implemented"
    answers (in process: "The X action has not been implemented"; a moto server: its HTTP 500
    page, named by classify()) become "moto does not implement X"; anything else is flattened
    to one line of bounded length."""
    if match := _MOTO_SERVER_GAP.search(text) or _MOTO_ACTION.search(text):
        prefix = _NOT_EMULATED if text.startswith(_NOT_EMULATED) else ""
        return f"{prefix}moto does not implement {match[1]}"
    if "Not yet implemented" in text:  # moto's answer to a URL it has no route for
        return "moto does not implement this API"
    return one_line(text, 160)


# --- what the text shows ------------------------------------------------------------------------


def _step_number(label: str) -> str:
    return label.split(":", 1)[0].removeprefix("step ")


def _deploys_by_stack(result: RehearsalResult) -> dict[str, list[StackResult]]:
    """Each stack's deploys in sequence order; stacks in deploy order."""
    order = list(dict.fromkeys([*result.order, *(s.stack for s in result.stacks)]))
    deploys: dict[str, list[StackResult]] = {stack: [] for stack in order}
    for deployed in result.stacks:
        deploys[deployed.stack].append(deployed)
    return deploys


def _failed_stack(result: RehearsalResult) -> str | None:
    failure = result.failure
    if failure is None or not result.stacks:
        return None
    last = result.stacks[-1]
    return last.stack if (last.stack, last.step) == (failure.stack, failure.step) else None


def _summary_table(result: RehearsalResult) -> Table:
    done = len(result.steps) - (1 if result.failure is not None else 0)
    stacks = len({s.stack for s in result.stacks})
    title = (
        f"Rehearsal: {done}/{result.total_steps} steps, {_count(len(result.stacks), 'deploy')} "
        f"of {_count(stacks, 'stack')}, {result.seconds:.1f} s"
    )
    table = Table(title=title)
    table.add_column("stack")
    table.add_column("deployed\nat step")
    table.add_column("resources\n(registered)", justify="right")
    table.add_column("not\nemulated", justify="right")
    table.add_column("checklist\npass/fail/cannot", justify="right")
    by_account: dict[str, Counter] = {}
    for finding in result.findings:
        by_account.setdefault(finding.account, Counter())[finding.status] += 1
    checked = set(result.checked) | set(by_account)
    failed = _failed_stack(result)
    created = registered = not_emulated = 0
    every_registered = True  # a refused deploy has no count of its registrations
    for stack, deploys in _deploys_by_stack(result).items():
        if deploys:
            last = deploys[-1]
            steps = ", ".join(_step_number(d.step) for d in deploys)
            if stack == failed:
                steps += " (refused)"
            cells = [
                _resources_cell(len(last.created), last.registered),
                str(len(last.not_emulated)),
            ]
            created += len(last.created)
            registered += last.registered or 0
            every_registered &= last.registered is not None
            not_emulated += len(last.not_emulated)
        else:
            steps, cells = "not reached", ["-", "-"]
        counts = by_account.get(stack, Counter())
        cells.append(_checklist_cell([counts[s] for s in Status]) if stack in checked else "-")
        table.add_row(stack, steps, *cells)
    table.add_section()
    checklist = findings_summary(result.findings)
    table.add_row(
        "all",
        "",  # the title counts the deploys
        _resources_cell(created, registered if every_registered else None),
        str(not_emulated),
        _checklist_cell(list(checklist.values())) if result.findings else "-",
    )
    return table


def _resources_cell(created: int, registered: int | None) -> str:
    """Created in AWS, and (registered) as `plan` counts; no count of a refused deploy."""
    return str(created) if registered is None else f"{created} ({registered})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _checklist_cell(counts: list[int]) -> str:
    """pass/fail/cannot check."""
    return "/".join(str(n) for n in counts)


def _not_emulated_groups(
    deploys: list[StackResult],
) -> dict[tuple[str, str], list[tuple[StackResult, Created]]]:
    """(type, short reason) -> [(deploy, resource)], sorted: each reason once per type."""
    groups: dict[tuple[str, str], list[tuple[StackResult, Created]]] = {}
    for deployed in deploys:
        for created in deployed.not_emulated:
            key = (created.type, short_reason(created.note))
            groups.setdefault(key, []).append((deployed, created))
    return dict(sorted(groups.items()))


def _last_deploys(result: RehearsalResult) -> list[StackResult]:
    return [d[-1] for d in _deploys_by_stack(result).values() if d]


def _shortened(finding: Finding) -> Finding:
    return replace(finding, detail=short_reason(finding.detail))


def _line(console: Console, label: str, style: str, text: str) -> None:
    console.print(Text.assemble((label, style), ": ", text))


def _problems(result: RehearsalResult, console: Console, verbose: bool) -> None:
    """What needs a look, each once: the refused resource or step and failed items; unless
    ``verbose`` (whose details show them in full) also items not checked (grouped by item and
    reason), resources not emulated (grouped by type and reason) and what still waits after a
    stack's last deploy (grouped by text)."""
    if result.failure is not None:
        _line(console, "refused", "red", one_line(str(result.failure), 1000))
    for finding in [*result.findings, *result.maintenance]:
        if finding.status == Status.FAIL:
            hint = f" (hint: {finding.hint})" if finding.hint else ""
            _line(
                console, "fail", "red", f"{finding.account}: {finding.item}: {finding.detail}{hint}"
            )
    if result.drift is not None:
        for d in result.drift.drifts:
            detail = f"{d.account}: {d.kind}: {d.target} (config: {d.expected}; AWS: {d.actual})"
            _line(console, "drift", "red", detail)
        for n in result.drift.not_looked:
            _line(console, "drift not looked at", "yellow", f"{n.account}: {n.part}: {n.reason}")
    if verbose:
        return
    cannot: dict[tuple[str, str], list[str]] = {}
    for finding in [*result.findings, *result.maintenance]:
        if finding.status == Status.CANNOT:
            key = (finding.item, short_reason(finding.detail))
            cannot.setdefault(key, []).append(finding.account)
    for (item, reason), accounts in cannot.items():
        _line(console, "cannot check", "yellow", f"{item} ({', '.join(accounts)}): {reason}")
    last = _last_deploys(result)
    for (type_, reason), resources in _not_emulated_groups(last).items():
        stacks = Counter(deployed.stack for deployed, _ in resources)
        where = ", ".join(f"{stack} {n}" for stack, n in stacks.items())
        _line(console, "not emulated", "yellow", f"{type_} ({where}): {reason}")
    waits: dict[str, list[str]] = {}
    for deployed in last:
        for warning in deployed.warnings:
            waits.setdefault(warning, []).append(deployed.stack)
    for warning, stacks in waits.items():
        _line(console, "still waits", "yellow", f"{', '.join(stacks)}: {one_line(warning)}")


def _verdict(result: RehearsalResult) -> str:
    if result.failure is not None:
        return f"stopped at {result.failure.step or 'a step'}: see below; nothing was checked"
    counts = findings_summary(result.findings)
    checked = ", ".join(f"{n} {status}" for status, n in counts.items())
    verdict = f"all {_count(result.total_steps, 'step')} carried out; checklist: {checked}"
    if result.drift is not None:
        drifted = len(result.drift.drifts)
        not_looked = len(result.drift.not_looked)
        verdict += f"; drift: {drifted or 'none'}"
        verdict += f" ({not_looked} parts not looked at)" if not_looked else ""
    if result.maintenance:
        counts = findings_summary(result.maintenance)
        verdict += "; maintenance: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return verdict


def _details(result: RehearsalResult, console: Console) -> None:
    """--verbose: the steps, each stack's resources by type per deploy, every resource the
    emulator did not carry out, the full checklist."""
    deploys = _deploys_by_stack(result)
    console.print("[bold]Steps carried out[/bold]")
    for label in result.steps:
        stacks = [d.stack for d in result.stacks if d.step == label]
        ups = f"  (pulumi up -s {', '.join(stacks)})" if stacks else ""
        console.print(f"  {label}{ups}", markup=False, highlight=False)
    for stack, stack_deploys in deploys.items():
        if not stack_deploys:
            continue
        _resources_table(stack, stack_deploys, console)
    groups = _not_emulated_groups(_last_deploys(result))
    if groups:
        console.print("[bold]Not emulated[/bold] (each stack's last deploy; reported, not failed)")
        for (type_, reason), resources in groups.items():
            console.print(Text(f"  {type_}: {reason}"))
            by_stack: dict[str, list[str]] = {}
            for deployed, created in resources:
                by_stack.setdefault(deployed.stack, []).append(created.name)
            for stack, names in by_stack.items():
                console.print(Text(f"    {stack}: {', '.join(names)}"))
    if result.findings:
        render_findings([_shortened(f) for f in result.findings], CHECKLIST_TITLE, console)
    if result.maintenance:
        console.print(_maintenance_table(result.maintenance))


def _maintenance_table(findings: list[Finding]) -> Table:
    """Each maintenance item with how many accounts it passed, failed or could not check in
    (the details, which hold dates and IDs, are in the JSON)."""
    table = Table(title="Maintenance reports")
    for column in ("cadence", "item", *(s.value for s in Status)):
        table.add_column(column, justify="right" if column in set(Status) else "left")
    for item in MAINTENANCE_ITEMS:
        counts = Counter(f.status for f in findings if f.item == item.item)
        if counts:
            table.add_row(item.cadence, item.item, *(str(counts[s]) for s in Status))
    return table


def _short_type(type_: str) -> str:
    """aws:s3/bucketPolicy:BucketPolicy -> aws:s3/bucketPolicy: the class repeats the name."""
    head, _, class_name = type_.rpartition(":")
    name = head.rpartition("/")[2]
    return head if name and class_name == name[:1].upper() + name[1:] else type_


def _resources_table(stack: str, deploys: list[StackResult], console: Console) -> None:
    table = Table(title=f"{stack}: resources by type, per deploy")
    table.add_column("type (without its class)", overflow="fold")
    for deployed in deploys:
        table.add_column(f"step {_step_number(deployed.step)}", justify="right")
    table.add_column("not emulated", justify="right")
    counts = [Counter(c.type for c in d.created) for d in deploys]
    missing = Counter(c.type for c in deploys[-1].not_emulated)
    for type_ in sorted(set().union(*counts)):
        table.add_row(
            _short_type(type_),
            *(str(c[type_]) if c[type_] else "" for c in counts),
            str(missing[type_]) if missing[type_] else "",
        )
    table.add_section()
    table.add_row(
        "all",
        *(str(len(d.created)) for d in deploys),
        str(len(deploys[-1].not_emulated)),
    )
    seconds = ", ".join(f"step {_step_number(d.step)} {d.seconds:.1f} s" for d in deploys)
    table.caption = f"pulumi up: {seconds}"
    console.print(table)
    for deployed in deploys:
        for warning in deployed.warnings:
            # Indented as a block: a line too long for the terminal goes on under itself.
            text = Text(f"step {_step_number(deployed.step)} waits: {one_line(warning)}")
            console.print(Padding(text, (0, 0, 0, 2)))


def render(result: RehearsalResult, console: Console, verbose: bool = False) -> None:
    if verbose:
        _details(result, console)
    console.print(_summary_table(result))
    console.print(COUNTS_NOTE, style="dim", highlight=False)
    console.print(_verdict(result), markup=False, highlight=False)
    _problems(result, console, verbose)
    if not verbose:
        console.print(
            "--verbose: each stack's resources per deploy, every resource not emulated, the "
            "full checklist; --json: everything",
            style="dim",
            highlight=False,
        )


# --- JSON ---------------------------------------------------------------------------------------


def to_json(result: RehearsalResult) -> dict[str, Any]:
    import json

    return {
        "steps": result.steps,
        "totalSteps": result.total_steps,
        "order": result.order,
        "seconds": round(result.seconds, 2),
        "stacks": [
            {
                "step": s.step,
                "stack": s.stack,
                "warnings": s.warnings,
                "seconds": round(s.seconds, 2),
                "registered": s.registered,
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
        "checked": result.checked,
        "checklist": json.loads(findings_json(result.findings)),
        "drift": None if result.drift is None else result.drift.as_json(),
        "maintenance": json.loads(findings_json(result.maintenance)),
        # Rehearsed into a running emulator: the stack files of its accounts, kept there.
        "stackFiles": None if result.stack_files is None else str(result.stack_files),
    }


def from_json(report: dict[str, Any]) -> RehearsalResult:
    """The result ``to_json`` wrote (timings rounded): the JSON holds everything the text shows."""
    failure = report["failure"]
    return RehearsalResult(
        stacks=[
            StackResult(
                s["stack"],
                [Created(**c) for c in s["created"]],
                s["seconds"],
                s["step"],
                list(s["warnings"]),
                s["registered"],
            )
            for s in report["stacks"]
        ],
        steps=list(report["steps"]),
        findings=_findings(report["checklist"]),
        maintenance=_findings(report.get("maintenance") or {"findings": []}),
        failure=None
        if failure is None
        else RehearsalFailure(
            failure["stack"],
            failure["type"],
            failure["resource"],
            failure["error"],
            failure["step"],
        ),
        order=list(report["order"]),
        total_steps=report["totalSteps"],
        checked=list(report["checked"]),
        seconds=report["seconds"],
        drift=None if report.get("drift") is None else drift_from_json(report["drift"]),
        stack_files=None if report.get("stackFiles") is None else Path(report["stackFiles"]),
    )


def _findings(listed: dict[str, Any]) -> list[Finding]:
    return [Finding(**{**f, "status": Status(f["status"])}) for f in listed["findings"]]
