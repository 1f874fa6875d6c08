"""The AWS Organization: the organization itself, its OUs and member accounts (guide, Phase 1)."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config.models import OrganizationSettings

# Deleting any of these by mistake is an incident: `pulumi destroy` must refuse.
PROTECTED = pulumi.ResourceOptions(protect=True)

# AWS cannot read back role_name; iam_user_access_to_billing and email force a new account, and a
# new account means the old one leaves the organization. Changes to these are made in AWS, not here.
ACCOUNT_IGNORED_FIELDS = ["role_name", "iam_user_access_to_billing", "email"]


@dataclass(frozen=True)
class OrganizationArgs:
    settings: OrganizationSettings
    # The member account that administers CloudTrail for the organization (owns the trail's
    # configuration; the trail itself stays owned by the management account).
    cloudtrail_administrator: str | None = None
    policy_types: Sequence[str] = ("SERVICE_CONTROL_POLICY", "TAG_POLICY")


class Organization(pulumi.ComponentResource):
    """Organization with all features, its organizational units and member accounts."""

    organization: aws.organizations.Organization
    root_id: pulumi.Output[str]
    ou_ids: dict[str, pulumi.Output[str]]
    account_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: OrganizationArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:organization:Organization", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions.merge(child, PROTECTED)

        self.organization = aws.organizations.Organization(
            name,
            feature_set="ALL",
            enabled_policy_types=sorted(args.policy_types),
            # Authoritative: a service trusted outside the program is disabled on the next
            # `pulumi up` unless config lists it (organization.trustedServices).
            aws_service_access_principals=args.settings.trusted_service_principals(),
            opts=protected,
        )
        self.root_id = self.organization.roots[0].id

        self.ou_ids = {}
        for ou in args.settings.organizational_units:
            unit = aws.organizations.OrganizationalUnit(
                f"{name}-ou-{ou.name}", name=ou.name, parent_id=self.root_id, opts=protected
            )
            self.ou_ids[ou.name] = unit.id

        self.account_ids = {}
        for account_name, account in args.settings.accounts.items():
            member = aws.organizations.Account(
                f"{name}-account-{account_name}",
                name=account.display_name or f"diagnyx-{account_name}",
                email=account.email,
                parent_id=self.ou_ids[account.ou],
                role_name=naming.ORG_ACCESS_ROLE,
                # Finance works in the management account only; IAM users of a member account
                # see no billing. (Changing it would replace an existing account: ignored.)
                iam_user_access_to_billing="DENY",
                close_on_deletion=False,
                # The provider's default tags carry the management account's environment; each
                # account carries its own.
                tags={"Environment": account.environment.value},
                opts=pulumi.ResourceOptions.merge(
                    protected, pulumi.ResourceOptions(ignore_changes=ACCOUNT_IGNORED_FIELDS)
                ),
            )
            self.account_ids[account_name] = member.id

        if args.cloudtrail_administrator is not None:
            # Registered through CloudTrail (RegisterOrganizationDelegatedAdmin), not through
            # Organizations: only CloudTrail's own call creates its service-linked role (CloudTrail
            # User Guide, "Add a CloudTrail delegated administrator"). It needs CloudTrail's
            # trusted access, which the organization resource enables.
            aws.cloudtrail.OrganizationDelegatedAdminAccount(
                f"{name}-delegate-cloudtrail-to-{args.cloudtrail_administrator}",
                account_id=self.account_ids[args.cloudtrail_administrator],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.organization]),
            )

        self.register_outputs(
            {
                "organizationId": self.organization.id,
                "rootId": self.root_id,
                "organizationalUnitIds": self.ou_ids,
                "accountIds": self.account_ids,
            }
        )
