"""Cost Explorer rules the emulator enforces (moto has no Cost Explorer anomaly API)."""

import json

import pytest

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.policies.cost import linked_account_monitor_specification
from diagnyx_infra.rehearsal.aws_rules import (
    RuleViolation,
    anomaly_monitor,
    anomaly_subscription,
)
from diagnyx_infra.rehearsal.handlers import Context
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from diagnyx_infra.rehearsal.world import World, enable_cost_explorer


@pytest.fixture
def ctx():
    with emulated_aws():
        caller = Aws.from_environment("us-east-1")
        yield Context(caller, "monitor", World(caller, "us-east-1"))


def test_nothing_before_cost_explorer_is_enabled(ctx):
    spec = linked_account_monitor_specification(["222222222222"])
    with pytest.raises(RuleViolation, match="Cost Explorer is not enabled"):
        anomaly_monitor(ctx, {"name": "m", "monitorType": "CUSTOM", "monitorSpecification": spec})


def test_a_second_aws_services_monitor_is_refused(ctx):
    enable_cost_explorer(ctx.world)
    with pytest.raises(RuleViolation, match="Limit exceeded on dimensional spend monitor"):
        anomaly_monitor(
            ctx,
            {
                "name": "diagnyx-services",
                "monitorType": "DIMENSIONAL",
                "monitorDimension": "SERVICE",
            },
        )


def test_a_specification_without_the_read_back_nulls_is_refused(ctx):
    enable_cost_explorer(ctx.world)
    bare = json.dumps({"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["222222222222"]}})
    with pytest.raises(RuleViolation, match="every `pulumi up` would replace it"):
        anomaly_monitor(ctx, {"name": "m", "monitorType": "CUSTOM", "monitorSpecification": bare})
    spec = linked_account_monitor_specification(["333333333333", "222222222222"])
    arn, _ = anomaly_monitor(
        ctx, {"name": "m", "monitorType": "CUSTOM", "monitorSpecification": spec}
    )
    assert arn in ctx.world.anomaly_monitors


def test_a_subscription_names_only_existing_monitors(ctx):
    enable_cost_explorer(ctx.world)
    existing = ctx.world.services_monitor_arn()
    made_up = existing.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(RuleViolation, match="UnknownMonitorException"):
        anomaly_subscription(ctx, {"monitorArnLists": [existing, made_up]})
    arn, _ = anomaly_subscription(ctx, {"monitorArnLists": [existing]})
    assert arn.startswith("arn:aws:ce::")
