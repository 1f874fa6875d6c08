"""The account baseline (guide, Phase 2 "Bootstrap Individual Accounts"), in every stack:
the account's KMS key, IaC state bucket and lock table, alert topics, budget, ECR repositories,
CI/CD and cross-account roles, security alarms, and the audit trail where this account owns it.
"""

from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws

from ..config.models import (
    MANAGEMENT_ACCOUNT,
    SECURITY_ACCOUNT,
    SHARED_SERVICES_ACCOUNT,
    AuditArchive,
    StackSettings,
)
from ..naming import LOCK_TABLE_NAME, state_bucket_name
from ..policies import baseline as policies
from ..policies.audit import trail_arn
from ..policies.documents import to_json
from .access_roles import AccessRoles, AccessRolesArgs
from .audit_trail import AuditTrail, AuditTrailArgs
from .ecr import image_repository
from .secure_bucket import KEEP, SecureBucket, SecureBucketArgs
from .security_alarms import SecurityAlarms

KEY_DELETION_WINDOW_DAYS = 30
ACCOUNT_TRAIL = "diagnyx-account-trail"


def owned_trail_arn(settings: StackSettings) -> str | None:
    """The trail this account owns, if any: the organization trail in the security account, or
    an account trail when config asks for one."""
    if settings.audit_archive is not None:
        # Created by the security account as CloudTrail delegated administrator, owned by the
        # management account (see AuditTrailArgs.trail_owner_account_id).
        return trail_arn(settings.region, settings.account_ids[MANAGEMENT_ACCOUNT])
    if settings.account_trail:
        return trail_arn(settings.region, settings.account_id, ACCOUNT_TRAIL)
    return None


class AccountBaseline(pulumi.ComponentResource):
    key: aws.kms.Key
    state_bucket: aws.s3.Bucket
    lock_table: aws.dynamodb.Table
    alarm_topic: aws.sns.Topic
    budget_topic: aws.sns.Topic
    roles: AccessRoles
    audit_trail: AuditTrail | None

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        extra_key_statements: Sequence[dict] = (),
        archive_deliveries: Callable[[str], Sequence[dict]] = lambda bucket_arn: (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``extra_key_statements`` grant other components of the stack use of the account's
        one key (for example accounts pulling central images); ``archive_deliveries`` are the
        audit archive's statements for services other than CloudTrail (security stack)."""
        super().__init__("diagnyx:baseline:AccountBaseline", name, None, opts)
        self._settings = settings
        self._extra_key_statements = extra_key_statements
        self._archive_deliveries = archive_deliveries
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
        self.roles = AccessRoles(
            f"{name}-roles",
            AccessRolesArgs(
                stack=settings.stack,
                account_id=settings.account_id,
                is_management=settings.is_management,
                github_subject_prefix=settings.effective_github_subject_prefix,
                shared_account_id=settings.known_account_id(SHARED_SERVICES_ACCOUNT),
                security_account_id=settings.known_account_id(SECURITY_ACCOUNT),
                external_id=(
                    None
                    if settings.ci_external_id is None
                    else pulumi.Output.secret(settings.ci_external_id)
                ),
                deploys_accounts=settings.deploys_accounts(),
                management_account_id=settings.known_management_account_id,
                drift_members=(
                    settings.known_member_account_ids() if settings.is_management else ()
                ),
                state_bucket_arn=self.state_bucket.arn,
                kms_key_arn=self.key.arn,
                manages_organization_trail=settings.audit_archive is not None,
            ),
            opts=self._child,
        )
        SecurityAlarms(
            f"{name}-security-alarms",
            self.alarm_topic.arn,
            is_management=settings.is_management,
            region=settings.region,
            other_regions=[r for r in settings.allowed_regions if r != settings.region],
            account_id=settings.account_id,
            permissions_boundary_arn=self.roles.boundary.arn,
            opts=self._child,
        )
        self.audit_trail = self._create_trail(name)
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
            description=f"Diagnyx {s.stack} account key: state, locks, topics, images, logs",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            # The key policy is part of the key (no separate KeyPolicy resource), so it is
            # protected and retained with it.
            policy=to_json(
                policies.kms_key_policy(
                    s.account_id, s.region, owned_trail_arn(s), self._extra_key_statements
                )
            ),
            opts=self._kept,
        )
        # Kept like the key: the protect-baseline SCP recognises the audit key by this alias
        # (kms:ResourceAliases), and people and tools find every key by it; deleting it would
        # lift that protection from a key that is still there.
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/diagnyx-{s.stack}",
            target_key_id=self.key.key_id,
            opts=self._kept,
        )

    def _create_state_backend(self, name: str) -> None:
        s = self._settings
        state = SecureBucket(
            f"{name}-state",
            SecureBucketArgs(
                bucket_name=state_bucket_name(s.account_id, s.region),
                kms_key_arn=self.key.arn,
                lifecycle_rules=[
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
            ),
            opts=self._child,
        )
        self.state_bucket = state.bucket
        # Every setting of the table (encryption, point-in-time recovery, deletion protection) is
        # an argument of the table itself, protected and retained with it.
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
            # In the management account an unfiltered budget would count the whole organization.
            cost_filters=(
                [{"name": "LinkedAccount", "values": [s.account_id]}] if s.is_management else None
            ),
            notifications=policies.budget_notifications(
                s.budget.thresholds(), s.budget_alert_email, self.budget_topic.arn
            ),
            opts=self._child,
        )

    def _create_repository(self, name: str, repository: str) -> pulumi.Output[str]:
        return image_repository(
            f"{name}-ecr-{repository.replace('/', '-')}",
            repository,
            self.key.arn,
            self._settings.retention.ecr_untagged_image_days,
            parent=self,
        ).repository_url

    def _create_trail(self, name: str) -> AuditTrail | None:
        """The organization trail lives in the security account. Any other account gets a trail
        only when config asks: the organization trail already is its free copy of management
        events, and a second copy is billed."""
        s = self._settings
        if s.audit_archive is not None:
            args = AuditTrailArgs(
                s.account_id,
                s.region,
                s.account_ids[MANAGEMENT_ACCOUNT],
                self.key.arn,
                s.audit_archive,
                extra_deliveries=self._archive_deliveries,
            )
        elif s.account_trail:
            args = AuditTrailArgs(
                s.account_id,
                s.region,
                s.account_id,
                self.key.arn,
                AuditArchive(),
                organization_trail=False,
                trail_name=ACCOUNT_TRAIL,
                bucket_name=f"{ACCOUNT_TRAIL}-{s.account_id}",
            )
        else:
            return None
        return AuditTrail(
            f"{name}-{args.trail_name.removeprefix('diagnyx-')}", args, opts=self._child
        )
