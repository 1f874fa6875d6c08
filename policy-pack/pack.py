"""The rules of diagnyx_rules as Pulumi policies (importable without starting the pack)."""

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


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation) -> None:
        subjects = [subject_of(r, with_dependencies=True) for r in args.resources]
        config = {**DEFAULTS, **(args.get_config() or {})}
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
