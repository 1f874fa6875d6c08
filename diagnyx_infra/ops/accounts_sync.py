"""`diagnyx accounts sync`: the guide's Step 2 ("note the account IDs, update every config file")
as one command. Reads AWS Organizations and writes the real IDs into every stack file, keeping
comments, order and quoting."""

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID
from ..config.stack_files import mapping_setting, round_trip_yaml, stack_file, stack_names
from ..config.yaml_reader import parse_yaml_text
from ..errors import ConfigError
from .aws import ACCOUNT_ID, Aws, MalformedReply, reply_field
from .landing_zone import LandingZone


@dataclass(frozen=True)
class IdChange:
    file: str
    account: str
    written: str | None  # what the file says
    actual: str  # what AWS Organizations says


@dataclass(frozen=True)
class SyncResult:
    changes: list[IdChange]
    unresolved: list[str]  # accounts of the config that the organization does not have


class SyncRefused(Exception):
    """Nothing was written: the organization or the stack files are not ones sync may edit."""


def organization_ids(aws: Aws, zone: LandingZone) -> tuple[dict[str, str], list[str]]:
    """Account name -> ID, matched by the e-mail in the management stack's config. Refused when
    the organization's management account is not the one the stack files name (credentials of
    another organization would write its IDs into every file)."""
    organizations = aws.client("organizations")
    reply = organizations.describe_organization()
    master = _account_id(
        reply_field(reply, "Organization", "MasterAccountId", operation=_DESCRIBE), _DESCRIBE
    )
    expected = zone.account_ids[MANAGEMENT_ACCOUNT]
    if expected != PENDING_ID and master != expected:
        raise SyncRefused(
            f"the organization's management account is {master}, but Pulumi.management.yaml "
            f"names {expected}: these credentials belong to another organization; nothing "
            "written (a new organization's files start with `diagnyx bootstrap start --write`)"
        )
    by_email = {}
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in reply_field(page, "Accounts", operation=_LIST):
            email = reply_field(account, "Email", operation=_LIST)
            if not isinstance(email, str):
                raise MalformedReply(operation=_LIST, problem=f"has an e-mail {email!r}")
            by_email[email.lower()] = _account_id(
                reply_field(account, "Id", operation=_LIST), _LIST
            )
    if len(set(by_email.values())) != len(by_email) or master not in by_email.values():
        # AWS lists each account once, the management account among them.
        raise MalformedReply(operation=_LIST, problem="lists one ID twice, or not the management")
    found = {MANAGEMENT_ACCOUNT: master}
    missing = []
    organization = zone.management.organization
    assert organization is not None
    for name, account in organization.accounts.items():
        if account.email in by_email:
            found[name] = by_email[account.email]
        else:
            missing.append(f"{name} ({account.email}) is not an account of the organization")
    for account_id in found.values():
        same = [other for other, other_id in found.items() if other_id == account_id]
        if len(same) > 1:
            raise SyncRefused(
                f"{' and '.join(same)} would get one ID, {account_id}: they resolve to one "
                "account of the organization; check their e-mails in Pulumi.management.yaml; "
                "nothing written"
            )
    return found, missing


_DESCRIBE = "organizations:DescribeOrganization"
_LIST = "organizations:ListAccounts"


def _account_id(value, operation: str) -> str:
    if not isinstance(value, str) or not ACCOUNT_ID.fullmatch(value):
        raise MalformedReply(operation=operation, problem=f"names an account {value!r}")
    return value


def write_account_ids(project_dir: Path, actual: dict[str, str], write: bool) -> list[IdChange]:
    """Put ``actual`` IDs into the management file's accountIds, and into the entries a member
    file lists (a member file need list none: its stack takes the management file's; sync never
    adds an account to a member file, so a new account changes no other stack's file). Only
    reports, if not ``write``. Every file is read and checked before any is written."""
    changes = []
    yaml = round_trip_yaml()
    edited = []
    for stack in stack_names(project_dir):
        path = stack_file(project_dir, stack)
        text = path.read_text()
        if _holds_already(path.name, text, actual, only_listed=stack != MANAGEMENT_ACCOUNT):
            continue
        document = yaml.load(text)
        ids = mapping_setting(document.get("config") or {}, "accountIds", path.name)
        if ids is None:
            continue
        changed = False
        for name, account_id in actual.items():
            if stack != MANAGEMENT_ACCOUNT and name not in ids:
                continue
            current = ids.get(name)
            if current is None or str(current) != account_id:
                written = None if current is None else str(current)
                changes.append(IdChange(path.name, name, written, account_id))
                ids[name] = DoubleQuotedScalarString(account_id)
                changed = True
        if changed:
            edited.append((path, document))
    if write:
        for path, document in edited:
            with path.open("w") as handle:
                yaml.dump(document, handle)
    return changes


def _holds_already(
    file_name: str, text: str, actual: dict[str, str], only_listed: bool = False
) -> bool:
    """Whether the file's accountIds, read as the Pulumi CLI reads them, already hold every ID
    of ``actual`` as text (``only_listed``: every ID the file lists; or the file has none): then
    it is not edited, and not read for editing either, which keeps comments but takes ten times
    as long. An ID written as a number, or a file the CLI would refuse, is left to the editing
    path."""
    try:
        document = parse_yaml_text(file_name, text)
    except ConfigError:
        return False
    config = document.get("config") if isinstance(document, dict) else None
    ids = mapping_setting(config if isinstance(config, dict) else {}, "accountIds", file_name)
    if ids is None:
        return True
    wanted = {n: i for n, i in actual.items() if n in ids} if only_listed else actual
    return all(ids.get(name) == account_id for name, account_id in wanted.items())


def sync(aws: Aws, zone: LandingZone, project_dir: Path, write: bool) -> SyncResult:
    actual, unresolved = organization_ids(aws, zone)
    return SyncResult(write_account_ids(project_dir, actual, write), unresolved)
