"""Organization-wide cost governance (guide, "Cost Management"): the organization budget, Cost
Anomaly Detection, cost allocation tags, and the Cost Explorer access role."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..deploy_sequence import step_label
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
    # AWS's Default-Services-Monitor, named once Cost Explorer is enabled; None until then.
    services_monitor_arn: str | None = None
    activate_cost_allocation_tags: bool = False
    permissions_boundary_arn: pulumi.Input[str] | None = None  # every Diagnyx role carries it


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

        if args.services_monitor_arn is None:
            pulumi.log.warn(
                "cost anomaly detection waits for Cost Explorer (costGovernance."
                f"servicesMonitorArn is not set): {step_label('cost-explorer')} turns it on",
                resource=self,
            )
        else:
            self._anomaly_detection(name, args, args.services_monitor_arn)

        if args.activate_cost_allocation_tags:
            for tag in args.cost_allocation_tags:
                aws.costexplorer.CostAllocationTag(
                    f"{name}-cost-tag-{tag}", tag_key=tag, status="Active", opts=child
                )
        else:
            pulumi.log.warn(
                "cost allocation tags are not activated yet (AWS accepts a key only once it has "
                "appeared in billing data): " + step_label("cost-tags") + " turns them on",
                resource=self,
            )

        self.role_arn = None
        if args.trusted_principals:
            self.role_arn = self._cost_explorer_role(name, args)
        else:
            # A trust policy must name a principal; every configured one is still pending.
            pulumi.log.warn(
                f"{naming.COST_EXPLORER_ROLE} waits for the accounts costExplorerAccess names: "
                f"{step_label('sync')} records them",
                resource=self,
            )
        self.register_outputs({"costExplorerRoleArn": self.role_arn})

    def _cost_explorer_role(self, name: str, args: CostGovernanceArgs) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-cost-explorer-access",
            name=naming.COST_EXPLORER_ROLE,
            description="Cost analysis for the guide's `aws ce get-cost-and-usage` commands",
            assume_role_policy=to_json(cost.cost_explorer_trust(args.trusted_principals)),
            max_session_duration=3600,
            permissions_boundary=args.permissions_boundary_arn,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-cost-explorer-read",
            name=naming.COST_EXPLORER_POLICY,
            role=role.id,
            policy=to_json(cost.cost_explorer_permissions()),
            opts=child,
        )
        return role.arn

    def _anomaly_detection(
        self, name: str, args: CostGovernanceArgs, services_monitor_arn: str
    ) -> None:
        """AWS's own AWS-services monitor (one per account; a second is refused with "Limit
        exceeded on dimensional spend monitor creation") plus ours by linked account, all
        reported by one subscription."""
        child = pulumi.ResourceOptions(parent=self)
        monitor_arns: list[pulumi.Input[str]] = [services_monitor_arn]
        names = sorted(args.member_account_ids)
        for start in range(0, len(names), LINKED_ACCOUNTS_PER_MONITOR):
            chunk = names[start : start + LINKED_ACCOUNTS_PER_MONITOR]
            index = start // LINKED_ACCOUNTS_PER_MONITOR
            monitor = aws.costexplorer.AnomalyMonitor(
                f"{name}-anomalies-by-account-{index}",
                name=f"diagnyx-linked-accounts-{index}",
                monitor_type="CUSTOM",
                monitor_specification=pulumi.Output.all(
                    *(args.member_account_ids[n] for n in chunk)
                ).apply(cost.linked_account_monitor_specification),
                opts=child,
            )
            monitor_arns.append(monitor.arn)
        aws.costexplorer.AnomalySubscription(
            f"{name}-anomaly-alerts",
            name="diagnyx-daily-anomalies",
            frequency="DAILY",
            monitor_arn_lists=monitor_arns,
            subscribers=[{"type": "EMAIL", "address": args.anomaly_email}],
            threshold_expression=cost.anomaly_threshold(args.anomaly_threshold_usd),
            opts=child,
        )
