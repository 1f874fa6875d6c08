"""`diagnyx isolate` / `diagnyx restore`: the guide's account isolation (remove the CI/CD role's
`CICDPolicy`, remove the account's SSO assignments) with a record of what was removed.

The record says WHAT was removed, never what to put back: `restore` returns the account to what
config grants it, whatever the record lists (the `CICDPolicy` the program renders, every
assignment of the access matrix, IDs and ARNs looked up live), each checked against AWS and
created only if missing, then checks AWS again. The record names the account and reports what
isolation removed; a record that disagrees with config is refused. Isolation writes its intent
("removing") before every AWS call and the outcome ("removed") after it, so a process killed in
between or a reply lost on the network leaves a record that still names the item."""

import contextlib
import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
)
from botocore.exceptions import ConnectionError as AwsConnectionError
from botocore.parsers import ResponseParserError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import naming
from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID, SECURITY_ACCOUNT, StackSettings
from ..config.yaml_reader import parse_json_value
from ..policies.documents import to_json
from ..policies.iam import cicd_permissions
from .aws import Aws, SettingError, classify
from .findings import EXIT_CANNOT_LOOK, EXIT_FINDINGS
from .identity_center import permission_set_names
from .landing_zone import LandingZone

ROLE_POLICY = "role-policy"
SSO_ASSIGNMENT = "sso-assignment"
# An assignment the access matrix does not grant (a user, or a group and permission set config
# does not pair on this account): isolation removes it, restore never puts it back.
UNMANAGED_ASSIGNMENT = "unmanaged-sso-assignment"
RECORD_VERSION = 2
MAX_RECORD_BYTES = 1_000_000
MAX_RECORD_ITEMS = 1_000
SSO_WAIT_SECONDS = 120
EXIT_REFUSED = 2  # cli.EXIT_CONFIG_ERROR: usage, config or record error, nothing was changed

# planned: not touched yet. removing: about to be (or being) removed; it may or may not be gone.
# removed: gone. restored: the account has it again.
State = Literal["planned", "removing", "removed", "restored"]
INTENDED: tuple[str, ...] = ("removing", "removed", "restored")


# --- errors the command line turns into exit codes -----------------------------------------


class IsolationError(Exception):
    exit_code = EXIT_FINDINGS


class Refused(IsolationError):
    """A usage, config or record problem: found before any AWS call."""

    exit_code = EXIT_REFUSED


class Unreachable(IsolationError):
    """AWS could not be reached or did not answer."""

    exit_code = EXIT_CANNOT_LOOK


class Failed(IsolationError):
    """AWS answered with an error."""

    exit_code = EXIT_FINDINGS


class SsoRequestFailed(Exception):
    """IAM Identity Center reported an assignment request FAILED or did not finish it."""


def unreachable(error: BaseException) -> bool:
    """No answer from AWS: no connection, a timeout, a reply that is not an AWS answer, or an
    endpoint without the API (classify is total: every exception has a kind)."""
    if isinstance(error, AwsConnectionError | HTTPClientError | ResponseParserError):
        return True
    if not isinstance(error, Exception):
        return False
    return classify(error).kind in ("unreachable", "unavailable")


def _problem(error: BaseException) -> str:
    if isinstance(error, ClientError | BotoCoreError):
        return classify(error).message
    if isinstance(error, ResponseParserError):
        return f"the reply is not an AWS answer: {str(error).splitlines()[0][:200]}"
    return str(error)


def _aws_error(error: BaseException, context: str) -> IsolationError:
    if unreachable(error):
        return Unreachable(
            f"{context}: AWS could not be reached or did not answer ({_problem(error)})"
        )
    return Failed(f"{context}: {_problem(error)}")


# ResponseParserError (a reply that is not an AWS answer) is no BotoCoreError.
_AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError, SsoRequestFailed)


def connect(region: str | None, zone: LandingZone) -> Aws:
    """The management account's session, its identity checked (the first AWS call): other
    credentials are refused before anything is planned or changed."""
    try:
        aws = Aws.from_environment(region)
    except ValueError as error:  # an unusable setting, e.g. AWS_MAX_ATTEMPTS
        raise Refused(str(error)) from None
    try:
        aws.account_id  # noqa: B018 - fail early and clearly
    except NoCredentialsError:
        raise Refused(
            "no AWS credentials: log in to the management account (aws sso login, or a profile)"
        ) from None
    except SettingError as error:  # an endpoint from the profile that is no URL
        raise Refused(str(error)) from None
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        if not isinstance(error, ResponseParserError) and classify(error).kind in (
            "credentials",
            "setting",
        ):
            raise Refused(f"AWS credentials: {classify(error).message}") from None
        raise _aws_error(error, "nothing changed") from None
    except (KeyError, TypeError):  # a reply botocore could parse, but not STS's answer
        raise Unreachable(
            "nothing changed: AWS could not be reached or did not answer (the reply to "
            "sts:GetCallerIdentity is not an AWS answer)"
        ) from None
    problem = zone.not_management(aws.account_id)
    if problem:
        raise Refused(f"{problem}: nothing changed")
    return aws


def known_account_id(zone: LandingZone, account: str, what: str = "isolate") -> str:
    """``account``'s ID in config; Refused (before any AWS call) while config marks it pending."""
    account_id = zone.account_ids[account]
    if account_id == PENDING_ID:
        raise Refused(
            f"accountIds.{account} is pending: nothing to {what} until the organization created "
            "it and `diagnyx accounts sync` recorded its ID"
        )
    return account_id


def critical_reason(account: str) -> str | None:
    """Why isolating ``account`` needs --allow-critical-account, or None."""
    if account == MANAGEMENT_ACCOUNT:
        return (
            "management is the organization's management account: you may cut off your own "
            "access to the organization (its SSO assignments and deploy policy are how every "
            "account is administered)"
        )
    if account == SECURITY_ACCOUNT:
        return (
            "security owns the organization's audit trail and its archive: isolating it cuts "
            "off the people and the deploy role who keep the audit trail running"
        )
    return None


# --- the record ----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", validate_assignment=True)


class RolePolicyDetail(_Strict):
    role_name: str
    policy_name: str
    # The document as it was found, for people; restore never writes it anywhere.
    document: dict[str, Any] | None


class AssignmentDetail(_Strict):
    group: str
    permission_set: str
    # As found at isolation, for people; restore looks both up by name.
    group_id: str
    permission_set_arn: str


class UnmanagedDetail(_Strict):
    permission_set: str
    permission_set_arn: str
    principal_type: Literal["USER", "GROUP"]
    principal_id: str


class RolePolicyItem(_Strict):
    kind: Literal["role-policy"]
    detail: RolePolicyDetail
    state: State

    def describe(self) -> str:
        return f"inline policy {self.detail.policy_name} of role {self.detail.role_name}"


class AssignmentItem(_Strict):
    kind: Literal["sso-assignment"]
    detail: AssignmentDetail
    state: State

    def describe(self) -> str:
        return f"SSO assignment {self.detail.permission_set} -> group {self.detail.group}"


class UnmanagedItem(_Strict):
    kind: Literal["unmanaged-sso-assignment"]
    detail: UnmanagedDetail
    state: State

    def describe(self) -> str:
        return (
            f"SSO assignment {self.detail.permission_set} -> "
            f"{self.detail.principal_type.lower()} {self.detail.principal_id} "
            "(not in the access matrix)"
        )


Item = Annotated[RolePolicyItem | AssignmentItem | UnmanagedItem, Field(discriminator="kind")]


class Record(_Strict):
    version: Literal[2]
    account: str
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")]
    created: str
    finished: bool  # isolation went through every item
    # An account holds a few dozen grants at most; a record far larger was not written here
    # (and, indented on each save, would outgrow MAX_RECORD_BYTES).
    items: list[Item] = Field(max_length=MAX_RECORD_ITEMS)

    def save(self, path: Path) -> None:
        """Atomically and durably: a reader sees the previous record or this one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            file.write(self.model_dump_json(indent=2))
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
        with contextlib.suppress(OSError):  # the rename to disk too, where the system allows
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def check_writable(self, path: Path) -> None:
        """Refused unless ``path`` can be saved to (its folder takes a new file, the file itself
        can be written): checked before a restore changes anything, which saves as it goes."""
        problem = writable_folder(path.parent)
        if problem is None:
            try:
                with path.open("a"):
                    pass
            except OSError as error:
                problem = f"cannot write it ({error.strerror or error})"
        if problem:
            raise Refused(
                f"{path}: cannot write the record there ({problem}); copy it to a folder you can "
                "write and restore from the copy; nothing changed"
            )

    @classmethod
    def load(cls, path: Path) -> "Record":
        """The record at ``path``; Refused, naming the file and the field, when it is not one."""

        def refuse(why: str) -> Refused:
            return Refused(f"{path}: {why}; not an isolation record this tool wrote")

        try:
            if not path.exists():
                raise refuse("no such file")
            if not path.is_file():
                raise refuse("not a regular file")
            with path.open("rb") as file:
                data = file.read(MAX_RECORD_BYTES + 1)
        except OSError as error:
            raise refuse(f"cannot read it ({error.strerror or error})") from None
        if len(data) > MAX_RECORD_BYTES:
            raise refuse(f"larger than {MAX_RECORD_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("not UTF-8 text") from None
        try:
            parse_json_value(text)  # a key given twice is refused, not read as its last value
        except ValueError as error:
            raise refuse(f"not usable JSON: it {error}") from None
        try:
            return cls.model_validate_json(text)
        except ValidationError as error:
            raise refuse(_first_problem(error)) from None


def _first_problem(error: ValidationError) -> str:
    """The first problem in full, and where the others are (a union reports each of its
    members' complaints about one item: the places are what helps)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    if first["type"] == "json_invalid":
        return f"not JSON ({first['msg']})"
    field = _field(first["loc"])
    others = [o for o in dict.fromkeys(_field(p["loc"]) for p in problems[1:]) if o != field]
    shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
    more = f" (also wrong: {shown})" if others else ""
    return f"{field}: {first['msg']}{more}"


def _field(location: tuple) -> str:
    field = ""
    for part in location:
        if isinstance(part, int):
            field += f"[{part}]"
        elif part not in (ROLE_POLICY, SSO_ASSIGNMENT, UNMANAGED_ASSIGNMENT):  # union tags
            field += f".{part}" if field else str(part)
    return field or "the record"


def writable_folder(records_dir: Path) -> str | None:
    """Why isolation records cannot be written into ``records_dir`` (made if missing), or None:
    checked before anything is removed, as each removal is recorded first."""
    if records_dir.is_symlink() and not records_dir.exists():
        return "is a link to nothing"
    if records_dir.exists() and not records_dir.is_dir():
        return "is not a folder (records are written into one)"
    probe = records_dir / ".diagnyx-write-probe"
    try:
        records_dir.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as error:
        return f"cannot write there ({error.strerror or error})"
    return None


def record_path(records_dir: Path, account: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return records_dir / f"isolation-{account}-{stamp}.json"


# --- what config says the account has ------------------------------------------------------


def rendered_cicd_policy(settings: StackSettings) -> dict[str, Any]:
    """`CICDPolicy` exactly as the baseline component renders it for this stack."""
    document = cicd_permissions(
        settings.account_id,
        settings.is_management,
        settings.audit_archive is not None,
        settings.deploys_accounts(),
    )
    return json.loads(to_json(document))


def granted_pairs(zone: LandingZone, account: str) -> list[tuple[str, str]]:
    """(group, permission set) of every assignment the access matrix grants ``account``."""
    return list(dict.fromkeys((a.group, a.permission_set) for a in zone.assignments_for(account)))


def check_record(record: Record, zone: LandingZone, path: Path) -> None:
    """Refuse, before any AWS call, a record that disagrees with config or an account config
    cannot restore. The record only names the account: restore gives it what config grants."""

    def refuse(field: str, why: str) -> Refused:
        return Refused(f"{path}: {field}: {why}; the record disagrees with config, not restoring")

    ids = zone.account_ids
    if record.account not in ids:
        raise refuse("account", f"unknown account '{record.account}'")
    try:
        expected_id = known_account_id(zone, record.account, "restore")
    except Refused as error:
        raise Refused(f"{path}: {error}") from None
    if record.account_id != expected_id:
        raise refuse(
            "account_id",
            f"{record.account_id} is not the ID config gives account '{record.account}' "
            f"({expected_id})",
        )
    settings = zone.stacks.get(record.account)
    if settings is not None and settings.account_id != expected_id:
        raise refuse(
            "account_id",
            f"Pulumi.{record.account}.yaml names account ID {settings.account_id}, the "
            f"management stack {expected_id} (run `diagnyx accounts sync`)",
        )
    for index, item in enumerate(record.items):
        field = f"items[{index}].detail"
        if isinstance(item, RolePolicyItem):
            named = (item.detail.role_name, item.detail.policy_name)
            if named != (naming.CICD_ROLE, naming.CICD_POLICY):
                raise refuse(
                    field,
                    f"role {named[0]} policy {named[1]}: isolation only ever removes "
                    f"{naming.CICD_POLICY} of {naming.CICD_ROLE}",
                )
            if settings is None:
                raise refuse(
                    field, f"config has no stack for account '{record.account}' to render it"
                )
        # An assignment the access matrix does not grant (config narrowed since, or an edit) is
        # no reason to refuse: restore never puts it back ("not granted") and gives the account
        # everything config does grant, so a changed matrix cannot leave it with nothing.


# --- talking to AWS ------------------------------------------------------------------------


@dataclass
class Step:
    """One grant of config checked for a restore (put back, or already present), or one removed
    assignment config does not grant (never put back). ``item`` is what is shown: the record's
    own item when it lists the grant; ``covers`` the record's items the step stands for."""

    item: RolePolicyItem | AssignmentItem | UnmanagedItem
    action: Literal["restore", "present", "not granted"]
    note: str = ""
    covers: list[RolePolicyItem | AssignmentItem | UnmanagedItem] = field(default_factory=list)


@dataclass
class Verified:
    """The account in AWS after a restore, against what config grants it."""

    missing: list[str]  # grants of config AWS does not show
    extra: list[UnmanagedItem]  # SSO assignments AWS shows that config does not grant


class Isolation:
    def __init__(self, caller: Aws, zone: LandingZone, access_role: str = naming.ORG_ACCESS_ROLE):
        self.caller = caller
        self.zone = zone
        self.access_role = access_role
        self._sessions: dict[str, Aws] = {}
        self._instance_arn: str | None = None
        self._store_id: str | None = None
        # Name -> ID of the groups and permission sets, looked up by restore_plan.
        self._groups_by_name: dict[str, str | None] = {}
        self._sets_by_name: dict[str, str | None] = {}

    def _account_session(self, account_id: str) -> Aws:
        if account_id == self.zone.account_ids[MANAGEMENT_ACCOUNT]:
            return self.caller
        if account_id not in self._sessions:
            self._sessions[account_id] = self.caller.assume(account_id, self.access_role)
        return self._sessions[account_id]

    def _iam(self, account_id: str):
        return self._account_session(account_id).client("iam")

    @property
    def _sso(self):
        return self.caller.client("sso-admin")

    def _instance(self) -> str:
        if self._instance_arn is None:
            instances = self._sso.list_instances()["Instances"]
            if not instances:
                raise SsoRequestFailed("IAM Identity Center has no instance in this organization")
            self._instance_arn = instances[0]["InstanceArn"]
            self._store_id = instances[0]["IdentityStoreId"]
        return self._instance_arn

    def _group_names(self) -> dict[str, str]:
        """Group ID -> display name."""
        self._instance()
        pages = self.caller.client("identitystore").get_paginator("list_groups")
        return {
            group["GroupId"]: group.get("DisplayName", "")
            for page in pages.paginate(IdentityStoreId=self._store_id)
            for group in page["Groups"]
        }

    def _permission_sets(self) -> dict[str, str]:
        """Permission set ARN -> name."""
        return permission_set_names(self._sso, self._instance())

    def _assignments(self, account_id: str, permission_set_arn: str) -> list[dict[str, str]]:
        pages = self._sso.get_paginator("list_account_assignments").paginate(
            InstanceArn=self._instance(), AccountId=account_id, PermissionSetArn=permission_set_arn
        )
        return [a for page in pages for a in page["AccountAssignments"]]

    def _live_policy(self, account_id: str) -> dict[str, Any] | None:
        try:
            answer = self._iam(account_id).get_role_policy(
                RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY
            )
        except ClientError as error:
            if classify(error).kind == "missing":
                return None
            raise
        document = answer["PolicyDocument"]
        return json.loads(document) if isinstance(document, str) else document

    def _settle(self, status: dict[str, Any], creation: bool) -> None:
        """Wait for an asynchronous assignment request; raise if Identity Center says FAILED."""
        deadline = time.monotonic() + SSO_WAIT_SECONDS
        while status.get("Status") == "IN_PROGRESS":
            if time.monotonic() > deadline:
                raise SsoRequestFailed(
                    f"IAM Identity Center has not finished request {status.get('RequestId')} "
                    f"after {SSO_WAIT_SECONDS}s"
                )
            time.sleep(1)
            if creation:
                status = self._sso.describe_account_assignment_creation_status(
                    InstanceArn=self._instance(),
                    AccountAssignmentCreationRequestId=status["RequestId"],
                )["AccountAssignmentCreationStatus"]
            else:
                status = self._sso.describe_account_assignment_deletion_status(
                    InstanceArn=self._instance(),
                    AccountAssignmentDeletionRequestId=status["RequestId"],
                )["AccountAssignmentDeletionStatus"]
        if status.get("Status") == "FAILED":
            raise SsoRequestFailed(
                f"IAM Identity Center: {status.get('FailureReason') or 'the request FAILED'}"
            )

    # --- what would be removed --------------------------------------------------------------

    def plan(self, account: str) -> Record:
        """What isolating ``account`` removes, as AWS has it now (every item "planned")."""
        return Record(
            version=RECORD_VERSION,
            account=account,
            account_id=self.zone.account_ids[account],
            created=dt.datetime.now(dt.UTC).isoformat(),
            finished=False,
            items=self._look(account, f"looking at {account}, nothing changed"),
        )

    def _look(
        self, account: str, context: str
    ) -> list[RolePolicyItem | AssignmentItem | UnmanagedItem]:
        """The account's CICDPolicy and SSO assignments in AWS now, every item "planned"."""
        account_id = self.zone.account_ids[account]
        items: list[RolePolicyItem | AssignmentItem | UnmanagedItem] = []
        try:
            document = self._live_policy(account_id)
            if document is not None:
                detail = RolePolicyDetail(
                    role_name=naming.CICD_ROLE, policy_name=naming.CICD_POLICY, document=document
                )
                items.append(RolePolicyItem(kind=ROLE_POLICY, detail=detail, state="planned"))
            granted = {(a.group, a.permission_set) for a in self.zone.assignments_for(account)}
            groups = self._group_names()
            for arn, set_name in self._permission_sets().items():
                for found in self._assignments(account_id, arn):
                    principal_type, principal_id = found["PrincipalType"], found["PrincipalId"]
                    group = groups.get(principal_id) if principal_type == "GROUP" else None
                    if group is not None and (group, set_name) in granted:
                        items.append(
                            AssignmentItem(
                                kind=SSO_ASSIGNMENT,
                                detail=AssignmentDetail(
                                    group=group,
                                    permission_set=set_name,
                                    group_id=principal_id,
                                    permission_set_arn=arn,
                                ),
                                state="planned",
                            )
                        )
                    else:
                        items.append(
                            UnmanagedItem(
                                kind=UNMANAGED_ASSIGNMENT,
                                detail=UnmanagedDetail(
                                    permission_set=set_name,
                                    permission_set_arn=arn,
                                    principal_type=principal_type,
                                    principal_id=principal_id,
                                ),
                                state="planned",
                            )
                        )
        except _AWS_ERRORS as error:
            raise _aws_error(error, context) from None
        return items

    # --- isolating --------------------------------------------------------------------------

    def isolate(self, record: Record, path: Path) -> None:
        """Remove every item, recording the intent before each call and the outcome after it.

        Stops with an IsolationError saying how far it got; a KeyboardInterrupt or any other
        interruption leaves a record whose "removing" item restore checks against AWS."""
        try:
            record.save(path)  # first: what is about to be removed
            for item in record.items:
                if item.state in ("removed", "restored"):
                    continue
                item.state = "removing"
                record.save(path)  # the intent, before the call
                self._remove(item, record.account_id)
                item.state = "removed"
                record.save(path)
            record.finished = True
            record.save(path)
        except (*_AWS_ERRORS, OSError) as error:
            done = sum(i.state == "removed" for i in record.items)
            if isinstance(error, OSError) and not any(i.state in INTENDED for i in record.items):
                raise Failed(f"nothing changed: cannot write the record {path}: {error}") from None
            context = f"isolate stopped after {done} of {len(record.items)} removals"
            if isinstance(error, OSError):
                failure: IsolationError = Failed(f"{context}: cannot write the record: {error}")
            else:
                failure = _aws_error(error, context)
            raise type(failure)(
                f"{failure}. The record {path} lists what was removed and what was being "
                f"removed; `diagnyx restore {path} --apply` puts it back and is safe to run "
                "again"
            ) from None

    def _remove(self, item: RolePolicyItem | AssignmentItem | UnmanagedItem, account_id: str):
        """One removal; already gone (a retry after a lost reply) counts as removed."""
        try:
            if isinstance(item, RolePolicyItem):
                self._iam(account_id).delete_role_policy(
                    RoleName=item.detail.role_name, PolicyName=item.detail.policy_name
                )
                return
            if isinstance(item, AssignmentItem):
                principal = ("GROUP", item.detail.group_id)
            else:
                principal = (item.detail.principal_type, item.detail.principal_id)
            answer = self._sso.delete_account_assignment(
                InstanceArn=self._instance(),
                TargetId=account_id,
                TargetType="AWS_ACCOUNT",
                PermissionSetArn=item.detail.permission_set_arn,
                PrincipalType=principal[0],
                PrincipalId=principal[1],
            )
            self._settle(answer.get("AccountAssignmentDeletionStatus", {}), creation=False)
        except ClientError as error:
            if classify(error).kind != "missing":
                raise

    # --- restoring --------------------------------------------------------------------------

    def restore_plan(self, record: Record) -> list[Step]:
        """What config grants the account, checked against AWS now, whatever the record lists:
        the CICDPolicy the program renders and every assignment of the access matrix. Then each
        assignment isolation removed that config does not grant ("not granted": never put back).

        The access matrix is authoritative: an `unmanaged-sso-assignment` item naming a group and
        permission set the matrix grants the account is that grant (restored like any other), not
        a reason to refuse; one the matrix does not grant is never put back. ``record`` has passed
        check_record; nothing it says about IDs, ARNs or documents is used."""
        settings = self.zone.stacks.get(record.account)
        steps: list[Step] = []
        try:
            if settings is not None:  # config deploys CICDPolicy wherever it has a stack
                steps.append(self._policy_step(record, settings))
            group_names = self._group_names()
            self._groups_by_name = _by_name(group_names)
            self._sets_by_name = _by_name(self._permission_sets())

            def names(item: UnmanagedItem) -> tuple[str, str] | None:
                if item.detail.principal_type != "GROUP":
                    return None
                group = group_names.get(item.detail.principal_id)
                return None if group is None else (group, item.detail.permission_set)

            unmanaged = [i for i in record.items if isinstance(i, UnmanagedItem)]
            granted = granted_pairs(self.zone, record.account)
            for group, permission_set in granted:
                group_id = _lookup(self._groups_by_name, group, "group")
                arn = _lookup(self._sets_by_name, permission_set, "permission set")
                present = any(
                    a["PrincipalType"] == "GROUP" and a["PrincipalId"] == group_id
                    for a in self._assignments(record.account_id, arn)
                )
                listed: list[RolePolicyItem | AssignmentItem | UnmanagedItem] = [
                    i
                    for i in record.items
                    if isinstance(i, AssignmentItem)
                    and (i.detail.group, i.detail.permission_set) == (group, permission_set)
                ]
                relabelled = [i for i in unmanaged if names(i) == (group, permission_set)]
                fresh = AssignmentItem(
                    kind=SSO_ASSIGNMENT,
                    detail=AssignmentDetail(
                        group=group,
                        permission_set=permission_set,
                        group_id=group_id,
                        permission_set_arn=arn,
                    ),
                    state="planned",
                )
                notes = (
                    ["the record says it is not in the access matrix; the access matrix grants it"]
                    if relabelled
                    else []
                )
                steps.append(_step([*listed, *relabelled], fresh, present, notes))
            steps += [
                Step(item, "not granted", covers=[item])
                for item in unmanaged
                if item.state in INTENDED and names(item) not in granted
            ]
            steps += [
                Step(item, "not granted", "the access matrix no longer grants it", [item])
                for item in record.items
                if isinstance(item, AssignmentItem)
                and item.state in INTENDED
                and (item.detail.group, item.detail.permission_set) not in granted
            ]
        except _AWS_ERRORS as error:
            raise _aws_error(error, f"looking at {record.account}, nothing changed") from None
        return steps

    def _policy_step(self, record: Record, settings: StackSettings) -> Step:
        rendered = rendered_cicd_policy(settings)
        live = self._live_policy(record.account_id)
        listed: list[RolePolicyItem | AssignmentItem | UnmanagedItem] = [
            i for i in record.items if isinstance(i, RolePolicyItem)
        ]
        fresh = RolePolicyItem(
            kind=ROLE_POLICY,
            detail=RolePolicyDetail(
                role_name=naming.CICD_ROLE, policy_name=naming.CICD_POLICY, document=None
            ),
            state="planned",
        )
        notes = ["as the program renders it"]
        if live is not None:
            notes.append("AWS has another document, which it replaces")
        if any(
            isinstance(i, RolePolicyItem) and i.detail.document not in (None, rendered)
            for i in listed
        ):
            notes.append("the record's document differs and is not used")
        return _step(listed, fresh, live == rendered, notes)

    def restore(self, record: Record, path: Path, steps: list[Step]) -> None:
        """Put back what ``steps`` says is missing, as config has it; mark the record's items
        the account has again "restored"."""
        settings = self.zone.stacks.get(record.account)
        done = 0
        wanted = [s for s in steps if s.action == "restore"]
        record.check_writable(path)  # before any change: the record is updated as it goes
        try:
            for step in steps:
                if step.action == "not granted":
                    continue
                if step.action == "restore":
                    self._put_back(step.item, record.account_id, settings)
                    done += 1
                for item in step.covers:
                    if step.action == "restore" or item.state in INTENDED:
                        item.state = "restored"
                record.save(path)
        except (*_AWS_ERRORS, OSError) as error:
            context = f"restore stopped after {done} of {len(wanted)} items"
            if isinstance(error, OSError):
                failure: IsolationError = Failed(f"{context}: cannot write the record: {error}")
            else:
                failure = _aws_error(error, context)
            raise type(failure)(
                f"{failure}. Nothing is lost: running `diagnyx restore {path} --apply` again "
                "checks every grant of config against AWS and is safe"
            ) from None

    def verify(self, account: str) -> Verified:
        """AWS now against what config grants ``account`` (read again, after a restore)."""
        live = self._look(account, f"checking {account} after the restore")
        missing: list[str] = []
        settings = self.zone.stacks.get(account)
        if settings is not None:
            policy = next((i for i in live if isinstance(i, RolePolicyItem)), None)
            what = f"inline policy {naming.CICD_POLICY} of role {naming.CICD_ROLE}"
            if policy is None:
                missing.append(what)
            elif policy.detail.document != rendered_cicd_policy(settings):
                missing.append(f"{what} as the program renders it (AWS has another document)")
        have = {
            (i.detail.group, i.detail.permission_set) for i in live if isinstance(i, AssignmentItem)
        }
        missing += [
            f"SSO assignment {permission_set} -> group {group}"
            for group, permission_set in granted_pairs(self.zone, account)
            if (group, permission_set) not in have
        ]
        return Verified(missing, [i for i in live if isinstance(i, UnmanagedItem)])

    def _put_back(
        self,
        item: RolePolicyItem | AssignmentItem | UnmanagedItem,
        account_id: str,
        settings: StackSettings | None,
    ) -> None:
        if isinstance(item, RolePolicyItem):
            assert settings is not None  # restore_plan: only where config has a stack
            self._iam(account_id).put_role_policy(
                RoleName=naming.CICD_ROLE,
                PolicyName=naming.CICD_POLICY,
                PolicyDocument=to_json(rendered_cicd_policy(settings)),
            )
            return
        assert isinstance(item, AssignmentItem)
        try:
            answer = self._sso.create_account_assignment(
                InstanceArn=self._instance(),
                TargetId=account_id,
                TargetType="AWS_ACCOUNT",
                PermissionSetArn=_lookup(
                    self._sets_by_name, item.detail.permission_set, "permission set"
                ),
                PrincipalType="GROUP",
                PrincipalId=_lookup(self._groups_by_name, item.detail.group, "group"),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConflictException":
                return  # already there
            raise
        self._settle(answer.get("AccountAssignmentCreationStatus", {}), creation=True)


def _step(
    listed: list[RolePolicyItem | AssignmentItem | UnmanagedItem],
    fresh: RolePolicyItem | AssignmentItem,
    present: bool,
    notes: list[str],
) -> Step:
    """One grant of config: shown as the record's own item when it lists one."""
    shown = next((i for i in listed if not isinstance(i, UnmanagedItem)), fresh)
    if present:
        return Step(shown, "present", covers=listed)
    if not any(i.state in INTENDED for i in listed):
        notes = [*notes, "config grants it; the record does not say isolation removed it"]
    return Step(shown, "restore", "; ".join(notes), listed)


def _by_name(by_id: dict[str, str]) -> dict[str, str | None]:
    """Name -> ID; a name held twice maps to None (ambiguous, refused at lookup)."""
    names: dict[str, str | None] = {}
    for identifier, name in by_id.items():
        names[name] = None if name in names else identifier
    return names


def _lookup(by_name: dict[str, str | None], name: str, what: str) -> str:
    if name not in by_name:
        raise SsoRequestFailed(f"IAM Identity Center has no {what} named {name}")
    identifier = by_name[name]
    if identifier is None:
        raise SsoRequestFailed(f"IAM Identity Center has more than one {what} named {name}")
    return identifier
