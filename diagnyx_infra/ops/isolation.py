"""`diagnyx isolate` / `diagnyx restore`: the guide's account isolation (remove the CI/CD role's
`CICDPolicy`, remove the account's SSO assignments) with a record of exactly what was removed, so
that `restore` puts it back. The record is written before anything is removed and updated after
each step, so a failure half way leaves a record of what really changed."""

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import naming
from ..config.models import MANAGEMENT_ACCOUNT
from .aws import Aws, classify
from .landing_zone import LandingZone

ROLE_POLICY = "role-policy"
SSO_ASSIGNMENT = "sso-assignment"


@dataclass
class Item:
    kind: str
    detail: dict[str, Any]
    removed: bool = False
    restored: bool = False

    def describe(self) -> str:
        if self.kind == ROLE_POLICY:
            return f"inline policy {self.detail['policyName']} of role {self.detail['roleName']}"
        return (
            f"SSO assignment {self.detail['permissionSetName']} -> "
            f"{self.detail['principalType'].lower()} {self.detail['principalId']}"
        )


@dataclass
class Record:
    account: str
    account_id: str
    created: str
    items: list[Item] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2, default=str))
        temporary.replace(path)  # never a half-written record

    @classmethod
    def load(cls, path: Path) -> "Record":
        data = json.loads(path.read_text())
        items = [Item(**item) for item in data["items"]]
        return cls(data["account"], data["account_id"], data["created"], items)


class Isolation:
    def __init__(self, caller: Aws, zone: LandingZone, access_role: str = naming.ORG_ACCESS_ROLE):
        self.caller = caller
        self.zone = zone
        self.access_role = access_role

    def _account_session(self, account_id: str) -> Aws:
        if account_id == self.zone.account_ids[MANAGEMENT_ACCOUNT]:
            return self.caller
        return self.caller.assume(account_id, self.access_role)

    # --- what would be removed --------------------------------------------------------------

    def plan(self, account: str) -> Record:
        account_id = self.zone.account_ids[account]
        record = Record(account, account_id, dt.datetime.now(dt.UTC).isoformat())
        iam = self._account_session(account_id).client("iam")
        try:
            policy = iam.get_role_policy(RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY)
        except Exception as error:
            if classify(error).kind != "missing":
                raise
        else:
            document = policy["PolicyDocument"]
            if isinstance(document, str):
                document = json.loads(document)
            record.items.append(
                Item(
                    ROLE_POLICY,
                    {
                        "roleName": naming.CICD_ROLE,
                        "policyName": naming.CICD_POLICY,
                        "document": document,
                    },
                )
            )
        sso = self.caller.client("sso-admin")
        instance = sso.list_instances()["Instances"][0]["InstanceArn"]
        for arn in sso.list_permission_sets(InstanceArn=instance)["PermissionSets"]:
            name = sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)[
                "PermissionSet"
            ]["Name"]
            assignments = sso.list_account_assignments(
                InstanceArn=instance, AccountId=account_id, PermissionSetArn=arn
            )["AccountAssignments"]
            for assignment in assignments:
                record.items.append(
                    Item(
                        SSO_ASSIGNMENT,
                        {
                            "instanceArn": instance,
                            "permissionSetArn": arn,
                            "permissionSetName": name,
                            "principalType": assignment["PrincipalType"],
                            "principalId": assignment["PrincipalId"],
                        },
                    )
                )
        return record

    # --- doing it ---------------------------------------------------------------------------

    def isolate(self, record: Record, path: Path) -> None:
        record.save(path)  # first: what is about to be removed
        account_session = self._account_session(record.account_id)
        for item in record.items:
            if item.removed:
                continue
            if item.kind == ROLE_POLICY:
                account_session.client("iam").delete_role_policy(
                    RoleName=item.detail["roleName"], PolicyName=item.detail["policyName"]
                )
            else:
                self.caller.client("sso-admin").delete_account_assignment(
                    **_assignment(item, record.account_id)
                )
            item.removed = True
            record.save(path)

    def restore(self, record: Record, path: Path) -> list[Item]:
        pending = [i for i in record.items if i.removed and not i.restored]
        account_session = self._account_session(record.account_id)
        for item in pending:
            if item.kind == ROLE_POLICY:
                account_session.client("iam").put_role_policy(
                    RoleName=item.detail["roleName"],
                    PolicyName=item.detail["policyName"],
                    PolicyDocument=json.dumps(item.detail["document"]),
                )
            else:
                try:
                    self.caller.client("sso-admin").create_account_assignment(
                        **_assignment(item, record.account_id)
                    )
                except Exception as error:
                    if "Conflict" not in classify(error).message:
                        raise
            item.restored = True
            record.save(path)
        return pending


def _assignment(item: Item, account_id: str) -> dict[str, str]:
    """The parameters that name one SSO account assignment."""
    return {
        "InstanceArn": item.detail["instanceArn"],
        "TargetId": account_id,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": item.detail["permissionSetArn"],
        "PrincipalType": item.detail["principalType"],
        "PrincipalId": item.detail["principalId"],
    }


def record_path(records_dir: Path, account: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return records_dir / f"isolation-{account}-{stamp}.json"
