"""The organization's security services, with the security account as their delegated
administrator: IAM Access Analyzer (free, always on) and, each behind its switch
(organization.securityServices), GuardDuty, Security Hub and AWS Config's aggregator.

Two halves, because AWS splits the calls: the management account trusts the services and names
the delegated administrator (SecurityServicesDelegation, management stack); the administrator
turns them on for the organization (SecurityServicesAdministration, security stack). The
delegation must exist before the administration: the management stack deploys first.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config.models import AuditArchive
from ..policies import security_services as services
from ..policies.documents import to_json
from .secure_bucket import SecureBucket, SecureBucketArgs


def disable_optional_features(
    name: str, detector_id: pulumi.Input[str], region: str, parent: pulumi.Resource
) -> None:
    """A detector's optional protection plans, off: CreateDetector, and a designation that turns
    GuardDuty on, enable them by default (GuardDuty API Reference, CreateDetector, Features), and
    each is billed apart from the foundational detection the cost estimate prices."""
    for feature in services.GUARD_DUTY_OPTIONAL_FEATURES:
        aws.guardduty.DetectorFeature(
            f"{name}-{feature.lower().replace('_', '-')}",
            detector_id=detector_id,
            name=feature,
            status="DISABLED",
            region=region,
            opts=pulumi.ResourceOptions(parent=parent),
        )


@dataclass(frozen=True)
class SecurityServicesDelegationArgs:
    security_account_id: pulumi.Input[str]
    enabled: tuple[str, ...]  # the paid services switched on (policies.security_services keys)
    home_region: str
    regions: Sequence[str]
    # Trusted access comes with the organization resource (its service list follows the
    # switches); every registration waits for it.
    organization: pulumi.Resource


class SecurityServicesDelegation(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: SecurityServicesDelegationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:security:SecurityServicesDelegation", name, None, opts)
        enabled = set(args.enabled)
        for key in services.ORGANIZATIONS_DELEGATED:
            if key != services.ACCESS_ANALYZER and key not in enabled:
                continue
            aws.organizations.DelegatedAdministrator(
                f"{name}-{key}",
                account_id=args.security_account_id,
                service_principal=services.TRUSTED_SERVICE[key],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[args.organization]),
            )
        if services.GUARD_DUTY in enabled:
            # GuardDuty's administrator is named in each region (GuardDuty User Guide, "Managing
            # accounts with AWS Organizations"); the management account runs a detector of its
            # own, as the provider's documented example does before the designation.
            for region in args.regions:
                detector = aws.guardduty.Detector(
                    f"{name}-guardduty-{region}",
                    enable=True,
                    region=region,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                disable_optional_features(f"{name}-guardduty-{region}", detector.id, region, self)
                aws.guardduty.OrganizationAdminAccount(
                    f"{name}-guardduty-admin-{region}",
                    admin_account_id=args.security_account_id,
                    region=region,
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[args.organization, detector]
                    ),
                )
        if services.SECURITY_HUB in enabled:
            # Central configuration: the administrator named in the home region governs every
            # linked region (Security Hub User Guide, "Central configuration").
            hub = aws.securityhub.Account(
                f"{name}-securityhub",
                enable_default_standards=False,
                region=args.home_region,
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.securityhub.OrganizationAdminAccount(
                f"{name}-securityhub-admin",
                admin_account_id=args.security_account_id,
                region=args.home_region,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[args.organization, hub]),
            )
        self.register_outputs({})


@dataclass(frozen=True)
class SecurityServicesAdministrationArgs:
    enabled: tuple[str, ...]
    security_account_id: str
    account_ids: Sequence[str]  # every account config knows: their recorders deliver here
    home_region: str
    regions: Sequence[str]
    archive: AuditArchive  # AWS Config's history is kept as long as the audit logs
    archive_bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    permissions_boundary_arn: pulumi.Input[str]
    # The archive's bucket policy: exports are refused until it admits the services.
    archive_policy: pulumi.Resource


class SecurityServicesAdministration(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: SecurityServicesAdministrationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:security:SecurityServicesAdministration", name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.config_bucket = self._config_bucket(name)
        # Each service's organization-wide part waits until the management stack has made this
        # account its delegated administrator (it deploys first; `pulumi preview` of this stack
        # in the same pull request shows the wait instead of failing).
        administered = [
            key for key in (services.ACCESS_ANALYZER, *args.enabled) if self._administers(key)
        ]
        if services.ACCESS_ANALYZER in administered:
            for region in args.regions:
                # Free for external access; analyzers are regional.
                aws.accessanalyzer.Analyzer(
                    f"{name}-access-analyzer-{region}",
                    analyzer_name=services.ORGANIZATION_ANALYZER,
                    type="ORGANIZATION",
                    region=region,
                    opts=self._child,
                )
        if services.GUARD_DUTY in administered:
            for region in args.regions:
                self._guard_duty(name, region)
        if services.SECURITY_HUB in administered:
            self._security_hub(name)
        if services.AWS_CONFIG in administered:
            self._config_aggregator(name)
        self.register_outputs({})

    def _administers(self, key: str) -> bool:
        """Whether Organizations lists this account as the service's delegated administrator
        (a plain invoke: the program decides before registering). ListDelegatedAdministrators
        answers the management account and any delegated administrator, which this account is
        from the organization's first deploy (CloudTrail's)."""
        principal = services.TRUSTED_SERVICE[key]
        found = aws.organizations.get_delegated_administrators(
            service_principal=principal, opts=pulumi.InvokeOptions(parent=self)
        )
        if any(a.id == self._args.security_account_id for a in found.delegated_administrators):
            return True
        pulumi.log.warn(
            f"{principal}'s organization settings wait until this account is its delegated "
            "administrator: run `pulumi up -s management`, then this stack again"
        )
        return False

    def _config_bucket(self, name: str) -> SecureBucket:
        """Created whether AWS Config is on or not (an empty bucket costs nothing): every
        account's recorder can deliver from the first deploy after the switch."""
        a = self._args
        return SecureBucket(
            f"{name}-config-bucket",
            SecureBucketArgs(
                bucket_name=services.config_bucket_name(a.security_account_id),
                kms_key_arn=a.kms_key_arn,
                lifecycle_rules=[
                    {
                        "id": "archive-then-expire-after-retention",
                        "status": "Enabled",
                        "filter": {},
                        "transitions": [
                            {
                                "days": a.archive.transition_days,
                                "storage_class": a.archive.transition_storage_class,
                            }
                        ],
                        "expiration": {"days": a.archive.retention_days},
                        "noncurrent_version_expiration": {
                            "noncurrent_days": a.archive.retention_days
                        },
                    }
                ],
                extra_statements=lambda arn: services.config_bucket_statements(arn, a.account_ids),
            ),
            opts=self._child,
        )

    def _guard_duty(self, name: str, region: str) -> None:
        a = self._args
        # Designating the administrator turns GuardDuty on in that account and region (GuardDuty
        # User Guide, "Designating a delegated GuardDuty administrator account"): its detector
        # exists, and CreateDetector would be refused ("a detector already exists").
        detector_id = aws.guardduty.get_detector_output(
            region=region, opts=pulumi.InvokeOutputOptions(parent=self)
        ).id
        disable_optional_features(f"{name}-guardduty-{region}", detector_id, region, self)
        aws.guardduty.OrganizationConfiguration(
            f"{name}-guardduty-members-{region}",
            detector_id=detector_id,
            # Every member account, existing ones included (GuardDuty API Reference,
            # UpdateOrganizationConfiguration: AutoEnableOrganizationMembers ALL).
            auto_enable_organization_members="ALL",
            region=region,
            opts=self._child,
        )
        for feature in services.GUARD_DUTY_OPTIONAL_FEATURES:
            aws.guardduty.OrganizationConfigurationFeature(
                f"{name}-guardduty-{feature.lower().replace('_', '-')}-{region}",
                detector_id=detector_id,
                name=feature,
                auto_enable="NONE",
                region=region,
                opts=self._child,
            )
        aws.guardduty.PublishingDestination(
            f"{name}-guardduty-export-{region}",
            detector_id=detector_id,
            # A folder is written with its trailing slash (GuardDuty API Reference,
            # DestinationProperties).
            destination_arn=pulumi.Output.concat(
                a.archive_bucket_arn, "/", services.GUARD_DUTY_PREFIX, "/"
            ),
            kms_key_arn=a.kms_key_arn,
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[a.archive_policy]),
        )

    def _security_hub(self, name: str) -> None:
        # Designating the administrator turns Security Hub on in that account (Security Hub User
        # Guide, "Designating a delegated administrator"): EnableSecurityHub would be refused.
        a = self._args
        linked = [r for r in a.regions if r != a.home_region]
        # Central configuration needs the home region's aggregator first.
        aggregator = aws.securityhub.FindingAggregator(
            f"{name}-securityhub-aggregator",
            linking_mode="SPECIFIED_REGIONS" if linked else "NO_REGIONS",
            specified_regions=linked or None,
            region=a.home_region,
            opts=self._child,
        )
        organization = aws.securityhub.OrganizationConfiguration(
            f"{name}-securityhub-organization",
            auto_enable=False,
            auto_enable_standards="NONE",
            organization_configuration={"configuration_type": "CENTRAL"},
            region=a.home_region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[aggregator]),
        )
        policy = aws.securityhub.ConfigurationPolicy(
            f"{name}-securityhub-standards",
            name="diagnyx-standards",
            description="CIS AWS Foundations Benchmark v3.0.0 and AWS Foundational Security "
            "Best Practices in every account",
            configuration_policy={
                "service_enabled": True,
                "enabled_standard_arns": services.security_hub_standards(a.home_region),
                "security_controls_configuration": {"disabled_control_identifiers": []},
            },
            region=a.home_region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[organization]),
        )
        root = (
            aws.organizations.get_organization_output(opts=pulumi.InvokeOutputOptions(parent=self))
            .roots[0]
            .id
        )
        aws.securityhub.ConfigurationPolicyAssociation(
            f"{name}-securityhub-root",
            policy_id=policy.id,
            target_id=root,
            region=a.home_region,
            opts=self._child,
        )

    def _config_aggregator(self, name: str) -> None:
        a = self._args
        role = aws.iam.Role(
            f"{name}-config-aggregator-role",
            name=services.CONFIG_AGGREGATOR_ROLE,
            assume_role_policy=to_json(services.aggregator_trust_policy(a.security_account_id)),
            permissions_boundary=a.permissions_boundary_arn,
            opts=self._child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-config-aggregator-policy",
            role=role.name,
            policy_arn=services.CONFIG_AGGREGATOR_POLICY,
            opts=self._child,
        )
        aws.cfg.ConfigurationAggregator(
            f"{name}-config-aggregator",
            name=services.CONFIG_AGGREGATOR,
            organization_aggregation_source={
                "all_regions": False,
                "regions": list(a.regions),
                "role_arn": role.arn,
            },
            region=a.home_region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
