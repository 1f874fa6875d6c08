"""The checklist's security-services items (issue 16), each a definition with its metadata: an
id, the checklist line it fills, where it applies, the organization.securityServices switch that
turns it on (None: free and always on), the fix to name when it fails, and the check itself, a
function of one account's reads. `Checklist` runs them after its older items, in this order.

What each reads (all configuration, allowed by the audit role's ReadOnlyAccess and SecurityAudit;
the test of the items checks each call against them): s3:GetAccountPublicAccessBlock,
ec2:GetEbsEncryptionByDefault, iam:GetAccountPasswordPolicy, access-analyzer:ListAnalyzers,
guardduty:ListDetectors and GetDetector, securityhub:DescribeHub, and AWS Config's
DescribeConfigurationRecorderStatus, DescribeDeliveryChannels and
DescribeConfigurationAggregators."""

from collections.abc import Callable
from dataclasses import dataclass

from ..config.models import MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, StackSettings
from ..policies import security_services as services
from .aws import Aws, account_controls, classify, every, reply_field
from .landing_zone import LandingZone

BLOCK_PUBLIC_ACCESS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
# The password policy's settings that may be stricter than PASSWORD_POLICY and still pass.
_AT_LEAST = ("minimum_password_length", "password_reuse_prevention")
_AT_MOST = ("max_password_age",)


@dataclass(frozen=True)
class Account:
    """What an item is checked against: one account, its session and the landing zone."""

    name: str
    aws: Aws
    zone: LandingZone

    @property
    def settings(self) -> StackSettings:
        return self.zone.stacks.get(self.name) or self.zone.management

    @property
    def regions(self) -> list[str]:
        """The allowed regions: the free protections and the paid services cover each."""
        return list(self.settings.allowed_regions)


Check = Callable[[Account], tuple[bool, str]]


@dataclass(frozen=True)
class SecurityItem:
    id: str
    item: str  # the checklist's line
    scope: str  # where it applies, in words
    fix: Callable[[str], str]  # the hint for an account that fails it
    check: Check
    switch: str | None = None  # a securityServices key; None: free, always on
    only_in: str | None = None  # the one account it concerns; None: every account

    def not_checked(self, account: str, enabled: tuple[str, ...]) -> str | None:
        """Why the item does not apply to ``account`` (its line passes saying so), or None."""
        if self.switch is not None and self.switch not in enabled:
            return (
                f"off: organization.securityServices.{self.switch} is not true in "
                "Pulumi.management.yaml; not checked"
            )
        if self.only_in is not None and account != self.only_in:
            return f"not applicable: {self.scope}; checked there"
        return None


# --- the free protections ----------------------------------------------------------------------


def public_access_block(account: Account) -> tuple[bool, str]:
    """The account-level S3 Block Public Access, all four settings on (none set: AWS answers
    NoSuchPublicAccessBlockConfiguration, a missing setting, so the line fails)."""
    account_id = account.zone.account_ids[account.name]
    reply = account_controls(account.aws).get_public_access_block(AccountId=account_id)
    block = reply_field(
        reply, "PublicAccessBlockConfiguration", operation="s3control:GetPublicAccessBlock"
    )
    off = [key for key in BLOCK_PUBLIC_ACCESS if block.get(key) is not True]
    return not off, f"off: {', '.join(off)}" if off else "all four settings on"


def ebs_encryption(account: Account) -> tuple[bool, str]:
    """EBS encryption by default, a regional setting, on in every allowed region."""
    off = [
        region
        for region in account.regions
        if not reply_field(
            account.aws.client("ec2", region).get_ebs_encryption_by_default(),
            "EbsEncryptionByDefault",
            operation="ec2:GetEbsEncryptionByDefault",
        )
    ]
    regions = ", ".join(account.regions)
    return not off, f"off in {', '.join(off)}" if off else f"on in {regions}"


def _api_name(key: str) -> str:
    """PASSWORD_POLICY's keys are the provider's; IAM's fields are their PascalCase."""
    return "".join(word.capitalize() for word in key.split("_"))


def password_policy(account: Account) -> tuple[bool, str]:
    """The account password policy at least as strict as PASSWORD_POLICY (CIS 1.8, 1.9; FSBP
    IAM.7): longer minimums and a shorter maximum age pass; none set is a missing setting."""
    policy = reply_field(
        account.aws.client("iam").get_account_password_policy(),
        "PasswordPolicy",
        operation="iam:GetAccountPasswordPolicy",
    )
    problems = []
    for key, wanted in services.PASSWORD_POLICY.items():
        field = _api_name(key)
        actual = policy.get(field)
        if key in _AT_LEAST:
            if not isinstance(actual, int) or actual < wanted:
                problems.append(f"{field} {actual}, at least {wanted}")
        elif key in _AT_MOST:
            if not isinstance(actual, int) or not 0 < actual <= wanted:
                problems.append(f"{field} {actual or 'unset'}, at most {wanted}")
        elif bool(actual) != wanted:
            problems.append(f"{field} {bool(actual)}, expected {wanted}")
    length = services.PASSWORD_POLICY["minimum_password_length"]
    reuse = services.PASSWORD_POLICY["password_reuse_prevention"]
    return not problems, "; ".join(problems) or (
        f"CIS: length >= {length}, no reuse of the last {reuse}, every character class"
    )


def access_analyzer(account: Account) -> tuple[bool, str]:
    """The organization's analyzer, active in each allowed region of the security account.
    (moto has no Access Analyzer: the line cannot be checked there, which leaves the exit code
    as it is, as for every known gap of the emulator.)"""
    missing = []
    for region in account.regions:
        analyzers = every(
            account.aws.client("accessanalyzer", region),
            "list_analyzers",
            "analyzers",
            type="ORGANIZATION",
        )
        if not any(
            a.get("name") == services.ORGANIZATION_ANALYZER and a.get("status") == "ACTIVE"
            for a in analyzers
        ):
            missing.append(region)
    name = services.ORGANIZATION_ANALYZER
    if missing:
        return False, f"no active organization analyzer {name} in {', '.join(missing)}"
    return True, f"organization analyzer {name} active in {', '.join(account.regions)}"


# --- the paid services, each once switched on ------------------------------------------------


def guard_duty(account: Account) -> tuple[bool, str]:
    """A GuardDuty detector, enabled, in every allowed region."""
    problems = []
    for region in account.regions:
        client = account.aws.client("guardduty", region)
        detectors = every(client, "list_detectors", "DetectorIds")
        if not detectors:
            problems.append(f"no detector in {region}")
        elif not any(
            reply_field(
                client.get_detector(DetectorId=d), "Status", operation="guardduty:GetDetector"
            )
            == "ENABLED"
            for d in detectors
        ):
            problems.append(f"detector suspended in {region}")
    return not problems, "; ".join(problems) or f"enabled in {', '.join(account.regions)}"


def security_hub(account: Account) -> tuple[bool, str]:
    """Security Hub enabled in every allowed region (central configuration's home and linked
    regions: the allowed ones). Not subscribed is a missing setting (aws.classify)."""
    off = []
    for region in account.regions:
        try:
            account.aws.client("securityhub", region).describe_hub()
        except Exception as error:
            if classify(error).kind != "missing":
                raise
            off.append(region)
    if off:
        return False, f"not enabled in {', '.join(off)}"
    return True, f"enabled in {', '.join(account.regions)}"


def aws_config(account: Account) -> tuple[bool, str]:
    """The `diagnyx` recorder recording in every allowed region and delivering to the security
    account's Config bucket; in the security account, the organization aggregator too."""
    bucket = services.config_bucket_name(account.zone.account_ids[SECURITY_ACCOUNT])
    recorder = services.CONFIG_RECORDER
    problems = []
    for region in account.regions:
        config = account.aws.client("config", region)
        operation = "config:DescribeConfigurationRecorderStatus"
        statuses = reply_field(
            config.describe_configuration_recorder_status(),
            "ConfigurationRecordersStatus",
            operation=operation,
        )
        status = next((s for s in statuses if s.get("name") == recorder), None)
        if status is None:
            problems.append(f"no recorder {recorder} in {region}")
            continue
        if not reply_field(status, "recording", operation=operation):
            problems.append(f"recorder {recorder} not recording in {region}")
        channels = reply_field(
            config.describe_delivery_channels(),
            "DeliveryChannels",
            operation="config:DescribeDeliveryChannels",
        )
        if not any(
            c.get("s3BucketName") == bucket and c.get("s3KeyPrefix") == services.CONFIG_PREFIX
            for c in channels
        ):
            problems.append(f"no delivery to {bucket}/{services.CONFIG_PREFIX} in {region}")
    if account.name == SECURITY_ACCOUNT:
        config = account.aws.client("config", account.settings.region)
        aggregators = every(
            config, "describe_configuration_aggregators", "ConfigurationAggregators"
        )
        if not any(
            a.get("ConfigurationAggregatorName") == services.CONFIG_AGGREGATOR
            and a.get("OrganizationAggregationSource")
            for a in aggregators
        ):
            problems.append(f"no organization aggregator {services.CONFIG_AGGREGATOR}")
    done = f"{recorder} recording in {', '.join(account.regions)}, delivering to {bucket}"
    return not problems, "; ".join(problems) or done


# --- the items ---------------------------------------------------------------------------------


def _own_stack(account: str) -> str:
    return f"run `pulumi up -s {account}`"


def _administered(account: str) -> str:
    if account == MANAGEMENT_ACCOUNT:
        return "run `pulumi up -s management` (its own detector and the delegation)"
    return "run `pulumi up -s security` (the administrator enables every member account)"


SECURITY_ITEMS: tuple[SecurityItem, ...] = (
    SecurityItem(
        "s3-account-public-access-block",
        "S3 Block Public Access",
        "every account",
        _own_stack,
        public_access_block,
    ),
    SecurityItem(
        "ebs-encryption-by-default",
        "EBS encryption by default",
        "every account, every allowed region",
        _own_stack,
        ebs_encryption,
    ),
    SecurityItem(
        "iam-password-policy",
        "password policy",
        "every account",
        _own_stack,
        password_policy,
    ),
    SecurityItem(
        "access-analyzer",
        "IAM Access Analyzer",
        "the organization's analyzer is the security account's",
        lambda _: "run `pulumi up -s management`, then `pulumi up -s security`",
        access_analyzer,
        only_in=SECURITY_ACCOUNT,
    ),
    SecurityItem(
        "guardduty",
        "GuardDuty",
        "every account, every allowed region",
        _administered,
        guard_duty,
        switch=services.GUARD_DUTY,
    ),
    SecurityItem(
        "security-hub",
        "Security Hub",
        "every account, every allowed region",
        lambda _: "run `pulumi up -s security` (central configuration enables every account)",
        security_hub,
        switch=services.SECURITY_HUB,
    ),
    SecurityItem(
        "aws-config",
        "AWS Config",
        "every account, every allowed region",
        _own_stack,
        aws_config,
        switch=services.AWS_CONFIG,
    ),
)
ITEMS_BY_ID = {item.id: item for item in SECURITY_ITEMS}
