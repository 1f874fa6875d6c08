"""Pulumi mocks whose registrations are carried out against the emulated AWS API."""

import json
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pulumi.runtime import mocks as pulumi_mocks

from ..engine.recording import RecordingMocks, reveal
from ..errors import ReportedFailure
from ..ops.aws import Aws
from .aws_rules import (
    RULE_HANDLERS,
    RuleViolation,
    delegated_administrators_data,
    detector_data,
    organization_data,
)
from .handlers import HANDLERS as API_HANDLERS
from .handlers import NOT_EMULATED, Context, NotEmulated
from .world import Deployed, World

PROVIDER = "pulumi:providers:aws"
# Every type the emulator carries out: moto's API, plus the AWS rules moto does not enforce.
HANDLERS = {**API_HANDLERS, **RULE_HANDLERS}


@dataclass(frozen=True)
class Created:
    type: str
    name: str
    account: str
    emulated: bool
    note: str = ""


class RehearsalFailure(ReportedFailure):
    """The emulated AWS API refused a resource's inputs."""

    def __init__(self, stack: str, type_: str, name: str, error: str, step: str = ""):
        self.stack, self.type, self.name, self.error = stack, type_, name, error
        self.step = step
        where = f"{step}, stack {stack}" if step else f"stack {stack}"
        super().__init__(f"{where}: {name} ({type_}) was refused: {error}")


# Inputs of these types can change in place: the emulator calls their handler again (each is a
# put of the whole document or setting), as the provider's update does.
UPDATED_BY_HANDLER = {
    "aws:iam/rolePolicy:RolePolicy",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
}


def _update_role(ctx: Context, old: Deployed, inputs: dict) -> dict:
    if inputs.get("assumeRolePolicy") != old.inputs.get("assumeRolePolicy"):
        ctx.client("iam").update_assume_role_policy(
            RoleName=old.id, PolicyDocument=_json_text(inputs["assumeRolePolicy"])
        )
    return old.outputs


def _update_key(ctx: Context, old: Deployed, inputs: dict) -> dict:
    ctx.client("kms").put_key_policy(
        KeyId=old.id, PolicyName="default", Policy=_json_text(inputs["policy"])
    )
    return old.outputs


def _update_subscription(ctx: Context, old: Deployed, inputs: dict) -> dict:
    handler = HANDLERS["aws:costexplorer/anomalySubscription:AnomalySubscription"]
    handler(ctx, inputs)  # the same checks as a new subscription
    return old.outputs


def _update_organization(ctx: Context, old: Deployed, inputs: dict) -> dict:
    """Trusted access and policy types change in place; the list of trusted services is
    authoritative: the provider disables a service enabled outside it (docs/design.md)."""
    changed = sorted(k for k in {*old.inputs, *inputs} if old.inputs.get(k) != inputs.get(k))
    in_place = {"awsServiceAccessPrincipals", "enabledPolicyTypes"}
    if set(changed) - in_place:
        raise ValueError(
            f"changing {', '.join(sorted(set(changed) - in_place))} would replace this resource; "
            "the emulator updates only what the provider updates in place"
        )
    organizations = ctx.client("organizations")
    wanted = set(inputs.get("awsServiceAccessPrincipals") or [])
    enabled = {
        p["ServicePrincipal"]
        for p in organizations.list_aws_service_access_for_organization()[
            "EnabledServicePrincipals"
        ]
    }
    for principal in sorted(enabled - wanted):
        organizations.disable_aws_service_access(ServicePrincipal=principal)
    for principal in sorted(wanted - enabled):
        organizations.enable_aws_service_access(ServicePrincipal=principal)
    root = old.outputs["roots"][0]["id"]
    before = set(old.inputs.get("enabledPolicyTypes") or [])
    after = set(inputs.get("enabledPolicyTypes") or [])
    for policy_type in sorted(before - after):
        organizations.disable_policy_type(RootId=root, PolicyType=policy_type)
    for policy_type in sorted(after - before):
        organizations.enable_policy_type(RootId=root, PolicyType=policy_type)
    return old.outputs


def _update_org_policy(ctx: Context, old: Deployed, inputs: dict) -> dict:
    """A policy's content, name and description change in place (UpdatePolicy); its type
    does not."""
    if inputs.get("type") != old.inputs.get("type"):
        raise ValueError(
            "changing type would replace this resource; the emulator updates only what the "
            "provider updates in place"
        )
    ctx.client("organizations").update_policy(
        PolicyId=old.id,
        Name=inputs["name"],
        Description=inputs.get("description", ""),
        Content=_json_text(inputs["content"]),
    )
    return old.outputs


UPDATERS = {
    "aws:organizations/organization:Organization": _update_organization,
    "aws:organizations/policy:Policy": _update_org_policy,
    "aws:iam/role:Role": _update_role,
    "aws:kms/key:Key": _update_key,
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _update_subscription,
}


class EmulatorMocks(RecordingMocks):
    def __init__(self, stack: str, caller: Aws, world: World, step: str = ""):
        super().__init__()
        self.stack = stack
        self.caller = caller
        self.world = world
        self.step = step
        self.deployed = world.state.setdefault(stack, {})
        self.updated: list[Created] = []
        self.sessions: dict[str, Aws] = {}  # provider ID -> the account it deploys into
        self.created: list[Created] = []
        self.failure: RehearsalFailure | None = None
        # The emulator is driven one call at a time, whatever thread a call comes from (the runner
        # answers from one executor thread; the lock does not rely on it).
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        with self._lock:
            if self.failure is not None or not args.custom:
                return super().new_resource(args)
            if args.typ == PROVIDER:
                return self._provider(args)
            return self._resource(args)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list]:
        with self._lock:
            aws = self._session(args.provider)
            if aws is None:
                return super().call(args)
            if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
                zones = aws.client("ec2").describe_availability_zones()["AvailabilityZones"]
                return {
                    "names": [z["ZoneName"] for z in zones],
                    "zoneIds": [z["ZoneId"] for z in zones],
                }, []
            if args.token == "aws:ssoadmin/getInstances:getInstances":
                # ListInstances is empty until Identity Center is enabled (a console step).
                instances = []
                if self.world.identity_center_enabled:
                    instances = aws.client("sso-admin").list_instances()["Instances"]
                return {
                    "arns": [i["InstanceArn"] for i in instances],
                    "identityStoreIds": [i["IdentityStoreId"] for i in instances],
                    "id": aws.session.region_name,
                }, []
            if (
                args.token
                == "aws:organizations/getDelegatedAdministrators:getDelegatedAdministrators"
            ):
                principal = args.args.get("servicePrincipal", "")
                return self._answer(
                    args, lambda: delegated_administrators_data(aws, self.world, principal)
                )
            if args.token == "aws:guardduty/getDetector:getDetector":
                region = args.args.get("region") or None
                return self._answer(args, lambda: detector_data(aws, region))
            if args.token == "aws:organizations/getOrganization:getOrganization":
                # Roots, accounts and trusted services only for the management account or a
                # delegated administrator, as the provider reads them (aws_rules.ORGANIZATION_DATA).
                return organization_data(aws, self.world), []
            if args.token == "aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections":
                filters = [
                    {"Name": f["name"], "Values": list(f["values"])}
                    for f in args.args.get("filters") or []
                ]
                found = aws.client("ec2").describe_vpc_peering_connections(Filters=filters)
                connections = _apply_peering_filters(found["VpcPeeringConnections"], filters)
                return {
                    "ids": [c["VpcPeeringConnectionId"] for c in connections],
                    "id": aws.session.region_name,
                }, []
            return super().call(args)

    def _answer(self, args: pulumi_mocks.MockCallArgs, read) -> tuple[dict, list]:
        """An invoke's answer, or the rehearsal's failure named after it (the provider's data
        source fails the program the same way)."""
        try:
            return read(), []
        except (ClientError, BotoCoreError, RuleViolation) as error:
            self.failure = RehearsalFailure(
                self.stack, args.token, "invoke", _describe(error), self.step
            )
            raise self.failure from None

    # --- providers: the account a stack deploys into ----------------------------------------

    def _provider(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        resource_id, state = super().new_resource(args)
        inputs = {k: _decode(v) for k, v in args.inputs.items()}
        try:
            aws = self.caller
            for assume in inputs.get("assumeRoles") or []:
                arn = assume["roleArn"]
                aws = aws.assume(arn.split(":")[4], arn.rsplit("/", 1)[-1])
            allowed = inputs.get("allowedAccountIds") or []
            if allowed and aws.account_id not in allowed:
                raise ValueError(
                    f"allowed_account_ids: the credentials are for account {aws.account_id}, "
                    f"not {', '.join(allowed)}"
                )
        except (ClientError, BotoCoreError, ValueError) as error:
            self.failure = RehearsalFailure(self.stack, args.typ, args.name, str(error), self.step)
            raise self.failure from None
        self.sessions[resource_id] = aws
        self.world.tag_keys_in_use.update((inputs.get("defaultTags") or {}).get("tags") or {})
        return resource_id, state

    def _session(self, provider_ref: str | None) -> Aws | None:
        if not provider_ref:
            return None
        return self.sessions.get(provider_ref.rsplit("::", 1)[-1])

    # --- resources --------------------------------------------------------------------------

    def _resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        aws = self._session(args.provider)
        account = aws.account_id if aws else "?"
        handler = HANDLERS.get(args.typ)
        if aws is None or handler is None:
            note = NOT_EMULATED.get(args.typ, "no emulator handler for this type")
            self.created.append(Created(args.typ, args.name, account, False, note))
            return super().new_resource(args)
        # Secret inputs arrive wrapped; AWS receives their values.
        inputs = {k: reveal(v) for k, v in args.inputs.items() if k != "__defaults"}
        key = (args.typ, args.name)
        before = self.deployed.get(key)
        ctx = Context(aws, args.name, self.world)
        try:
            if before is None:
                resource_id, outputs = handler(ctx, inputs)
            elif before.inputs == inputs:  # unchanged since the last deploy
                resource_id, outputs = before.id, before.outputs
            else:
                resource_id, outputs = before.id, self._update(ctx, args.typ, before, inputs)
        except NotEmulated as gap:
            self.created.append(Created(args.typ, args.name, account, False, str(gap)))
            return super().new_resource(args)
        except Exception as error:
            self.failure = RehearsalFailure(
                self.stack, args.typ, args.name, _describe(error), self.step
            )
            raise self.failure from None
        self.deployed[key] = Deployed(resource_id, inputs, outputs)
        self.created.append(Created(args.typ, args.name, account, True))
        return resource_id, {**args.inputs, "id": resource_id, **outputs}

    def _update(self, ctx: Context, type_: str, before: Deployed, inputs: dict) -> dict:
        if type_ in UPDATED_BY_HANDLER:
            return HANDLERS[type_](ctx, inputs)[1]
        updater = UPDATERS.get(type_)
        if updater is None:
            changed = sorted(
                k for k in {*before.inputs, *inputs} if before.inputs.get(k) != inputs.get(k)
            )
            raise ValueError(
                f"changing {', '.join(changed)} would replace this resource; the emulator "
                "updates only what the provider updates in place"
            )
        return updater(ctx, before, inputs)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# moto 5 ignores every filter of DescribeVpcPeeringConnections (it lists all connections the
# account sees), so the emulator applies them as AWS does: all filters must match, any value of
# one. Names from the EC2 API reference of DescribeVpcPeeringConnections.
_PEERING_FILTERS = {
    "vpc-peering-connection-id": lambda c: c.get("VpcPeeringConnectionId"),
    "status-code": lambda c: c.get("Status", {}).get("Code"),
    **{
        f"{side}-vpc-info.{name}": lambda c, info=info, key=key: c.get(info, {}).get(key)
        for side, info in (("requester", "RequesterVpcInfo"), ("accepter", "AccepterVpcInfo"))
        for name, key in (("vpc-id", "VpcId"), ("owner-id", "OwnerId"), ("cidr-block", "CidrBlock"))
    },
}


def _apply_peering_filters(
    connections: list[dict[str, Any]], filters: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    for entry in filters:
        read = _PEERING_FILTERS.get(entry["Name"])
        if read is None:
            raise ValueError(f"the emulator does not apply the peering filter {entry['Name']!r}")
        connections = [c for c in connections if read(c) in entry["Values"]]
    return connections


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code')}: {details.get('Message')}"
    if isinstance(error, KeyError):
        return f"missing input {error}"
    return f"{type(error).__name__}: {error}"
