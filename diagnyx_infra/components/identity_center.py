"""IAM Identity Center (guide, Phase 3): groups, permission sets and account assignments. The
Identity Center instance is looked up, not created: it is enabled once in the console."""

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from ..access_matrix import Assignment
from ..policies.documents import to_json
from ..policies.identity import GROUPS, PERMISSION_SETS


def portal_url(identity_store_id: str) -> str:
    """The default AWS access portal address (a custom alias can replace it in the console)."""
    return f"https://{identity_store_id}.awsapps.com/start"


class IdentityCenter(pulumi.ComponentResource):
    group_ids: dict[str, pulumi.Output[str]]
    portal_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        assignments: list[Assignment],
        account_ids: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:identity:IdentityCenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        instances = aws.ssoadmin.get_instances_output(opts=pulumi.InvokeOutputOptions(parent=self))
        instance_arn = instances.arns[0]
        identity_store_id = instances.identity_store_ids[0]
        self.portal_url = identity_store_id.apply(portal_url)

        self.group_ids = {}
        for group, description in GROUPS.items():
            resource = aws.identitystore.Group(
                f"{name}-group-{group}",
                identity_store_id=identity_store_id,
                display_name=group,
                description=description,
                opts=child,
            )
            self.group_ids[group] = resource.group_id

        permission_set_arns = {}
        for key, spec in PERMISSION_SETS.items():
            permission_set = aws.ssoadmin.PermissionSet(
                f"{name}-permission-set-{key}",
                instance_arn=instance_arn,
                name=spec.name,
                description=spec.description,
                session_duration=spec.session_duration,
                opts=child,
            )
            permission_set_arns[key] = permission_set.arn
            for index, policy_arn in enumerate(spec.managed_policies):
                aws.ssoadmin.ManagedPolicyAttachment(
                    f"{name}-permission-set-{key}-managed-{index}",
                    instance_arn=instance_arn,
                    permission_set_arn=permission_set.arn,
                    managed_policy_arn=policy_arn,
                    opts=child,
                )
            if spec.inline_policy is not None:
                aws.ssoadmin.PermissionSetInlinePolicy(
                    f"{name}-permission-set-{key}-inline",
                    instance_arn=instance_arn,
                    permission_set_arn=permission_set.arn,
                    inline_policy=to_json(spec.inline_policy),
                    opts=child,
                )

        for row in assignments:
            aws.ssoadmin.AccountAssignment(
                f"{name}-assign-{row.group}-{row.permission_set}-{row.account}",
                instance_arn=instance_arn,
                permission_set_arn=permission_set_arns[row.permission_set],
                principal_id=self.group_ids[row.group],
                principal_type="GROUP",
                target_id=account_ids[row.account],
                target_type="AWS_ACCOUNT",
                opts=child,
            )
        self.register_outputs({"groupIds": self.group_ids, "portalUrl": self.portal_url})
