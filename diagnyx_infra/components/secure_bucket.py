"""One hardened S3 bucket: versioned, SSE-KMS with bucket keys, all public access blocked,
owner-enforced ownership, TLS-only policy, lifecycle rules, optional object lock.

The state bucket, the audit archive and an optional account trail bucket all use it, so the
hardening is written once.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..policies.baseline import deny_insecure_transport
from ..policies.documents import document, to_json

# A data store: `pulumi destroy` refuses it, and dropping it from the program (once protection is
# lifted on purpose) leaves it in AWS.
KEEP = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
# The settings of a protected store are protected with it. `pulumi destroy --exclude-protected`
# destroys every unprotected resource, a protected bucket's own children included: the bucket
# would survive bare (no TLS-only policy, public access allowed, no KMS encryption, versioning
# suspended, no default retention). A setting whose deletion would weaken the store gets KEEP
# instead, so a store dropped from the program stays as hardened as it was.
PROTECT = pulumi.ResourceOptions(protect=True)


@dataclass(frozen=True)
class ObjectLock:
    mode: str  # COMPLIANCE or GOVERNANCE
    days: int


@dataclass(frozen=True)
class SecureBucketArgs:
    bucket_name: str
    kms_key_arn: pulumi.Input[str]
    lifecycle_rules: Sequence[dict[str, Any]]
    # Extra bucket policy statements, given the bucket ARN; TLS-only is always added.
    extra_statements: Callable[[str], Sequence[dict[str, Any]]] = field(default=lambda arn: ())
    object_lock: ObjectLock | None = None


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions.merge(child, KEEP)
        # The bucket holds the data: it survives destroy and removal from the program, and so
        # does every setting that keeps it private, encrypted, versioned and locked.
        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            object_lock_enabled=True if args.object_lock else None,
            opts=kept,
        )
        bucket_id = self.bucket.id
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
            # Deleting it suspends versioning.
            opts=kept,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            # Deleting it falls back to SSE-S3 without the account's key.
            opts=kept,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            # Deleting it lets a public policy or ACL through.
            opts=kept,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            # Deleting it turns ACLs back on.
            opts=kept,
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=self.bucket.arn.apply(
                lambda arn: to_json(
                    document(*args.extra_statements(arn), deny_insecure_transport(arn))
                )
            ),
            # S3 refuses a policy while the public access block is being changed. Deleting the
            # policy drops the TLS-only deny.
            opts=pulumi.ResourceOptions.merge(
                kept, pulumi.ResourceOptions(depends_on=[public_access])
            ),
        )
        # Protected, not retained: deleting the rules only keeps more versions and logs for
        # longer (a cost, not a weaker store), and a bucket left behind is no longer managed.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=list(args.lifecycle_rules),
            opts=pulumi.ResourceOptions.merge(child, PROTECT),
        )
        if args.object_lock:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket_id,
                object_lock_enabled="Enabled",
                rule={
                    "default_retention": {
                        "mode": args.object_lock.mode,
                        "days": args.object_lock.days,
                    }
                },
                # Deleting it removes the default retention: new objects would not be locked.
                opts=kept,
            )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})
