"""diagnyx-guardrails: `pulumi preview --policy-pack policy-pack` (see README)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from pack import policies

PolicyPack(
    name="diagnyx-guardrails",
    description="Security, cost and no-data-loss guardrails of the Diagnyx landing zone",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
