"""Audit trail documents: the archive bucket's delivery statements and the security alarm event
patterns."""

from typing import Any

from .. import naming
from .documents import document
from .security_services import alarm_events


def trail_arn(region: str, account_id: str, name: str = naming.ORGANIZATION_TRAIL) -> str:
    """A trail's ARN is predictable; policies can name it before the trail exists."""
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{name}"


def trail_delivery_statements(bucket_arn: str, source_trail_arn: str) -> list[dict[str, Any]]:
    """CloudTrail may check the ACL and write logs, and only on behalf of the given trail."""
    only_this_trail = {"StringEquals": {"aws:SourceArn": source_trail_arn}}
    return [
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": only_this_trail,
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": source_trail_arn,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        },
    ]


_SIGN_IN = "AWS Console Sign In via CloudTrail"
_API_CALL = "AWS API Call via CloudTrail"

IAM_POLICY_CHANGES = (
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    # New principals and rewritten trust: the backdoor and takeover steps.
    "CreateAccessKey",
    "CreateRole",
    "CreateUser",
    "UpdateAssumeRolePolicy",
    "CreatePolicy",
    "CreatePolicyVersion",
    "DeleteGroupPolicy",
    "DeletePolicy",
    "DeletePolicyVersion",
    "DeleteRolePolicy",
    "DeleteUserPolicy",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "PutUserPolicy",
    "SetDefaultPolicyVersion",
)
CLOUDTRAIL_CHANGES = (
    "DeleteTrail",
    "PutEventSelectors",
    "StopLogging",
    "UpdateTrail",
)


# Key changes that would stop a key protecting what it encrypts, or open it to someone else.
# CreateGrant is left out: services create grants all day (EBS, DynamoDB, ECR); the SCP denies
# direct grants on the audit key instead.
KMS_KEY_CHANGES = (
    "DeleteAlias",
    "DeleteImportedKeyMaterial",
    "DisableKey",
    "DisableKeyRotation",
    "PutKeyPolicy",
    "RevokeGrant",
    "ScheduleKeyDeletion",
    "UpdateAlias",
)
# CloudTrail's event names for the S3 bucket-level calls (management events). Some differ from
# the API: PutBucketLifecycleConfiguration is logged as PutBucketLifecycle, PutPublicAccessBlock
# as PutBucketPublicAccessBlock, PutObjectLockConfiguration as PutBucketObjectLockConfiguration;
# both spellings are listed where they differ.
AUDIT_BUCKET_CHANGES = (
    "DeleteBucket",
    "DeleteBucketEncryption",
    "DeleteBucketLifecycle",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketPublicAccessBlock",
    "DeleteBucketReplication",
    "PutBucketAcl",
    "PutBucketEncryption",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "PutBucketLogging",
    "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketReplication",
    "PutBucketVersioning",
    "PutObjectLockConfiguration",
)
# Anything that changes which SCPs apply where (an account moved out of its OU loses the OU's).
ORGANIZATION_POLICY_CHANGES = (
    "AttachPolicy",
    "CreateAccount",
    "DeletePolicy",
    "DeregisterDelegatedAdministrator",
    "DetachPolicy",
    "DisableAWSServiceAccess",
    "DisablePolicyType",
    "EnableAWSServiceAccess",
    "EnablePolicyType",
    "InviteAccountToOrganization",
    "MoveAccount",
    "RegisterDelegatedAdministrator",
    "RemoveAccountFromOrganization",
    "UpdatePolicy",
)
# Who may sign in where, and with what: assignments and permission set contents.
IDENTITY_CENTER_CHANGES = (
    "AttachCustomerManagedPolicyReferenceToPermissionSet",
    "AttachManagedPolicyToPermissionSet",
    "CreateAccountAssignment",
    "CreatePermissionSet",
    "DeleteAccountAssignment",
    "DeleteInlinePolicyFromPermissionSet",
    "DeletePermissionsBoundaryFromPermissionSet",
    "DeletePermissionSet",
    "DetachCustomerManagedPolicyReferenceFromPermissionSet",
    "DetachManagedPolicyFromPermissionSet",
    "ProvisionPermissionSet",
    "PutInlinePolicyToPermissionSet",
    "PutPermissionsBoundaryToPermissionSet",
    "UpdatePermissionSet",
)
# Group membership is the other half of an assignment: adding someone to Administrators is an
# assignment to every account.
IDENTITY_STORE_CHANGES = ("CreateGroupMembership", "DeleteGroupMembership")


def _api_calls(service: str, names: tuple[str, ...], **detail: Any) -> dict[str, Any]:
    # source aws.<service> and eventSource <service>.amazonaws.com: EventBridge events reference,
    # "<service> events delivered via AWS CloudTrail".
    return {
        "source": [f"aws.{service}"],
        "detail-type": [_API_CALL],
        "detail": {"eventSource": [f"{service}.amazonaws.com"], "eventName": list(names), **detail},
    }


def security_event_patterns(is_management: bool = False) -> dict[str, dict[str, Any]]:
    """EventBridge patterns of the security alarms, by alarm name: those of every account, and
    with ``is_management`` also the organization's (only the management account sees
    Organizations and Identity Center calls).

    Where events arrive (EventBridge delivers an AWS service's CloudTrail events on the default bus
    of the region the call was served in): IAM, STS, console sign-in and Organizations are global
    services whose events arrive in us-east-1 only ("The default event bus for the us-east-1 Region
    receives all events that the global services generate": AWS re:Post Knowledge Center,
    eventbridge-rule-triggers-iam-single-region; Organizations logs to us-east-1 too); KMS and
    S3 events in the key's or bucket's region; Identity Center events in its home region. The
    rules live in each stack's region (us-east-1 today); SecurityAlarms warns when it is another.
    """
    patterns = {
        "root-sign-in": {
            "detail-type": [_SIGN_IN],
            "detail": {"userIdentity": {"type": ["Root"]}},
        },
        "failed-console-sign-in": {
            "detail-type": [_SIGN_IN],
            "detail": {"responseElements": {"ConsoleLogin": ["Failure"]}},
        },
        "cloudtrail-changes": {
            "source": ["aws.cloudtrail"],
            "detail-type": [_API_CALL],
            "detail": {
                "eventSource": ["cloudtrail.amazonaws.com"],
                "eventName": list(CLOUDTRAIL_CHANGES),
            },
        },
        "iam-policy-changes": {
            "source": ["aws.iam"],
            "detail-type": [_API_CALL],
            "detail": {"eventSource": ["iam.amazonaws.com"], "eventName": list(IAM_POLICY_CHANGES)},
        },
        # Every key of the account: the alarm topic itself is encrypted with the account's key.
        "kms-key-changes": _api_calls("kms", KMS_KEY_CHANGES),
        # Only the audit buckets: other buckets' configuration changes with every deploy.
        "audit-bucket-changes": _api_calls(
            "s3",
            AUDIT_BUCKET_CHANGES,
            requestParameters={"bucketName": [{"prefix": naming.AUDIT_BUCKET_PREFIX}]},
        ),
    }
    # Every call the protect-security-services SCP denies (turning the account protections,
    # Access Analyzer or a paid service off, or hiding findings), by its CloudTrail event name.
    events = alarm_events()
    patterns["security-service-changes"] = {
        "source": sorted(f"aws.{source.removesuffix('.amazonaws.com')}" for source in events),
        "detail-type": [_API_CALL],
        "detail": {
            "eventSource": sorted(events),
            "eventName": sorted({name for names in events.values() for name in names}),
        },
    }
    if is_management:
        patterns["organization-policy-changes"] = _api_calls(
            "organizations", ORGANIZATION_POLICY_CHANGES
        )
        patterns["identity-center-changes"] = _api_calls("sso", IDENTITY_CENTER_CHANGES)
        patterns["identity-store-changes"] = _api_calls("identitystore", IDENTITY_STORE_CHANGES)
    return patterns


# Alarms on regional services' events (KMS, S3 buckets, EBS, GuardDuty, Security Hub, Config,
# Access Analyzer), which arrive on the bus of the region the call was served in: every other
# allowed region forwards them to the home region's bus, whose rules match them.
REGIONAL_ALARMS = ("audit-bucket-changes", "kms-key-changes", "security-service-changes")


def home_bus_arn(region: str, account_id: str) -> str:
    return f"arn:aws:events:{region}:{account_id}:event-bus/default"


def forwarding_trust_policy(account_id: str) -> dict[str, Any]:
    """EventBridge, for this account's rules only (confused deputy: aws:SourceAccount)."""
    return document(
        {
            "Sid": "EventBridgeForwardsThisAccountsEvents",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def forwarding_permissions(home_region: str, account_id: str) -> dict[str, Any]:
    """Put events on the home region's default bus, nothing else (EventBridge User Guide,
    "Sending and receiving events between AWS Regions": a rule targeting a bus in another Region
    needs a role allowed events:PutEvents on it)."""
    return document(
        {
            "Sid": "PutOnTheHomeBus",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": home_bus_arn(home_region, account_id),
        }
    )


# The alarms only the management stack creates.
MANAGEMENT_ALARMS = (
    "identity-center-changes",
    "identity-store-changes",
    "organization-policy-changes",
)
