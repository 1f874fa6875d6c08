"""The rehearsal's ECR handler refuses a repository policy that locks its caller out, as ECR's
SetRepositoryPolicy does without `force` (which the AWS provider never sets)."""

import json

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.policies.documents import to_json
from diagnyx_infra.policies.evaluation import (
    CannotEvaluate,
    denying_statement,
    principal_arn,
)
from diagnyx_infra.policies.shared_services import repository_policy
from diagnyx_infra.rehearsal.handlers import Context, ecr_repository_policy
from diagnyx_infra.rehearsal.rehearse import _CLEARED, _EMULATOR_ENV, REGION

SHARED = "222222222222"
PULL_ACCOUNTS = ["444444444444", "555555555555"]
REPOSITORY = "diagnyx/api"


@pytest.fixture
def emulated(monkeypatch):
    for key, value in _EMULATOR_ENV.items():
        monkeypatch.setenv(key, value)
    for key in _CLEARED:
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        yield Aws.from_environment(REGION)


def _in_shared_account_as(caller: Aws, role: str) -> Aws:
    """A session in the shared account as ``role``, as the stack's provider gets it."""
    session = caller.assume(SHARED, role)
    session.client("ecr").create_repository(repositoryName=REPOSITORY)
    return session


def _apply(session: Aws, policy: dict):
    return ecr_repository_policy(
        Context(session, "shared-services-ecr-diagnyx-api-policy"),
        {"repository": REPOSITORY, "policy": to_json(policy)},
    )


def _stored_policy(session: Aws) -> dict | None:
    try:
        text = session.client("ecr").get_repository_policy(repositoryName=REPOSITORY)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "RepositoryPolicyNotFoundException"
        return None
    return json.loads(text["policyText"])


def test_a_policy_denying_the_callers_role_is_refused(emulated):
    session = _in_shared_account_as(emulated, "PlatformDeployer")
    # The program's statement while it exempted only the default deployment roles.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyDeployersChangeThisPolicy",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["ecr:DeleteRepositoryPolicy", "ecr:SetRepositoryPolicy"],
                "Condition": {
                    "ArnNotLike": {
                        "aws:PrincipalArn": [
                            f"arn:aws:iam::{SHARED}:role/OrganizationAccountAccessRole",
                            f"arn:aws:iam::{SHARED}:role/DiagnyxCrossAccountCICD",
                        ]
                    }
                },
            }
        ],
    }
    with pytest.raises(ValueError) as refused:
        _apply(session, policy)
    message = str(refused.value)
    assert message.startswith("InvalidParameterException: ")
    assert "would lock the caller out" in message
    assert f"arn:aws:iam::{SHARED}:role/PlatformDeployer" in message
    assert "OnlyDeployersChangeThisPolicy" in message
    assert _stored_policy(session) is None


def test_the_programs_policy_for_the_callers_role_is_applied(emulated):
    session = _in_shared_account_as(emulated, "PlatformDeployer")
    policy = repository_policy(PULL_ACCOUNTS, SHARED, "PlatformDeployer")
    assert _apply(session, policy) == (REPOSITORY, {})
    assert _stored_policy(session) == policy


@pytest.mark.parametrize("role", ["OrganizationAccountAccessRole", "DiagnyxCrossAccountCICD"])
def test_the_default_deployment_roles_apply_the_default_policy(emulated, role):
    session = _in_shared_account_as(emulated, role)
    policy = repository_policy(PULL_ACCOUNTS, SHARED, "OrganizationAccountAccessRole")
    _apply(session, policy)
    assert _stored_policy(session) == policy


# --- the evaluation itself ------------------------------------------------------------------

SESSION = f"arn:aws:sts::{SHARED}:assumed-role/PlatformDeployer/diagnyx-pulumi"
ROLE = f"arn:aws:iam::{SHARED}:role/PlatformDeployer"


def _deny(condition=None, principal="*", action="ecr:SetRepositoryPolicy"):
    statement = {"Sid": "D", "Effect": "Deny", "Principal": principal, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_an_assumed_role_session_is_judged_as_its_role():
    assert principal_arn(SESSION) == ROLE
    assert principal_arn(f"arn:aws:iam::{SHARED}:user/alice") == f"arn:aws:iam::{SHARED}:user/alice"


@pytest.mark.parametrize(
    ("policy", "denied"),
    [
        (_deny(), True),
        (_deny(action="ecr:*"), True),
        (_deny(action="ecr:PutImage"), False),
        (_deny(principal={"AWS": ROLE}), True),
        (_deny(principal={"AWS": f"arn:aws:iam::{SHARED}:root"}), True),
        (_deny(principal={"AWS": "arn:aws:iam::999999999999:root"}), False),
        (_deny({"ArnNotLike": {"aws:PrincipalArn": [ROLE]}}), False),
        (
            _deny({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{SHARED}:role/Platform*"}}),
            False,
        ),
        (_deny({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{SHARED}:role/Other"}}), True),
        (_deny({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}), False),
        (_deny({"ArnNotEquals": {"aws:PrincipalArn": SESSION}}), True),
        (_deny({"StringNotLike": {"aws:principalarn": "*:role/PlatformDeployer"}}), False),
        (_deny({"StringNotLike": {"aws:PrincipalArn": "*:role/Admin*"}}), True),
    ],
)
def test_deny_statements_are_evaluated_against_the_callers_role(policy, denied):
    assert (denying_statement(policy, "ecr:SetRepositoryPolicy", SESSION) is not None) is denied


def test_an_unknown_condition_operator_is_not_guessed():
    policy = _deny({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}})
    with pytest.raises(CannotEvaluate):
        denying_statement(policy, "ecr:SetRepositoryPolicy", SESSION)
