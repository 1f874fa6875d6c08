"""What every account carries for the security services: the free protections (account-level S3
Block Public Access, EBS encryption by default, the CIS password policy) and, once AWS Config is
switched on, its recorder delivering to the security account's Config bucket."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..policies import security_services as services
from .secure_bucket import KEEP


class AccountProtections(pulumi.ComponentResource):
    """Free and on in every account. Kept like the data they protect: a `pulumi destroy` or a
    component dropped from the program leaves the account as protected as it was."""

    def __init__(
        self,
        name: str,
        account_id: str,
        regions: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:security:AccountProtections", name, None, opts)
        kept = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), KEEP)
        aws.s3.AccountPublicAccessBlock(
            f"{name}-s3-public-access",
            account_id=account_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=kept,
        )
        # A regional setting: on in every region the region guardrail allows.
        for region in regions:
            aws.ebs.EncryptionByDefault(
                f"{name}-ebs-encryption-{region}", enabled=True, region=region, opts=kept
            )
        aws.iam.AccountPasswordPolicy(
            f"{name}-password-policy", **services.PASSWORD_POLICY, opts=kept
        )
        self.register_outputs({})


@dataclass(frozen=True)
class ConfigRecorderArgs:
    account_id: str
    home_region: str  # records global resource types (IAM) here only
    regions: Sequence[str]
    bucket: str  # AWS Config's bucket in the security account


class ConfigRecorder(pulumi.ComponentResource):
    """AWS Config in every allowed region of the account, through its service-linked role,
    delivering to the security account's Config bucket. Not kept: switching AWS Config off must
    stop its bill; what it recorded stays in that bucket (kept, versioned, guarded by the SCP)."""

    def __init__(
        self, name: str, args: ConfigRecorderArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:security:ConfigRecorder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # AWS Config Developer Guide, "Using service-linked roles for AWS Config": the recorder
        # may name AWSServiceRoleForConfig, which needs no iam:PassRole.
        role = aws.iam.ServiceLinkedRole(
            f"{name}-service-role", aws_service_name="config.amazonaws.com", opts=child
        )
        for region in args.regions:
            in_region = f"{name}-{region}"
            recorder = aws.cfg.Recorder(
                in_region,
                name=services.CONFIG_RECORDER,
                region=region,
                role_arn=role.arn,
                recording_group={
                    "all_supported": True,
                    "include_global_resource_types": region == args.home_region,
                },
                # Typed arguments: a misspelt key of a plain dict would reach AWS unchecked.
                recording_mode=aws.cfg.RecorderRecordingModeArgs(
                    recording_frequency="CONTINUOUS",
                    recording_mode_override=aws.cfg.RecorderRecordingModeRecordingModeOverrideArgs(
                        description="churning types: at most one item a day each",
                        resource_types=list(services.CONFIG_DAILY_TYPES),
                        recording_frequency="DAILY",
                    ),
                ),
                opts=child,
            )
            # PutDeliveryChannel needs a recorder; StartConfigurationRecorder a delivery channel
            # (AWS Config API Reference).
            channel = aws.cfg.DeliveryChannel(
                f"{in_region}-delivery",
                name=services.CONFIG_RECORDER,
                region=region,
                s3_bucket_name=args.bucket,
                s3_key_prefix=services.CONFIG_PREFIX,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[recorder]),
            )
            aws.cfg.RecorderStatus(
                f"{in_region}-status",
                name=recorder.name,
                region=region,
                is_enabled=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]),
            )
        self.register_outputs({})
