"""Service control policies: each a pure function of the organization's settings.

SCPs never restrict the management account, and they do not grant anything: every statement here
is a Deny on top of AWS's FullAWSAccess.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import naming
from .documents import PolicyDocument, document, size

# Global services are served from us-east-1 whatever region a caller works in; denying them
# outside the allowed regions would break them everywhere (design.md, Limits).
GLOBAL_SERVICE_ACTIONS = (
    "a4b:*",
    "account:*",
    "acm:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "billing:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "cur:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "identitystore:*",
    "importexport:*",
    "invoicing:*",
    "networkmanager:*",
    "organizations:*",
    "payments:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublicAccessBlock",
    "s3:ListAllMyBuckets",
    "savingsplans:*",
    "shield:*",
    "sso:*",
    "sts:*",
    "support:*",
    "tag:GetResources",
    "trustedadvisor:*",
    "waf:*",
    "wellarchitected:*",
)

RESERVED_CAPACITY_PURCHASES = (
    "dynamodb:PurchaseReservedCapacityOfferings",
    "ec2:AcceptReservedInstancesExchangeQuote",
    "ec2:PurchaseHostReservation",
    "ec2:PurchaseReservedInstancesOffering",
    "ec2:PurchaseScheduledInstances",
    "elasticache:PurchaseReservedCacheNodesOffering",
    "es:PurchaseReservedElasticsearchInstanceOffering",
    "es:PurchaseReservedInstanceOffering",
    "rds:PurchaseReservedDBInstancesOffering",
    "redshift:PurchaseReservedNodeOffering",
    "savingsplans:CreateSavingsPlan",
)

# What an IAM user without MFA may still do: set up and use MFA (AWS's own example).
MFA_SELF_SERVICE_ACTIONS = (
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetAccountPasswordPolicy",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
)

GUARDED_ROLE_ACTIONS = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)

AUDIT_BUCKET_CONFIG_ACTIONS = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
)

TRAIL_ACTIONS = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)

MIN_KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ScpInputs:
    """What the SCP builders depend on, taken from the validated organization settings."""

    allowed_regions: Sequence[str]
    non_production_instance_types: Sequence[str]
    deployment_roles: Sequence[str] = naming.DEPLOYMENT_ROLES


@dataclass(frozen=True)
class ServiceControlPolicy:
    key: str
    name: str
    description: str
    document: PolicyDocument


def _deployment_role_arns(inputs: ScpInputs) -> list[str]:
    return [f"arn:aws:iam::*:role/{role}" for role in inputs.deployment_roles]


def _unless_deployment_role(inputs: ScpInputs) -> dict[str, dict[str, list[str]]]:
    return {"ArnNotLike": {"aws:PrincipalArn": _deployment_role_arns(inputs)}}


def deny_leave_organization(inputs: ScpInputs) -> PolicyDocument:
    return document(
        {
            "Sid": "DenyLeaveOrganization",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        }
    )


def deny_unapproved_regions(inputs: ScpInputs) -> PolicyDocument:
    return document(
        {
            "Sid": "DenyOutsideAllowedRegions",
            "Effect": "Deny",
            "NotAction": list(GLOBAL_SERVICE_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:RequestedRegion": list(inputs.allowed_regions)},
                **_unless_deployment_role(inputs),
            },
        }
    )


def deny_root_user(inputs: ScpInputs) -> PolicyDocument:
    return document(
        {
            "Sid": "DenyRootUserInMemberAccounts",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
        }
    )


def protect_baseline(inputs: ScpInputs) -> PolicyDocument:
    return document(
        {
            "Sid": "ProtectOrganizationTrail",
            "Effect": "Deny",
            "Action": list(TRAIL_ACTIONS),
            "Resource": f"arn:aws:cloudtrail:*:*:trail/{naming.ORGANIZATION_TRAIL}",
            "Condition": _unless_deployment_role(inputs),
        },
        {
            "Sid": "ProtectAuditBucketConfiguration",
            "Effect": "Deny",
            "Action": list(AUDIT_BUCKET_CONFIG_ACTIONS),
            "Resource": f"arn:aws:s3:::{naming.AUDIT_BUCKET_PREFIX}*",
            "Condition": _unless_deployment_role(inputs),
        },
        {
            # Nobody deletes audit logs, deployment roles included; expiry is S3's own lifecycle.
            "Sid": "ProtectAuditLogObjects",
            "Effect": "Deny",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": f"arn:aws:s3:::{naming.AUDIT_BUCKET_PREFIX}*/*",
        },
        {
            "Sid": "ProtectDiagnyxRoles",
            "Effect": "Deny",
            "Action": list(GUARDED_ROLE_ACTIONS),
            "Resource": f"arn:aws:iam::*:role/{naming.ROLE_PREFIX}*",
            "Condition": _unless_deployment_role(inputs),
        },
        {
            "Sid": "DenyShortKeyDeletionWindow",
            "Effect": "Deny",
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "*",
            "Condition": {
                "NumericLessThan": {
                    "kms:ScheduleKeyDeletionPendingWindowInDays": str(MIN_KEY_DELETION_WINDOW_DAYS)
                }
            },
        },
    )


def non_production_cost_control(inputs: ScpInputs) -> PolicyDocument:
    return document(
        {
            "Sid": "DenyUnapprovedInstanceTypes",
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {
                "StringNotLike": {"ec2:InstanceType": list(inputs.non_production_instance_types)}
            },
        },
        {
            "Sid": "DenyReservedCapacityPurchases",
            "Effect": "Deny",
            "Action": list(RESERVED_CAPACITY_PURCHASES),
            "Resource": "*",
        },
    )


def require_mfa_for_iam_users(inputs: ScpInputs) -> PolicyDocument:
    # Scoped to IAM users by principal ARN: Identity Center and CI sessions are role sessions
    # and carry no MFA flag, so an unscoped MFA condition would lock them out (design.md).
    return document(
        {
            "Sid": "DenyIamUsersWithoutMfa",
            "Effect": "Deny",
            "NotAction": list(MFA_SELF_SERVICE_ACTIONS),
            "Resource": "*",
            "Condition": {
                "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"},
            },
        }
    )


Builder = Callable[[ScpInputs], PolicyDocument]

# key -> (policy name in AWS, description, builder). Keys are what stack config refers to.
CATALOGUE: dict[str, tuple[str, str, Builder]] = {
    "deny-leave-organization": (
        "DiagnyxDenyLeaveOrganization",
        "Member accounts cannot leave the organization",
        deny_leave_organization,
    ),
    "deny-unapproved-regions": (
        "DiagnyxDenyUnapprovedRegions",
        "Deny regional actions outside the allowed regions "
        "(global services and deployment roles exempt)",
        deny_unapproved_regions,
    ),
    "deny-root-user": (
        "DiagnyxDenyRootUser",
        "Deny all actions by member accounts' root users",
        deny_root_user,
    ),
    "protect-baseline": (
        "DiagnyxProtectBaseline",
        "Protect the organization trail, audit log bucket, Diagnyx roles and KMS deletion windows",
        protect_baseline,
    ),
    "non-production-cost-control": (
        "DiagnyxNonProductionCostControl",
        "Deny EC2 instance types outside the allow-list and reserved capacity purchases",
        non_production_cost_control,
    ),
    "require-mfa-for-iam-users": (
        "DiagnyxRequireMfaForIamUsers",
        "Deny IAM users without MFA everything but setting up MFA",
        require_mfa_for_iam_users,
    ),
}


def build(key: str, inputs: ScpInputs) -> ServiceControlPolicy:
    name, description, builder = CATALOGUE[key]
    return ServiceControlPolicy(key, name, description, builder(inputs))


def build_all(keys: Sequence[str], inputs: ScpInputs) -> dict[str, ServiceControlPolicy]:
    return {key: build(key, inputs) for key in dict.fromkeys(keys)}


def oversized(policies: dict[str, ServiceControlPolicy], max_chars: int) -> list[str]:
    """Problems for every policy whose minified JSON exceeds ``max_chars``."""
    return [
        f"SCP '{p.key}' is {size(p.document)} characters, over the limit of {max_chars}"
        for p in policies.values()
        if size(p.document) > max_chars
    ]
