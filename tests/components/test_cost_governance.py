"""Organization budget, anomaly detection, cost allocation tags, Cost Explorer access role."""

import json

from diagnyx_infra.config.models import REQUIRED_TAG_KEYS
from diagnyx_infra.engine.runner import run_stack
from diagnyx_infra.policies.cost import linked_account_monitor_specification
from diagnyx_infra.rehearsal.aws_rules import read_back_specification
from tests.helpers import edited_config

GUIDE_TOTAL = 2850


def test_organization_budget_is_the_sum_of_the_account_budgets(management):
    (budget,) = [
        b
        for b in management.of_type("aws:budgets/budget:Budget")
        if b.inputs["name"] == "diagnyx-organization-monthly"
    ]
    assert float(budget.inputs["limitAmount"]) == GUIDE_TOTAL
    assert "costFilters" not in budget.inputs
    thresholds = sorted(
        (n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"]
    )
    assert thresholds == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]


def test_budget_total_follows_config(tmp_path):
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_project

    def raise_prod(stack, config):
        if stack == "management":
            config["diagnyx:organization"]["accounts"]["prod"]["monthlyBudgetUsd"] = 2000
        if stack == "prod":  # the account's own file agrees, or the program refuses
            config["diagnyx:budget"]["monthlyLimitUsd"] = 2000

    recording = run_stack("management", edited_project(tmp_path, raise_prod))
    (budget,) = [
        b
        for b in recording.of_type("aws:budgets/budget:Budget")
        if b.inputs["name"] == "diagnyx-organization-monthly"
    ]
    assert float(budget.inputs["limitAmount"]) == GUIDE_TOTAL + 200


SERVICES_MONITOR = "arn:aws:ce::111111111111:anomalymonitor/5e0c2f1a-8d4b-4c1e-9f3a-2b7d6e8a1c40"


def test_anomaly_detection_uses_aws_services_monitor_and_adds_linked_accounts(management):
    monitors = management.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    # AWS creates the one AWS-services monitor itself; a second is refused.
    assert [m.inputs["monitorType"] for m in monitors] == ["CUSTOM"]
    (subscription,) = management.of_type("aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription.inputs["frequency"] == "DAILY"
    assert subscription.inputs["monitorArnLists"] == [
        SERVICES_MONITOR,
        *(m.state["arn"] for m in monitors),
    ]
    assert subscription.inputs["subscribers"] == [
        {"type": "EMAIL", "address": "finance@diagnyx.ai"}
    ]
    dimension = subscription.inputs["thresholdExpression"]["dimension"]
    assert dimension["key"] == "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
    assert dimension["values"] == ["50"]


def test_linked_account_monitor_specification_reads_back_identically(management):
    (monitor,) = management.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    text = monitor.inputs["monitorSpecification"]
    # The provider's read-back form: every Expression member, nulls included, keys sorted.
    assert text == linked_account_monitor_specification(
        sorted(json.loads(text)["Dimensions"]["Values"])
    )
    spec = json.loads(text)
    assert spec == read_back_specification(text)
    assert set(spec) == {"And", "CostCategories", "Dimensions", "Not", "Or", "Tags"}
    assert spec["Dimensions"]["MatchOptions"] is None
    assert spec["Dimensions"]["Key"] == "LINKED_ACCOUNT"
    assert len(spec["Dimensions"]["Values"]) == 6


def test_without_cost_explorer_anomaly_detection_waits_with_one_warning():
    def before_cost_explorer(config):
        del config["diagnyx:costGovernance"]["servicesMonitorArn"]
        config["diagnyx:costGovernance"]["activateCostAllocationTags"] = False

    recording = run_stack("management", config=edited_config("management", before_cost_explorer))
    assert not recording.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert not recording.of_type("aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert not recording.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")
    waits = [w for w in recording.warnings if "anomaly detection waits" in w]
    assert len(waits) == 1 and "Enable Cost Explorer" in waits[0]
    tags = [w for w in recording.warnings if "cost allocation tags" in w]
    assert len(tags) == 1 and "cost allocation tags" in tags[0] and "step" in tags[0]


def test_required_tags_are_activated_for_cost_allocation(management):
    tags = management.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")
    assert sorted(t.inputs["tagKey"] for t in tags) == sorted(REQUIRED_TAG_KEYS)
    assert {t.inputs["status"] for t in tags} == {"Active"}


def test_cost_explorer_role_is_trusted_only_by_configured_roles(management):
    (role,) = [
        r
        for r in management.of_type("aws:iam/role:Role")
        if r.inputs["name"] == "DiagnyxCostExplorerAccess"
    ]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root"]}
    assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Finance_*",
        "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Administrator_*",
    ]
    (policy,) = [
        p
        for p in management.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["name"] == "CostExplorerRead"
    ]
    actions = json.loads(policy.inputs["policy"])["Statement"][0]["Action"]
    assert "ce:GetCostAndUsage" in actions or "ce:Get*" in actions
    assert not any(a.endswith(":*") and not a.startswith("ce:") for a in actions)


def test_cost_governance_only_in_management(recordings):
    for stack, recording in recordings.items():
        present = bool(recording.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor"))
        assert present == (stack == "management")
