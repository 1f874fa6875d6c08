"""iam:PassRole, evaluated on the documents the program renders: a deploy role, under its
permissions boundary, can pass exactly three roles, each to its one service (AWS Config's own
service-linked role to AWS Config; the Config aggregator's to AWS Config, in the security
account only; the alarm forwarding role to EventBridge), and no role under the boundary can pass
any other."""

import pytest

from diagnyx_infra import naming
from diagnyx_infra.policies import iam
from diagnyx_infra.policies.evaluation import Request, allows

ACCOUNTS = {"management": "111111111111", "security": "333333333333", "dev": "444444444444"}
SERVICES = (
    "config.amazonaws.com",
    "events.amazonaws.com",
    "ssm.amazonaws.com",
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
)
ROLES = (
    iam.CONFIG_AGGREGATOR_ROLE,
    iam.CONFIG_SERVICE_LINKED_ROLE,
    "aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
    naming.ALARM_FORWARDING_ROLE,
    naming.CICD_ROLE,
    naming.AUDIT_ROLE,
    "DiagnyxSomethingNew",
    "AnyOtherRole",
)


def _passes(stack: str, role: str, service: str) -> bool:
    account_id = ACCOUNTS[stack]
    policy = iam.cicd_permissions(
        account_id,
        is_management=stack == "management",
        manages_organization_trail=stack == "security",
    )
    caller = iam.role_arn(account_id, naming.CICD_ROLE)
    request = Request(
        "iam:PassRole",
        iam.role_arn(account_id, role),
        principal_arn=caller,
        context={"iam:passedtoservice": service},
    )
    # A permissions boundary is a ceiling: both must allow (IAM User Guide, "Permissions
    # boundaries for IAM entities", evaluation).
    return allows([policy], request) and allows([iam.permissions_boundary(account_id)], request)


@pytest.mark.parametrize("stack", ACCOUNTS)
def test_a_deploy_role_passes_three_roles_each_to_its_one_service(stack):
    passed = {
        (role, service) for role in ROLES for service in SERVICES if _passes(stack, role, service)
    }
    expected = {
        (naming.ALARM_FORWARDING_ROLE, "events.amazonaws.com"),
        (iam.CONFIG_SERVICE_LINKED_ROLE, "config.amazonaws.com"),
    }
    if stack == "security":
        expected.add((iam.CONFIG_AGGREGATOR_ROLE, "config.amazonaws.com"))
    assert passed == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_boundary_alone_refuses_every_other_pass(role):
    """Whatever a bounded role's own policy grants (here: PassRole on everything), the boundary
    admits only the two roles, each to its service."""
    account_id = ACCOUNTS["dev"]
    grants_everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
    }
    for service in SERVICES:
        request = Request(
            "iam:PassRole",
            iam.role_arn(account_id, role),
            principal_arn=iam.role_arn(account_id, "DiagnyxSomethingNew"),
            context={"iam:passedtoservice": service},
        )
        allowed = allows([grants_everything], request) and allows(
            [iam.permissions_boundary(account_id)], request
        )
        assert allowed == (iam.PASSABLE_ROLES.get(role) == service), (role, service)
