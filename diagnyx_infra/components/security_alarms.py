"""Security alarms ("Monitoring enabled" in the guide's checklist): EventBridge rules on the
account's CloudTrail events, delivered to the alarms topic. No CloudWatch Logs ingestion: rules on
the default event bus cost nothing for AWS service events."""

import json

import pulumi
import pulumi_aws as aws

from ..policies.audit import security_event_patterns


class SecurityAlarms(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        alarm_topic_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:baseline:SecurityAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rule_names = []
        for alarm, pattern in security_event_patterns().items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{alarm}",
                name=f"diagnyx-security-{alarm}",
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
