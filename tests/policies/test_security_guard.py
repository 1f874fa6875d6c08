"""The protect-security-services SCP, evaluated: who may turn the security services off or hide
their findings, and where."""

import pytest

from diagnyx_infra.policies import scp
from diagnyx_infra.policies import security_services as services
from diagnyx_infra.policies.documents import size
from tests.policies.test_tamper_resistance import ANYONE_ELSE, CI, DEV, SECURITY, denied

BREAK_GLASS = "OrganizationAccountAccessRole"
ALL_ON = (services.GUARD_DUTY, services.SECURITY_HUB, services.AWS_CONFIG)


def guard(enabled=ALL_ON, security_account_id: str | None = SECURITY) -> dict:
    inputs = scp.ScpInputs(
        allowed_regions=["us-east-1", "us-west-2"],
        non_production_instance_types=["t3.*"],
        security_services=enabled,
        security_account_id=security_account_id,
    )
    return scp.build(scp.SECURITY_SERVICES_GUARD, inputs).document


@pytest.mark.parametrize(
    "action",
    [
        "s3:PutAccountPublicAccessBlock",
        "ec2:DisableEbsEncryptionByDefault",
        "ec2:ModifyEbsDefaultKmsKeyId",
        "iam:DeleteAccountPasswordPolicy",
        "access-analyzer:DeleteAnalyzer",
        "guardduty:DeleteDetector",
        "guardduty:DisassociateFromAdministratorAccount",
        "securityhub:DisableSecurityHub",
        "securityhub:BatchDisableStandards",
        "config:StopConfigurationRecorder",
        "config:PutRetentionConfiguration",
    ],
)
def test_only_the_deployment_roles_turn_a_service_off_in_any_account(action):
    for account in (DEV, SECURITY):
        for role in ANYONE_ELSE:
            assert denied(action, "*", role, account, guard()) == ["ProtectSecurityServices"]
        for role in (BREAK_GLASS, CI):
            assert denied(action, "*", role, account, guard()) == []


@pytest.mark.parametrize(
    "action",
    [
        "securityhub:BatchUpdateFindings",
        "securityhub:CreateAutomationRule",
        "guardduty:ArchiveFindings",
        "guardduty:CreateFilter",
        "guardduty:CreateIPSet",
        "access-analyzer:CreateArchiveRule",
        "access-analyzer:UpdateFindings",
    ],
)
def test_findings_are_hidden_by_no_one_outside_the_security_account(action):
    for role in ANYONE_ELSE:
        context = {"aws__PrincipalAccount": DEV}
        assert denied(action, "*", role, DEV, guard(), **context) == ["ProtectSecurityFindings"]
        # The security team triages in its own account.
        context = {"aws__PrincipalAccount": SECURITY}
        assert denied(action, "*", role, SECURITY, guard(), **context) == []
    # While the security account's ID is pending, nobody but the deployment roles may.
    pending = guard(security_account_id=None)
    context = {"aws__PrincipalAccount": SECURITY}
    assert denied(action, "*", ANYONE_ELSE[0], SECURITY, pending, **context) == [
        "ProtectSecurityFindings"
    ]


def test_a_service_switched_off_is_not_guarded_and_reads_never_are():
    off = guard(enabled=())
    assert denied("guardduty:DeleteDetector", "*", ANYONE_ELSE[0], DEV, off) == []
    assert denied("config:StopConfigurationRecorder", "*", ANYONE_ELSE[0], DEV, off) == []
    for read in (
        "guardduty:GetFindings",
        "securityhub:GetFindings",
        "config:DescribeConfigurationRecorders",
        "access-analyzer:ListFindings",
        "s3:GetAccountPublicAccessBlock",
    ):
        assert denied(read, "*", ANYONE_ELSE[0], DEV, guard(), aws__PrincipalAccount=DEV) == []


def test_the_guard_fits_the_stricter_limit_with_everything_on():
    assert size(guard()) <= 5120
