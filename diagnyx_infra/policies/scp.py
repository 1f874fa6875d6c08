"""Service control policies: each a pure function of the organization's settings.

SCPs never restrict the management account, and they do not grant anything: every statement here
is a Deny on top of AWS's FullAWSAccess.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import naming
from .documents import PolicyDocument, document, size
from .security_services import guarded_actions, hiding_actions

# Global services are served from us-east-1 whatever region a caller works in; denying them
# outside the allowed regions would break them everywhere
# (docs/aws-rules.md#global-services-are-exempt-from-the-region-deny).
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

# Writes on a `Diagnyx*` role; only the deployment roles make them. Removing a role's permissions
# boundary is not among them: see BOUNDARY_ACTIONS.
GUARDED_ROLE_ACTIONS = (
    "iam:AttachRolePolicy",
    # Pre-creating a role the deploy roles would later adopt would inherit the exemptions.
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)

# Every write that changes who may assume OrganizationAccountAccessRole or what it may do.
ORG_ACCESS_ROLE_ACTIONS = (
    *GUARDED_ROLE_ACTIONS,
    "iam:DeleteRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
)

# Replacing, deleting or re-pointing the permissions boundary policy, and taking the boundary off a
# `Diagnyx*` role: the ceiling of the deploy roles is only a ceiling if they cannot lift it.
BOUNDARY_ACTIONS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRolePermissionsBoundary",
    "iam:SetDefaultPolicyVersion",
)

# Every write of the audit bucket's configuration. `s3:PutBucket*` takes the policy, ACL,
# ownership controls (DeleteBucketOwnershipControls is authorized by s3:PutBucketOwnershipControls),
# public access block, versioning, object lock, logging, notification, tagging, CORS and website;
# `s3:Put*Configuration` the encryption, lifecycle, replication, inventory, analytics, metrics,
# accelerate and intelligent-tiering configurations (their Delete... APIs are authorized by the
# same Put actions: Service Authorization Reference, Amazon S3); `s3:DeleteBucket*` the bucket,
# its policy and website. Matched against the bucket ARN only, so no object action is caught.
AUDIT_BUCKET_CONFIG_ACTIONS = (
    "s3:DeleteBucket*",
    "s3:Put*Configuration",
    "s3:PutBucket*",
)

TRAIL_ACTIONS = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)

# The audit key (the security account's key: it encrypts the organization trail's logs). Key
# resource operations that would stop the trail writing or let someone read or destroy the logs.
AUDIT_KEY_ACTIONS = (
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
)
AUDIT_KEY_ALIAS_ACTIONS = ("kms:DeleteAlias", "kms:UpdateAlias")
KMS_KEYS = "arn:aws:kms:*:*:key/*"

# The alarm rules and topic of every account (components/security_alarms.py): silencing them is
# the first step of anything else.
ALARM_ACTIONS = (
    "events:DeleteRule",
    "events:DisableRule",
    # The default bus's policy: a Deny for the forwarding role would drop the other regions'
    # forwarded events (security_alarms.py).
    "events:PutPermission",
    "events:PutRule",
    "events:PutTargets",
    "events:RemovePermission",
    "events:RemoveTargets",
    "sns:DeleteTopic",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sns:Unsubscribe",
)
ALARM_RULE_PREFIX = "diagnyx-security-"
ALARM_TOPIC = "diagnyx-alarms"

MIN_KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ScpInputs:
    """What the SCP builders depend on, taken from the validated organization settings."""

    allowed_regions: Sequence[str]
    non_production_instance_types: Sequence[str]
    deployment_roles: Sequence[str] = naming.DEPLOYMENT_ROLES
    # The paid security services switched on: the guard covers them too.
    security_services: Sequence[str] = ()
    # The security account, where the security team triages findings; None while pending.
    security_account_id: str | None = None


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


def _unless_break_glass() -> dict[str, dict[str, list[str]]]:
    """Only OrganizationAccountAccessRole, the management account's way into a member account
    (`pulumi up` with management credentials, deploy_sequence.py), is exempt: not the CI role."""
    return {"ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{naming.ORG_ACCESS_ROLE}"]}}


def _audit_key() -> dict[str, dict[str, list[str]]]:
    # SCPs cannot name a key by alias in Resource (an alias there is the alias resource), but the
    # multivalued condition key kms:ResourceAliases matches a key by the aliases it carries, for
    # KMS key resource operations only: DisableKey, PutKeyPolicy, ScheduleKeyDeletion,
    # DisableKeyRotation, CreateGrant, RevokeGrant are such operations (AWS KMS Developer Guide,
    # "Use aliases to control access to KMS keys" and "AWS KMS condition keys",
    # kms:ResourceAliases). Deleting or moving the alias would lift this (alias changes reach
    # authorization within up to five minutes, same page), so the alias is protected too
    # (ProtectAuditKeyAlias). kms:RetireGrant: "Policies do not effectively control access to this
    # operation" (AWS KMS permissions reference); the grant names its retiring principal.
    return {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [naming.AUDIT_KEY_ALIAS]}}


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
    """Exemptions, by principal ARN (aws:PrincipalArn), and why:

    - the deployment roles (OrganizationAccountAccessRole and DiagnyxCrossAccountCICD) may change
      what they deploy: the trail, the audit bucket's configuration, `Diagnyx*` roles, the alarms;
    - only OrganizationAccountAccessRole may change the audit key, its alias and the permissions
      boundary, or take a boundary off a role: CI deploys within the boundary and writes to the
      audit trail's key never come from CI; such a change is a break-glass `pulumi up` with
      management credentials;
    - nobody in a member account may change OrganizationAccountAccessRole itself, the role
      included: every exemption above is by its name, so whoever could rewrite its trust or
      policies would inherit them all. Nothing here deploys or changes it: Organizations creates it
      with each account it creates (an invited account must have it before it joins). To repair
      it, the management account, which SCPs never restrict, detaches this policy (the
      organization alarm reports it), fixes the role and attaches the policy again;
    - nobody deletes audit log objects.

    The security services have their own policy (protect_security_services), attached to every
    OU: the root's five places are taken.
    """
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
            "Sid": "ProtectAuditKey",
            "Effect": "Deny",
            "Action": list(AUDIT_KEY_ACTIONS),
            "Resource": KMS_KEYS,
            "Condition": {**_audit_key(), **_unless_break_glass()},
        },
        {
            # Grants that an integrated service creates for its own resources (DynamoDB for the
            # lock table, for example) carry kms:GrantIsForAWSResource = true and stay possible
            # for CI; a grant made directly to a principal would give it the key's use.
            "Sid": "ProtectAuditKeyGrants",
            "Effect": "Deny",
            "Action": "kms:CreateGrant",
            "Resource": KMS_KEYS,
            "Condition": {
                **_audit_key(),
                "Bool": {"kms:GrantIsForAWSResource": "false"},
                **_unless_break_glass(),
            },
        },
        {
            "Sid": "ProtectAuditKeyAlias",
            "Effect": "Deny",
            "Action": list(AUDIT_KEY_ALIAS_ACTIONS),
            "Resource": f"arn:aws:kms:*:*:{naming.AUDIT_KEY_ALIAS}",
            "Condition": _unless_break_glass(),
        },
        {
            "Sid": "ProtectOrganizationAccessRole",
            "Effect": "Deny",
            "Action": list(ORG_ACCESS_ROLE_ACTIONS),
            "Resource": f"arn:aws:iam::*:role/{naming.ORG_ACCESS_ROLE}",
        },
        {
            "Sid": "ProtectDiagnyxRoles",
            "Effect": "Deny",
            "Action": list(GUARDED_ROLE_ACTIONS),
            "Resource": f"arn:aws:iam::*:role/{naming.ROLE_PREFIX}*",
            "Condition": _unless_deployment_role(inputs),
        },
        {
            # The boundary policy and the role ARN pattern in one statement: each action matches
            # only its own resource type.
            "Sid": "ProtectPermissionsBoundary",
            "Effect": "Deny",
            "Action": list(BOUNDARY_ACTIONS),
            "Resource": [
                f"arn:aws:iam::*:policy/{naming.PERMISSIONS_BOUNDARY}",
                f"arn:aws:iam::*:role/{naming.ROLE_PREFIX}*",
            ],
            "Condition": _unless_break_glass(),
        },
        {
            "Sid": "ProtectSecurityAlarms",
            "Effect": "Deny",
            "Action": list(ALARM_ACTIONS),
            "Resource": [
                f"arn:aws:events:*:*:rule/{ALARM_RULE_PREFIX}*",
                "arn:aws:events:*:*:event-bus/default",
                f"arn:aws:sns:*:*:{ALARM_TOPIC}",
            ],
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


def protect_security_services(inputs: ScpInputs) -> PolicyDocument:
    """Only the deployment roles turn off the account protections (S3 Block Public Access, EBS
    encryption by default, the password policy), the organization's Access Analyzer or a paid
    security service that is on; outside the security account only they can hide findings
    (archive, suppress, filter, trust an IP list). policies/security_services.py lists both;
    every account's security-service-changes alarm matches the same calls."""
    hiding_condition = dict(_unless_deployment_role(inputs))
    if inputs.security_account_id is not None:
        hiding_condition["StringNotEquals"] = {"aws:PrincipalAccount": inputs.security_account_id}
    return document(
        {
            "Sid": "ProtectSecurityServices",
            "Effect": "Deny",
            "Action": guarded_actions(inputs.security_services),
            "Resource": "*",
            "Condition": _unless_deployment_role(inputs),
        },
        {
            "Sid": "ProtectSecurityFindings",
            "Effect": "Deny",
            "Action": hiding_actions(inputs.security_services),
            "Resource": "*",
            "Condition": hiding_condition,
        },
    )


def suspended_account(inputs: ScpInputs) -> PolicyDocument:
    """A retired account (the Suspended OU): nothing happens in it but what the organization's
    administrators need: the break-glass role (OrganizationAccountAccessRole, from the
    management account) and the read-only audit and drift roles, so that it can still be
    looked at, repaired or brought back (`diagnyx accounts unretire`)."""
    return document(
        {
            "Sid": "DenyAllButAdministrators",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnNotLike": {
                    "aws:PrincipalArn": [
                        f"arn:aws:iam::*:role/{naming.ORG_ACCESS_ROLE}",
                        f"arn:aws:iam::*:role/{naming.AUDIT_ROLE}",
                        f"arn:aws:iam::*:role/{naming.DRIFT_ROLE}",
                    ]
                }
            },
        }
    )


# Attached by the program to every OU (every member account is in one), not named in config.
SECURITY_SERVICES_GUARD = "protect-security-services"
SECURITY_SERVICES_POLICY = (
    "DiagnyxProtectSecurityServices",
    "Keep the account protections, IAM Access Analyzer and the switched-on security services on, "
    "and findings visible outside the security account",
    protect_security_services,
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
    # and carry no MFA flag, so an unscoped MFA condition would lock them out
    # (docs/aws-rules.md#mfa-is-required-of-iam-users-only).
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
        "Protect the organization trail, audit log bucket and key, OrganizationAccountAccessRole, "
        "Diagnyx roles and their boundary, security alarms, KMS deletion windows",
        protect_baseline,
    ),
    "non-production-cost-control": (
        "DiagnyxNonProductionCostControl",
        "Deny EC2 instance types outside the allow-list and reserved capacity purchases",
        non_production_cost_control,
    ),
    "suspended-account": (
        "DiagnyxSuspendedAccount",
        "Retired accounts: deny everything but the break-glass, audit and drift roles",
        suspended_account,
    ),
    "require-mfa-for-iam-users": (
        "DiagnyxRequireMfaForIamUsers",
        "Deny IAM users without MFA everything but setting up MFA",
        require_mfa_for_iam_users,
    ),
}


def build(key: str, inputs: ScpInputs) -> ServiceControlPolicy:
    name, description, builder = (
        SECURITY_SERVICES_POLICY if key == SECURITY_SERVICES_GUARD else CATALOGUE[key]
    )
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
