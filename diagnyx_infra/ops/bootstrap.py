"""`diagnyx bootstrap start`: step 1 of "Deploying for real". Turns the stack files (which describe
the example organization) into those of a new organization: the management account is the
caller's, every member account is `pending` until the organization creates it, and everything
that waits for AWS (Cost Explorer's services monitor, cost allocation tags, the registrar's DNS
delegation, peer VPC IDs) is marked not done. Nothing in AWS changes; dry run by default.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .. import CONFIG_NAMESPACE
from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID
from ..config.stack_files import mapping_setting, round_trip_yaml, stack_file, stack_names
from .aws import Aws, reply_field

RECORDS_DIR = "bootstrap-records"
# The management account ID of the example organization the repository's stack files describe.
EXAMPLE_MANAGEMENT_ID = "111111111111"
# (setting path, value for a new organization)
NOT_YET_DONE: tuple[tuple[str, Any], ...] = (
    ("costGovernance.servicesMonitorArn", None),
    ("costGovernance.activateCostAllocationTags", False),
    ("sharedServices.delegationConfirmed", False),
)


class AlreadyInOrganization(Exception):
    """The caller's account already belongs to an organization: `accounts sync` is the tool."""


class WouldReplaceOrganization(Exception):
    """The stack files describe an organization other than the example one."""


@dataclass(frozen=True)
class Edit:
    file: str
    setting: str
    before: Any
    after: Any


def start(caller: Aws, project_dir: Path, write: bool, replacing: str | None = None) -> list[Edit]:
    """Raises AlreadyInOrganization, or WouldReplaceOrganization when the files name a real
    management account (not the example's, not the caller's, not pending) and ``replacing``
    does not repeat its ID: the wrong credentials must not reset a live organization's files."""
    yaml = round_trip_yaml()
    # Each file is read once: the check, the edits and the write all use this copy.
    documents = {
        stack_file(project_dir, stack): yaml.load(stack_file(project_dir, stack).read_text())
        for stack in stack_names(project_dir)
    }
    current = _management_ids(documents)
    foreign = sorted(current - {EXAMPLE_MANAGEMENT_ID, PENDING_ID, caller.account_id})
    if foreign and foreign != [replacing]:
        raise WouldReplaceOrganization(
            f"the stack files describe the organization of management account "
            f"{', '.join(foreign)}, and the caller is account {caller.account_id}: check the "
            "credentials; to start a new organization from these files anyway, pass "
            f"--replacing {foreign[0]}"
        )
    organizations = caller.client("organizations")
    try:
        reply = organizations.describe_organization()
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        reply = None
    if reply is not None:
        describe = "organizations:DescribeOrganization"
        organization_id = reply_field(reply, "Organization", "Id", operation=describe)
        raise AlreadyInOrganization(
            f"account {caller.account_id} already belongs to organization {organization_id}: "
            "`diagnyx accounts sync` records its account IDs instead"
        )
    edits_by_file = {
        path: _reset_document(path.name, document, caller.account_id)
        for path, document in documents.items()
    }
    edits = [edit for found in edits_by_file.values() for edit in found]
    if write and edits:
        # What is about to change, written down first: every value can be put back from it.
        record = (
            project_dir / RECORDS_DIR / f"bootstrap-start-{time.strftime('%Y%m%dT%H%M%S')}.json"
        )
        record.parent.mkdir(exist_ok=True)
        record.write_text(json.dumps([_plain(e) for e in edits], indent=2) + "\n")
        for path, found in edits_by_file.items():
            if found:
                with path.open("w") as handle:
                    yaml.dump(documents[path], handle)
    return edits


def _plain(edit: Edit) -> dict[str, Any]:
    def value(v: Any) -> Any:
        return v if v is None or isinstance(v, bool) else str(v)

    return {
        "file": edit.file,
        "setting": edit.setting,
        "before": value(edit.before),
        "after": value(edit.after),
    }


def _management_ids(documents: dict[Path, Any]) -> set[str]:
    found = set()
    for path, document in documents.items():
        ids = mapping_setting(document.get("config") or {}, "accountIds", path.name) or {}
        if MANAGEMENT_ACCOUNT in ids:
            found.add(str(ids[MANAGEMENT_ACCOUNT]))
    return found


def _reset_document(file_name: str, document: Any, management_id: str) -> list[Edit]:
    """Change the loaded stack file to a new organization's; the edits made, in order."""
    config = document.get("config") or {}
    edits: list[Edit] = []

    def change(setting: str, container: Any, key: str, value: Any) -> None:
        before = container.get(key)
        if value is None and key not in container:
            return
        if before != value:
            container[key] = value
            edits.append(Edit(file_name, setting, before, value))

    ids = mapping_setting(config, "accountIds", file_name) or {}
    for name in list(ids):
        wanted = management_id if name == MANAGEMENT_ACCOUNT else PENDING_ID
        change(f"accountIds.{name}", ids, name, DoubleQuotedScalarString(wanted))
    for setting, value in NOT_YET_DONE:
        group, key = setting.split(".")
        container = mapping_setting(config, group, file_name)
        if container is not None:
            change(setting, container, key, value)
    for name, entry in (mapping_setting(config, "networks", file_name) or {}).items():
        if "vpcId" in entry:  # a flow mapping: the key goes, nothing else
            edits.append(Edit(file_name, f"networks.{name}.vpcId", entry.pop("vpcId"), None))
    return edits


def set_setting(project_dir: Path, stack: str, path: str, value: Any) -> None:
    """`pulumi config set --path 'diagnyx:<path>' <value> -s <stack>` on the stack file."""
    yaml = round_trip_yaml()
    file = stack_file(project_dir, stack)
    document = yaml.load(file.read_text())
    group, *keys = path.split(".")
    config = document["config"]
    container = mapping_setting(config, group, file.name)
    if container is None:
        container = config.setdefault(f"{CONFIG_NAMESPACE}:{group}", {})
    for key in keys[:-1]:
        container = container.setdefault(key, {})
    container[keys[-1]] = value
    with file.open("w") as handle:
        yaml.dump(document, handle)
