"""The least-privilege access matrix: group -> permission set -> accounts, expanded from stack
config and checked against the guide's rules. Pure: the Identity Center component, validation,
tests and the README all read it from here."""

from collections.abc import Mapping
from dataclasses import dataclass

from .policies.identity import GROUPS, PERMISSION_SETS

OU_PREFIX = "ou:"


@dataclass(frozen=True, order=True)
class Assignment:
    group: str
    permission_set: str
    account: str


@dataclass(frozen=True)
class Rule:
    """What the guide says, as something a config can break."""

    group: str
    description: str


RULES = (
    Rule("Developers", "no production access"),
    Rule("Finance", "only in the management account"),
    Rule("Auditors", "read-only (Auditor) everywhere"),
    Rule("*", "Administrator only for Administrators"),
)


def expand(
    assignments: list[tuple[str, str, list[str]]],
    account_ous: Mapping[str, str],
) -> list[Assignment]:
    """(group, permission set, targets) with targets `<account>` or `ou:<OU>` -> one row per
    account. ``account_ous`` maps each account (management included, OU "") to its OU."""
    rows = set()
    for group, permission_set, targets in assignments:
        for target in targets:
            if target.startswith(OU_PREFIX):
                ou = target.removeprefix(OU_PREFIX)
                accounts = [name for name, unit in account_ous.items() if unit == ou]
            else:
                accounts = [target]
            rows.update(Assignment(group, permission_set, account) for account in accounts)
    return sorted(rows)


def problems(
    assignments: list[tuple[str, str, list[str]]],
    account_ous: Mapping[str, str],
    production_accounts: set[str],
    management_account: str,
    known_ous: set[str],
    retired: set[str] = frozenset(),
) -> list[str]:
    """Every way the matrix breaks the guide's rules, each naming the entry. ``known_ous`` are
    the organization's OUs, empty ones included; no one is assigned to a ``retired`` account."""
    found = []
    for index, (group, permission_set, targets) in enumerate(assignments):
        where = f"identityCenter.assignments[{index}]"
        if group not in GROUPS:
            found.append(f"{where}.group: unknown group '{group}' (known: {', '.join(GROUPS)})")
            continue
        if permission_set not in PERMISSION_SETS:
            found.append(
                f"{where}.permissionSet: unknown permission set '{permission_set}' "
                f"(known: {', '.join(PERMISSION_SETS)})"
            )
            continue
        for target in targets:
            ou = target.removeprefix(OU_PREFIX)
            if target.startswith(OU_PREFIX) and ou not in known_ous:
                found.append(f"{where}.targets: unknown organizational unit '{ou}'")
            elif not target.startswith(OU_PREFIX) and target not in account_ous:
                found.append(f"{where}.targets: unknown account '{target}'")
        if permission_set == "Administrator" and group != "Administrators":
            found.append(f"{where}: the Administrator permission set is only for Administrators")
        if group == "Auditors" and permission_set != "Auditor":
            found.append(f"{where}: Auditors are read-only; give them the Auditor permission set")
        accounts = {row.account for row in expand([(group, permission_set, targets)], account_ous)}
        if accounts & retired:
            found.append(
                f"{where}.targets: {', '.join(sorted(accounts & retired))} is retired: no one is "
                "assigned to a retired account"
            )
        if group == "Developers" and accounts & production_accounts:
            found.append(
                f"{where}: Developers get no production access "
                f"({', '.join(sorted(accounts & production_accounts))})"
            )
        if group == "Finance" and accounts - {management_account}:
            found.append(
                f"{where}: Finance has access only in the management account "
                f"(not {', '.join(sorted(accounts - {management_account}))})"
            )
    audited = {row.account for row in expand(assignments, account_ous) if row.group == "Auditors"}
    if audited and audited != set(account_ous) - retired:
        missing = ", ".join(sorted(set(account_ous) - retired - audited))
        found.append(f"identityCenter.assignments: Auditors must reach every account ({missing})")
    return found
