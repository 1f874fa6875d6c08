"""An AWS rule the rehearsal enforces that needs no rehearsal to show: a trust naming a role
that does not exist yet is refused (the others are in test_rehearse.py, as variations of its
rehearsal)."""

import json

import pytest


def test_a_trust_naming_a_role_that_does_not_exist_yet_is_refused():
    """Workload deploy roles trust the shared services deploy role: shared deploys first (IAM
    refuses a role principal that does not exist), which the sequence and `rehearse dev` keep."""
    from diagnyx_infra.ops.aws import Aws
    from diagnyx_infra.rehearsal.aws_rules import RuleViolation
    from diagnyx_infra.rehearsal.aws_rules import role as create_role
    from diagnyx_infra.rehearsal.handlers import Context
    from diagnyx_infra.rehearsal.rehearse import emulated_aws
    from diagnyx_infra.rehearsal.world import World

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/DiagnyxCrossAccountCICD"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    with emulated_aws():
        caller = Aws.from_environment("us-east-1")
        ctx = Context(caller, "role", World(caller, "us-east-1"))
        inputs = {"name": "DiagnyxTrusting", "assumeRolePolicy": json.dumps(trust)}
        with pytest.raises(RuleViolation, match="Invalid principal"):
            create_role(ctx, inputs)
        caller.client("iam").create_role(
            RoleName="DiagnyxCrossAccountCICD", AssumeRolePolicyDocument=json.dumps(trust)
        )
        assert create_role(ctx, inputs)[0] == "DiagnyxTrusting"
