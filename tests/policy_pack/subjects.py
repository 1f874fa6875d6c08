"""Recorded resources as the policy pack sees them."""

from diagnyx_infra.engine.runner import StackRecording


def subjects_of(recording: StackRecording):
    from diagnyx_rules import Subject

    by_urn = recording.by_urn()
    subjects = []
    for resource in recording.resources:
        if not resource.custom or resource.is_provider:
            continue
        provider = by_urn.get(resource.provider_urn)
        subjects.append(
            Subject(
                type=resource.type,
                name=resource.name,
                # The engine shows inputs, plus outputs such as ARNs once known.
                props={"id": resource.id, **resource.state, **resource.inputs},
                protect=resource.protect,
                provider_props=provider.inputs if provider else {},
            )
        )
    return subjects
