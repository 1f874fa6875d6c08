"""Policy documents of the account baseline: plain dicts, no Pulumi."""

from collections.abc import Sequence
from typing import Any

from .documents import PolicyDocument, document

# Services that encrypt or publish with the account's key, one key per account
# (docs/design.md#one-kms-key-per-account).
KEY_USER_SERVICES = (
    "s3.amazonaws.com",
    "dynamodb.amazonaws.com",
    "sns.amazonaws.com",
    "ecr.amazonaws.com",
)
# Services that publish to the account's encrypted SNS topics and so need the key.
TOPIC_PUBLISHERS = (
    "budgets.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
)
KEY_USE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:Encrypt", "kms:DescribeKey"]


def kms_key_policy(
    account_id: str,
    region: str,
    trail_arn: str | None = None,
    extra_statements: Sequence[dict] = (),
) -> PolicyDocument:
    """The account's key: administrators keep control through IAM (the account root principal),
    AWS services use it only on behalf of this account."""
    statements = [
        {
            # Without this the key becomes unmanageable; IAM policies then decide who administers.
            "Sid": "AccountAdministratorsThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "ServicesOnBehalfOfThisAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [*KEY_USE_ACTIONS, "kms:ReEncrypt*", "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": account_id},
                "StringLike": {
                    "kms:ViaService": [
                        f"{service.split('.')[0]}.{region}.amazonaws.com"
                        for service in KEY_USER_SERVICES
                    ]
                },
            },
        },
        {
            "Sid": "TopicPublishers",
            "Effect": "Allow",
            "Principal": {"Service": list(TOPIC_PUBLISHERS)},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    ]
    if trail_arn:
        only_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
        statements += [
            {
                "Sid": "OrganizationTrailEncryptsLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    **only_this_trail,
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:*:trail/*"
                    },
                },
            },
            {
                # DescribeKey carries no encryption context: a context condition would never match.
                "Sid": "OrganizationTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": only_this_trail,
            },
        ]
    statements.extend(extra_statements)
    return document(*statements)


def deny_insecure_transport(bucket_arn: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def topic_policy(topic_arn: str, account_id: str) -> PolicyDocument:
    return document(
        {
            "Sid": "AccountOwnerManages",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": [
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
            ],
            "Resource": topic_arn,
        },
        {
            "Sid": "ServicesPublishFromThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": list(TOPIC_PUBLISHERS)},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    )


def ecr_lifecycle_policy(untagged_days: int) -> dict:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def budget_notifications(
    thresholds: Sequence[tuple[str, float]], email: str, topic_arn: Any
) -> list[dict[str, Any]]:
    """Budget notifications (Pulumi input shape): each threshold to the topic and the e-mail."""
    return [
        {
            "comparison_operator": "GREATER_THAN",
            "notification_type": kind,
            "threshold": percent,
            "threshold_type": "PERCENTAGE",
            "subscriber_email_addresses": [email],
            "subscriber_sns_topic_arns": [topic_arn],
        }
        for kind, percent in thresholds
    ]
