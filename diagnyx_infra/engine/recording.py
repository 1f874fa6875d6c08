"""A Pulumi mock monitor that records every registration with its options.

Pulumi's ``Mocks.new_resource`` sees only type, name, inputs and provider. The monitor receives the
whole RegisterResource request, so it also records parent, protect, retain-on-delete and
ignore-changes: the options that keep data safe, which the tests assert.
"""

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

PROVIDER_PREFIX = "pulumi:providers:"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    id: str
    custom: bool
    inputs: dict[str, Any]
    state: dict[str, Any]
    parent: str
    provider: str  # "<provider urn>::<provider id>" or "" for components and default providers
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    dependencies: list[str] = field(default_factory=list)
    secret_inputs: list[str] = field(default_factory=list)  # top-level inputs that are secret

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_PREFIX)

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


class RecordingMocks(pulumi_mocks.Mocks):
    """Answers like a freshly created resource: outputs echo inputs, with stable fake IDs.

    A few resource types get the computed outputs the program reads (for example an
    organization's root ID), so outputs derived from them look like the real thing.
    """

    def __init__(self) -> None:
        self.counter = 0
        self.provider_regions: dict[str, str] = {}
        self.provider_accounts: dict[str, str] = {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        self.counter += 1
        resource_id = f"{args.name}-id"
        state = dict(args.inputs)
        state.setdefault("arn", _mock_arn(args))
        computed = _COMPUTED.get(args.typ)
        if computed:
            state.update(computed(args, self.counter))
        if args.typ == "pulumi:providers:aws":
            self.provider_regions[resource_id] = str(args.inputs.get("region", "us-east-1"))
            # Provider inputs reach the mocks as JSON text.
            allowed = json.loads(args.inputs.get("allowedAccountIds") or '["000000000000"]')
            self.provider_accounts[resource_id] = str(allowed[0])
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list | None]:
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            region = self.provider_regions.get(
                (args.provider or "").rsplit("::", 1)[-1], "us-east-1"
            )
            names = [f"{region}{letter}" for letter in "abcdef"]
            return {"names": names, "zoneIds": [f"use1-az{i}" for i in range(1, 7)]}, []
        if args.token == "aws:ssoadmin/getInstances:getInstances":
            return {
                "arns": ["arn:aws:sso:::instance/ssoins-0000000000000000"],
                "identityStoreIds": ["d-0000000000"],
                "id": "us-east-1",
            }, []
        if args.token == "aws:organizations/getDelegatedAdministrators:getDelegatedAdministrators":
            # As once the management stack is deployed: the asking account administers it.
            account = self.provider_accounts.get(
                (args.provider or "").rsplit("::", 1)[-1], "000000000000"
            )
            principal = args.args.get("servicePrincipal", "")
            return {"delegatedAdministrators": [{"id": account}], "id": principal}, []
        if args.token == "aws:guardduty/getDetector:getDetector":
            region = args.args.get("region") or "us-east-1"
            return {"id": f"detector-{region}", "status": "ENABLED"}, []
        if args.token == "aws:organizations/getOrganization:getOrganization":
            return {"id": "o-mock", "roots": [{"id": "r-mock", "name": "Root"}]}, []
        if args.token == "aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections":
            # One pending request from the requester's VPC, as after the requester's deploy.
            requester = _filter_values(args.args, "requester-vpc-info.vpc-id") or ["mock"]
            return {"ids": [f"pcx-{requester[0][-8:]}"], "id": "us-east-1"}, []
        return {}, []


def _filter_values(invoke_args: dict[str, Any], name: str) -> list[str]:
    """The values of the filter ``name`` in an invoke's ``filters`` ([{name, values}])."""
    for entry in invoke_args.get("filters") or []:
        if entry.get("name") == name:
            return list(entry.get("values") or [])
    return []


def _mock_arn(args: pulumi_mocks.MockResourceArgs) -> str:
    """An ARN shaped like the real one for the resource's service, so policies built from it can
    be checked (``aws:s3/bucket:Bucket`` -> ``arn:aws:s3:::<bucket>``)."""
    service = args.typ.split(":")[1].split("/")[0] if args.typ.startswith("aws:") else "mock"
    name = args.inputs.get("name", args.name)
    if service == "s3":
        return f"arn:aws:s3:::{args.inputs.get('bucket', args.name)}"
    if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        host = str(args.inputs.get("url", "")).removeprefix("https://")
        return f"arn:aws:iam::000000000000:oidc-provider/{host}"
    if service == "iam":  # IAM is global: no region in its ARNs
        kind = args.typ.rsplit(":", 1)[1].lower()
        return f"arn:aws:iam::000000000000:{kind}/{name}"
    return f"arn:aws:{service}:us-east-1:000000000000:{name}"


def _kms_key_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    key_id = f"00000000-0000-0000-0000-{n:012d}"
    return {"keyId": key_id, "arn": f"arn:aws:kms:us-east-1:000000000000:key/{key_id}"}


def _ecr_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {"repositoryUrl": f"000000000000.dkr.ecr.us-east-1.amazonaws.com/{args.inputs['name']}"}


def _zone_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {
        "zoneId": f"Z{n:020d}",
        "nameServers": [f"ns-{n}-{i}.awsdns-mock.net" for i in range(4)],
    }


def _record_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {"fqdn": str(args.inputs.get("name", "")).rstrip(".")}


def _certificate_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    names = [args.inputs["domainName"], *args.inputs.get("subjectAlternativeNames", [])]
    apex = args.inputs["domainName"].removeprefix("*.")
    return {
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_mock{n}.{apex}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_mock{n}.acm-validations.aws.",
            }
            for domain in names
        ]
    }


def _group_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {"groupId": f"00000000-0000-0000-0000-{n:012d}"}


def _vpc_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {"defaultSecurityGroupId": f"sg-{n:08x}"}


def _organization_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {
        "roots": [
            {"id": "r-mock", "arn": "arn:aws:organizations::111111111111:root/o-mock/r-mock"}
        ],
        "masterAccountId": "111111111111",
    }


def _ou_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {"arn": f"arn:aws:organizations::111111111111:ou/o-mock/ou-mock-{n:08d}"}


def _account_outputs(args: pulumi_mocks.MockResourceArgs, n: int) -> dict[str, Any]:
    return {"arn": f"arn:aws:organizations::111111111111:account/o-mock/{n:012d}"}


_COMPUTED = {
    "aws:route53/zone:Zone": _zone_outputs,
    "aws:route53/record:Record": _record_outputs,
    "aws:acm/certificate:Certificate": _certificate_outputs,
    "aws:ec2/vpc:Vpc": _vpc_outputs,
    "aws:identitystore/group:Group": _group_outputs,
    "aws:kms/key:Key": _kms_key_outputs,
    "aws:ecr/repository:Repository": _ecr_outputs,
    "aws:organizations/organization:Organization": _organization_outputs,
    "aws:organizations/organizationalUnit:OrganizationalUnit": _ou_outputs,
    "aws:organizations/account:Account": _account_outputs,
}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        raw_inputs = rpc.deserialize_properties(request.object, keep_unknowns=False)
        inputs = {key: reveal(value) for key, value in raw_inputs.items()}
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                id=registration.id or "",
                custom=bool(request.custom),
                inputs=_decode_provider_inputs(request.type, inputs),
                state=dict(registration.state),
                parent=request.parent,
                provider=request.provider,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
                dependencies=list(request.dependencies),
                secret_inputs=sorted(k for k, v in raw_inputs.items() if _is_secret(v)),
            )
        )
        return response


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def reveal(value: Any) -> Any:
    """Unwrap secret markers so tests can read the value; ``secret_inputs`` keeps the fact."""
    if _is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _decode_provider_inputs(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Provider inputs reach the engine JSON-encoded; decode them for readers
    (docs/design.md#how-the-tests-see-the-program-pulumi-mocks)."""
    if not type_.startswith(PROVIDER_PREFIX):
        return inputs
    decoded = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        decoded[key] = value
    return decoded
