"""The account baseline (guide, Phase 2 "Bootstrap Individual Accounts"), in every stack:
the account's KMS key, IaC state bucket and lock table, alert topics, budget and ECR repositories.
"""

import json

import pulumi
import pulumi_aws as aws

from ..config.models import StackSettings
from ..policies import baseline as policies
from ..policies.documents import to_json

# Stateful resources survive `pulumi destroy` and a config edit that drops them: protect refuses
# the delete, retain_on_delete keeps the cloud resource if protection is lifted by mistake.
KEEP = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
KEY_DELETION_WINDOW_DAYS = 30
LOCK_TABLE_NAME = "diagnyx-pulumi-locks"


def state_bucket_name(account_id: str, region: str) -> str:
    """Globally unique and predictable: `pulumi login s3://<this>` needs no lookup."""
    return f"diagnyx-pulumi-state-{account_id}-{region}"


class AccountBaseline(pulumi.ComponentResource):
    key: aws.kms.Key
    state_bucket: aws.s3.Bucket
    lock_table: aws.dynamodb.Table
    alarm_topic: aws.sns.Topic
    budget_topic: aws.sns.Topic

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:baseline:AccountBaseline", name, None, opts)
        self._settings = settings
        self._child = pulumi.ResourceOptions(parent=self)
        self._kept = pulumi.ResourceOptions.merge(self._child, KEEP)

        self._create_key(name)
        self._create_state_backend(name)
        self.alarm_topic = self._create_topic(name, "alarms", settings.alarm_email)
        self.budget_topic = self._create_topic(name, "budget-alerts", settings.budget_alert_email)
        self._create_budget(name)
        self.repository_urls = {
            repo: self._create_repository(name, repo) for repo in settings.ecr_repositories
        }
        self.register_outputs(
            {
                "kmsKeyArn": self.key.arn,
                "stateBucket": self.state_bucket.bucket,
                "lockTable": self.lock_table.name,
                "alarmTopicArn": self.alarm_topic.arn,
                "budgetTopicArn": self.budget_topic.arn,
            }
        )

    def _create_key(self, name: str) -> None:
        s = self._settings
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Diagnyx {s.stack} account key: state, locks, topics, images",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=to_json(policies.kms_key_policy(s.account_id, s.region)),
            opts=self._kept,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/diagnyx-{s.stack}",
            target_key_id=self.key.key_id,
            opts=self._child,
        )

    def _create_state_backend(self, name: str) -> None:
        s = self._settings
        bucket_name = state_bucket_name(s.account_id, s.region)
        bucket = aws.s3.Bucket(f"{name}-state", bucket=bucket_name, opts=self._kept)
        self.state_bucket = bucket
        aws.s3.BucketVersioning(
            f"{name}-state-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=self._child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-state-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=self._child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-state-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-state-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=self._child,
        )
        aws.s3.BucketPolicy(
            f"{name}-state-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: to_json(policies.state_bucket_policy(arn))),
            opts=self._child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-state-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-old-state-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": s.retention.state_noncurrent_version_days
                    },
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=self._child,
        )
        self.lock_table = aws.dynamodb.Table(
            f"{name}-locks",
            name=LOCK_TABLE_NAME,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attributes=[{"name": "LockID", "type": "S"}],
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": self.key.arn},
            deletion_protection_enabled=True,
            opts=self._kept,
        )

    def _create_topic(self, name: str, purpose: str, email: str) -> aws.sns.Topic:
        s = self._settings
        topic = aws.sns.Topic(
            f"{name}-{purpose}",
            name=f"diagnyx-{purpose}",
            kms_master_key_id=self.key.arn,
            opts=self._child,
        )
        aws.sns.TopicPolicy(
            f"{name}-{purpose}-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: to_json(policies.topic_policy(arn, s.account_id))),
            opts=self._child,
        )
        aws.sns.TopicSubscription(
            f"{name}-{purpose}-email",
            topic=topic.arn,
            protocol="email",
            endpoint=email,
            opts=self._child,
        )
        return topic

    def _create_budget(self, name: str) -> None:
        s = self._settings
        aws.budgets.Budget(
            f"{name}-budget",
            name=f"diagnyx-{s.stack}-monthly",
            budget_type="COST",
            limit_amount=f"{s.budget.monthly_limit_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            notifications=[
                {
                    "comparison_operator": "GREATER_THAN",
                    "notification_type": kind,
                    "threshold": percent,
                    "threshold_type": "PERCENTAGE",
                    "subscriber_email_addresses": [s.budget_alert_email],
                    "subscriber_sns_topic_arns": [self.budget_topic.arn],
                }
                for kind, percent in policies.budget_thresholds()
            ],
            opts=self._child,
        )

    def _create_repository(self, name: str, repository: str) -> pulumi.Output[str]:
        resource_name = f"{name}-ecr-{repository.replace('/', '-')}"
        repo = aws.ecr.Repository(
            resource_name,
            name=repository,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": self.key.arn}],
            opts=self._kept,
        )
        aws.ecr.LifecyclePolicy(
            f"{resource_name}-lifecycle",
            repository=repo.name,
            policy=json.dumps(
                policies.ecr_lifecycle_policy(self._settings.retention.ecr_untagged_image_days)
            ),
            opts=self._child,
        )
        return repo.repository_url
