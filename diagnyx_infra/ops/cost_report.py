"""`diagnyx cost report`: last month's spend per account from Cost Explorer against each
account's budget in config (the guide's "Budget Limits by Account")."""

import datetime as dt
from dataclasses import dataclass

from .aws import Aws
from .landing_zone import LandingZone

ALERT_PERCENT = 80.0


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


def last_full_month(today: dt.date | None = None) -> str:
    first = (today or dt.date.today()).replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def month_range(month: str) -> tuple[str, str]:
    """'2026-10' -> ('2026-10-01', '2026-11-01'); Cost Explorer's end date is exclusive."""
    start = dt.datetime.strptime(month, "%Y-%m").date()
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.isoformat(), end.isoformat()


def report(caller: Aws, zone: LandingZone, month: str) -> CostReport:
    start, end = month_range(month)
    ce = caller.client("ce")
    spend: dict[str, float] = {}
    token = None
    while True:
        params = {
            "TimePeriod": {"Start": start, "End": end},
            "Granularity": "MONTHLY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        }
        if token:
            params["NextPageToken"] = token
        response = ce.get_cost_and_usage(**params)
        for period in response["ResultsByTime"]:
            for group in period.get("Groups", []):
                account_id = group["Keys"][0]
                amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
                spend[account_id] = spend.get(account_id, 0.0) + amount
        token = response.get("NextPageToken")
        if not token:
            break
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
