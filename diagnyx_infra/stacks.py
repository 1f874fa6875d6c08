"""Stack composition: the one place that decides what each stack deploys.

Everything that can be wrong with the config is found before the first resource is registered.
"""

from dataclasses import dataclass

import pulumi

from .components.baseline import AccountBaseline
from .components.guardrails import Guardrails
from .components.organization import Organization, OrganizationArgs
from .config.loading import settings_from_pulumi
from .config.models import SECURITY_ACCOUNT, StackSettings
from .errors import ConfigError
from .policies.guardrail_plan import ROOT_TARGET, GuardrailPlan, plan_guardrails
from .providers import account_provider

# Services trusted with organization access, each for something this program sets up.
TRUSTED_SERVICE_PRINCIPALS = (
    "cloudtrail.amazonaws.com",  # the organization trail
    "sso.amazonaws.com",  # IAM Identity Center permission sets and assignments
    "tagpolicies.tag.amazonaws.com",  # tag policy compliance reporting
)


@dataclass(frozen=True)
class StackPlan:
    """A validated stack: settings plus everything derived from them that could still fail."""

    settings: StackSettings
    guardrails: GuardrailPlan | None


def plan_stack(settings: StackSettings) -> StackPlan:
    guardrails = None
    if settings.organization is not None:
        guardrails = plan_guardrails(settings.organization, settings.allowed_regions)
        if guardrails.problems:
            raise ConfigError(guardrails.problems)
    return StackPlan(settings, guardrails)


def build(plan: StackPlan) -> None:
    settings = plan.settings
    provider = account_provider(settings)
    in_account = pulumi.ResourceOptions(provider=provider)
    pulumi.export("accountId", settings.account_id)
    pulumi.export("region", settings.region)

    baseline = AccountBaseline("baseline", settings, opts=in_account)
    pulumi.export("stateBucket", baseline.state_bucket.bucket)
    pulumi.export("lockTable", baseline.lock_table.name)
    pulumi.export("kmsKeyArn", baseline.key.arn)
    pulumi.export("alarmTopicArn", baseline.alarm_topic.arn)

    if settings.organization is not None and plan.guardrails is not None:
        organization = Organization(
            "organization",
            OrganizationArgs(
                settings.organization,
                TRUSTED_SERVICE_PRINCIPALS,
                # The security account owns the organization trail (design.md).
                delegated_administrators={"cloudtrail.amazonaws.com": SECURITY_ACCOUNT},
            ),
            opts=in_account,
        )
        Guardrails(
            "guardrails",
            plan.guardrails,
            target_ids={ROOT_TARGET: organization.root_id, **organization.ou_ids},
            opts=in_account,
        )
        pulumi.export("organizationId", organization.organization.id)
        pulumi.export("rootId", organization.root_id)
        pulumi.export("organizationalUnitIds", organization.ou_ids)
        pulumi.export("accountIds", organization.account_ids)


def main() -> None:
    """Entry point of ``__main__.py``: validate everything, then register resources."""
    build(plan_stack(settings_from_pulumi()))
