"""Pulumi mocks whose registrations are carried out against the emulated AWS API."""

import json
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pulumi.runtime import mocks as pulumi_mocks

from ..engine.recording import RecordingMocks
from ..ops.aws import Aws
from .handlers import HANDLERS, NOT_EMULATED, Context, NotEmulated

PROVIDER = "pulumi:providers:aws"


@dataclass(frozen=True)
class Created:
    type: str
    name: str
    account: str
    emulated: bool
    note: str = ""


class RehearsalFailure(Exception):
    """The emulated AWS API refused a resource's inputs."""

    def __init__(self, stack: str, type_: str, name: str, error: str):
        self.stack, self.type, self.name, self.error = stack, type_, name, error
        super().__init__(f"stack {stack}: {name} ({type_}) was refused: {error}")


class EmulatorMocks(RecordingMocks):
    def __init__(self, stack: str, caller: Aws):
        super().__init__()
        self.stack = stack
        self.caller = caller
        self.sessions: dict[str, Aws] = {}  # provider ID -> the account it deploys into
        self.created: list[Created] = []
        self.failure: RehearsalFailure | None = None
        # The engine registers from several threads; the emulator is driven one call at a time.
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
                instances = aws.client("sso-admin").list_instances()["Instances"]
                return {
                    "arns": [i["InstanceArn"] for i in instances],
                    "identityStoreIds": [i["IdentityStoreId"] for i in instances],
                    "id": aws.session.region_name,
                }, []
            if args.token == "aws:ec2/getVpcPeeringConnection:getVpcPeeringConnection":
                found = aws.client("ec2").describe_vpc_peering_connections(
                    Filters=[
                        {"Name": "requester-vpc-info.vpc-id", "Values": [args.args["vpcId"]]},
                        {"Name": "accepter-vpc-info.vpc-id", "Values": [args.args["peerVpcId"]]},
                    ]
                )["VpcPeeringConnections"]
                return {"id": found[0]["VpcPeeringConnectionId"]} if found else {}, []
            return super().call(args)

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
            self.failure = RehearsalFailure(self.stack, args.typ, args.name, str(error))
            raise self.failure from None
        self.sessions[resource_id] = aws
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
        inputs = {k: v for k, v in args.inputs.items() if k != "__defaults"}
        try:
            resource_id, outputs = handler(Context(aws, args.name), inputs)
        except NotEmulated as gap:
            self.created.append(Created(args.typ, args.name, account, False, str(gap)))
            return super().new_resource(args)
        except Exception as error:
            self.failure = RehearsalFailure(self.stack, args.typ, args.name, _describe(error))
            raise self.failure from None
        self.created.append(Created(args.typ, args.name, account, True))
        return resource_id, {**args.inputs, "id": resource_id, **outputs}


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
