"""Rules real AWS enforces that moto does not, enforced by the rehearsal's handlers.

Each rule cites its source. A handler raising `RuleViolation` fails the rehearsal with the step,
the resource and the rule; tests reintroduce each mistake and expect that failure.
"""

import json
from typing import Any

from botocore.exceptions import ClientError

from ..ops.aws import Aws, every
from ..policies.audit import trail_arn
from ..policies.evaluation import Request, decision
from .handlers import Context, Outputs, _json, not_emulated
from .moto_gaps import CLOUDTRAIL, CONFIG


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


# --- Security services: trusted access, delegated administrators, delivery policies ----------

ACCESS_ANALYZER = "access-analyzer.amazonaws.com"
GUARDDUTY = "guardduty.amazonaws.com"
SECURITY_HUB = "securityhub.amazonaws.com"

REGISTER_ADMINISTRATOR = (
    "RegisterDelegatedAdministrator is called from the management account, for a service whose "
    "trusted access is enabled: otherwise InvalidInputException, unrecognized service principal "
    "(Organizations API Reference, RegisterDelegatedAdministrator; AWS re:Post Knowledge Center, "
    "config-organizations-admin: the error means trusted access is not turned on)"
)
ORGANIZATION_ANALYZER = (
    "an analyzer with the organization as its zone of trust is created by the management account "
    "or, through the API, by a member account only once trusted access for IAM Access Analyzer is "
    "enabled and the account is registered as its delegated administrator (IAM User Guide, "
    '"Add a delegated administrator for IAM Access Analyzer")'
)
ORGANIZATION_AGGREGATOR = (
    "an organization aggregator needs trusted access for config.amazonaws.com and, outside the "
    "management account, a delegated administrator registered for config.amazonaws.com first "
    "(AWS Config API Reference, PutConfigurationAggregator, OrganizationAccessDeniedException; "
    'AWS Config Developer Guide, "Registering a Delegated Administrator")'
)
ADMIN_FROM_MANAGEMENT = (
    "only the organization's management account designates GuardDuty's or Security Hub's "
    "delegated administrator, a member of the organization; designating it enables the service's "
    "trusted access (GuardDuty API Reference and Security Hub API Reference, "
    'EnableOrganizationAdminAccount; GuardDuty User Guide, "Permissions required to designate a '
    'delegated GuardDuty administrator account"; Security Hub User Guide, "Integrating Security '
    'Hub CSPM with AWS Organizations")'
)
SERVICE_ON_IN_ADMIN = (
    "designating GuardDuty's or Security Hub's delegated administrator also turns the service on "
    'in that account in the current Region (GuardDuty User Guide, "Permissions required to '
    'designate a delegated GuardDuty administrator account": "It also enables GuardDuty for the '
    'delegated GuardDuty administrator account"; Security Hub User Guide, "Integrating Security '
    'Hub CSPM with AWS Organizations": "It also enables Security Hub CSPM in the current AWS '
    'Region for the delegated administrator account")'
)
ONE_DETECTOR = (
    "one GuardDuty detector per account and Region: CreateDetector refuses a second "
    '("a detector already exists for the current account"; GuardDuty API Reference, '
    "CreateDetector; terraform-provider-aws #11780); " + SERVICE_ON_IN_ADMIN
)
ONE_HUB = (
    "EnableSecurityHub refuses an account already subscribed in that Region "
    "(Security Hub API Reference, EnableSecurityHub: ResourceConflictException; "
    "terraform-provider-aws internal/service/securityhub/account.go calls it unconditionally); "
    + SERVICE_ON_IN_ADMIN
)
GUARDDUTY_ORGANIZATION = (
    "GuardDuty's organization configuration is set by the delegated administrator designated in "
    "that Region, through its own detector there (GuardDuty API Reference, "
    'UpdateOrganizationConfiguration; GuardDuty User Guide, "Managing GuardDuty accounts with AWS '
    'Organizations")'
)
CONFIG_DELIVERY = (
    "AWS Config delivers as config.amazonaws.com when it records through its service-linked "
    "role or into another account's bucket: PutDeliveryChannel needs the bucket to exist and its "
    "policy to let config.amazonaws.com GetBucketAcl, ListBucket and PutObject "
    "(bucket-owner-full-control) under <prefix>/AWSLogs/<account>/Config/ for the recording "
    "account (AWS Config API Reference, PutDeliveryChannel: NoSuchBucketException, "
    "InsufficientDeliveryPolicyException; AWS Config Developer Guide, "
    '"Permissions for the Amazon S3 Bucket for the AWS Config Delivery Channel")'
)
GUARDDUTY_EXPORT = (
    "GuardDuty exports findings only to an existing bucket whose policy lets "
    "guardduty.amazonaws.com GetBucketLocation and PutObject under the destination's prefix, "
    "encrypted with a KMS key whose policy lets it GenerateDataKey (GuardDuty API Reference, "
    "CreatePublishingDestination; GuardDuty User Guide, "
    '"Exporting generated GuardDuty findings to Amazon S3 buckets")'
)
HOME_REGION = (
    "Security Hub's central configuration needs the delegated administrator's home Region (its "
    "finding aggregator) first, and configuration policies are created only there, once central "
    'configuration is on (Security Hub User Guide, "Enabling central configuration": '
    'prerequisites; "Impact of central configuration on cross-Region aggregation")'
)
HUB_ENABLED = (
    "Security Hub's APIs answer in an account and Region only once Security Hub is enabled there "
    "(Security Hub API Reference, InvalidAccessException)"
)
ORGANIZATION_DATA = (
    "getOrganization returns the organization's roots, accounts and trusted services only to the "
    "management account or a delegated administrator: others get an empty list "
    "(terraform-provider-aws internal/service/organizations/organization_data_source.go; "
    "Organizations API Reference, ListAccounts, ListRoots)"
)


def _region(ctx: Context, i: dict) -> str:
    return i.get("region") or ctx.aws.session.region_name


def _trusted_services(world: Any) -> set[str]:
    organizations = world.management.client("organizations")
    enabled = organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    return {p["ServicePrincipal"] for p in enabled}


def _delegated_administrators(world: Any, principal: str | None = None) -> set[str]:
    organizations = world.management.client("organizations")
    params = {"ServicePrincipal": principal} if principal else {}
    admins = every(
        organizations, "list_delegated_administrators", "DelegatedAdministrators", **params
    )
    return {a["Id"] for a in admins}


def _require_organization_administrator(ctx: Context, principal: str, code: str, rule: str) -> None:
    """Trusted access for ``principal`` enabled, and the caller the management account or
    ``principal``'s registered delegated administrator."""
    world = ctx.world
    if principal not in _trusted_services(world):
        raise RuleViolation(
            code, f"trusted access for {principal} is not enabled in the organization", rule
        )
    caller = ctx.aws.account_id
    if caller != world.management.account_id and caller not in _delegated_administrators(
        world, principal
    ):
        raise RuleViolation(
            code,
            f"account {caller} is neither the management account nor a delegated administrator "
            f"registered for {principal}",
            rule,
        )


def delegated_administrator(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """RegisterDelegatedAdministrator: from the management account, for a service whose trusted
    access is enabled."""
    world, principal = ctx.world, i["servicePrincipal"]
    if ctx.aws.account_id != world.management.account_id:
        raise RuleViolation(
            "AccessDeniedException",
            f"account {ctx.aws.account_id} is not the organization's management account",
            REGISTER_ADMINISTRATOR,
        )
    if principal not in _trusted_services(world):
        raise RuleViolation(
            "InvalidInputException",
            f"You specified an unrecognized service principal: trusted access for {principal} "
            "is not enabled in the organization",
            REGISTER_ADMINISTRATOR,
        )
    organizations = ctx.client("organizations")
    organizations.register_delegated_administrator(
        AccountId=i["accountId"], ServicePrincipal=principal
    )
    account = organizations.describe_account(AccountId=i["accountId"])["Account"]
    return f"{i['accountId']}/{principal}", {
        "arn": account["Arn"],
        "email": account["Email"],
        "name": account["Name"],
        "status": account["Status"],
    }


def access_analyzer(ctx: Context, i: dict) -> tuple[str, Outputs]:
    if i.get("type", "ACCOUNT").startswith("ORGANIZATION"):
        _require_organization_administrator(
            ctx, ACCESS_ANALYZER, "AccessDeniedException", ORGANIZATION_ANALYZER
        )
    raise not_emulated("aws:accessanalyzer/analyzer:Analyzer")


def config_aggregator(ctx: Context, i: dict) -> tuple[str, Outputs]:
    params: dict[str, Any] = {"ConfigurationAggregatorName": i["name"]}
    source = i.get("organizationAggregationSource")
    if source:
        _require_organization_administrator(
            ctx, CONFIG, "OrganizationAccessDeniedException", ORGANIZATION_AGGREGATOR
        )
        params["OrganizationAggregationSource"] = {
            "RoleArn": source["roleArn"],
            "AwsRegions": list(source.get("regions") or []),
            "AllAwsRegions": bool(source.get("allRegions")),
        }
    accounts = i.get("accountAggregationSource")
    if accounts:
        params["AccountAggregationSources"] = [
            {
                "AccountIds": list(accounts["accountIds"]),
                "AwsRegions": list(accounts.get("regions") or []),
                "AllAwsRegions": bool(accounts.get("allRegions")),
            }
        ]
    created = ctx.regional("config", i).put_configuration_aggregator(**params)
    arn = created["ConfigurationAggregator"]["ConfigurationAggregatorArn"]
    return i["name"], {"arn": arn}


def _require_management_designates(ctx: Context, admin_account_id: str, code: str) -> None:
    world = ctx.world
    if ctx.aws.account_id != world.management.account_id:
        raise RuleViolation(
            code,
            f"account {ctx.aws.account_id} is not the organization's management account",
            ADMIN_FROM_MANAGEMENT,
        )
    try:
        world.management.client("organizations").describe_account(AccountId=admin_account_id)
    except ClientError:
        raise RuleViolation(
            code,
            f"account {admin_account_id} is not a member of the organization",
            ADMIN_FROM_MANAGEMENT,
        ) from None


def _designated(ctx: Context, admin: str, principal: str) -> Aws:
    """What designating ``admin`` does beyond the service's own record (ADMIN_FROM_MANAGEMENT):
    the service's trusted access enabled, ``admin`` registered as the organization's delegated
    administrator for it; returns ``admin``'s session, where the service is then on."""
    organizations = ctx.world.management.client("organizations")
    organizations.enable_aws_service_access(ServicePrincipal=principal)
    if admin not in _delegated_administrators(ctx.world, principal):
        organizations.register_delegated_administrator(AccountId=admin, ServicePrincipal=principal)
    return ctx.world.management.assume(admin)


def guardduty_admin(ctx: Context, i: dict) -> tuple[str, Outputs]:
    admin = i["adminAccountId"]
    _require_management_designates(ctx, admin, "BadRequestException")
    ctx.regional("guardduty", i).enable_organization_admin_account(AdminAccountId=admin)
    # GuardDuty is enabled in the administrator account, in this Region (SERVICE_ON_IN_ADMIN).
    detectors = _designated(ctx, admin, GUARDDUTY).client("guardduty", _region(ctx, i))
    if not detectors.list_detectors()["DetectorIds"]:
        detectors.create_detector(Enable=True)
    return admin, {}


def security_hub_admin(ctx: Context, i: dict) -> tuple[str, Outputs]:
    admin = i["adminAccountId"]
    _require_management_designates(ctx, admin, "AccessDeniedException")
    ctx.regional("securityhub", i).enable_organization_admin_account(AdminAccountId=admin)
    # Security Hub is enabled in the administrator account, in this Region (SERVICE_ON_IN_ADMIN).
    hub = _designated(ctx, admin, SECURITY_HUB).client("securityhub", _region(ctx, i))
    try:
        hub.describe_hub()
    except ClientError:
        hub.enable_security_hub(EnableDefaultStandards=False)
    return admin, {}


def guardduty_detector(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """CreateDetector: one detector per account and Region; the delegated administrator's was
    made when it was designated."""
    from .handlers import guardduty_detector as create_detector

    existing = ctx.regional("guardduty", i).list_detectors()["DetectorIds"]
    if existing:
        raise RuleViolation(
            "BadRequestException",
            "The request is rejected because a detector already exists for the current account "
            f"({ctx.aws.account_id}, {_region(ctx, i)}: {', '.join(existing)})",
            ONE_DETECTOR,
        )
    return create_detector(ctx, i)


def security_hub_account(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """EnableSecurityHub refuses an account and Region where Security Hub is on, as it is in the
    delegated administrator's once designated."""
    from .handlers import security_hub_account as enable_security_hub

    try:
        ctx.regional("securityhub", i).describe_hub()
    except ClientError:
        return enable_security_hub(ctx, i)
    raise RuleViolation(
        "ResourceConflictException",
        f"Account {ctx.aws.account_id} is already subscribed to Security Hub in {_region(ctx, i)}",
        ONE_HUB,
    )


def _require_guardduty_administrator(ctx: Context, i: dict) -> None:
    region = _region(ctx, i)
    admins = ctx.world.management.client("guardduty", region).list_organization_admin_accounts()
    if ctx.aws.account_id not in {a["AdminAccountId"] for a in admins.get("AdminAccounts", [])}:
        raise RuleViolation(
            "BadRequestException",
            f"account {ctx.aws.account_id} is not GuardDuty's delegated administrator in {region}",
            GUARDDUTY_ORGANIZATION,
        )
    try:
        ctx.regional("guardduty", i).get_detector(DetectorId=i["detectorId"])
    except ClientError:
        raise RuleViolation(
            "BadRequestException",
            f"no detector {i['detectorId']} of account {ctx.aws.account_id} in {region}",
            GUARDDUTY_ORGANIZATION,
        ) from None


def _member_sessions(ctx: Context) -> list[tuple[str, Aws]]:
    """Every member account of the organization (the management account left out), with a
    session in it."""
    management = ctx.world.management
    accounts = every(management.client("organizations"), "list_accounts", "Accounts")
    return [
        (a["Id"], management.assume(a["Id"])) for a in accounts if a["Id"] != management.account_id
    ]


def guardduty_organization_configuration(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """moto has no UpdateOrganizationConfiguration; its effect is emulated here as AWS documents
    it: with AutoEnableOrganizationMembers ALL, GuardDuty is turned on for every member account
    of the organization in the Region, existing ones included (GuardDuty API Reference,
    UpdateOrganizationConfiguration; GuardDuty User Guide, "Auto-enable GuardDuty for all member
    accounts")."""
    _require_guardduty_administrator(ctx, i)
    region = _region(ctx, i)
    if i.get("autoEnableOrganizationMembers") == "ALL":
        for _, member in _member_sessions(ctx):
            guardduty = member.client("guardduty", region)
            if not guardduty.list_detectors()["DetectorIds"]:
                guardduty.create_detector(Enable=True)
    return f"{i['detectorId']}:{region}", {}


def guardduty_organization_feature(ctx: Context, i: dict) -> tuple[str, Outputs]:
    _require_guardduty_administrator(ctx, i)
    raise not_emulated(
        "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature"
    )


def _bucket_policy(ctx: Context, bucket: str, code: str, rule: str) -> str:
    """The bucket's policy, read as the service that delivers to it does."""
    try:
        return ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        found = error.response.get("Error", {}).get("Code")
        if found == "NoSuchBucket":
            raise RuleViolation(
                "NoSuchBucketException", f"bucket {bucket} does not exist", rule
            ) from None
        if found == "NoSuchBucketPolicy":
            raise RuleViolation(code, f"bucket {bucket} has no policy", rule) from None
        raise


def _require_allowed(policy: str, requests: list[Request], code: str, what: str, rule: str):
    for request in requests:
        if decision(policy, request) != "Allow":
            raise RuleViolation(
                code,
                f"the policy of {what} does not let {request.service} {request.action} "
                f"{request.resource} for account {request.context.get('aws:sourceaccount')}",
                rule,
            )


def config_delivery_channel(ctx: Context, i: dict) -> tuple[str, Outputs]:
    bucket, prefix = i["s3BucketName"], (i.get("s3KeyPrefix") or "").strip("/")
    account, region = ctx.aws.account_id, _region(ctx, i)
    code = "InsufficientDeliveryPolicyException"
    policy = _bucket_policy(ctx, bucket, code, CONFIG_DELIVERY)
    context = {"aws:sourceaccount": account, "aws:securetransport": "true"}
    key = "/".join(filter(None, [prefix, "AWSLogs", account, "Config", region, "snapshot.json.gz"]))
    requests = [
        Request("s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", CONFIG, context=context),
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", CONFIG, context=context),
        Request(
            "s3:PutObject",
            f"arn:aws:s3:::{bucket}/{key}",
            CONFIG,
            context={**context, "s3:x-amz-acl": "bucket-owner-full-control"},
        ),
    ]
    _require_allowed(policy, requests, code, f"bucket {bucket}", CONFIG_DELIVERY)
    channel: dict[str, Any] = {"name": i["name"], "s3BucketName": bucket}
    for prop, key_name in (
        ("s3KeyPrefix", "s3KeyPrefix"),
        ("s3KmsKeyArn", "s3KmsKeyArn"),
        ("snsTopicArn", "snsTopicARN"),
    ):
        if i.get(prop):
            channel[key_name] = i[prop]
    ctx.regional("config", i).put_delivery_channel(DeliveryChannel=channel)
    return i["name"], {}


def guardduty_publishing_destination(ctx: Context, i: dict) -> tuple[str, Outputs]:
    account, region = ctx.aws.account_id, _region(ctx, i)
    detector = i["detectorId"]
    ctx.regional("guardduty", i).get_detector(DetectorId=detector)
    destination = i["destinationArn"]
    bucket = destination.removeprefix("arn:aws:s3:::").split("/", 1)[0]
    code = "BadRequestException"
    policy = _bucket_policy(ctx, bucket, code, GUARDDUTY_EXPORT)
    context = {
        "aws:sourceaccount": account,
        "aws:sourcearn": f"arn:aws:guardduty:{region}:{account}:detector/{detector}",
        "aws:securetransport": "true",
    }
    requests = [
        Request("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}", GUARDDUTY, context=context),
        Request(
            "s3:PutObject",
            f"{destination.rstrip('/')}/AWSLogs/{account}/GuardDuty/{region}/findings.jsonl.gz",
            GUARDDUTY,
            context=context,
        ),
    ]
    _require_allowed(policy, requests, code, f"bucket {bucket}", GUARDDUTY_EXPORT)
    key_arn = i["kmsKeyArn"]
    key_policy = ctx.client("kms", key_arn.split(":")[3]).get_key_policy(
        KeyId=key_arn, PolicyName="default"
    )["Policy"]
    use = Request("kms:GenerateDataKey", key_arn, GUARDDUTY, context=context)
    _require_allowed(key_policy, [use], code, f"key {key_arn}", GUARDDUTY_EXPORT)
    raise not_emulated("aws:guardduty/publishingDestination:PublishingDestination")


def _require_hub(ctx: Context, i: dict):
    securityhub = ctx.regional("securityhub", i)
    try:
        securityhub.describe_hub()
    except ClientError:
        raise RuleViolation(
            "InvalidAccessException",
            f"Security Hub is not enabled in account {ctx.aws.account_id}, "
            f"{securityhub.meta.region_name}",
            HUB_ENABLED,
        ) from None
    return securityhub


def security_hub_finding_aggregator(ctx: Context, i: dict) -> tuple[str, Outputs]:
    securityhub = _require_hub(ctx, i)
    ctx.world.finding_aggregators[ctx.aws.account_id] = securityhub.meta.region_name
    linked = i.get("specifiedRegions") if i.get("linkingMode") == "SPECIFIED_REGIONS" else []
    ctx.world.linked_regions[ctx.aws.account_id] = list(linked or [])
    raise not_emulated("aws:securityhub/findingAggregator:FindingAggregator")


def _require_home_region(ctx: Context, region: str, doing: str) -> None:
    home = ctx.world.finding_aggregators.get(ctx.aws.account_id)
    if home != region:
        where = f"its home Region is {home}" if home else "it has no finding aggregator"
        raise RuleViolation(
            "ValidationException",
            f"{doing} in {region}: account {ctx.aws.account_id}'s {where}",
            HOME_REGION,
        )


def security_hub_organization_configuration(ctx: Context, i: dict) -> tuple[str, Outputs]:
    securityhub = _require_hub(ctx, i)
    configuration = i.get("organizationConfiguration") or {}
    if configuration.get("configurationType") == "CENTRAL":
        _require_home_region(ctx, securityhub.meta.region_name, "central configuration")
    params: dict[str, Any] = {"AutoEnable": bool(i.get("autoEnable"))}
    if i.get("autoEnableStandards"):
        params["AutoEnableStandards"] = i["autoEnableStandards"]
    if configuration:
        params["OrganizationConfiguration"] = {
            "ConfigurationType": configuration["configurationType"]
        }
    securityhub.update_organization_configuration(**params)
    return ctx.aws.account_id, {}


def security_hub_configuration_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    securityhub = _require_hub(ctx, i)
    described = securityhub.describe_organization_configuration()
    kind = described.get("OrganizationConfiguration", {}).get("ConfigurationType")
    if kind != "CENTRAL":
        raise RuleViolation(
            "AccessDeniedException",
            f"central configuration is not on for account {ctx.aws.account_id} ({kind})",
            HOME_REGION,
        )
    _require_home_region(ctx, securityhub.meta.region_name, "a configuration policy")
    raise not_emulated("aws:securityhub/configurationPolicy:ConfigurationPolicy")


def security_hub_policy_association(ctx: Context, i: dict) -> tuple[str, Outputs]:
    securityhub = _require_hub(ctx, i)
    _require_home_region(ctx, securityhub.meta.region_name, "a configuration policy association")
    target = i["targetId"]
    organizations = ctx.world.management.client("organizations")
    roots = {r["Id"] for r in organizations.list_roots()["Roots"]}
    if target not in roots:
        try:
            if target.startswith("ou-"):
                organizations.describe_organizational_unit(OrganizationalUnitId=target)
            else:
                organizations.describe_account(AccountId=target)
        except ClientError:
            raise RuleViolation(
                "ResourceNotFoundException",
                f"{target} is neither the organization's root, an OU nor an account of it",
                HOME_REGION,
            ) from None
    if target in roots:
        _enable_hub_everywhere(ctx, securityhub.meta.region_name)
    return f"{i['policyId']}:{target}", {}


def _enable_hub_everywhere(ctx: Context, home: str) -> None:
    """moto has no StartConfigurationPolicyAssociation; its effect on the root is emulated as
    AWS documents it: the policy (the program's enables the service) applies to every account of
    the organization, management included, in the home Region and every linked Region (Security
    Hub User Guide, "Associating a configuration policy"; "How central configuration works")."""
    regions = [home, *ctx.world.linked_regions.get(ctx.aws.account_id, [])]
    accounts = [(ctx.world.management.account_id, ctx.world.management), *_member_sessions(ctx)]
    for _, session in accounts:
        for region in regions:
            hub = session.client("securityhub", region)
            try:
                hub.describe_hub()
            except ClientError:
                hub.enable_security_hub(EnableDefaultStandards=False)


def delegated_administrators_data(caller: Aws, world: Any, principal: str) -> dict[str, Any]:
    """What `aws.organizations.get_delegated_administrators` returns to ``caller``:
    ListDelegatedAdministrators "can be called only from the organization's management account
    or by a member account that is a delegated administrator" (Organizations API Reference);
    another member gets AccessDeniedException, which the provider reports as an error."""
    if caller.account_id != world.management.account_id and (
        caller.account_id not in _delegated_administrators(world)
    ):
        raise RuleViolation(
            "AccessDeniedException",
            f"account {caller.account_id} is neither the management account nor a delegated "
            "administrator",
            "Organizations API Reference, ListDelegatedAdministrators",
        )
    return {
        "id": principal,
        "delegatedAdministrators": [
            {"id": account} for account in sorted(_delegated_administrators(world, principal))
        ],
    }


def detector_data(caller: Aws, region: str | None) -> dict[str, Any]:
    """What `aws.guardduty.get_detector` returns: the account's one detector in the region; the
    provider fails when there is none (terraform-provider-aws, guardduty detector data source:
    ListDetectors must return exactly one)."""
    detectors = caller.client("guardduty", region).list_detectors()["DetectorIds"]
    if len(detectors) != 1:
        raise RuleViolation(
            "NotFound",
            f"{len(detectors)} GuardDuty detectors in account {caller.account_id}, region "
            f"{region or caller.session.region_name}; the data source needs exactly one",
            "terraform-provider-aws, data source aws_guardduty_detector",
        )
    return {"id": detectors[0], "status": "ENABLED", "region": region}


def organization_data(caller: Aws, world: Any) -> dict[str, Any]:
    """What `aws.organizations.get_organization` returns to ``caller`` (ORGANIZATION_DATA)."""
    organizations = caller.client("organizations")
    organization = organizations.describe_organization()["Organization"]
    data: dict[str, Any] = {
        "id": organization["Id"],
        "arn": organization["Arn"],
        "featureSet": organization["FeatureSet"],
        "masterAccountArn": organization["MasterAccountArn"],
        "masterAccountEmail": organization["MasterAccountEmail"],
        "masterAccountId": organization["MasterAccountId"],
        "roots": [],
        "accounts": [],
        "nonMasterAccounts": [],
        "awsServiceAccessPrincipals": [],
        "enabledPolicyTypes": [],
    }
    administrator = caller.account_id == organization["MasterAccountId"] or (
        caller.account_id in _delegated_administrators(world)
    )
    if not administrator:
        return data
    management = world.management.client("organizations")
    roots = management.list_roots()["Roots"]
    accounts = [
        {"arn": a["Arn"], "email": a["Email"], "id": a["Id"], "name": a["Name"],
         "status": a["Status"]}
        for a in every(management, "list_accounts", "Accounts")
    ]  # fmt: skip
    data.update(
        roots=[
            {
                "id": r["Id"],
                "arn": r["Arn"],
                "name": r["Name"],
                "policyTypes": [
                    {"status": p["Status"], "type": p["Type"]} for p in r.get("PolicyTypes", [])
                ],
            }
            for r in roots
        ],
        accounts=accounts,
        nonMasterAccounts=[a for a in accounts if a["id"] != organization["MasterAccountId"]],
        awsServiceAccessPrincipals=sorted(_trusted_services(world)),
        enabledPolicyTypes=[
            p["Type"] for p in roots[0].get("PolicyTypes", []) if p["Status"] == "ENABLED"
        ],
    )
    return data


CROSS_REGION_TARGET = (
    "a rule whose target is an event bus in another Region sends events through a role it names "
    '(RoleArn, allowed events:PutEvents on that bus): EventBridge User Guide, "Sending and '
    'receiving Amazon EventBridge events between AWS Regions"'
)


def event_target(ctx: Context, i: dict) -> tuple[str, Outputs]:
    from .handlers import event_target as put_targets

    target = i["arn"]
    a_bus = target.startswith("arn:aws:events:") and ":event-bus/" in target
    if a_bus and target.split(":")[3] != _region(ctx, i) and not i.get("roleArn"):
        raise RuleViolation(
            "ValidationException",
            f"the target {target} is an event bus in another Region and no RoleArn is given",
            CROSS_REGION_TARGET,
        )
    return put_targets(ctx, i)


RULE_HANDLERS = {
    "aws:cloudwatch/eventTarget:EventTarget": event_target,
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
    "aws:organizations/delegatedAdministrator:DelegatedAdministrator": delegated_administrator,
    "aws:accessanalyzer/analyzer:Analyzer": access_analyzer,
    "aws:cfg/configurationAggregator:ConfigurationAggregator": config_aggregator,
    "aws:cfg/deliveryChannel:DeliveryChannel": config_delivery_channel,
    "aws:guardduty/detector:Detector": guardduty_detector,
    "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount": guardduty_admin,
    "aws:guardduty/organizationConfiguration:OrganizationConfiguration": (
        guardduty_organization_configuration
    ),
    "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature": (
        guardduty_organization_feature
    ),
    "aws:guardduty/publishingDestination:PublishingDestination": guardduty_publishing_destination,
    "aws:securityhub/account:Account": security_hub_account,
    "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount": security_hub_admin,
    "aws:securityhub/findingAggregator:FindingAggregator": security_hub_finding_aggregator,
    "aws:securityhub/organizationConfiguration:OrganizationConfiguration": (
        security_hub_organization_configuration
    ),
    "aws:securityhub/configurationPolicy:ConfigurationPolicy": security_hub_configuration_policy,
    "aws:securityhub/configurationPolicyAssociation:ConfigurationPolicyAssociation": (
        security_hub_policy_association
    ),
}
