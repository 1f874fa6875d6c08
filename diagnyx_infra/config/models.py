"""Typed stack configuration. Every stack's config is validated in full by these models before the
program registers a single resource.

Field names are snake_case here and camelCase in the stack files (``accountIds``), as Pulumi users
write them.
"""

import functools
import importlib.util
import ipaddress
import json
import re
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

MANAGEMENT_ACCOUNT = "management"
# Accounts other stacks refer to by name: CI assumes roles from shared services, auditors come
# from security.
SHARED_SERVICES_ACCOUNT = "shared"
SECURITY_ACCOUNT = "security"
# The guide prints this external ID; a value everybody can read protects nothing.
PUBLISHED_EXTERNAL_IDS = frozenset({"diagnyx-secure-external-id-2024"})
REQUIRED_TAG_KEYS = ("Environment", "Project", "CostCenter", "Owner", "ManagedBy")
MANAGED_BY = "pulumi"
# An account whose ID config does not know yet: before the organization creates it, or until
# `diagnyx accounts sync` records it. Nothing may trust or grant to such an account.
PENDING_ID = "pending"
# Services trusted with organization access by default, each for something this program sets up.
# The list is authoritative: AWS disables trusted access for a service missing from it.
DEFAULT_TRUSTED_SERVICES = (
    "cloudtrail.amazonaws.com",  # the organization trail
    "sso.amazonaws.com",  # IAM Identity Center permission sets and assignments
    "tagpolicies.tag.amazonaws.com",  # tag policy compliance reporting
)
# AWS attaches FullAWSAccess to every target; it counts against the per-target SCP limit.
AWS_MANAGED_SCPS_PER_TARGET = 1
# Root guardrails that keep the organization whole: leaving them out takes a visible waiver.
CORE_ROOT_POLICIES = {
    "deny-leave-organization": "member accounts could leave the organization and its controls",
    "deny-root-user": "member accounts' root users could act unrestricted",
    "deny-unapproved-regions": "resources could be created in any region, unwatched",
}
# The ARNs this program writes (arn:aws:...) exist only in AWS's commercial partition.
SUPPORTED_PARTITION = "aws"
# Size bounds from AWS's quotas (Organizations: 2,000 OUs; accounts raise to a few thousand;
# Route 53: 500 hosted zones per account; VPC: 125 active peerings per VPC at most).
MAX_ACCOUNTS = 5000
MAX_OUS = 2000
MAX_ZONES = 500
MAX_PEERINGS = 125
MAX_REPOSITORIES = 10_000


class Environment(StrEnum):
    """Allowed values of the Environment tag (enforced by the tag policy)."""

    MANAGEMENT = "management"
    SECURITY = "security"
    SHARED_SERVICES = "shared-services"
    DEVELOPMENT = "development"
    STAGING = "staging"
    UAT = "uat"
    PRODUCTION = "production"


WORKLOAD_ENVIRONMENTS = frozenset(
    {Environment.DEVELOPMENT, Environment.STAGING, Environment.UAT, Environment.PRODUCTION}
)


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


def _account_id(value: str) -> str:
    if not re.fullmatch(r"[0-9]{12}", value):
        raise ValueError(f"'{value}' is not an AWS account ID (exactly 12 digits)")
    return value


@functools.cache
def region_partitions() -> dict[str, str]:
    """Every AWS region -> its partition, from the endpoint data botocore ships (pinned in the
    lock file; read as a file, without importing botocore)."""
    spec = importlib.util.find_spec("botocore")
    assert spec is not None and spec.submodule_search_locations
    data = Path(spec.submodule_search_locations[0]) / "data" / "partitions.json"
    found = {}
    for partition in json.loads(data.read_text())["partitions"]:
        for region in partition["regions"]:
            if not region.endswith("-global"):
                found[region] = partition["id"]
    return found


def _region(value: str) -> str:
    partition = region_partitions().get(value)
    if partition is None:
        raise ValueError(f"'{value}' is not an AWS region (for example us-east-1)")
    if partition != SUPPORTED_PARTITION:
        raise ValueError(
            f"'{value}' is in the {partition} partition; this landing zone writes arn:aws: ARNs "
            f"and supports only the {SUPPORTED_PARTITION} partition's regions"
        )
    return value


# Names a stack may not have: a deploy job runs in the GitHub environment named after its stack,
# and its OIDC subject (`environment:<name>`) is what the account's deploy role trusts; the
# drift job's environment (delivery.DRIFT_ENVIRONMENT) must stay the drift job's alone.
RESERVED_ACCOUNT_NAMES = frozenset({"drift"})


def _account_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,39}", value):
        raise ValueError(
            f"'{value}' is not a valid account name (lowercase letters, digits and '-', "
            "starting with a letter; it is also the stack name)"
        )
    if value in RESERVED_ACCOUNT_NAMES:
        raise ValueError(
            f"'{value}' is reserved: it names the GitHub environment of the scheduled drift "
            "check, whose OIDC subject an account named so would trust to deploy"
        )
    return value


_EMAIL_LOCAL_FORBIDDEN = set(" \"'()<>[]:;,\\|%&")


def _account_email(value: str) -> str:
    """The rules AWS Organizations applies to a new account's e-mail (CreateAccount API)."""
    problem = None
    if not 6 <= len(value) <= 64:
        problem = "must be 6 to 64 characters long"
    elif not value.isascii():
        problem = "must be ASCII"
    elif value.count("@") != 1:
        problem = "must contain exactly one '@'"
    else:
        local, domain = value.split("@")
        if not local or local.startswith(".") or _EMAIL_LOCAL_FORBIDDEN & set(local):
            problem = "has an invalid part before '@'"
        elif (
            not re.fullmatch(r"[A-Za-z0-9.-]+", domain)
            or "." not in domain
            or domain[0] in ".-"
            or domain[-1] in ".-"
        ):
            problem = "has an invalid domain"
    if problem:
        raise ValueError(f"'{value}' is not a valid account e-mail: it {problem}")
    return value.lower()


def _account_id_or_pending(value: str) -> str:
    if value == PENDING_ID:
        return value
    if not re.fullmatch(r"[0-9]{12}", value):
        raise ValueError(
            f"'{value}' is not an AWS account ID (exactly 12 digits) nor '{PENDING_ID}' "
            "(not created or not synced yet)"
        )
    return value


def validate_account_name(value: str) -> str:
    """An account (and stack) name as config accepts it, or ValueError saying why."""
    return _account_name(value)


AccountId = Annotated[StrictStr, AfterValidator(_account_id)]
AccountIdOrPending = Annotated[StrictStr, AfterValidator(_account_id_or_pending)]
Region = Annotated[StrictStr, AfterValidator(_region)]
AccountName = Annotated[StrictStr, AfterValidator(_account_name)]
AccountEmail = Annotated[StrictStr, AfterValidator(_account_email)]
NonEmpty = Annotated[StrictStr, Field(min_length=1, max_length=256)]


def _tag_value(value: str) -> str:
    """A tag value as AWS accepts it: letters, digits, spaces and _.:/=+-@ (no control or
    invisible characters)."""
    bad = sorted({c for c in value if not (c.isalnum() or c in " _.:/=+@-")})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise ValueError(f"{value!r} has characters AWS does not allow in a tag value ({shown})")
    return value


TagValue = Annotated[StrictStr, Field(min_length=1, max_length=256), AfterValidator(_tag_value)]

GITHUB_SUBJECT_PREFIX_MAX_LENGTH = 200


def _github_subject_prefix(value: str) -> str:
    """`repo:<owner>/<repo>` as GitHub writes it into a job's OIDC `sub` claim; for repositories
    created, renamed or transferred after 2026-06-18 owner and repository carry their immutable
    IDs (`repo:octocat-123456/my-repo-456789`)."""
    if len(value) > GITHUB_SUBJECT_PREFIX_MAX_LENGTH:
        raise ValueError(
            f"'{value[:40]}...' is longer than {GITHUB_SUBJECT_PREFIX_MAX_LENGTH} characters"
        )
    if not re.fullmatch(r"repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", value):
        raise ValueError(
            f"'{value}' is not a GitHub OIDC subject prefix: expected `repo:<owner>/<repo>` "
            "exactly as a job's token carries it, e.g. repo:octocat-123456/my-repo-456789"
        )
    return value


GitHubSubjectPrefix = Annotated[StrictStr, AfterValidator(_github_subject_prefix)]


def _github_repository(value: str) -> str:
    owner, _, name = value.partition("/")
    if (
        not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", owner)
        or not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name)
        or name in (".", "..")
    ):
        raise ValueError(f"'{value}' is not a GitHub repository (owner/name)")
    return value


def _notification_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", value):
        raise ValueError(f"'{value}' is not an e-mail address")
    return value


NotificationEmail = Annotated[StrictStr, AfterValidator(_notification_email)]


def _whole_cents(value: float) -> float:
    if round(value, 2) != value:
        raise ValueError(f"{value} is not a whole number of cents (AWS Budgets keeps 2 decimals)")
    return value


# Dollar amounts: numbers only (a YAML `true` is not one dollar), whole cents.
Usd = Annotated[float, Field(strict=True, gt=0, le=10_000_000), AfterValidator(_whole_cents)]
Percent = Annotated[float, Field(strict=True, gt=0, le=1000)]
EcrRepositoryName = Annotated[
    StrictStr, Field(pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
]


class Budget(Model):
    """The account's monthly cost budget (the guide's "Budget Limits by Account")."""

    monthly_limit_usd: Usd
    # The guide: e-mails at 50%, 80% and 100% of actual spend, plus 100% of forecast. AWS Budgets
    # allows 10 notifications per budget; the forecast alert is one.
    actual_alert_percents: list[Percent] = Field(
        default=[50.0, 80.0, 100.0], min_length=1, max_length=9
    )
    forecast_alert_percent: Percent = 100.0

    @field_validator("actual_alert_percents")
    @classmethod
    def _distinct(cls, percents: list[float]) -> list[float]:
        if len(set(percents)) != len(percents):
            raise ValueError("a threshold is listed twice")
        return sorted(percents)

    def thresholds(self) -> list[tuple[str, float]]:
        """(notification type, percent) of every alert."""
        actual = [("ACTUAL", p) for p in self.actual_alert_percents]
        return [*actual, ("FORECASTED", self.forecast_alert_percent)]


def _external_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+=,.@:/-]{2,1224}", value):
        raise ValueError("must be 2 to 1224 characters of letters, digits and +=,.@:/-_")
    if value in PUBLISHED_EXTERNAL_IDS:
        raise ValueError("is the example value printed in the guide; choose a secret one")
    return value


ExternalId = Annotated[StrictStr, AfterValidator(_external_id)]


class AuditArchive(Model):
    """The organization trail's log archive, in the security account."""

    # COMPLIANCE: nobody, root included, can delete or shorten retention of a locked log.
    # GOVERNANCE: principals with s3:BypassGovernanceRetention can; use for a trial period only.
    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    retention_days: StrictInt = Field(default=2557, ge=1, le=36500)  # 7 years with leap days
    transition_days: StrictInt = Field(default=90, ge=30, le=36500)
    transition_storage_class: Literal["STANDARD_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = (
        "GLACIER_IR"
    )

    @model_validator(mode="after")
    def _transition_before_expiry(self) -> "AuditArchive":
        if self.transition_days >= self.retention_days:
            raise ValueError(
                f"transitionDays: {self.transition_days} is not before the end of retention "
                f"({self.retention_days} days)"
            )
        return self


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"'{value}' is not an IPv4 network in CIDR notation ({error})") from None
    if not 16 <= network.prefixlen <= 24:
        raise ValueError(f"'{value}': a VPC's prefix must be between /16 and /24")
    return value


VpcCidr = Annotated[StrictStr, AfterValidator(_cidr)]
VpcId = Annotated[StrictStr, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
DnsLabel = Annotated[StrictStr, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
# DNS names are at most 253 characters (RFC 1035); each environment zone adds a label to it.
DomainName = Annotated[
    StrictStr,
    Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=253),
]
# ACM: a certificate's first name (its subject's common name) is at most 64 octets.
CERTIFICATE_NAME_MAX = 64


class NetworkEntry(Model):
    """One workload account's VPC as every network stack sees it."""

    cidr: VpcCidr
    environment: Environment
    # Written after that account's stack is deployed (`pulumi stack output vpcId`); needed only
    # by accounts that peer with it.
    vpc_id: VpcId | None = None

    @property
    def is_production(self) -> bool:
        return self.environment == Environment.PRODUCTION


class Network(Model):
    """This account's VPC."""

    availability_zones: StrictInt = Field(default=2, ge=1, le=6)
    # A NAT gateway costs about $36.50 a month even idle (with its public IPv4 address): off
    # unless asked for.
    nat_gateway: StrictBool = False
    # Flow logs to S3 cost per GB: off unless asked for.
    flow_logs: StrictBool = False
    peerings: list[tuple[AccountName, AccountName]] = Field(default=[], max_length=MAX_PEERINGS)


class SharedServices(Model):
    """The shared services account's central ECR, DNS zones and certificates."""

    domain: DomainName
    # One delegated zone (and certificate) per label: `<label>.<domain>`. Each zone is $0.50/month.
    environment_zones: list[DnsLabel] = Field(default=[], max_length=MAX_ZONES)
    repositories: list[EcrRepositoryName] = Field(default=[], max_length=MAX_REPOSITORIES)
    pull_accounts: list[AccountName] = Field(min_length=1, max_length=MAX_ACCOUNTS)
    # ACM validates only once public DNS resolves through the registrar's delegation to the
    # parent zone's name servers; until `diagnyx doctor` confirms it, certificates wait.
    delegation_confirmed: StrictBool = False

    @model_validator(mode="after")
    def _unique(self) -> "SharedServices":
        for key, values in (
            ("environmentZones", self.environment_zones),
            ("repositories", self.repositories),
            ("pullAccounts", self.pull_accounts),
        ):
            if len(set(values)) != len(values):
                raise ValueError(f"{key}: an entry is listed twice")
        for label in self.environment_zones:
            name = f"{label}.{self.domain}"
            if len(name) > CERTIFICATE_NAME_MAX:
                raise ValueError(
                    f"environmentZones: the zone {name} is {len(name)} characters; its "
                    f"certificate's name may have at most {CERTIFICATE_NAME_MAX} (ACM)"
                )
        check_resource_names("repositories", self.repositories)
        return self


def resource_key(repository: str) -> str:
    """The part of a repository's resource name that comes from its name."""
    return repository.replace("/", "-")


def check_resource_names(key: str, repositories: list[str]) -> None:
    """Two repositories whose names differ only by '/' and '-' would share one resource name."""
    seen: dict[str, str] = {}
    for repository in repositories:
        other = seen.setdefault(resource_key(repository), repository)
        if other != repository:
            raise ValueError(
                f"{key}: '{other}' and '{repository}' would have the same resource name "
                f"'{resource_key(repository)}'; rename one"
            )


class AccessAssignment(Model):
    group: NonEmpty
    permission_set: NonEmpty
    # account names, or `ou:<OU name>` for every account in that OU
    targets: list[NonEmpty] = Field(min_length=1, max_length=MAX_ACCOUNTS)

    @field_validator("targets")
    @classmethod
    def _each_target_once(cls, targets: list[str]) -> list[str]:
        # Compared as validation leaves them: `" ou:X"` is `"ou:X"` again.
        repeated = sorted(t for t, n in Counter(targets).items() if n > 1)
        if repeated:
            raise ValueError(f"'{repeated[0]}' is listed twice")
        return targets


class IdentityCenter(Model):
    """The least-privilege matrix (guide, Phase 3); checked against the guide's rules."""

    assignments: list[AccessAssignment] = Field(min_length=1, max_length=1000)


# IAM Identity Center's roles live under a path only AWS can create roles in, so a pattern there
# names exactly the roles of one permission set (any region segment included).
_SSO_ROLE_PATTERN = re.compile(
    r"aws-reserved/sso\.amazonaws\.com/\*?AWSReservedSSO_(?P<set>[A-Za-z0-9+=,.@-]{1,32})_\*"
)
_ROLE_PATH_NAME = re.compile(r"([A-Za-z0-9_+=,.@-]+/){0,10}[A-Za-z0-9_+=,.@-]{1,64}")


def _trusted_role(value: str) -> str:
    """A role by its exact path and name, or one permission set's Identity Center roles. A
    wildcard anywhere else would trust roles nobody reviewed (`*` trusts every role)."""
    sso = _SSO_ROLE_PATTERN.fullmatch(value)
    if sso is not None:
        from ..policies.identity import PERMISSION_SETS

        if sso["set"] not in PERMISSION_SETS:
            raise ValueError(
                f"'{value}' names the permission set '{sso['set']}', which this landing zone "
                f"does not define (known: {', '.join(PERMISSION_SETS)})"
            )
        return value
    if not _ROLE_PATH_NAME.fullmatch(value):
        raise ValueError(
            f"'{value}' is neither a role's exact path and name nor a permission set's roles "
            "(aws-reserved/sso.amazonaws.com/*AWSReservedSSO_<PermissionSet>_*); wildcards "
            "are allowed only there"
        )
    return value


class TrustedPrincipal(Model):
    account: AccountName
    # An exact role (path/name), or `aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Finance_*`
    role: Annotated[StrictStr, Field(max_length=512), AfterValidator(_trusted_role)]


class CostGovernance(Model):
    """Organization-wide cost controls in the management account."""

    anomaly_threshold_usd: Usd
    anomaly_email: NotificationEmail | None = None  # default: budgetAlertEmail
    cost_explorer_access: list[TrustedPrincipal] = Field(min_length=1, max_length=20)
    # AWS creates one AWS-services monitor (Default-Services-Monitor) when Cost Explorer is
    # enabled and allows no second one; its ARN is named here once Cost Explorer is on.
    services_monitor_arn: (
        Annotated[
            StrictStr, Field(pattern=r"^arn:aws:ce::[0-9]{12}:anomalymonitor/[A-Za-z0-9-]{1,64}$")
        ]
        | None
    ) = None
    # AWS activates a cost allocation tag only once its key has appeared in billing data (up to
    # 24 hours after the first tagged resource; terraform-provider-aws #29068).
    activate_cost_allocation_tags: StrictBool = False


class Retention(Model):
    """How long the baseline keeps what it can expire."""

    state_noncurrent_version_days: StrictInt = Field(default=90, ge=1, le=3650)
    ecr_untagged_image_days: StrictInt = Field(default=14, ge=1, le=3650)


class Deployment(Model):
    """How a member stack's provider reaches its account.

    By default it assumes ``role_name`` in the stack's account (the guide's Step 3). Set
    ``callerInAccount: true`` when the caller already is in the account, as CI is after assuming
    the deployment role through OIDC. The management stack always runs as the caller.
    """

    caller_in_account: StrictBool = False
    role_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{1,64}$")] = (
        "OrganizationAccountAccessRole"
    )
    session_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{2,64}$")] = (
        "diagnyx-pulumi"
    )


def _known_policies(keys: list[str]) -> list[str]:
    from ..policies.scp import CATALOGUE

    unknown = [k for k in keys if k not in CATALOGUE]
    if unknown:
        raise ValueError(
            f"unknown service control policy {', '.join(unknown)} (known: {', '.join(CATALOGUE)})"
        )
    if len(set(keys)) != len(keys):
        raise ValueError("a policy is listed twice")
    return keys


class OrganizationalUnit(Model):
    name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$")]
    policies: list[NonEmpty] = Field(default=[], max_length=10)

    @field_validator("policies")
    @classmethod
    def _known(cls, keys: list[str]) -> list[str]:
        return _known_policies(keys)


# Where `diagnyx accounts retire` moves an account: its SCP (suspended-account) denies everything
# but the organization's administrators, and no one is assigned to it.
SUSPENDED_OU = "Suspended"
SUSPENDED_POLICY = "suspended-account"


class RetiredAccess(Model):
    group: NonEmpty
    permission_set: NonEmpty


class Retirement(Model):
    """What `accounts retire` changed, so that `accounts unretire` puts it back: the OU the
    account came from, and the assignments that named it directly."""

    ou: NonEmpty
    access: list[RetiredAccess] = Field(default=[], max_length=1000)


class OrganizationAccount(Model):
    """A member account as the management stack creates it."""

    email: AccountEmail
    ou: NonEmpty
    environment: Environment
    # The same figure as the account's own stack (a test checks); the organization budget is
    # their sum.
    monthly_budget_usd: Usd
    # AWS's account name (CreateAccount AccountName): 1-50 printable ASCII characters.
    display_name: Annotated[StrictStr, Field(pattern=r"^[\x20-\x7e]{1,50}$")] | None = None
    # Set by `diagnyx accounts retire`: the account is in the Suspended OU.
    retired: Retirement | None = None


class Guardrails(Model):
    """Service control policy settings (docs/limits-and-prices.md#service-control-policies)."""

    # The stricter pre-2026 limits by default, so the policies work on any organization.
    scp_max_chars: StrictInt = Field(default=5120, ge=1024, le=10240)
    scp_max_per_target: StrictInt = Field(default=5, ge=2, le=10)
    root_policies: list[NonEmpty] = Field(default=[], max_length=10)
    # Core root policies (CORE_ROOT_POLICIES) left out on purpose; each is named here, and every
    # deploy warns about it.
    waived_root_policies: list[NonEmpty] = Field(default=[], max_length=len(CORE_ROOT_POLICIES))
    # A family is always named (`t3.*`); a wildcard family (`*.*`) would allow every type.
    non_production_instance_types: list[
        Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]*\.([a-z0-9-]+|\*)$")]
    ] = Field(min_length=1, max_length=1000)

    @field_validator("root_policies")
    @classmethod
    def _known_root_policies(cls, keys: list[str]) -> list[str]:
        return _known_policies(keys)

    @model_validator(mode="after")
    def _core_policies_or_waivers(self) -> "Guardrails":
        for key in self.waived_root_policies:
            if key not in CORE_ROOT_POLICIES:
                raise ValueError(
                    f"waivedRootPolicies: '{key}' is not a core root policy (core: "
                    f"{', '.join(CORE_ROOT_POLICIES)})"
                )
            if key in self.root_policies:
                raise ValueError(f"waivedRootPolicies: '{key}' is also in rootPolicies")
        for key, risk in CORE_ROOT_POLICIES.items():
            if key not in self.root_policies and key not in self.waived_root_policies:
                raise ValueError(
                    f"rootPolicies: leaves out {key}: without it {risk}; keep it, or name it "
                    "in guardrails.waivedRootPolicies to remove it on purpose"
                )
        return self


class SecurityServices(Model):
    """The paid security services, organization-wide with the security account as delegated
    administrator: off until switched on (`diagnyx cost estimate` prices each). The free
    protections (account-level S3 Block Public Access, EBS encryption by default, the CIS password
    policy, the organization's IAM Access Analyzer) are always on."""

    guard_duty: StrictBool = False
    security_hub: StrictBool = False
    aws_config: StrictBool = False

    @model_validator(mode="after")
    def _security_hub_needs_config(self) -> "SecurityServices":
        if self.security_hub and not self.aws_config:
            raise ValueError(
                "securityHub: true needs awsConfig: true (Security Hub's CIS and Foundational "
                "Best Practices checks are AWS Config rules over the recorded resources)"
            )
        return self

    def enabled(self) -> tuple[str, ...]:
        """The switched-on services by their config key (guardDuty, securityHub, awsConfig)."""
        switches = {
            "guardDuty": self.guard_duty,
            "securityHub": self.security_hub,
            "awsConfig": self.aws_config,
        }
        return tuple(key for key, on in switches.items() if on)


class OrganizationSettings(Model):
    """The management stack's description of the organization."""

    organizational_units: list[OrganizationalUnit] = Field(min_length=1, max_length=MAX_OUS)
    accounts: dict[AccountName, OrganizationAccount] = Field(min_length=1, max_length=MAX_ACCOUNTS)
    guardrails: Guardrails
    # Authoritative: a service trusted outside the program loses its access on the next
    # `pulumi up` unless it is listed here.
    trusted_services: list[
        Annotated[
            StrictStr,
            Field(pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+amazonaws\.com$", max_length=128),
        ]
    ] = Field(default=list(DEFAULT_TRUSTED_SERVICES), max_length=50)
    security_services: SecurityServices = SecurityServices()

    @field_validator("trusted_services")
    @classmethod
    def _unique_services(cls, services: list[str]) -> list[str]:
        if len(set(services)) != len(services):
            raise ValueError("a service is listed twice")
        return services

    @model_validator(mode="after")
    def _check_references(self) -> "OrganizationSettings":
        ou_names = [ou.name for ou in self.organizational_units]
        duplicates = sorted(name for name, n in Counter(ou_names).items() if n > 1)
        if duplicates:
            raise ValueError(f"organizational unit names are repeated: {', '.join(duplicates)}")
        if MANAGEMENT_ACCOUNT in self.accounts:
            raise ValueError(
                f"accounts.{MANAGEMENT_ACCOUNT}: the management account is the organization's "
                "own account and is not created as a member"
            )
        for name, account in self.accounts.items():
            if account.ou not in ou_names:
                raise ValueError(
                    f"accounts.{name}.ou: unknown organizational unit '{account.ou}' "
                    f"(known: {', '.join(ou_names)})"
                )
        emails: dict[str, str] = {}
        for name, account in self.accounts.items():
            if account.email in emails:
                raise ValueError(
                    f"accounts.{name}.email: '{account.email}' is already the e-mail of account "
                    f"'{emails[account.email]}' (every AWS account needs its own address)"
                )
            emails[account.email] = name
        self._check_retirements(ou_names)
        self._check_production_isolation()
        self._check_policies_per_target()
        return self

    def retired_accounts(self) -> set[str]:
        return {name for name, account in self.accounts.items() if account.retired is not None}

    def _check_retirements(self, ou_names: list[str]) -> None:
        """Only `accounts retire` moves an account to the Suspended OU, and it records whence."""
        for name, account in self.accounts.items():
            where = f"accounts.{name}"
            if account.retired is None and account.ou == SUSPENDED_OU:
                raise ValueError(
                    f"{where}.ou: '{SUSPENDED_OU}' holds retired accounts only; `diagnyx accounts "
                    f"retire {name}` moves an account there and records where it came from"
                )
            if account.retired is None:
                continue
            if account.ou != SUSPENDED_OU:
                raise ValueError(
                    f"{where}.retired: a retired account is in the '{SUSPENDED_OU}' OU, not "
                    f"'{account.ou}' (`diagnyx accounts unretire {name}` brings it back)"
                )
            if account.retired.ou not in ou_names or account.retired.ou == SUSPENDED_OU:
                raise ValueError(
                    f"{where}.retired.ou: '{account.retired.ou}' is not an organizational unit "
                    "it can go back to"
                )
        suspended = next((ou for ou in self.organizational_units if ou.name == SUSPENDED_OU), None)
        if suspended is not None and SUSPENDED_POLICY not in suspended.policies:
            raise ValueError(
                f"organizationalUnits: '{SUSPENDED_OU}' must carry the {SUSPENDED_POLICY} policy "
                "(it denies everything but the organization's administrators)"
            )

    def trusted_service_principals(self) -> list[str]:
        """Trusted access as deployed: config's list plus what the security services need (the
        list is authoritative, so a switch that needs a service brings it)."""
        from ..policies.security_services import trusted_services

        needed = trusted_services(self.security_services.enabled())
        return sorted({*self.trusted_services, *needed})

    def _check_policies_per_target(self) -> None:
        limit = self.guardrails.scp_max_per_target - AWS_MANAGED_SCPS_PER_TARGET
        root = self.guardrails.root_policies
        if len(root) > limit:
            raise ValueError(
                f"guardrails.rootPolicies: {len(root)} policies plus AWS's FullAWSAccess exceed "
                f"the limit of {self.guardrails.scp_max_per_target} SCPs per target"
            )
        for index, ou in enumerate(self.organizational_units):
            # Every OU also carries the security services' guard (protect-security-services).
            if len(ou.policies) > limit - 1:
                raise ValueError(
                    f"organizationalUnits[{index}].policies: {len(ou.policies)} policies plus "
                    "AWS's FullAWSAccess and the security services' guard "
                    f"(protect-security-services) exceed the limit of "
                    f"{self.guardrails.scp_max_per_target} SCPs per target"
                )

    def _check_production_isolation(self) -> None:
        """A production account never shares an OU with non-production ones: OU guardrails
        differ between the two."""
        for ou in self.organizational_units:
            if ou.name == SUSPENDED_OU:  # retired accounts: everything denied there
                continue
            members = {n: a for n, a in self.accounts.items() if a.ou == ou.name}
            production = sorted(
                n for n, a in members.items() if a.environment == Environment.PRODUCTION
            )
            others = sorted(n for n in members if n not in production)
            if production and others:
                raise ValueError(
                    f"organizational unit '{ou.name}' mixes production accounts "
                    f"({', '.join(production)}) with others ({', '.join(others)})"
                )


class StackSettings(Model):
    """Everything one stack's program needs, validated."""

    stack: AccountName
    region: Region
    environment: Environment
    account_ids: dict[AccountName, AccountIdOrPending] = Field(max_length=MAX_ACCOUNTS + 1)
    budget: Budget
    alarm_email: NotificationEmail
    budget_alert_email: NotificationEmail
    ecr_repositories: list[EcrRepositoryName] = Field(default=[], max_length=MAX_REPOSITORIES)
    retention: Retention = Retention()
    # GitHub: owner up to 39 letters, digits and inner '-'; a name of up to 100 of [A-Za-z0-9_.-]
    # that is not '.' or '..'.
    github_repository: Annotated[StrictStr, AfterValidator(_github_repository)]
    # Unset: `repo:<github_repository>`, the subject of repositories older than GitHub's
    # immutable-ID subjects (see `effective_github_subject_prefix`).
    github_subject_prefix: GitHubSubjectPrefix | None = None
    # Workload accounts only: what the shared services deploy role presents to their deploy
    # role (the guide's shared-account CI). One per account; nothing else trusts another account.
    ci_external_id: ExternalId | None = None
    account_trail: StrictBool = False
    audit_archive: AuditArchive | None = None
    networks: dict[AccountName, NetworkEntry] | None = Field(default=None, max_length=MAX_ACCOUNTS)
    network: Network | None = None
    shared_services: SharedServices | None = None
    deployment: Deployment = Deployment()
    allowed_regions: list[Region] = Field(min_length=1)
    project_name: TagValue
    cost_center: TagValue
    owner: TagValue
    organization: OrganizationSettings | None = None
    identity_center: IdentityCenter | None = None
    cost_governance: CostGovernance | None = None

    @field_validator("account_trail", mode="before")
    @classmethod
    def _flag_from_text(cls, value: object) -> object:
        # The CLI hands a top-level `true` to the program as the text "true".
        return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value

    @field_validator("ecr_repositories")
    @classmethod
    def _distinct_repositories(cls, repositories: list[str]) -> list[str]:
        if len(set(repositories)) != len(repositories):
            raise ValueError("a repository is listed twice")
        check_resource_names("ecrRepositories", repositories)
        return repositories

    @field_validator("github_subject_prefix", mode="before")
    @classmethod
    def _empty_subject_prefix_is_unset(cls, value: object) -> object:
        # Pulumi.yaml's default is "" (a declared key without default would be required).
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_regions")
    @classmethod
    def _unique_regions(cls, regions: list[str]) -> list[str]:
        if len(set(regions)) != len(regions):
            raise ValueError("regions are repeated")
        return regions

    @model_validator(mode="after")
    def _check_stack(self) -> "StackSettings":
        self._check_subject_prefix()
        self._check_external_id()
        if self.region not in self.allowed_regions:
            raise ValueError(
                f"aws:region: '{self.region}' is outside the allowed regions "
                f"({', '.join(self.allowed_regions)})"
            )
        if self.stack not in self.account_ids:
            raise ValueError(f"accountIds: no ID for this stack's account '{self.stack}'")
        for required in (MANAGEMENT_ACCOUNT, SHARED_SERVICES_ACCOUNT, SECURITY_ACCOUNT):
            if required not in self.account_ids:
                raise ValueError(f"accountIds: no ID for the '{required}' account")
        owns_archive = self.stack == SECURITY_ACCOUNT
        if owns_archive and self.audit_archive is None:
            raise ValueError("auditArchive: required in the security stack")
        if not owns_archive and self.audit_archive is not None:
            raise ValueError("auditArchive: only the security stack holds the audit archive")
        ids = [i for i in self.account_ids.values() if i != PENDING_ID]
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if repeated:
            owners = {i: sorted(n for n, v in self.account_ids.items() if v == i) for i in repeated}
            detail = "; ".join(f"{i} for {', '.join(names)}" for i, names in owners.items())
            raise ValueError(f"accountIds: one ID is given to several accounts: {detail}")
        self._check_organization()
        self._check_networks()
        self._check_shared_services()
        return self

    def _check_repositories_across_components(self) -> None:
        if self.shared_services is None:
            return
        both = sorted(set(self.ecr_repositories) & set(self.shared_services.repositories))
        if both:
            raise ValueError(
                f"ecrRepositories: {', '.join(both)} is also in sharedServices.repositories; "
                "one account cannot hold two repositories of one name"
            )

    def _check_external_id(self) -> None:
        if self.is_workload and self.ci_external_id is None:
            raise ValueError(
                "ciExternalId: required in a workload stack (the shared services deploy role "
                "presents it); `pulumi config set --secret diagnyx:ciExternalId "
                '"$(openssl rand -hex 24)"`'
            )
        if not self.is_workload and self.ci_external_id is not None:
            raise ValueError(
                f"ciExternalId: only workload accounts trust the shared services deploy role; "
                f"the {self.environment.value} account trusts no other account, remove it"
            )

    def _check_subject_prefix(self) -> None:
        """The prefix names this repository: its owner and name, each with the immutable ID GitHub
        appends for newer repositories, so a swapped repository cannot hide behind IDs."""
        if self.github_subject_prefix is None:
            return
        owner, name = (re.escape(part) for part in self.github_repository.split("/"))
        if not re.fullmatch(rf"repo:{owner}(-\d+)?/{name}(-\d+)?", self.github_subject_prefix):
            raise ValueError(
                f"githubSubjectPrefix: '{self.github_subject_prefix}' does not name the "
                f"repository {self.github_repository} (expected repo:{self.github_repository} "
                "or its immutable-ID form, e.g. repo:<owner>-<id>/<name>-<id>)"
            )

    def _check_shared_services(self) -> None:
        is_shared = self.stack == SHARED_SERVICES_ACCOUNT
        if is_shared and self.shared_services is None:
            raise ValueError("sharedServices: required in the shared services stack")
        if not is_shared and self.shared_services is not None:
            raise ValueError("sharedServices: only the shared services stack holds shared services")
        if self.shared_services is None:
            return
        self._check_repositories_across_components()
        for index, name in enumerate(self.shared_services.pull_accounts):
            if name not in self.account_ids:
                raise ValueError(f"sharedServices.pullAccounts[{index}]: unknown account '{name}'")
            if name in (MANAGEMENT_ACCOUNT, SHARED_SERVICES_ACCOUNT):
                raise ValueError(
                    f"sharedServices.pullAccounts[{index}]: '{name}' runs no workloads; "
                    "only workload accounts pull images"
                )

    def _check_networks(self) -> None:
        if self.network is None:
            if self.networks is not None:
                raise ValueError("networks: set only in stacks that have a network")
            return
        if self.networks is None:
            raise ValueError("networks: required where network is set (every VPC's CIDR)")
        for name in self.networks:
            if name not in self.account_ids:
                raise ValueError(f"networks.{name}: no ID for account '{name}' in accountIds")
        own = self.networks.get(self.stack)
        if own is None:
            raise ValueError(f"networks: no entry for this stack's account '{self.stack}'")
        if own.environment != self.environment:
            raise ValueError(
                f"networks.{self.stack}.environment: '{own.environment.value}' differs from "
                f"this stack's environment '{self.environment.value}'"
            )
        names = sorted(self.networks)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a = ipaddress.IPv4Network(self.networks[first].cidr)
                b = ipaddress.IPv4Network(self.networks[second].cidr)
                if a.overlaps(b):
                    raise ValueError(
                        f"networks: the VPCs of {first} ({a}) and {second} ({b}) overlap"
                    )
        for name, entry in self.networks.items():
            if entry.vpc_id is not None and self.account_ids.get(name) == PENDING_ID:
                raise ValueError(
                    f"networks.{name}.vpcId: is set while accountIds.{name} is pending; a VPC "
                    "exists only in an account the organization created"
                )
        seen = set()
        labels: dict[str, tuple[str, str]] = {}
        for index, (left, right) in enumerate(self.network.peerings):
            key = f"network.peerings[{index}]"
            for name in (left, right):
                if name not in self.networks:
                    raise ValueError(f"{key}: '{name}' has no entry in networks")
            if left == right:
                raise ValueError(f"{key}: '{left}' cannot peer with itself")
            if self.networks[left].is_production != self.networks[right].is_production:
                raise ValueError(
                    f"{key}: {left} ({self.networks[left].environment.value}) may not peer with "
                    f"{right} ({self.networks[right].environment.value}): production and "
                    "non-production networks stay apart"
                )
            if frozenset((left, right)) in seen:
                raise ValueError(f"{key}: {left} and {right} are already peered")
            seen.add(frozenset((left, right)))
            # The peering's resources are named `<requester>-<accepter>`.
            other = labels.setdefault(f"{left}-{right}", (left, right))
            if other != (left, right):
                raise ValueError(
                    f"{key}: [{left}, {right}] and [{other[0]}, {other[1]}] would have the same "
                    f"resource name '{left}-{right}'; rename an account"
                )

    def _check_organization(self) -> None:
        is_management = self.stack == MANAGEMENT_ACCOUNT
        if is_management and self.organization is None:
            raise ValueError("organization: required in the management stack")
        if not is_management and self.organization is not None:
            raise ValueError("organization: only the management stack describes the organization")
        if is_management and self.environment != Environment.MANAGEMENT:
            raise ValueError("environment: the management stack's environment must be 'management'")
        for key, value in (
            ("identityCenter", self.identity_center),
            ("costGovernance", self.cost_governance),
        ):
            if is_management and value is None:
                raise ValueError(f"{key}: required in the management stack")
            if not is_management and value is not None:
                raise ValueError(f"{key}: only the management stack sets {key}")
        if self.organization is None:
            return
        missing = sorted(set(self.organization.accounts) - set(self.account_ids))
        if missing:
            raise ValueError(f"accountIds: no ID for member account(s) {', '.join(missing)}")
        unknown = sorted(set(self.account_ids) - set(self.organization.accounts) - {self.stack})
        if unknown:
            raise ValueError(
                f"accountIds: account(s) {', '.join(unknown)} are not in organization.accounts"
            )
        required = {"cloudtrail.amazonaws.com", "sso.amazonaws.com"}
        missing_services = sorted(required - set(self.organization.trusted_services))
        if missing_services:
            raise ValueError(
                f"organization.trustedServices: must include {', '.join(missing_services)} "
                "(the organization trail and Identity Center depend on it)"
            )
        self._check_access_matrix()
        self._check_cost_governance()

    def account_ous(self) -> dict[str, str]:
        """Every account of the organization -> its OU ("" for the management account)."""
        assert self.organization is not None
        return {MANAGEMENT_ACCOUNT: "", **{n: a.ou for n, a in self.organization.accounts.items()}}

    def access_assignments(self) -> list[tuple[str, str, list[str]]]:
        assert self.identity_center is not None
        return [(a.group, a.permission_set, a.targets) for a in self.identity_center.assignments]

    def _check_access_matrix(self) -> None:
        from ..access_matrix import problems

        assert self.organization is not None
        production = {
            name
            for name, account in self.organization.accounts.items()
            if account.environment == Environment.PRODUCTION
        }
        found = problems(
            self.access_assignments(),
            self.account_ous(),
            production,
            MANAGEMENT_ACCOUNT,
            {ou.name for ou in self.organization.organizational_units},
            retired=self.organization.retired_accounts(),
        )
        if found:
            raise ValueError(found[0])

    def _check_cost_governance(self) -> None:
        assert self.cost_governance is not None
        monitor = self.cost_governance.services_monitor_arn
        management = self.known_account_id(MANAGEMENT_ACCOUNT)
        if monitor is not None and management and monitor.split(":")[4] != management:
            raise ValueError(
                f"costGovernance.servicesMonitorArn: '{monitor}' belongs to account "
                f"{monitor.split(':')[4]}, not to the management account; name the "
                "Default-Services-Monitor of the management account"
            )
        for index, principal in enumerate(self.cost_governance.cost_explorer_access):
            if principal.account not in self.account_ids:
                raise ValueError(
                    f"costGovernance.costExplorerAccess[{index}].account: unknown account "
                    f"'{principal.account}'"
                )

    @property
    def account_id(self) -> str:
        return self.account_ids[self.stack]

    def known_account_id(self, name: str) -> str | None:
        """The account's ID, or None while config marks it pending."""
        value = self.account_ids.get(name)
        return None if value in (None, PENDING_ID) else value

    @property
    def known_management_account_id(self) -> str | None:
        return self.known_account_id(MANAGEMENT_ACCOUNT)

    def known_member_account_ids(self) -> tuple[str, ...]:
        """The IDs config knows of every account but the management account."""
        return tuple(
            account_id
            for name in self.account_ids
            if name != MANAGEMENT_ACCOUNT and (account_id := self.known_account_id(name))
        )

    def known_cost_explorer_principals(self) -> list[tuple[str, str]]:
        """(account ID, role) of each costExplorerAccess entry whose account config knows: whom
        the management stack's Cost Explorer role trusts."""
        if self.cost_governance is None:
            return []
        return [
            (account_id, p.role)
            for p in self.cost_governance.cost_explorer_access
            if (account_id := self.known_account_id(p.account))
        ]

    def deploys_accounts(self) -> tuple[str, ...]:
        """The shared services account's CI deploys the workload accounts, the ones that pull
        its images (pullAccounts are checked to be workload accounts), once their IDs are known."""
        if self.shared_services is None:
            return ()
        return tuple(
            account_id
            for name in self.shared_services.pull_accounts
            if (account_id := self.known_account_id(name))
        )

    @property
    def pending_accounts(self) -> list[str]:
        return sorted(n for n, v in self.account_ids.items() if v == PENDING_ID)

    def deploy_problems(self) -> list[str]:
        """What keeps this stack from deploying although its file is valid: an account of its
        own (or the management account) that config does not know yet."""
        problems = []
        if self.known_account_id(MANAGEMENT_ACCOUNT) is None:
            problems.append(
                f"diagnyx:accountIds.{MANAGEMENT_ACCOUNT}: is '{PENDING_ID}'; run `diagnyx "
                "bootstrap start --write` (new organization) or `diagnyx accounts sync` "
                "with the management account's credentials"
            )
        elif self.known_account_id(self.stack) is None:
            problems.append(
                f"diagnyx:accountIds.{self.stack}: is '{PENDING_ID}'; deploy the management stack "
                "(it creates the account), then run `diagnyx accounts sync`"
            )
        return problems

    @property
    def is_workload(self) -> bool:
        """Development, staging, UAT or production: the accounts the shared CI may deploy."""
        return self.environment in WORKLOAD_ENVIRONMENTS

    @property
    def is_management(self) -> bool:
        return self.stack == MANAGEMENT_ACCOUNT

    @property
    def effective_github_subject_prefix(self) -> str:
        """The repository part of the GitHub Actions OIDC `sub` claim the CI roles trust."""
        return self.github_subject_prefix or f"repo:{self.github_repository}"

    def default_tags(self) -> dict[str, str]:
        """The required tags, applied to every resource through the provider's default_tags."""
        return {
            "Environment": self.environment.value,
            "Project": self.project_name,
            "CostCenter": self.cost_center,
            "Owner": self.owner,
            "ManagedBy": MANAGED_BY,
        }
