"""Security alarms ("Monitoring enabled" in the guide's checklist): EventBridge rules on the
account's CloudTrail events, delivered to the alarms topic. No CloudWatch Logs ingestion: rules on
the default event bus cost nothing for AWS service events."""

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .. import naming
from ..policies.audit import (
    REGIONAL_ALARMS,
    forwarding_permissions,
    forwarding_trust_policy,
    home_bus_arn,
    security_event_patterns,
)
from ..policies.documents import to_json
from ..policies.scp import ALARM_RULE_PREFIX

# Global services (IAM, STS, console sign-in, Organizations) deliver their events to the default
# bus of us-east-1 only (see security_event_patterns).
GLOBAL_EVENTS_REGION = "us-east-1"


class SecurityAlarms(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        alarm_topic_arn: pulumi.Input[str],
        is_management: bool = False,
        region: str = GLOBAL_EVENTS_REGION,
        other_regions: Sequence[str] = (),
        account_id: str = "",
        permissions_boundary_arn: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``is_management`` adds the organization's alarms (SCP, account move, Identity Center
        changes), which only the management account's events carry. ``other_regions`` (the
        other allowed regions) forward their regional events to ``region``'s bus, through a role
        under ``permissions_boundary_arn``."""
        super().__init__("diagnyx:baseline:SecurityAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if region != GLOBAL_EVENTS_REGION:
            global_alarms = "sign-in, IAM" + (" and Organizations" if is_management else "")
            pulumi.log.warn(
                f"security alarms: the rules are created in {region}, but {global_alarms} "
                f"events arrive in {GLOBAL_EVENTS_REGION} only, so those alarms never fire; "
                f"the CloudTrail alarm sees calls served in {region} only"
                + (
                    ", and Identity Center's only if it is the Identity Center home region"
                    if is_management
                    else ""
                )
            )
        self.rule_names = []
        for alarm, pattern in security_event_patterns(is_management).items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{alarm}",
                name=f"{ALARM_RULE_PREFIX}{alarm}",
                description=f"Security alarm: {alarm.replace('-', ' ')}",
                event_pattern=json.dumps(pattern),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{alarm}-to-topic",
                rule=rule.name,
                arn=alarm_topic_arn,
                opts=child,
            )
            self.rule_names.append(rule.name)
        if other_regions:
            self._forward(name, region, other_regions, account_id, permissions_boundary_arn)
        self.register_outputs({"ruleNames": self.rule_names})

    def _forward(
        self,
        name: str,
        home: str,
        regions: Sequence[str],
        account_id: str,
        boundary: pulumi.Input[str] | None,
    ) -> None:
        """EventBridge delivers a regional service's CloudTrail events in the region the call
        was served in: a GuardDuty detector deleted in us-west-2 reaches us-west-2's bus only.
        Each other allowed region's rules send the regional alarms' events to the home bus
        (cross-Region targets need a role: EventBridge User Guide, "Sending and receiving
        events between AWS Regions")."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-forwarding-role",
            name=naming.ALARM_FORWARDING_ROLE,
            assume_role_policy=to_json(forwarding_trust_policy(account_id)),
            permissions_boundary=boundary,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-forwarding-policy",
            role=role.name,
            name=naming.ALARM_FORWARDING_POLICY,
            policy=to_json(forwarding_permissions(home, account_id)),
            opts=child,
        )
        patterns = security_event_patterns()
        for region in regions:
            for alarm in REGIONAL_ALARMS:
                rule = aws.cloudwatch.EventRule(
                    f"{name}-{alarm}-{region}",
                    name=f"{ALARM_RULE_PREFIX}{alarm}-to-{home}",
                    description=f"Security alarm: {alarm.replace('-', ' ')}, sent to {home}",
                    event_pattern=json.dumps(patterns[alarm]),
                    region=region,
                    opts=child,
                )
                aws.cloudwatch.EventTarget(
                    f"{name}-{alarm}-{region}-to-{home}",
                    rule=rule.name,
                    arn=home_bus_arn(home, account_id),
                    role_arn=role.arn,
                    region=region,
                    opts=child,
                )
