"""Security alarms ("Monitoring enabled" in the guide's checklist): EventBridge rules on the
account's CloudTrail events, delivered to the alarms topic. No CloudWatch Logs ingestion: rules on
the default event bus cost nothing for AWS service events."""

import json

import pulumi
import pulumi_aws as aws

from ..policies.audit import security_event_patterns
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
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``is_management`` adds the organization's alarms (SCP, account move, Identity Center
        changes), which only the management account's events carry."""
        super().__init__("diagnyx:baseline:SecurityAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if region != GLOBAL_EVENTS_REGION:
            global_alarms = "sign-in, IAM" + (" and Organizations" if is_management else "")
            pulumi.log.warn(
                f"security alarms: the rules are created in {region}, but {global_alarms} "
                f"events arrive in {GLOBAL_EVENTS_REGION} only, so those alarms never fire; "
                f"the KMS, S3 and CloudTrail alarms see calls served in {region} only"
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
        self.register_outputs({"ruleNames": self.rule_names})
