"""Which guardrail goes where: the SCPs and tag policy of the organization and their targets,
worked out from the validated settings before any resource is registered."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config.models import (
    REQUIRED_TAG_KEYS,
    SECURITY_ACCOUNT,
    Environment,
    OrganizationSettings,
    StackSettings,
)
from . import scp
from .documents import size
from .tag_policy import TAG_POLICY_MAX_CHARS, tag_policy

ROOT_TARGET = "Root"


@dataclass(frozen=True)
class GuardrailPlan:
    policies: dict[str, scp.ServiceControlPolicy]
    # target ("Root" or an OU name) -> keys of the SCPs attached to it
    attachments: dict[str, tuple[str, ...]]
    tag_policy: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def plan_guardrails(
    org: OrganizationSettings,
    allowed_regions: Sequence[str],
    security_account_id: str | None = None,
) -> GuardrailPlan:
    """``security_account_id``: where findings may be triaged (None while it is pending)."""
    attachments = {ROOT_TARGET: tuple(org.guardrails.root_policies)}
    for ou in org.organizational_units:
        # The security services' guard on every OU: every member account is in one, and the
        # root's places are taken (OrganizationSettings counts it per OU).
        attachments[ou.name] = (*ou.policies, scp.SECURITY_SERVICES_GUARD)
    inputs = scp.ScpInputs(
        allowed_regions=allowed_regions,
        non_production_instance_types=org.guardrails.non_production_instance_types,
        security_services=org.security_services.enabled(),
        security_account_id=security_account_id,
    )
    used = [key for keys in attachments.values() for key in keys]
    policies = scp.build_all(used, inputs)
    environments = [
        Environment.MANAGEMENT.value,
        *(a.environment.value for a in org.accounts.values()),
    ]
    tags = tag_policy(REQUIRED_TAG_KEYS, sorted(set(environments)))

    problems = [
        f"diagnyx:organization.guardrails: {problem}"
        for problem in scp.oversized(policies, org.guardrails.scp_max_chars)
    ]
    if size(tags) > TAG_POLICY_MAX_CHARS:
        problems.append(
            f"diagnyx:organization: the tag policy is {size(tags)} characters, "
            f"over the limit of {TAG_POLICY_MAX_CHARS}"
        )
    return GuardrailPlan(policies, attachments, tags, problems)


def management_guardrails(management: StackSettings) -> GuardrailPlan:
    """The guardrails of the management stack's settings (organization, regions, and the
    security account's ID once known)."""
    assert management.organization is not None
    return plan_guardrails(
        management.organization,
        management.allowed_regions,
        management.known_account_id(SECURITY_ACCOUNT),
    )
