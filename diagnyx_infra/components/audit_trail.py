"""The organization trail and its log archive in the security account ("CloudTrail enabled in all
accounts, logs centralized to security account, 7-year retention for production")."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config.models import AuditArchive
from ..policies.audit import trail_arn, trail_delivery_statements
from .secure_bucket import ObjectLock, SecureBucket, SecureBucketArgs


@dataclass(frozen=True)
class AuditTrailArgs:
    account_id: str  # the account that holds the archive and creates the trail
    region: str
    # The account in the trail's ARN. An organization trail created by the CloudTrail delegated
    # administrator is owned by the management account ("The trail ARN must use the account ID
    # of the management account": CloudTrail User Guide, "Prepare for creating a trail for your
    # organization"); CreateTrail checks the bucket and key policies against that ARN.
    trail_owner_account_id: str
    kms_key_arn: pulumi.Input[str]
    archive: AuditArchive
    organization_trail: bool = True
    trail_name: str = naming.ORGANIZATION_TRAIL
    bucket_name: str | None = None
    # Other services' deliveries to the archive (AWS Config, GuardDuty), given the bucket ARN.
    extra_deliveries: Callable[[str], Sequence[dict[str, Any]]] = field(
        default=lambda bucket_arn: ()
    )


class AuditTrail(pulumi.ComponentResource):
    """A multi-region trail with log file validation and KMS, delivering only to its own
    hardened, object-locked bucket."""

    trail: aws.cloudtrail.Trail
    archive: SecureBucket

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("diagnyx:audit:AuditTrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        source_trail = trail_arn(args.region, args.trail_owner_account_id, args.trail_name)
        archive = args.archive
        self.archive = SecureBucket(
            f"{name}-archive",
            SecureBucketArgs(
                bucket_name=args.bucket_name or naming.audit_bucket_name(args.account_id),
                kms_key_arn=args.kms_key_arn,
                lifecycle_rules=[
                    {
                        "id": "archive-then-expire-after-retention",
                        "status": "Enabled",
                        "filter": {},
                        "transitions": [
                            {
                                "days": archive.transition_days,
                                "storage_class": archive.transition_storage_class,
                            }
                        ],
                        # Object Lock refuses any earlier removal of a locked version.
                        "expiration": {"days": archive.retention_days},
                        "noncurrent_version_expiration": {"noncurrent_days": 1},
                    }
                ],
                extra_statements=lambda arn: [
                    *trail_delivery_statements(arn, source_trail),
                    *args.extra_deliveries(arn),
                ],
                object_lock=ObjectLock(archive.object_lock_mode, archive.retention_days),
            ),
            opts=child,
        )
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args.trail_name,
            s3_bucket_name=self.archive.bucket.bucket,
            kms_key_id=args.kms_key_arn,
            is_organization_trail=args.organization_trail,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            # Deleting the trail would open a gap in the audit record: keep it like the logs. Its
            # settings are its own arguments; the archive's are kept by SecureBucket.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.archive.policy], protect=True, retain_on_delete=True
            ),
        )
        self.register_outputs(
            {"trailArn": self.trail.arn, "archiveBucket": self.archive.bucket.bucket}
        )
