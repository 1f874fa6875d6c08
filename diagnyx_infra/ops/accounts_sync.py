"""`diagnyx accounts sync`: the guide's Step 2 ("note the account IDs, update every config file")
as one command. Reads AWS Organizations and writes the real IDs into every stack file, keeping
comments, order and quoting."""

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..config.consistency import ACCOUNT_IDS_KEY
from ..config.models import MANAGEMENT_ACCOUNT
from ..config.stack_files import round_trip_yaml, stack_file, stack_names
from .aws import Aws
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


def organization_ids(aws: Aws, zone: LandingZone) -> tuple[dict[str, str], list[str]]:
    """Account name -> ID, matched by the e-mail in the management stack's config."""
    organizations = aws.client("organizations")
    master = organizations.describe_organization()["Organization"]["MasterAccountId"]
    by_email = {}
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in page["Accounts"]:
            by_email[account["Email"].lower()] = account["Id"]
    found = {MANAGEMENT_ACCOUNT: master}
    missing = []
    organization = zone.management.organization
    assert organization is not None
    for name, account in organization.accounts.items():
        if account.email in by_email:
            found[name] = by_email[account.email]
        else:
            missing.append(f"{name} ({account.email}) is not an account of the organization")
    return found, missing


def write_account_ids(project_dir: Path, actual: dict[str, str], write: bool) -> list[IdChange]:
    """Put ``actual`` IDs into every stack file's accountIds (or only report, if not ``write``)."""
    changes = []
    yaml = round_trip_yaml()
    for stack in stack_names(project_dir):
        path = stack_file(project_dir, stack)
        document = yaml.load(path.read_text())
        ids = document.get("config", {}).get(ACCOUNT_IDS_KEY)
        if ids is None:
            continue
        changed = False
        for name, account_id in actual.items():
            current = ids.get(name)
            if current is None or str(current) != account_id:
                written = None if current is None else str(current)
                changes.append(IdChange(path.name, name, written, account_id))
                ids[name] = DoubleQuotedScalarString(account_id)
                changed = True
        if write and changed:
            with path.open("w") as handle:
                yaml.dump(document, handle)
    return changes


def sync(aws: Aws, zone: LandingZone, project_dir: Path, write: bool) -> SyncResult:
    actual, unresolved = organization_ids(aws, zone)
    return SyncResult(write_account_ids(project_dir, actual, write), unresolved)
