"""`diagnyx cost estimate`: the fixed monthly cost of what each stack deploys, from the recorded
resources and the price table (diagnyx_infra/data/prices.yaml), with what is free, what is priced
by use, the options the program does not turn on, and the security services
(organization.securityServices) as usage-based estimates: in the total when switched on, shown
apart as what they would add when off."""

import math
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from .config.consistency import SOURCE_OF_TRUTH
from .config.models import MANAGEMENT_ACCOUNT
from .config.yaml_reader import parse_json_value
from .engine.recording import RecordedResource
from .engine.runner import StackRecording
from .prices import price_table

VPC = "aws:ec2/vpc:Vpc"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"


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


@dataclass(frozen=True)
class UsageLine:
    """One priced quantity of a security service, a month per account and region."""

    item: str
    unit: str
    quantity: float
    factors: tuple[tuple[str, float], ...]  # the named factors it is the product of, if any
    per: int  # how many units each price is for
    tiers: tuple[tuple[float | None, float], ...]  # (units in the tier or None: the rest, USD)

    @property
    def monthly(self) -> float:
        """AWS's tiers in order: each prices the units that fall in it."""
        left, cost = self.quantity, 0.0
        for size, price in self.tiers:
            taken = left if size is None else min(left, size)
            cost += taken * price / self.per
            left -= taken
            if not left:
                break
        return round(cost, 6)

    def shown(self) -> str:
        """The line's hand calculation, e.g. ``1,000 configuration items x $0.003 = $3.00``."""
        product = " x ".join(f"{_number(v)} {name}" for name, v in self.factors)
        quantity = f"{_number(self.quantity)} {self.unit}{'' if self.quantity == 1 else 's'}"
        if product:
            quantity = f"{product} = {quantity}"
        size, price = self.tiers[0]
        per = "" if self.per == 1 else f" per {_number(self.per)}"
        if price == 0 and size is not None:
            return f"{quantity}, the first {_number(size)} free = ${self.monthly:.2f}"
        first = f"${_price(price)}{per}"
        if size is not None:
            first += f" for the first {_number(size)}"
        return f"{quantity} x {first} = ${self.monthly:.2f}"


@dataclass(frozen=True)
class SecurityService:
    """A paid security service (organization.securityServices): on or off in config, its
    usage-based monthly figure per account and region, and over the estimated accounts'
    allowed regions."""

    key: str  # its switch in organization.securityServices
    item: str
    on: bool
    lines: tuple[UsageLine, ...]
    assumption: str
    source: str
    checked: str
    account_regions: int  # over the estimated stacks: each account times its allowed regions

    @property
    def per_account_region(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    @property
    def monthly(self) -> float:
        return round(self.per_account_region * self.account_regions, 2)


@dataclass
class StackEstimate:
    stack: str
    fixed: list[Line] = field(default_factory=list)
    usage: list[Line] = field(default_factory=list)
    free: list[Line] = field(default_factory=list)
    # option item -> how many of what it is counted by this stack has (1 account; VPCs)
    option_counts: dict[str, int] = field(default_factory=dict)
    # The account's allowed regions (each security service runs in every one of them) and the
    # security services switched on in the management stack's file (the stack's output).
    regions: tuple[str, ...] = ()
    switched_on: tuple[str, ...] = ()

    @property
    def monthly(self) -> float:
        """The stack's fixed monthly cost (the security services apart)."""
        return round(sum(line.monthly for line in self.fixed), 2)

    def security_services_monthly(self, on: tuple[str, ...]) -> float:
        """What the security services in ``on`` cost in this account, a usage-based estimate
        over its allowed regions."""
        return round(
            sum(
                (
                    service_per_account_region(entry) * len(self.regions)
                    for entry in price_table()["securityServices"]
                    if entry["key"] in on
                ),
                0.0,
            ),
            2,
        )


def _matches(entry: dict[str, Any], resource: RecordedResource) -> bool:
    if entry["type"] != resource.type:
        return False
    return all(resource.inputs.get(k, False) == v for k, v in (entry.get("when") or {}).items())


def estimate(recording: StackRecording) -> StackEstimate:
    """``recording``'s fixed, usage and free items and options, with the account's allowed
    regions and the security services switched on (every stack exports the switches it
    followed: ``securityServices``)."""
    table = price_table()
    # The evaluation validated the stack's config; its allowed regions (Pulumi.yaml's default
    # or the file's) are read back as the program read them.
    regions = parse_json_value(recording.config.values.get("diagnyx:allowedRegions", "[]"))
    result = StackEstimate(
        recording.stack,
        regions=tuple(regions),
        switched_on=tuple(recording.outputs.get("securityServices") or ()),
    )
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


def switched_on(estimates: list[StackEstimate]) -> tuple[str, ...]:
    """The security services switched on for ``estimates``: every stack of a project follows
    the management file's switches, so any estimate's will do; the management stack's first."""
    if not estimates:
        return ()
    return min(estimates, key=lambda e: e.stack != MANAGEMENT_ACCOUNT).switched_on


def _usage_line(entry: dict[str, Any]) -> UsageLine:
    quantity = entry["quantity"]
    factors: tuple[tuple[str, float], ...] = ()
    if isinstance(quantity, dict):
        factors = tuple((str(name), float(v)) for name, v in quantity.items())
        quantity = math.prod(v for _, v in factors)
    return UsageLine(
        item=entry["item"],
        unit=entry["unit"],
        quantity=float(quantity),
        factors=factors,
        per=int(entry.get("per", 1)),
        tiers=tuple((None if s is None else float(s), float(p)) for s, p in entry["tiers"]),
    )


def service_per_account_region(entry: dict[str, Any]) -> float:
    """A security service's usage-based figure a month for one account in one region."""
    return round(sum(_usage_line(line).monthly for line in entry["lines"]), 2)


def security_services(estimates: list[StackEstimate]) -> list[SecurityService]:
    """Each security service of the price table, on or off as the estimates' management file
    sets it (``switched_on``), priced over the estimated accounts' allowed regions."""
    on = switched_on(estimates)
    account_regions = sum(len(e.regions) for e in estimates)
    return [
        SecurityService(
            key=entry["key"],
            item=entry["item"],
            on=entry["key"] in on,
            lines=tuple(_usage_line(line) for line in entry["lines"]),
            assumption=entry["assumption"],
            source=entry["source"],
            checked=str(entry["checked"]),
            account_regions=account_regions,
        )
        for entry in price_table()["securityServices"]
    ]


def fixed_total(estimates: list[StackEstimate]) -> float:
    """The fixed monthly cost of the estimated stacks."""
    return round(sum(e.monthly for e in estimates), 2)


def security_services_total(estimates: list[StackEstimate]) -> float:
    """The security services switched on, a usage-based estimate over the estimated stacks."""
    on = switched_on(estimates)
    return round(sum((e.security_services_monthly(on) for e in estimates), 0.0), 2)


def total(estimates: list[StackEstimate]) -> float:
    """The estimate's total: the fixed cost and the security services switched on."""
    services = security_services_total(estimates)
    return round(fixed_total(estimates) + services, 2)


def _line_json(line: Line, priced: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {"item": line.item, "type": line.type, "count": line.count}
    if priced:
        shown |= {"unitMonthlyUsd": line.unit_monthly, "monthlyUsd": line.monthly}
    return shown | {"note": line.note}


def _service_json(service: SecurityService) -> dict[str, Any]:
    return {
        "key": service.key,
        "item": service.item,
        "on": service.on,
        "inTotal": service.on,
        "perAccountRegionUsd": service.per_account_region,
        "accountRegions": service.account_regions,
        "monthlyUsd": service.monthly,
        "assumption": service.assumption,
        "lines": [
            {
                "item": line.item,
                "unit": line.unit,
                "quantity": line.quantity,
                "per": line.per,
                "tiers": [{"units": size, "usd": price} for size, price in line.tiers],
                "monthlyUsd": round(line.monthly, 2),
                "shown": line.shown(),
            }
            for line in service.lines
        ],
        "source": service.source,
        "checked": service.checked,
    }


def as_json(estimates: list[StackEstimate]) -> dict[str, Any]:
    """The estimate for machines."""
    on = switched_on(estimates)
    services = security_services(estimates)
    return {
        "assumptions": assumptions(),
        "stacks": {
            e.stack: {
                "monthlyUsd": e.monthly,
                "securityServicesUsd": e.security_services_monthly(on),
                "fixed": [_line_json(line, priced=True) for line in e.fixed],
                "usage": [_line_json(line, priced=False) for line in e.usage],
                "free": [_line_json(line, priced=False) for line in e.free],
            }
            for e in estimates
        },
        "fixedMonthlyUsd": fixed_total(estimates),
        "securityServicesMonthlyUsd": security_services_total(estimates),
        "totalMonthlyUsd": total(estimates),
        "securityServices": {
            "switches": f"{SOURCE_OF_TRUTH} diagnyx:organization.securityServices",
            "usageBased": True,
            "accounts": len(estimates),
            "accountRegions": sum(len(e.regions) for e in estimates),
            "services": [_service_json(s) for s in services],
        },
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
    by use, the options not turned on, the security services (on: in the estimate's total; off:
    what each would add) with the usage each assumes, and the assumptions."""
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
    table.add_row(
        "all", "[bold]total[/bold]", "", "", f"[bold]${fixed_total(estimates):.2f}[/bold]"
    )
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
    _render_security_services(estimates, console)
    console.print("Assumptions: " + "; ".join(assumptions()), highlight=False)


def _render_security_services(estimates: list[StackEstimate], console: Console) -> None:
    """Each security service, on (in the total) or off (what turning it on would add), per
    account and region and over the estimated ones, each line's calculation under it, then the
    estimate's total and the usage each figure assumes."""
    services = security_services(estimates)
    if not services or not estimates:
        return
    count = services[0].account_regions
    accounts = len(estimates)
    table = Table(
        title=(
            "Security services (organization.securityServices in "
            f"{SOURCE_OF_TRUTH}): usage-based estimates, USD a month"
        )
    )
    left = ("service", "switch", "calculation, per account and region")
    for column in (*left, "per account-region", "account-regions", "monthly"):
        table.add_column(column, justify="left" if column in left else "right")
    for service in services:
        table.add_row(
            service.item,
            "on: in the total" if service.on else "off: turning it on adds",
            "",
            f"${service.per_account_region:.2f}",
            str(count),
            f"{'' if service.on else '+'}${service.monthly:.2f}",
        )
        for line in service.lines:
            table.add_row(f"  {line.item}", "", line.shown(), "", "", "")
    console.print(table)
    console.print(
        f"Accounts x allowed regions: {accounts} account{'' if accounts == 1 else 's'}, "
        f"{count} account-region{'' if count == 1 else 's'}. Estimate total: "
        f"${fixed_total(estimates):.2f} fixed + "
        f"${security_services_total(estimates):.2f} security services switched on "
        f"(usage-based) = ${total(estimates):.2f} a month",
        highlight=False,
    )
    for service in services:
        console.print(
            f"{service.item} assumes: {service.assumption} "
            f"(prices {service.source}, checked {service.checked})",
            highlight=False,
        )


def _stacks(stacks: list[str], estimates: list[StackEstimate]) -> str:
    return "every stack" if len(stacks) == len(estimates) > 1 else ", ".join(stacks)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


def _price(value: float) -> str:
    """A unit price as AWS writes it: at least two decimals, more only where it has them."""
    shown = f"{value:.6f}".rstrip("0")
    return shown if len(shown.partition(".")[2]) >= 2 else f"{value:.2f}"


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
    change of a stack's fixed cost, the change of the security services switched on over the
    stacks compared (``securityServicesChange``, only when there is one; a base without them
    had none on) and the total's."""
    delta = changes(base, head, only)
    before = round(sum(b for _, b, _ in delta), 2)
    after = round(sum(a for _, _, a in delta), 2)
    compared = compared_stacks(base, head, only)
    services_before = round(sum(_services_usd(base, s) for s in compared), 2)
    services_after = round(sum(_services_usd(head, s) for s in compared), 2)
    result: dict[str, Any] = {
        "comparedWith": base_name,
        "comparedStacks": compared,
        "changes": [{"stack": s, "beforeUsd": b, "afterUsd": a} for s, b, a in delta],
        "totalChangeUsd": round(after - before + services_after - services_before, 2),
    }
    if round(services_after - services_before, 2):
        result["securityServicesChange"] = {
            "beforeUsd": services_before,
            "afterUsd": services_after,
        }
    return result


def _services_usd(estimate: dict[str, Any], stack: str) -> float:
    """A stack's security services switched on in a `--json` estimate (0 if it has none)."""
    return estimate.get("stacks", {}).get(stack, {}).get("securityServicesUsd", 0.0)


def comparison_lines(comparison: dict[str, Any], named: bool) -> list[str]:
    """``compare``'s result for people; ``named``: say which stacks were compared (one was
    estimated against a base of more)."""
    which = f" ({', '.join(comparison['comparedStacks'])} compared)" if named else ""
    base = comparison["comparedWith"]
    services = comparison.get("securityServicesChange")
    if not comparison["changes"] and services is None:
        return [f"no change against {base}{which}"]
    rows = [(c["stack"], c["beforeUsd"], c["afterUsd"]) for c in comparison["changes"]]
    if services is not None:
        rows.append(
            (
                "security services (usage-based estimate)",
                services["beforeUsd"],
                services["afterUsd"],
            )
        )
    return [
        f"Change against {base}{which}:",
        *(f"  {name}: ${b:.2f} -> ${a:.2f} ({a - b:+.2f})" for name, b, a in rows),
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
        services = shown.get("securityServicesUsd", 0.0)  # absent before the services were
        if isinstance(services, bool) or not isinstance(services, int | float):
            return f'stack {stack!r} has a "securityServicesUsd" that is not a number'
        if not 0 <= services < 10**9:
            return (
                f'stack {stack!r}: "securityServicesUsd" {services} is not an amount a stack '
                "can cost"
            )
    return None
