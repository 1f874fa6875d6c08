"""An ECR repository as every stack creates it: scan on push, immutable tags, the account's KMS
key, untagged images expired, kept on destroy."""

import json

import pulumi
import pulumi_aws as aws

from ..policies.baseline import ecr_lifecycle_policy
from .secure_bucket import KEEP, PROTECT


def image_repository(
    resource_name: str,
    repository: str,
    kms_key_arn: pulumi.Input[str],
    untagged_image_days: int,
    parent: pulumi.Resource,
) -> aws.ecr.Repository:
    child = pulumi.ResourceOptions(parent=parent)
    repo = aws.ecr.Repository(
        resource_name,
        name=repository,
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration={"scan_on_push": True},
        encryption_configurations=[{"encryption_type": "KMS", "kms_key": kms_key_arn}],
        opts=pulumi.ResourceOptions.merge(child, KEEP),
    )
    # Protected with the repository, so `pulumi destroy --exclude-protected` leaves it whole. Not
    # retained: without it a repository left behind only keeps more untagged images.
    aws.ecr.LifecyclePolicy(
        f"{resource_name}-lifecycle",
        repository=repo.name,
        policy=json.dumps(ecr_lifecycle_policy(untagged_image_days)),
        opts=pulumi.ResourceOptions.merge(child, PROTECT),
    )
    return repo
