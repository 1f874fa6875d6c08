"""Organization-wide cost governance (guide, "Cost Management"): the organization budget, Cost
Anomaly Detection, cost allocation tags, and the Cost Explorer access role."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..policies import cost
from ..policies.baseline import budget_notifications
from ..policies.documents import to_json

# A custom anomaly monitor takes at most this many linked accounts.
LINKED_ACCOUNTS_PER_MONITOR = 10


@dataclass(frozen=True)
class CostGovernanceArgs:
    organization_budget_usd: float
    member_account_ids: Mapping[str, pulumi.Input[str]]
    budget_topic_arn: pulumi.Input[str]
    budget_email: str
    thresholds: Sequence[tuple[str, float]]
    anomaly_email: str
    anomaly_threshold_usd: float
    cost_allocation_tags: Sequence[str]
    trusted_principals: Sequence[tuple[str, str]]  # (account ID, role name or pattern)


class CostGovernance(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: CostGovernanceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:cost:CostGovernance", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # In the management account an unfiltered budget covers every account's spend.
        aws.budgets.Budget(
            f"{name}-organization-budget",
            name="diagnyx-organization-monthly",
            budget_type="COST",
            limit_amount=f"{args.organization_budget_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            notifications=budget_notifications(
                args.thresholds, args.budget_email, args.budget_topic_arn
            ),
            opts=child,
        )

        monitors = [
            aws.costexplorer.AnomalyMonitor(
                f"{name}-anomalies-by-service",
                name="diagnyx-services",
                monitor_type="DIMENSIONAL",
                monitor_dimension="SERVICE",
                opts=child,
            )
        ]
        names = sorted(args.member_account_ids)
        for start in range(0, len(names), LINKED_ACCOUNTS_PER_MONITOR):
            chunk = names[start : start + LINKED_ACCOUNTS_PER_MONITOR]
            monitors.append(
                aws.costexplorer.AnomalyMonitor(
                    f"{name}-anomalies-by-account-{start // LINKED_ACCOUNTS_PER_MONITOR}",
                    name=f"diagnyx-linked-accounts-{start // LINKED_ACCOUNTS_PER_MONITOR}",
                    monitor_type="CUSTOM",
                    monitor_specification=pulumi.Output.all(
                        *(args.member_account_ids[n] for n in chunk)
                    ).apply(
                        lambda ids: json.dumps(
                            {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(ids)}}
                        )
                    ),
                    opts=child,
                )
            )
        aws.costexplorer.AnomalySubscription(
            f"{name}-anomaly-alerts",
            name="diagnyx-daily-anomalies",
            frequency="DAILY",
            monitor_arn_lists=[monitor.arn for monitor in monitors],
            subscribers=[{"type": "EMAIL", "address": args.anomaly_email}],
            threshold_expression=cost.anomaly_threshold(args.anomaly_threshold_usd),
            opts=child,
        )

        for tag in args.cost_allocation_tags:
            aws.costexplorer.CostAllocationTag(
                f"{name}-cost-tag-{tag}", tag_key=tag, status="Active", opts=child
            )

        role = aws.iam.Role(
            f"{name}-cost-explorer-access",
            name=naming.COST_EXPLORER_ROLE,
            description="Cost analysis for the guide's `aws ce get-cost-and-usage` commands",
            assume_role_policy=to_json(cost.cost_explorer_trust(args.trusted_principals)),
            max_session_duration=3600,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-cost-explorer-read",
            name="CostExplorerRead",
            role=role.id,
            policy=to_json(cost.cost_explorer_permissions()),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"costExplorerRoleArn": role.arn})
