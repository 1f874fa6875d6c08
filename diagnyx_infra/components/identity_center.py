"""IAM Identity Center (guide, Phase 3): groups, permission sets and account assignments. The
Identity Center instance is looked up, not created: it is enabled once in the console."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..access_matrix import Assignment
from ..policies.documents import to_json
from ..policies.identity import GROUPS, PERMISSION_SETS


def portal_url(identity_store_id: str) -> str:
    """The default AWS access portal address (a custom alias can replace it in the console)."""
    return f"https://{identity_store_id}.awsapps.com/start"


@dataclass(frozen=True)
class IdentityCenterInstance:
    arn: str
    identity_store_id: str


def find_instance(provider: pulumi.ProviderResource) -> IdentityCenterInstance | None:
    """The account's IAM Identity Center instance, or None before it is enabled.

    A plain (synchronous) invoke, so the program decides before registering anything:
    ListInstances answers an empty list until Identity Center is enabled in the console, which
    AWS allows only once the organization exists (enabling it first creates an organization, and
    the Organization resource then fails with AlreadyInOrganizationException).
    """
    found = aws.ssoadmin.get_instances(opts=pulumi.InvokeOptions(provider=provider))
    if not found.arns:
        return None
    return IdentityCenterInstance(found.arns[0], found.identity_store_ids[0])


class IdentityCenter(pulumi.ComponentResource):
    group_ids: dict[str, pulumi.Output[str]]
    portal_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        instance: "IdentityCenterInstance",
        assignments: list[Assignment],
        account_ids: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:identity:IdentityCenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Who is in a group lives only in AWS (added in the console or synced from the identity
        # provider), never in code or config: deleting a group deletes its memberships for good.
        # So a group is protected (no edit of the program or `pulumi destroy` deletes it) and
        # retained (dropped from the program once protection is lifted on purpose, it stays,
        # members and all; it grants nothing once its assignments, which follow config, are
        # gone, and `pulumi import` adopts it again).
        kept_group = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        # A permission set is protected too, so removing or renaming (replacing) one is a
        # deliberate step, never the side effect of an edit: assignments made outside this
        # program hang on it. Not retained: everything it is comes from code and its policy
        # attachments go with it, so a retained one would be an empty shell whose name blocks
        # creating it again.
        kept_permission_set = pulumi.ResourceOptions(parent=self, protect=True)
        instance_arn = instance.arn
        identity_store_id = instance.identity_store_id
        self.portal_url = pulumi.Output.from_input(portal_url(identity_store_id))

        self.group_ids = {}
        for group, description in GROUPS.items():
            resource = aws.identitystore.Group(
                f"{name}-group-{group}",
                identity_store_id=identity_store_id,
                display_name=group,
                description=description,
                opts=kept_group,
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
                opts=kept_permission_set,
            )
            permission_set_arns[key] = permission_set.arn
            # A permission set's policies are its definition in code and follow it: dropping a
            # managed policy from a spec must detach it, so these are not protected. Every inline
            # policy only allows, so losing one (to `pulumi destroy --exclude-protected`) only
            # narrows what the set grants.
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

        # Assignments are the access matrix in config and follow it: removing a row must revoke
        # that access on the next `pulumi up`. Not protected; they hold no data.
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
