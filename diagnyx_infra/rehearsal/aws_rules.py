"""Rules real AWS enforces that moto does not, enforced by the rehearsal's handlers.

Each rule cites its source. A handler raising `RuleViolation` fails the rehearsal with the step,
the resource and the rule; tests reintroduce each mistake and expect that failure.
"""

import json
from typing import Any

from ..policies.audit import trail_arn
from ..policies.evaluation import Request, decision
from .handlers import Context, Outputs, _json
from .moto_gaps import CLOUDTRAIL


class RuleViolation(Exception):
    """Real AWS would refuse this call; ``rule`` names the rule and where it is written."""

    def __init__(self, code: str, message: str, rule: str):
        self.code, self.rule = code, rule
        super().__init__(f"{code}: {message} [rule: {rule}]")


TRAIL_OWNERSHIP = (
    "an organization trail is owned by the management account; CreateTrail checks the bucket and "
    'key policies against that ARN (CloudTrail User Guide, "Prepare for creating a trail for '
    'your organization": "The trail ARN must use the account ID of the management account")'
)
DELEGATED_ADMIN = (
    "only the management account or CloudTrail's registered delegated administrator creates an "
    'organization trail (CloudTrail User Guide, "Organization delegated administrator")'
)
ONE_SERVICES_MONITOR = (
    "one AWS-services (DIMENSIONAL/SERVICE) anomaly monitor per account; AWS creates "
    "Default-Services-Monitor when Cost Explorer is enabled (Cost Management User Guide)"
)
MONITOR_READ_BACK = (
    "the provider reads a CUSTOM monitor's specification back with every Expression member "
    "(nulls included), compares JSON strictly and replaces the monitor on a difference "
    "(terraform-provider-aws internal/service/ce/anomaly_monitor.go, internal/verify/json.go; "
    "issue #39885)"
)
SUBSCRIPTION_MONITORS = "an anomaly subscription may name only existing monitors (CE API reference)"
COST_EXPLORER_ENABLED = "Cost Explorer APIs answer only once Cost Explorer is enabled (console)"
TAG_KEYS_SEEN = (
    "a cost allocation tag can be activated only once its key appears in billing data, up to "
    "24 hours after first use (UpdateCostAllocationTagsStatus; terraform-provider-aws #29068)"
)
DNS_VALIDATION = (
    "ACM issues a DNS-validated certificate only once public DNS resolves the validation record "
    "through the registrar's delegation (ACM User Guide, DNS validation)"
)


# --- CloudTrail ----------------------------------------------------------------------------


def cloudtrail_delegated_admin(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """RegisterOrganizationDelegatedAdmin: from the management account, with CloudTrail's
    trusted access enabled."""
    world = ctx.world
    if ctx.aws.account_id != world.management.account_id:
        raise RuleViolation(
            "NotOrganizationManagementAccountException",
            "only the management account registers CloudTrail's delegated administrator",
            DELEGATED_ADMIN,
        )
    trusted = ctx.client("organizations").list_aws_service_access_for_organization()
    if CLOUDTRAIL not in {p["ServicePrincipal"] for p in trusted["EnabledServicePrincipals"]}:
        raise RuleViolation(
            "CloudTrailAccessNotEnabledException",
            "trusted access for CloudTrail is not enabled in the organization",
            DELEGATED_ADMIN,
        )
    # As AWS does, an Organizations delegated administrator for CloudTrail (moto_gaps.py).
    ctx.client("organizations").register_delegated_administrator(
        AccountId=i["accountId"], ServicePrincipal=CLOUDTRAIL
    )
    world.cloudtrail_administrators.add(i["accountId"])
    return i["accountId"], {"servicePrincipal": CLOUDTRAIL}


def trail(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """CreateTrail. An organization trail from a delegated administrator is created in (and
    owned by) the management account, after CloudTrail checked the bucket and key policies
    against the management-owned ARN."""
    if not i.get("isOrganizationTrail"):
        return _create_trail(ctx.client("cloudtrail"), i)
    world = ctx.world
    caller = ctx.aws.account_id
    management = world.management.account_id
    if caller != management and caller not in world.cloudtrail_administrators:
        raise RuleViolation(
            "NotOrganizationMasterAccountException",
            f"account {caller} is neither the management account nor CloudTrail's delegated "
            "administrator",
            DELEGATED_ADMIN,
        )
    arn = trail_arn(ctx.aws.session.region_name, management, i["name"])
    organization_id = world.management.client("organizations").describe_organization()[
        "Organization"
    ]["Id"]
    bucket = i["s3BucketName"]
    bucket_policy = ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    # What CloudTrail's delivery requests carry (CloudTrail User Guide, "Amazon S3 bucket policy
    # for CloudTrail" and "Configure AWS KMS key policies for CloudTrail").
    context = {
        "aws:sourcearn": arn,
        "aws:sourceaccount": management,
        "aws:securetransport": "true",
    }
    deliveries = [
        Request("s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", CLOUDTRAIL, context=context),
        *(
            Request(
                "s3:PutObject",
                f"arn:aws:s3:::{bucket}/AWSLogs/{path}/CloudTrail/us-east-1/log.json.gz",
                CLOUDTRAIL,
                context={**context, "s3:x-amz-acl": "bucket-owner-full-control"},
            )
            # An organization trail writes each member's logs under the organization's ID
            # and the management account's own under its account ID.
            for path in (management, f"{organization_id}/{management}")
        ),
    ]
    _require_cloudtrail(
        bucket_policy, deliveries, "InsufficientS3BucketPolicyException", f"bucket {bucket}", arn
    )
    if i.get("kmsKeyId"):
        key_policy = ctx.client("kms").get_key_policy(KeyId=i["kmsKeyId"], PolicyName="default")[
            "Policy"
        ]
        uses = [
            Request(
                "kms:GenerateDataKey",
                i["kmsKeyId"],
                CLOUDTRAIL,
                context={**context, "kms:encryptioncontext:aws:cloudtrail:arn": arn},
            ),
            Request("kms:DescribeKey", i["kmsKeyId"], CLOUDTRAIL, context=context),
        ]
        _require_cloudtrail(
            key_policy, uses, "InsufficientEncryptionPolicyException", f"key {i['kmsKeyId']}", arn
        )
    trail_id, outputs = _create_trail(world.management.client("cloudtrail"), i)
    if trail_id != arn:
        raise AssertionError(f"the emulator created {trail_id}, expected {arn}")
    return trail_id, outputs


def _require_cloudtrail(
    policy: str, requests: list[Request], code: str, resource: str, trail: str
) -> None:
    for request in requests:
        if decision(policy, request) != "Allow":
            raise RuleViolation(
                code,
                f"the policy of {resource} does not let CloudTrail {request.action} "
                f"{request.resource} for {trail}",
                TRAIL_OWNERSHIP,
            )


def _create_trail(cloudtrail: Any, i: dict) -> tuple[str, Outputs]:
    created = cloudtrail.create_trail(
        Name=i["name"],
        S3BucketName=i["s3BucketName"],
        KmsKeyId=i.get("kmsKeyId"),
        IsOrganizationTrail=bool(i.get("isOrganizationTrail")),
        IsMultiRegionTrail=bool(i.get("isMultiRegionTrail")),
        IncludeGlobalServiceEvents=i.get("includeGlobalServiceEvents", True),
        EnableLogFileValidation=bool(i.get("enableLogFileValidation")),
    )
    if i.get("enableLogging", True):
        cloudtrail.start_logging(Name=created["TrailARN"])
    return created["TrailARN"], {"arn": created["TrailARN"]}


# --- IAM -----------------------------------------------------------------------------------

ROLE_PRINCIPALS_EXIST = (
    "a trust policy may name a role principal only if the role exists: IAM stores its unique ID "
    '(IAM User Guide, "AWS JSON policy elements: Principal", IAM role principals)'
)
PERMISSIONS_BOUNDARY_EXISTS = (
    "a permissions boundary must be an existing managed policy (CreateRole, PermissionsBoundary)"
)


def role(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """CreateRole: moto accepts a trust policy naming a role that does not exist, and a boundary
    that does not exist; IAM refuses both."""
    from .handlers import iam_role

    trust = json.loads(_json(i["assumeRolePolicy"]))
    for statement in trust.get("Statement", []):
        principal = statement.get("Principal")
        entries = principal.get("AWS", []) if isinstance(principal, dict) else []
        for arn in [entries] if isinstance(entries, str) else entries:
            if ":role/" in arn and not _role_exists(ctx, arn):
                raise RuleViolation(
                    "MalformedPolicyDocument",
                    f"Invalid principal in policy: {arn} does not exist",
                    ROLE_PRINCIPALS_EXIST,
                )
    boundary = i.get("permissionsBoundary")
    if boundary:
        try:
            ctx.client("iam").get_policy(PolicyArn=boundary)
        except ctx.client("iam").exceptions.NoSuchEntityException:
            raise RuleViolation(
                "NoSuchEntity",
                f"permissions boundary {boundary} does not exist",
                PERMISSIONS_BOUNDARY_EXISTS,
            ) from None
    return iam_role(ctx, i)


def _role_exists(ctx: Context, arn: str) -> bool:
    account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
    session = ctx.aws if account == ctx.aws.account_id else ctx.world.management.assume(account)
    try:
        session.client("iam").get_role(RoleName=name)
    except session.client("iam").exceptions.NoSuchEntityException:
        return False
    return True


# --- Cost Explorer -------------------------------------------------------------------------


def _require_cost_explorer(ctx: Context) -> None:
    if not ctx.world.cost_explorer_enabled:
        raise RuleViolation(
            "AccessDeniedException",
            "Cost Explorer is not enabled for this account",
            COST_EXPLORER_ENABLED,
        )


def read_back_specification(specification: str) -> dict:
    """A CUSTOM monitor's specification as the provider stores it after reading it back."""
    given = json.loads(specification)
    expression = dict.fromkeys(("And", "CostCategories", "Dimensions", "Not", "Or", "Tags"))
    expression.update(given)
    if isinstance(expression.get("Dimensions"), dict):
        expression["Dimensions"] = {"Key": None, "MatchOptions": None, "Values": None} | dict(
            expression["Dimensions"]
        )
    return expression


def anomaly_monitor(ctx: Context, i: dict) -> tuple[str, Outputs]:
    _require_cost_explorer(ctx)
    world = ctx.world
    if i["monitorType"] == "DIMENSIONAL":
        if any(m["type"] == "DIMENSIONAL" for m in world.anomaly_monitors.values()):
            raise RuleViolation(
                "ValidationException",
                "Limit exceeded on dimensional spend monitor creation",
                ONE_SERVICES_MONITOR,
            )
    else:
        given = json.loads(_json(i["monitorSpecification"]))
        read_back = read_back_specification(_json(i["monitorSpecification"]))
        if given != read_back:
            raise RuleViolation(
                "ReplacementOnEveryUpdate",
                f"monitorSpecification {json.dumps(given)} reads back as "
                f"{json.dumps(read_back, sort_keys=True)}; every `pulumi up` would replace it",
                MONITOR_READ_BACK,
            )
    arn = world.monitor_arn()
    world.anomaly_monitors[arn] = {
        "name": i["name"],
        "type": i["monitorType"],
        "dimension": i.get("monitorDimension"),
    }
    return arn, {"arn": arn}


def anomaly_subscription(ctx: Context, i: dict) -> tuple[str, Outputs]:
    _require_cost_explorer(ctx)
    unknown = [arn for arn in i["monitorArnLists"] if arn not in ctx.world.anomaly_monitors]
    if unknown:
        raise RuleViolation(
            "UnknownMonitorException",
            f"no anomaly monitor {', '.join(unknown)}",
            SUBSCRIPTION_MONITORS,
        )
    arn = f"arn:aws:ce::{ctx.aws.account_id}:anomalysubscription/{ctx.name}"
    return arn, {"arn": arn}


def cost_allocation_tag(ctx: Context, i: dict) -> tuple[str, Outputs]:
    _require_cost_explorer(ctx)
    if i["tagKey"] not in ctx.world.billing_tag_keys:
        raise RuleViolation(
            "ValidationException",
            f"tag key {i['tagKey']} not found in billing data",
            TAG_KEYS_SEEN,
        )
    ctx.world.active_cost_tags.add(i["tagKey"])
    return i["tagKey"], {"type": "UserDefined"}


# --- Route 53 and ACM ----------------------------------------------------------------------


def delegation_set(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("route53").create_reusable_delegation_set(
        CallerReference=f"{i.get('referenceName', 'diagnyx')}-{ctx.name}"
    )["DelegationSet"]
    set_id = created["Id"].rsplit("/", 1)[-1]
    return set_id, {
        "nameServers": created["NameServers"],
        "arn": f"arn:aws:route53:::delegationset/{set_id}",
    }


def hosted_zone(ctx: Context, i: dict) -> tuple[str, Outputs]:
    params: dict[str, Any] = {
        "Name": i["name"],
        "CallerReference": f"diagnyx-{ctx.name}",
        "HostedZoneConfig": {"Comment": i.get("comment", ""), "PrivateZone": False},
    }
    if i.get("delegationSetId"):
        params["DelegationSetId"] = i["delegationSetId"]
    created = ctx.client("route53").create_hosted_zone(**params)
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    return zone_id, {
        "zoneId": zone_id,
        "nameServers": created["DelegationSet"]["NameServers"],
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
    }


def certificate_validation(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """Beyond the record existing in a zone of this account (handlers.certificate_validation),
    public DNS must reach that zone: the registrar of the parent domain must delegate to the
    parent zone's name servers."""
    from .handlers import certificate_validation as records_exist

    certificate = ctx.client("acm").describe_certificate(CertificateArn=i["certificateArn"])
    domain = certificate["Certificate"]["DomainName"].removeprefix("*.")
    registered = [d for d in ctx.world.registrar if domain == d or domain.endswith("." + d)]
    if not registered:
        raise RuleViolation(
            "ValidationTimedOut",
            f"no registrar delegates a parent of {domain}: validation would wait 75 minutes "
            "and fail",
            DNS_VALIDATION,
        )
    parent = registered[0]
    route53 = ctx.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=parent)["HostedZones"]
    zone = next((z for z in zones if z["Name"].rstrip(".") == parent), None)
    served = set()
    if zone is not None:
        served = {
            n.lower()
            for n in route53.get_hosted_zone(Id=zone["Id"])["DelegationSet"]["NameServers"]
        }
    delegated = set(ctx.world.delegated_name_servers(parent) or [])
    if not delegated or delegated != served:
        raise RuleViolation(
            "ValidationTimedOut",
            f"the registrar delegates {parent} to {', '.join(sorted(delegated))}, not to its "
            f"zone's name servers ({', '.join(sorted(served)) or 'no zone'}): validation of "
            f"{domain} would wait 75 minutes and fail",
            DNS_VALIDATION,
        )
    return records_exist(ctx, i)


RULE_HANDLERS = {
    "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount": (
        cloudtrail_delegated_admin
    ),
    "aws:cloudtrail/trail:Trail": trail,
    "aws:iam/role:Role": role,
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": anomaly_monitor,
    "aws:costexplorer/anomalySubscription:AnomalySubscription": anomaly_subscription,
    "aws:costexplorer/costAllocationTag:CostAllocationTag": cost_allocation_tag,
    "aws:route53/delegationSet:DelegationSet": delegation_set,
    "aws:route53/zone:Zone": hosted_zone,
    "aws:acm/certificateValidation:CertificateValidation": certificate_validation,
}
