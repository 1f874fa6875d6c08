"""The explicit AWS provider every stack deploys through.

``allowed_account_ids`` makes a deploy with credentials for the wrong account fail before any
change; ``default_tags`` puts the required tags on every taggable resource.
"""

import pulumi_aws as aws

from .config.models import StackSettings


def account_provider(settings: StackSettings) -> aws.Provider:
    assume_roles = None
    if not settings.is_management and not settings.deployment.caller_in_account:
        role_arn = f"arn:aws:iam::{settings.account_id}:role/{settings.deployment.role_name}"
        assume_roles = [
            aws.ProviderAssumeRoleArgs(
                role_arn=role_arn, session_name=settings.deployment.session_name
            )
        ]
    return aws.Provider(
        f"{settings.stack}-account",
        region=settings.region,
        allowed_account_ids=[settings.account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.default_tags()),
    )
