"""The policy pack's configuration for one stack, derived from its settings, so the pack allows
exactly what the stack's config allows (for example a NAT gateway)."""

from .config.models import StackSettings

DEFAULT_SCP_CHARS = 5120
DEFAULT_SCPS_PER_TARGET = 5


def pack_settings(settings: StackSettings) -> dict[str, object]:
    guardrails = settings.organization.guardrails if settings.organization else None
    return {
        "allowNatGateway": bool(settings.network and settings.network.nat_gateway),
        "maxScpChars": guardrails.scp_max_chars if guardrails else DEFAULT_SCP_CHARS,
        "maxScpsPerTarget": guardrails.scp_max_per_target
        if guardrails
        else DEFAULT_SCPS_PER_TARGET,
    }


def pack_config_file(settings: StackSettings) -> dict[str, dict[str, object]]:
    """`--policy-pack-config` file content: per policy, its settings."""
    values = pack_settings(settings)
    return {
        "ec2-no-nat-gateway": {"allowNatGateway": values["allowNatGateway"]},
        "organizations-scp-size": {"maxScpChars": values["maxScpChars"]},
        "organizations-scps-per-target": {"maxScpsPerTarget": values["maxScpsPerTarget"]},
    }
