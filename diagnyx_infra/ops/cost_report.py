"""`diagnyx cost report`: last month's spend per account from Cost Explorer against each
account's budget in config (the guide's "Budget Limits by Account")."""

import datetime as dt
import math
import re
from dataclasses import dataclass

from .aws import ACCOUNT_ID, Aws, MalformedReply
from .landing_zone import LandingZone

ALERT_PERCENT = 80.0
# Cost Explorer keeps the current month and the 13 before it; with multi-year data enabled for
# the organization (Cost Management preferences), 38 months at monthly granularity.
HISTORY_MONTHS = 14
MULTI_YEAR_MONTHS = 38
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class MonthError(ValueError):
    """A --month Cost Explorer cannot report: malformed, not complete yet, or too old."""


@dataclass(frozen=True)
class AccountCost:
    account: str
    account_id: str
    spend_usd: float
    budget_usd: float | None

    @property
    def percent(self) -> float | None:
        return None if not self.budget_usd else 100.0 * self.spend_usd / self.budget_usd

    @property
    def over_alert(self) -> bool:
        return self.percent is not None and self.percent >= ALERT_PERCENT


@dataclass(frozen=True)
class CostReport:
    month: str
    rows: list[AccountCost]
    organization_budget_usd: float

    @property
    def total_usd(self) -> float:
        return sum(r.spend_usd for r in self.rows)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()  # Cost Explorer's days are UTC days


def last_full_month(today: dt.date | None = None) -> str:
    first = (today or _today()).replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def check_month(month: str, today: dt.date | None = None, multi_year: bool = False) -> None:
    """Raise MonthError unless ``month`` is YYYY-MM, complete, and within Cost Explorer's
    history (HISTORY_MONTHS, or MULTI_YEAR_MONTHS with multi-year data)."""
    today = today or _today()
    if not month.strip():
        raise MonthError(
            f"empty: give a complete month as YYYY-MM (e.g. {last_full_month(today)}), or leave "
            "--month out for the last complete month"
        )
    if not _MONTH.fullmatch(month):
        raise MonthError(
            f"'{month}' is not YYYY-MM (a four-digit year, a dash and a two-digit month 01-12, "
            f"e.g. {last_full_month(today)})"
        )
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1
    current = today.year * 12 + today.month - 1
    if index >= current:
        when = "is not complete yet" if index == current else "is in the future"
        raise MonthError(f"{month} {when}: the last complete month is {last_full_month(today)}")
    kept = MULTI_YEAR_MONTHS if multi_year else HISTORY_MONTHS
    oldest = current - (kept - 1)
    if index < oldest:
        oldest_month = f"{oldest // 12:04d}-{oldest % 12 + 1:02d}"
        more = (
            ""
            if multi_year
            else f"; with multi-year data enabled ({MULTI_YEAR_MONTHS} months) add --multi-year"
        )
        raise MonthError(
            f"{month} is older than Cost Explorer keeps ({kept} months including the current "
            f"one: the oldest is {oldest_month}){more}"
        )


def month_range(month: str) -> tuple[str, str]:
    """'2026-10' -> ('2026-10-01', '2026-11-01'); Cost Explorer's end date is exclusive."""
    start = dt.datetime.strptime(month, "%Y-%m").date()
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.isoformat(), end.isoformat()


# Pages a monthly query of one organization can need: one group per account, 1,000 accounts.
MAX_PAGES = 100
_GET_COST = "ce:GetCostAndUsage"


def report(caller: Aws, zone: LandingZone, month: str) -> CostReport:
    start, end = month_range(month)
    ce = caller.client("ce")
    spend: dict[str, float] = {}
    seen: set[str] = set()
    token = None
    for _ in range(MAX_PAGES):
        params = {
            "TimePeriod": {"Start": start, "End": end},
            "Granularity": "MONTHLY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        }
        if token:
            params["NextPageToken"] = token
        response = ce.get_cost_and_usage(**params)
        for account_id, amount in _costs_in(response):
            spend[account_id] = spend.get(account_id, 0.0) + amount
            if not math.isfinite(spend[account_id]):
                raise MalformedReply(operation=_GET_COST, problem="adds up to an endless amount")
        token = response.get("NextPageToken")
        if not token:
            break
        if not isinstance(token, str):
            raise MalformedReply(operation=_GET_COST, problem="has a page token that is no text")
        if token in seen:
            raise MalformedReply(operation=_GET_COST, problem="repeats a page token")
        seen.add(token)
    else:
        raise MalformedReply(operation=_GET_COST, problem=f"runs past {MAX_PAGES} pages")
    names = {v: k for k, v in zone.account_ids.items()}
    rows = [
        AccountCost(
            name,
            zone.account_ids[name],
            spend.get(zone.account_ids[name], 0.0),
            zone.monthly_budget(name),
        )
        for name in zone.account_names()
    ]
    rows += [
        AccountCost(f"unknown ({i})", i, amount, None)
        for i, amount in spend.items()
        if i not in names
    ]
    return CostReport(month, rows, sum(zone.member_budgets().values()))


def _costs_in(response: dict) -> list[tuple[str, float]]:
    """(account ID, amount) of each group of a GetCostAndUsage page, checked: an answer without
    its fields, or with an amount that is not a finite number, is not Cost Explorer's."""
    periods = response.get("ResultsByTime")
    if not isinstance(periods, list):
        raise MalformedReply(operation=_GET_COST, problem="has no ResultsByTime list")
    found = []
    for period in periods:
        groups = period.get("Groups", []) if isinstance(period, dict) else None
        for group in groups if isinstance(groups, list) else [None]:
            try:
                keys = group["Keys"]
                account_id = keys[0] if isinstance(keys, list) else None
                amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
            except (TypeError, KeyError, ValueError, IndexError):
                account_id = None
            if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
                raise MalformedReply(
                    operation=_GET_COST, problem="has a group without an account and an amount"
                )
            if not math.isfinite(amount):
                raise MalformedReply(
                    operation=_GET_COST, problem=f"has an amount that is not a number ({amount})"
                )
            found.append((account_id, amount))
    return found
