"""The rules of diagnyx_rules as Pulumi policies (importable without starting the pack)."""

import json
import os
from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from diagnyx_rules import DEFAULTS, RULES, STACK_RULES, Rule, StackRule, Subject

_SCHEMA_TYPES = {bool: "boolean", int: "integer"}


def _schema(keys: tuple[str, ...]) -> PolicyConfigSchema | None:
    if not keys:
        return None
    return PolicyConfigSchema(
        properties={
            key: {"type": _SCHEMA_TYPES[type(DEFAULTS[key])], "default": DEFAULTS[key]}
            for key in keys
        }
    )


def subject_of(
    resource: ResourceValidationArgs | PolicyResource, with_dependencies: bool = False
) -> Subject:
    provider = getattr(resource, "provider", None)
    dependencies = {}
    if with_dependencies:
        dependencies = {
            prop: [subject_of(d) for d in deps]
            for prop, deps in (getattr(resource, "property_dependencies", None) or {}).items()
        }
    return Subject(
        type=resource.resource_type,
        name=resource.name,
        props=resource.props,
        protect=bool(resource.opts.protect),
        provider_props=provider.props if provider is not None else {},
        dependencies=dependencies,
    )


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation) -> None:
        subject = subject_of(args)
        if rule.applies_to(subject):
            config = {**DEFAULTS, **(args.get_config() or {})}
            for message in rule.check(subject, config):
                report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(rule.config),
    )


def stack_facts(environ: Mapping[str, str] = os.environ) -> dict[str, object]:
    """The stack's name and diagnyx:allowedRegions (diagnyx_rules.STACK_FACTS), from what the
    Pulumi engine gives a policy pack's process, as it gives a program's: the stack's name in
    PULUMI_STACK, its config in PULUMI_CONFIG (JSON; structured values as JSON text). What is
    not there is left out, and the rules fall back to what the resources show."""
    facts: dict[str, object] = {}
    if stack := environ.get("PULUMI_STACK"):
        facts["stack"] = stack
    try:
        config = json.loads(environ.get("PULUMI_CONFIG") or "{}")
        regions = config.get("diagnyx:allowedRegions") if isinstance(config, dict) else None
        if isinstance(regions, str):
            regions = json.loads(regions)
    except ValueError:
        regions = None
    if isinstance(regions, list) and regions and all(isinstance(r, str) for r in regions):
        facts["allowedRegions"] = regions
    return facts


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation) -> None:
        subjects = [subject_of(r, with_dependencies=True) for r in args.resources]
        config = {**DEFAULTS, **stack_facts(), **(args.get_config() or {})}
        for message in rule.check(subjects, config):
            report_violation(message, None)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(rule.config),
    )


def policies() -> list:
    return [*(resource_policy(r) for r in RULES), *(stack_policy(r) for r in STACK_RULES)]
