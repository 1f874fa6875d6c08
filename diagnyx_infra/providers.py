"""The explicit AWS provider every stack deploys through.

``allowed_account_ids`` makes a deploy with credentials for the wrong account fail before any
change; ``default_tags`` puts the required tags on every taggable resource.
"""

import pulumi
import pulumi_aws as aws

from . import naming
from .config.models import StackSettings


def account_provider(settings: StackSettings) -> aws.Provider:
    assume_roles = None
    if not settings.is_management and not settings.deployment.caller_in_account:
        role = settings.deployment.role_name
        role_arn = f"arn:aws:iam::{settings.account_id}:role/{role}"
        # Through the workload account's deploy role (the guide's shared-account CI, running as
        # the shared services deploy role), the role admits the caller only with this account's
        # external ID.
        external_id = None
        if role == naming.CICD_ROLE and settings.ci_external_id is not None:
            external_id = pulumi.Output.secret(settings.ci_external_id)
        assume_roles = [
            aws.ProviderAssumeRoleArgs(
                role_arn=role_arn,
                session_name=settings.deployment.session_name,
                external_id=external_id,
            )
        ]
    return aws.Provider(
        f"{settings.stack}-account",
        region=settings.region,
        allowed_account_ids=[settings.account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.default_tags()),
    )
