"""Service control policies and the tag policy, attached to the root and OUs."""

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from ..policies.documents import to_json
from ..policies.guardrail_plan import ROOT_TARGET, GuardrailPlan
from ..policies.tag_policy import TAG_POLICY_NAME


class Guardrails(pulumi.ComponentResource):
    policy_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        plan: GuardrailPlan,
        target_ids: Mapping[str, pulumi.Input[str]],
        organization: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("diagnyx:organization:Guardrails", name, None, opts)
        # Policies can only be created once the organization exists (and its policy types are on).
        child = pulumi.ResourceOptions(parent=self, depends_on=[organization])

        self.policy_ids = {}
        for key, policy in plan.policies.items():
            resource = aws.organizations.Policy(
                f"{name}-scp-{key}",
                name=policy.name,
                description=policy.description,
                type="SERVICE_CONTROL_POLICY",
                content=to_json(policy.document),
                opts=child,
            )
            self.policy_ids[key] = resource.id

        for target, keys in plan.attachments.items():
            for key in keys:
                aws.organizations.PolicyAttachment(
                    f"{name}-attach-{key}-to-{target}",
                    policy_id=self.policy_ids[key],
                    target_id=target_ids[target],
                    opts=child,
                )

        tags = aws.organizations.Policy(
            f"{name}-tag-policy",
            name=TAG_POLICY_NAME,
            description="Required tag keys and allowed Environment values",
            type="TAG_POLICY",
            content=to_json(plan.tag_policy),
            opts=child,
        )
        aws.organizations.PolicyAttachment(
            f"{name}-attach-tag-policy-to-{ROOT_TARGET}",
            policy_id=tags.id,
            target_id=target_ids[ROOT_TARGET],
            opts=child,
        )
        self.register_outputs({"policyIds": self.policy_ids})
