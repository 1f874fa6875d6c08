"""Stack composition: the one place that decides what each stack deploys.

Everything that can be wrong with the config is found before the first resource is registered.
"""

from dataclasses import dataclass
from pathlib import Path

import pulumi

from .access_matrix import expand
from .components.account_protections import (
    AccountProtections,
    ConfigRecorder,
    ConfigRecorderArgs,
)
from .components.baseline import AccountBaseline
from .components.cost_governance import CostGovernance, CostGovernanceArgs
from .components.guardrails import Guardrails
from .components.identity_center import IdentityCenter, find_instance
from .components.network import WorkloadNetwork, WorkloadNetworkArgs
from .components.organization import Organization, OrganizationArgs
from .components.security_services import (
    SecurityServicesAdministration,
    SecurityServicesAdministrationArgs,
    SecurityServicesDelegation,
    SecurityServicesDelegationArgs,
)
from .components.shared_services import SharedServices, SharedServicesArgs
from .config.consistency import load_project
from .config.loading import settings_from_pulumi
from .config.models import (
    CORE_ROOT_POLICIES,
    MANAGEMENT_ACCOUNT,
    REQUIRED_TAG_KEYS,
    SECURITY_ACCOUNT,
    SUSPENDED_OU,
    StackSettings,
)
from .deploy_sequence import step_label
from .errors import ConfigError
from .policies import security_services
from .policies.guardrail_plan import ROOT_TARGET, GuardrailPlan, management_guardrails
from .policies.network import flow_log_key_statement
from .policies.shared_services import image_decrypt_statement
from .providers import account_provider


@dataclass(frozen=True)
class StackPlan:
    """A validated stack: settings plus everything derived from them that could still fail."""

    settings: StackSettings
    guardrails: GuardrailPlan | None
    # The paid security services switched on (organization.securityServices in the management
    # stack's file, the one place they are set): every stack deploys its part of each.
    security_services: tuple[str, ...] = ()
    retired: bool = False  # the account is retired (the Suspended OU): its deploys are denied


def plan_stack(
    settings: StackSettings, security_services: tuple[str, ...] = (), retired: bool = False
) -> StackPlan:
    problems = settings.deploy_problems()
    if problems:
        raise ConfigError(problems)
    guardrails = None
    if settings.organization is not None:
        guardrails = management_guardrails(settings)
        if guardrails.problems:
            raise ConfigError(guardrails.problems)
    return StackPlan(settings, guardrails, security_services, retired)


def build(plan: StackPlan) -> None:
    settings = plan.settings
    if plan.retired:
        pulumi.log.warn(
            f"account {settings.stack} is retired (the {SUSPENDED_OU} OU): its SCP denies "
            "every deploy but the break-glass role's; `diagnyx accounts unretire "
            f"{settings.stack}` brings it back"
        )
    provider = account_provider(settings)
    in_account = pulumi.ResourceOptions(provider=provider)
    pulumi.export("accountId", settings.account_id)
    pulumi.export("region", settings.region)
    # The security services this stack followed (the management file's switches).
    pulumi.export("securityServices", list(plan.security_services))

    enabled = plan.security_services
    baseline = AccountBaseline(
        "baseline",
        settings,
        extra_key_statements(settings),
        archive_deliveries=archive_deliveries(settings),
        opts=in_account,
    )
    pulumi.export("stateBucket", baseline.state_bucket.bucket)
    pulumi.export("lockTable", baseline.lock_table.name)
    pulumi.export("kmsKeyArn", baseline.key.arn)
    pulumi.export("alarmTopicArn", baseline.alarm_topic.arn)
    build_security_services(plan, baseline, in_account)

    if settings.shared_services is not None:
        for name in settings.shared_services.pull_accounts:
            known_or_warn(settings, name, "image pulls")
        shared = SharedServices(
            "shared-services",
            SharedServicesArgs(
                settings=settings.shared_services,
                shared_account_id=settings.account_id,
                pull_account_ids=pull_account_ids(settings),
                kms_key_arn=baseline.key.arn,
                untagged_image_days=settings.retention.ecr_untagged_image_days,
                deployment_role=settings.deployment.role_name,
            ),
            opts=in_account,
        )
        pulumi.export("repositoryUrls", shared.repository_urls)
        pulumi.export("zoneIds", shared.zone_ids)
        pulumi.export("nameServers", shared.name_servers)
        pulumi.export("certificateArns", shared.certificate_arns)

    if settings.network is not None and settings.networks is not None:
        network = WorkloadNetwork(
            "network",
            WorkloadNetworkArgs(
                stack=settings.stack,
                account_id=settings.account_id,
                region=settings.region,
                network=settings.network,
                networks=settings.networks,
                account_ids=settings.account_ids,
                kms_key_arn=baseline.key.arn,
            ),
            opts=in_account,
        )
        pulumi.export("vpcId", network.vpc.id)
        pulumi.export("privateSubnetIds", network.private_subnet_ids)
        pulumi.export("publicSubnetIds", network.public_subnet_ids)

    if settings.organization is not None and plan.guardrails is not None:
        for key in settings.organization.guardrails.waived_root_policies:
            pulumi.log.warn(
                f"guardrail {key} is waived (organization.guardrails.waivedRootPolicies): "
                f"{CORE_ROOT_POLICIES[key]}"
            )
        organization = Organization(
            "organization",
            OrganizationArgs(
                settings.organization,
                # The security account owns the organization trail's configuration.
                cloudtrail_administrator=SECURITY_ACCOUNT,
            ),
            opts=in_account,
        )
        Guardrails(
            "guardrails",
            plan.guardrails,
            target_ids={ROOT_TARGET: organization.root_id, **organization.ou_ids},
            organization=organization.organization,
            opts=in_account,
        )
        instance = find_instance(provider)
        if instance is None:
            pulumi.log.warn(
                "IAM Identity Center is not enabled in this account: its groups, permission sets "
                f"and assignments are skipped; {step_label('identity-center')} turns them on"
            )
        else:
            identity = IdentityCenter(
                "identity-center",
                instance,
                expand(settings.access_assignments(), settings.account_ous()),
                account_ids={MANAGEMENT_ACCOUNT: settings.account_id, **organization.account_ids},
                opts=in_account,
            )
            pulumi.export("ssoPortalUrl", identity.portal_url)
            pulumi.export("ssoGroupIds", identity.group_ids)
        SecurityServicesDelegation(
            "security-services",
            SecurityServicesDelegationArgs(
                security_account_id=organization.account_ids[SECURITY_ACCOUNT],
                enabled=enabled,
                home_region=settings.region,
                regions=settings.allowed_regions,
                organization=organization.organization,
            ),
            opts=in_account,
        )
        governance = CostGovernance(
            "cost-governance",
            cost_governance_args(settings, organization.account_ids, baseline),
            opts=in_account,
        )
        if governance.role_arn is not None:
            pulumi.export("costExplorerRoleArn", governance.role_arn)
        pulumi.export("organizationId", organization.organization.id)
        pulumi.export("rootId", organization.root_id)
        pulumi.export("organizationalUnitIds", organization.ou_ids)
        pulumi.export("accountIds", organization.account_ids)


def build_security_services(
    plan: StackPlan, baseline: AccountBaseline, in_account: pulumi.ResourceOptions
) -> None:
    """Every account's part of the security services: the free protections, its AWS Config
    recorder once that is on, and in the security account their organization-wide
    administration (with AWS Config's bucket, which exists before the switch)."""
    settings, enabled = plan.settings, plan.security_services
    AccountProtections(
        "account-protections", settings.account_id, settings.allowed_regions, opts=in_account
    )
    delivered_after: list[pulumi.Resource] = []
    if settings.audit_archive is not None and baseline.audit_trail is not None:
        administration = SecurityServicesAdministration(
            "security-services",
            SecurityServicesAdministrationArgs(
                enabled=enabled,
                security_account_id=settings.account_id,
                account_ids=known_account_ids(settings),
                home_region=settings.region,
                regions=settings.allowed_regions,
                archive=settings.audit_archive,
                archive_bucket_arn=baseline.audit_trail.archive.bucket.arn,
                kms_key_arn=baseline.key.arn,
                permissions_boundary_arn=baseline.roles.boundary.arn,
                archive_policy=baseline.audit_trail.archive.policy,
            ),
            opts=in_account,
        )
        delivered_after = [administration.config_bucket.policy]
    if security_services.AWS_CONFIG not in enabled:
        return
    security_id = known_or_warn(settings, SECURITY_ACCOUNT, "AWS Config delivery")
    if security_id is None:
        return
    ConfigRecorder(
        "config",
        ConfigRecorderArgs(
            account_id=settings.account_id,
            home_region=settings.region,
            regions=settings.allowed_regions,
            bucket=security_services.config_bucket_name(security_id),
        ),
        # In the security account the bucket comes with the same deploy; the other accounts
        # deploy after the security stack (deploy_sequence.py).
        opts=pulumi.ResourceOptions.merge(
            in_account, pulumi.ResourceOptions(depends_on=delivered_after)
        ),
    )


def known_account_ids(settings: StackSettings) -> list[str]:
    return [i for name in settings.account_ids if (i := settings.known_account_id(name))]


def archive_deliveries(settings: StackSettings):
    """The audit archive's statements for deliveries other than CloudTrail's (security stack)."""
    if settings.audit_archive is None:
        return lambda bucket_arn: []
    return lambda bucket_arn: security_services.archive_delivery_statements(
        bucket_arn, settings.account_id
    )


def cost_governance_args(
    settings: StackSettings, member_account_ids: dict, baseline: AccountBaseline
) -> CostGovernanceArgs:
    assert settings.organization is not None and settings.cost_governance is not None
    governance = settings.cost_governance
    return CostGovernanceArgs(
        organization_budget_usd=organization_budget(settings),
        member_account_ids=member_account_ids,
        budget_topic_arn=baseline.budget_topic.arn,
        budget_email=settings.budget_alert_email,
        thresholds=settings.budget.thresholds(),
        anomaly_email=governance.anomaly_email or settings.budget_alert_email,
        anomaly_threshold_usd=governance.anomaly_threshold_usd,
        cost_allocation_tags=REQUIRED_TAG_KEYS,
        trusted_principals=[
            (account_id, p.role)
            for p in governance.cost_explorer_access
            if (account_id := known_or_warn(settings, p.account, "Cost Explorer access"))
        ],
        services_monitor_arn=governance.services_monitor_arn,
        permissions_boundary_arn=baseline.roles.boundary.arn,
        activate_cost_allocation_tags=governance.activate_cost_allocation_tags,
    )


def known_or_warn(settings: StackSettings, account: str, purpose: str) -> str | None:
    """An account's ID, or None with a warning while config marks it pending: nothing trusts or
    grants to an account whose ID is not known to be ours."""
    account_id = settings.known_account_id(account)
    if account_id is None:
        pulumi.log.warn(
            f"{purpose} for account '{account}' waits for its ID (accountIds.{account} is "
            f"pending): {step_label('sync')} records it"
        )
    return account_id


def organization_budget(settings: StackSettings) -> float:
    """The guide's total: the sum of the member accounts' budgets, never typed twice."""
    assert settings.organization is not None
    return sum(a.monthly_budget_usd for a in settings.organization.accounts.values())


def pull_account_ids(settings: StackSettings) -> list[str]:
    """The workload accounts that pull the shared images, once their IDs are known (the same
    accounts the shared CI deploys)."""
    assert settings.shared_services is not None
    return list(settings.deploys_accounts())


def extra_key_statements(settings: StackSettings) -> list[dict]:
    """Uses of the account's one key by parts of the stack beyond the baseline."""
    statements = []
    if settings.audit_archive is not None:  # the audit key: the services' deliveries
        statements += security_services.audit_key_statements(
            known_account_ids(settings), settings.account_id
        )
    if settings.shared_services is not None:
        pulling = pull_account_ids(settings)
        if pulling:  # a statement must name a principal; pending accounts are left out
            statements.append(image_decrypt_statement(pulling, settings.region))
    if settings.network is not None and settings.network.flow_logs:
        statements.append(flow_log_key_statement(settings.account_id))
    return statements


def enabled_security_services(project: dict[str, StackSettings]) -> tuple[str, ...]:
    """The switches of the management stack's file, which every stack follows."""
    organization = project[MANAGEMENT_ACCOUNT].organization
    assert organization is not None
    return organization.security_services.enabled()


def is_retired(project: dict[str, StackSettings], stack: str) -> bool:
    organization = project[MANAGEMENT_ACCOUNT].organization
    assert organization is not None
    account = organization.accounts.get(stack)
    return account is not None and account.retired is not None


class ProgramConfigError(ConfigError, pulumi.RunError):
    """A ConfigError as the program raises it: the Pulumi CLI's Python language host prints a
    ``pulumi.RunError``'s message only, where any other exception gets a traceback."""


def main(project_dir: Path) -> None:
    """Entry point of ``__main__.py``: validate this stack's config and its agreement with the
    project's other stack files, then register resources."""
    try:
        settings = settings_from_pulumi(project_dir)
        project = load_project(project_dir, current=settings)
        plan = plan_stack(
            settings, enabled_security_services(project), is_retired(project, settings.stack)
        )
    except ConfigError as error:
        raise ProgramConfigError(error.problems) from None
    build(plan)
