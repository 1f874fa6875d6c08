"""Each AWS rule the rehearsal enforces, shown failing when the mistake is reintroduced: the
rehearsal stops at the step, names the resource and the rule."""

import dataclasses
import json

import pulumi
import pulumi_aws as aws
import pytest

from diagnyx_infra.components import baseline, cost_governance
from diagnyx_infra.config.models import StackSettings
from diagnyx_infra.deploy_sequence import SEQUENCE, step
from diagnyx_infra.policies import cost
from diagnyx_infra.rehearsal.rehearse import rehearse


def _without(*keys: str):
    return tuple(s for s in SEQUENCE if s.key not in keys)


def test_trail_arn_with_the_security_accounts_id_is_refused(monkeypatch):
    # The mistake this issue found: policies naming the trail by the security account's ID.
    monkeypatch.setattr(baseline, "MANAGEMENT_ACCOUNT", "security")
    result = rehearse(["security"])
    failure = result.failure
    assert failure is not None
    assert failure.step.startswith("step 8:")
    assert failure.type == "aws:cloudtrail/trail:Trail"
    assert failure.name == "baseline-organization-trail-trail"
    assert "InsufficientS3BucketPolicyException" in failure.error
    assert "management account" in failure.error  # the rule is named


def test_organization_trail_needs_cloudtrails_own_delegated_administrator(monkeypatch):
    class NotRegistered:
        def __init__(self, *args, **kwargs):
            pass

    monkeypatch.setattr(aws.cloudtrail, "OrganizationDelegatedAdminAccount", NotRegistered)
    result = rehearse(["security"])
    assert result.failure is not None
    assert result.failure.type == "aws:cloudtrail/trail:Trail"
    assert "NotOrganizationMasterAccountException" in result.failure.error


def test_identity_center_enabled_before_the_organization_breaks_the_organization():
    swapped = list(SEQUENCE)
    identity_center = swapped.pop(swapped.index(step("identity-center")))
    swapped.insert(swapped.index(step("organization")), identity_center)
    result = rehearse(["management"], sequence=tuple(swapped))
    assert result.failure is not None
    assert result.failure.step.endswith("The organization and its accounts")
    assert result.failure.type == "aws:organizations/organization:Organization"
    assert "AlreadyInOrganizationException" in result.failure.error


def test_cost_allocation_tags_before_their_keys_reach_billing_are_refused():
    too_early = dataclasses.replace(step("cost-tags"), console="")
    sequence = tuple(too_early if s.key == "cost-tags" else s for s in SEQUENCE)
    result = rehearse(["management"], sequence=sequence)
    assert result.failure is not None
    assert result.failure.type == "aws:costexplorer/costAllocationTag:CostAllocationTag"
    assert "not found in billing data" in result.failure.error


def test_certificates_before_the_registrar_delegates_are_refused():
    # The setting flipped without the registrar step and without doctor's confirmation.
    unconfirmed = dataclasses.replace(step("delegation"), diagnyx=())
    sequence = tuple(unconfirmed if s.key == "delegation" else s for s in _without("registrar"))
    result = rehearse(["shared"], sequence=sequence)
    assert result.failure is not None
    assert result.failure.step.endswith("Certificates")
    assert result.failure.type == "aws:acm/certificateValidation:CertificateValidation"
    assert "ValidationTimedOut" in result.failure.error
    assert "registrar" in result.failure.error


def test_doctor_does_not_confirm_a_delegation_the_registrar_has_not_made():
    result = rehearse(["shared"], sequence=_without("registrar"))
    assert result.failure is not None
    assert result.failure.step.endswith("Confirm the delegation")
    assert "DNS delegation" in result.failure.error


def test_a_second_aws_services_monitor_fails_the_management_deploy(monkeypatch):
    # The old code: its own DIMENSIONAL/SERVICE monitor beside AWS's Default-Services-Monitor.
    real = cost_governance.CostGovernance._anomaly_detection

    def with_own_services_monitor(self, name, args, services_monitor_arn):
        aws.costexplorer.AnomalyMonitor(
            f"{name}-anomalies-by-service",
            name="diagnyx-services",
            monitor_type="DIMENSIONAL",
            monitor_dimension="SERVICE",
            opts=pulumi.ResourceOptions(parent=self),
        )
        real(self, name, args, services_monitor_arn)

    monkeypatch.setattr(
        cost_governance.CostGovernance, "_anomaly_detection", with_own_services_monitor
    )
    result = rehearse(["management"])
    assert result.failure is not None
    assert result.failure.step.endswith(
        "Identity Center, anomaly detection and cross-account trust"
    )
    assert result.failure.name == "cost-governance-anomalies-by-service"
    assert "Limit exceeded on dimensional spend monitor creation" in result.failure.error


def test_a_monitor_specification_the_provider_reads_back_differently_fails(monkeypatch):
    def bare(account_ids):  # the old code's specification, without the read-back nulls
        return json.dumps({"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(account_ids)}})

    monkeypatch.setattr(cost, "linked_account_monitor_specification", bare)
    result = rehearse(["management"])
    assert result.failure is not None
    assert result.failure.type == "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
    assert "every `pulumi up` would replace it" in result.failure.error
    assert "anomaly_monitor.go" in result.failure.error


def test_a_cost_allocation_tag_no_resource_carries_is_refused(monkeypatch):
    # A required tag key the providers never put on anything never reaches billing data.
    real = StackSettings.default_tags
    monkeypatch.setattr(
        StackSettings,
        "default_tags",
        lambda self: {k: v for k, v in real(self).items() if k != "Owner"},
    )
    result = rehearse(["management"])
    assert result.failure is not None
    assert result.failure.step.endswith("A day later: cost allocation tags")
    assert result.failure.name == "cost-governance-cost-tag-Owner"
    assert "tag key Owner not found in billing data" in result.failure.error


def test_each_command_runs_as_the_readme_writes_it():
    """`diagnyx rehearse` passes its own command line in: a command the README writes wrongly
    fails the rehearsal at its step (this one did: `accounts sync` has no --write)."""
    from diagnyx_infra.cli import _command_line_in_process

    misspelt = dataclasses.replace(step("sync"), diagnyx=("accounts sync --write",))
    sequence = tuple(misspelt if s.key == "sync" else s for s in SEQUENCE)
    result = rehearse(["management"], sequence=sequence, command_line=_command_line_in_process)
    assert result.failure is not None
    assert result.failure.step.endswith("Record the member account IDs")
    assert "No such option: --write" in result.failure.error


def test_without_the_activation_step_the_checklist_finds_the_tags_inactive():
    result = rehearse(["management"], sequence=_without("cost-tags"))
    assert result.failure is None
    (line,) = [f for f in result.findings if f.item == "cost allocation tags"]
    assert line.status == "fail"
    assert "inactive: CostCenter, Environment, ManagedBy, Owner, Project" in line.detail


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
