"""`diagnyx bootstrap start`: step 1 of "Deploying for real". Turns the stack files (which describe
the example organization) into those of a new organization: the management account is the
caller's, every member account is `pending` until the organization creates it, and everything
that waits for AWS (Cost Explorer's services monitor, cost allocation tags, the registrar's DNS
delegation, peer VPC IDs) is marked not done. Nothing in AWS changes; dry run by default.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .. import CONFIG_NAMESPACE
from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID
from ..config.stack_files import stack_file, stack_names
from .aws import Aws

# (setting path, value for a new organization); None removes the setting.
NOT_YET_DONE: tuple[tuple[str, Any], ...] = (
    ("costGovernance.servicesMonitorArn", None),
    ("costGovernance.activateCostAllocationTags", False),
    ("sharedServices.delegationConfirmed", False),
)


class AlreadyInOrganization(Exception):
    """The caller's account already belongs to an organization: `accounts sync` is the tool."""


@dataclass(frozen=True)
class Edit:
    file: str
    setting: str
    before: Any
    after: Any


def yaml_round_trip() -> YAML:
    yaml = YAML()  # comments, order and quotes survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def start(caller: Aws, project_dir: Path, write: bool) -> list[Edit]:
    organizations = caller.client("organizations")
    try:
        organization = organizations.describe_organization()["Organization"]
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        organization = None
    if organization is not None:
        raise AlreadyInOrganization(
            f"account {caller.account_id} already belongs to organization {organization['Id']}: "
            "`diagnyx accounts sync --write` records its account IDs instead"
        )
    edits = []
    for stack in stack_names(project_dir):
        edits += _reset_file(stack_file(project_dir, stack), caller.account_id, write)
    return edits


def _reset_file(path: Path, management_id: str, write: bool) -> list[Edit]:
    yaml = yaml_round_trip()
    document = yaml.load(path.read_text())
    config = document.get("config") or {}
    edits: list[Edit] = []

    def change(setting: str, container: Any, key: str, value: Any) -> None:
        before = container.get(key)
        if value is None:
            if key in container:
                del container[key]
                edits.append(Edit(path.name, setting, before, None))
        elif before != value:
            container[key] = value
            edits.append(Edit(path.name, setting, before, value))

    ids = config.get(f"{CONFIG_NAMESPACE}:accountIds") or {}
    for name in list(ids):
        wanted = management_id if name == MANAGEMENT_ACCOUNT else PENDING_ID
        change(f"accountIds.{name}", ids, name, DoubleQuotedScalarString(wanted))
    for setting, value in NOT_YET_DONE:
        group, key = setting.split(".")
        container = config.get(f"{CONFIG_NAMESPACE}:{group}")
        if container is not None:
            change(setting, container, key, value)
    for name, entry in (config.get(f"{CONFIG_NAMESPACE}:networks") or {}).items():
        change(f"networks.{name}.vpcId", entry, "vpcId", None)
    if write and edits:
        with path.open("w") as handle:
            yaml.dump(document, handle)
    return edits


def set_setting(project_dir: Path, stack: str, path: str, value: Any) -> None:
    """`pulumi config set --path 'diagnyx:<path>' <value> -s <stack>` on the stack file."""
    yaml = yaml_round_trip()
    file = stack_file(project_dir, stack)
    document = yaml.load(file.read_text())
    group, *keys = path.split(".")
    container = document["config"].setdefault(f"{CONFIG_NAMESPACE}:{group}", {})
    for key in keys[:-1]:
        container = container.setdefault(key, {})
    container[keys[-1]] = value
    with file.open("w") as handle:
        yaml.dump(document, handle)
