"""Audit trail documents: the archive bucket's delivery statements and the security alarm event
patterns."""

from typing import Any

from .. import naming


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


def security_event_patterns() -> dict[str, dict[str, Any]]:
    """EventBridge patterns of the security alarms, by alarm name."""
    return {
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
    }
