"""Security services as plain data: the free protections every account gets, what each paid
service needs from the organization (trusted access, a delegated administrator), the audit
archive's and audit key's statements for their deliveries, and the actions that would turn each
off (the SCP guard and the alarm use the same lists). No Pulumi here."""

from collections.abc import Iterable, Sequence
from typing import Any

from .. import naming
from .documents import PolicyDocument, document
from .iam import CONFIG_AGGREGATOR_ROLE, CONFIG_SERVICE_LINKED_ROLE  # noqa: F401 (re-exported)

GUARD_DUTY = "guardDuty"
SECURITY_HUB = "securityHub"
AWS_CONFIG = "awsConfig"
ACCESS_ANALYZER = "accessAnalyzer"  # free: always on
PAID_SERVICES = (GUARD_DUTY, SECURITY_HUB, AWS_CONFIG)

# Service principals for trusted access (Organizations User Guide, "AWS services that you can use
# with AWS Organizations"). Access Analyzer's organization analyzer is free (external access).
TRUSTED_SERVICE = {
    ACCESS_ANALYZER: "access-analyzer.amazonaws.com",
    GUARD_DUTY: "guardduty.amazonaws.com",
    SECURITY_HUB: "securityhub.amazonaws.com",
    AWS_CONFIG: "config.amazonaws.com",
}
# Registered through Organizations' RegisterDelegatedAdministrator. GuardDuty and Security Hub
# have their own EnableOrganizationAdminAccount call instead, which registers them as well.
ORGANIZATIONS_DELEGATED = (ACCESS_ANALYZER, AWS_CONFIG)

# CIS AWS Foundations Benchmark v3.0.0, 1.8 (length at least 14) and 1.9 (no reuse of the last
# 24); AWS Foundational Security Best Practices IAM.7 (upper, lower, number, symbol); CIS 1.2.0's
# 90-day maximum age (Security Hub controls IAM.11-IAM.16), so every standard we enable passes.
PASSWORD_POLICY = {
    "minimum_password_length": 14,
    "require_lowercase_characters": True,
    "require_uppercase_characters": True,
    "require_numbers": True,
    "require_symbols": True,
    "allow_users_to_change_password": True,
    "password_reuse_prevention": 24,
    "max_password_age": 90,
    "hard_expiry": False,
}

ORGANIZATION_ANALYZER = "diagnyx-organization"
CONFIG_RECORDER = "diagnyx"
CONFIG_PREFIX = "config"  # the audit archive's prefix for AWS Config's deliveries
GUARD_DUTY_PREFIX = "guardduty"  # and for GuardDuty's exported findings
CONFIG_AGGREGATOR = "diagnyx-organization"
# AWS managed policy for an organization aggregator's role (AWS Config Developer Guide,
# "Setting up an aggregator ... for an organization").
CONFIG_AGGREGATOR_POLICY = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"

# Recording: every supported resource type (Security Hub's controls need them; global types such
# as IAM are recorded because each account records in one region only), changes recorded as they
# happen ($0.003 per item) except for types that churn, recorded daily ($0.012 per item, at most
# one a day per resource): an interface that Lambda, ECS or EKS creates and deletes all day would
# otherwise bill an item per change. Break-even is four changes a day.
CONFIG_DAILY_TYPES = (
    "AWS::EC2::NetworkInterface",
    "AWS::EC2::Volume",
    "AWS::AutoScaling::AutoScalingGroup",
)

# GuardDuty's optional protection plans, each billed apart from the foundational detection
# (CloudTrail management events, VPC flow logs, DNS logs). Not auto-enabled: they are turned on
# per account when a workload needs them (AWS GuardDuty pricing).
GUARD_DUTY_OPTIONAL_FEATURES = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
    "RUNTIME_MONITORING",
)


def security_hub_standards(region: str) -> list[str]:
    """CIS AWS Foundations Benchmark v3.0.0 and AWS Foundational Security Best Practices
    (Security Hub User Guide, "Standards reference": standard ARNs are regional, with no
    account)."""
    return [
        f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
        f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
    ]


def delegated_services(enabled: Iterable[str]) -> list[str]:
    """The services the security account administers for the organization: the analyzer, and
    each paid service switched on (GuardDuty's and Security Hub's EnableOrganizationAdminAccount
    register the account with Organizations as well; ListDelegatedServicesForAccount shows
    them)."""
    return trusted_services(enabled)


def trusted_services(enabled: Iterable[str]) -> list[str]:
    """The trusted-access principals the free defaults and the enabled paid services need."""
    return sorted({TRUSTED_SERVICE[ACCESS_ANALYZER], *(TRUSTED_SERVICE[s] for s in enabled)})


# What would turn each protection or service off, or cut an account loose from it: denied by the
# protect-security-services SCP to all but the deployment roles, everywhere. Explicit names (no
# wildcards), so that the alarm can match the same calls by their CloudTrail event names.
# Deleting an account's public access block is authorized by s3:PutAccountPublicAccessBlock
# (Service Authorization Reference, Amazon S3).
TURN_OFF_ACTIONS: dict[str, tuple[str, ...]] = {
    "accountProtections": (
        "ec2:DisableEbsEncryptionByDefault",
        # A default key the attacker later disables or deletes leaves new volumes unusable.
        "ec2:ModifyEbsDefaultKmsKeyId",
        "iam:DeleteAccountPasswordPolicy",
        "iam:UpdateAccountPasswordPolicy",
        "s3:PutAccountPublicAccessBlock",
    ),
    ACCESS_ANALYZER: ("access-analyzer:DeleteAnalyzer", "access-analyzer:UpdateAnalyzer"),
    GUARD_DUTY: (
        "guardduty:DeleteDetector",
        "guardduty:DeleteMembers",
        "guardduty:DeletePublishingDestination",
        "guardduty:DisassociateFromAdministratorAccount",
        "guardduty:DisassociateFromMasterAccount",
        "guardduty:DisassociateMembers",
        "guardduty:StopMonitoringMembers",
        "guardduty:UpdateDetector",
        "guardduty:UpdateMalwareScanSettings",
        "guardduty:UpdateMemberDetectors",
        "guardduty:UpdateOrganizationConfiguration",
        "guardduty:UpdatePublishingDestination",
    ),
    SECURITY_HUB: (
        "securityhub:BatchDisableStandards",
        "securityhub:BatchUpdateStandardsControlAssociations",
        "securityhub:DeleteConfigurationPolicy",
        "securityhub:DeleteFindingAggregator",
        "securityhub:DeleteMembers",
        "securityhub:DisableImportFindingsForProduct",
        "securityhub:DisableSecurityHub",
        "securityhub:DisassociateFromAdministratorAccount",
        "securityhub:DisassociateFromMasterAccount",
        "securityhub:DisassociateMembers",
        "securityhub:StartConfigurationPolicyAssociation",
        "securityhub:StartConfigurationPolicyDisassociation",
        "securityhub:UpdateConfigurationPolicy",
        "securityhub:UpdateFindingAggregator",
        "securityhub:UpdateOrganizationConfiguration",
        "securityhub:UpdateSecurityControl",
        "securityhub:UpdateStandardsControl",
    ),
    AWS_CONFIG: (
        "config:DeleteConfigurationAggregator",
        "config:DeleteConfigurationRecorder",
        "config:DeleteDeliveryChannel",
        "config:DeleteRetentionConfiguration",
        "config:DisassociateResourceTypes",
        "config:PutConfigurationAggregator",
        "config:PutConfigurationRecorder",
        "config:PutDeliveryChannel",
        "config:PutRetentionConfiguration",
        "config:StopConfigurationRecorder",
    ),
}
# What would hide findings from the security team: archiving or suppressing them, rules that do
# so automatically, filters and trusted IP lists that stop them being raised. Denied outside the
# security account (the deployment roles aside): a member cannot hide its own findings; the
# security team triages centrally, in its own account.
HIDE_FINDINGS_ACTIONS: dict[str, tuple[str, ...]] = {
    ACCESS_ANALYZER: (
        "access-analyzer:ApplyArchiveRule",
        "access-analyzer:CreateArchiveRule",
        "access-analyzer:UpdateArchiveRule",
        "access-analyzer:UpdateFindings",
    ),
    GUARD_DUTY: (
        "guardduty:ArchiveFindings",
        "guardduty:CreateFilter",
        "guardduty:CreateIPSet",
        # Trusted entity sets succeed IP sets: GuardDuty raises no finding for what they list.
        "guardduty:CreateTrustedEntitySet",
        "guardduty:UpdateFilter",
        "guardduty:UpdateIPSet",
        "guardduty:UpdateTrustedEntitySet",
    ),
    SECURITY_HUB: (
        "securityhub:BatchUpdateAutomationRules",
        "securityhub:BatchUpdateFindings",
        "securityhub:CreateAutomationRule",
        "securityhub:UpdateFindings",  # the older call: archives findings by filter
    ),
}


def guarded_actions(enabled: Iterable[str]) -> list[str]:
    """The guard's turn-off actions: the free protections always, each paid service once on."""
    keys = ["accountProtections", ACCESS_ANALYZER, *sorted(enabled)]
    return sorted(action for key in keys for action in TURN_OFF_ACTIONS[key])


def hiding_actions(enabled: Iterable[str]) -> list[str]:
    keys = [ACCESS_ANALYZER, *sorted(enabled)]
    return sorted(a for key in keys for a in HIDE_FINDINGS_ACTIONS.get(key, ()))


# CloudTrail's event source of each IAM service prefix the guard names.
EVENT_SOURCES = {
    "access-analyzer": "access-analyzer.amazonaws.com",
    "config": "config.amazonaws.com",
    "ec2": "ec2.amazonaws.com",
    "guardduty": "guardduty.amazonaws.com",
    "iam": "iam.amazonaws.com",
    "s3": "s3.amazonaws.com",
    "securityhub": "securityhub.amazonaws.com",
}
# Calls authorized by another call's action, logged under their own name.
AUTHORIZED_BY = {"s3:PutAccountPublicAccessBlock": ("DeleteAccountPublicAccessBlock",)}


def alarm_events() -> dict[str, list[str]]:
    """Event source -> the CloudTrail event names of every call the guard denies, whichever
    services are on (the alarm does not change with the switches)."""
    every_key = (*TURN_OFF_ACTIONS, *HIDE_FINDINGS_ACTIONS)
    actions = {
        a
        for key in every_key
        for a in (*TURN_OFF_ACTIONS.get(key, ()), *HIDE_FINDINGS_ACTIONS.get(key, ()))
    }
    events: dict[str, set[str]] = {}
    for action in actions:
        prefix, name = action.split(":")
        found = events.setdefault(EVENT_SOURCES[prefix], set())
        found.update((name, *AUTHORIZED_BY.get(action, ())))
    return {source: sorted(names) for source, names in sorted(events.items())}


def archive_delivery_statements(bucket_arn: str, security_account_id: str) -> list[dict[str, Any]]:
    """The audit archive admits GuardDuty's export of every member's findings, made by the
    administrator (the security account), under guardduty/ (GuardDuty User Guide, "Exporting
    generated findings to Amazon S3"). Present whether GuardDuty is on or not: the archive is
    ready before the switch, and nothing but GuardDuty for this account can use it."""
    from_security = {"StringEquals": {"aws:SourceAccount": security_account_id}}
    return [
        {
            "Sid": "GuardDutyChecksBucket",
            "Effect": "Allow",
            "Principal": {"Service": "guardduty.amazonaws.com"},
            "Action": "s3:GetBucketLocation",
            "Resource": bucket_arn,
            "Condition": from_security,
        },
        {
            "Sid": "GuardDutyExportsFindings",
            "Effect": "Allow",
            "Principal": {"Service": "guardduty.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{GUARD_DUTY_PREFIX}/*",
            "Condition": from_security,
        },
    ]


def config_bucket_name(security_account_id: str) -> str:
    """AWS Config's history bucket. Not the audit archive: "AWS Config does not support the
    delivery channel to an Amazon S3 bucket where object lock is enabled" (AWS Config API
    Reference and CloudFormation AWS::Config::DeliveryChannel). Named under the audit buckets'
    prefix, so the protect-baseline SCP guards its configuration and objects as it guards the
    archive's."""
    return f"{naming.AUDIT_BUCKET_PREFIX}config-{security_account_id}"


def config_bucket_statements(bucket_arn: str, account_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every account's recorder, through its service-linked role, checks the bucket and writes
    under config/AWSLogs/<its account>/Config/ (AWS Config Developer Guide, "Permissions for
    the Amazon S3 bucket for the AWS Config delivery channel"). Present whether AWS Config is on
    or not, so that the switch needs no second deploy of the security stack first."""
    from_accounts = {"aws:SourceAccount": sorted(account_ids)}
    return [
        {
            "Sid": "ConfigChecksBucket",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {"StringEquals": from_accounts},
        },
        {
            "Sid": "ConfigDelivers",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": [
                f"{bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{account}/Config/*"
                for account in sorted(account_ids)
            ],
            "Condition": {
                "StringEquals": {**from_accounts, "s3:x-amz-acl": "bucket-owner-full-control"}
            },
        },
    ]


def audit_key_statements(
    account_ids: Sequence[str], security_account_id: str
) -> list[dict[str, Any]]:
    """The audit key encrypts both buckets by default, so the services writing to them use it."""
    return [
        {
            "Sid": "ConfigEncryptsDeliveries",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": sorted(account_ids)}},
        },
        {
            "Sid": "GuardDutyEncryptsFindings",
            "Effect": "Allow",
            "Principal": {"Service": "guardduty.amazonaws.com"},
            "Action": "kms:GenerateDataKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": security_account_id}},
        },
    ]


def aggregator_trust_policy(security_account_id: str) -> PolicyDocument:
    """Only AWS Config, and only for the security account's own aggregator (confused deputy)."""
    return document(
        {
            "Sid": "ConfigAggregatesOrganization",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": security_account_id}},
        }
    )
