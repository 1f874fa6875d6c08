"""Each AWS rule the rehearsal enforces, shown failing when the mistake is reintroduced: the
rehearsal stops at the step, names the resource and the rule. Each mistake is carried out from
the step where it starts to matter, on a copy of one shared rehearsal (variations.py)."""

import dataclasses
import json

import pulumi
import pulumi_aws as aws
import pytest

from diagnyx_infra.components import baseline, cost_governance
from diagnyx_infra.config.models import StackSettings
from diagnyx_infra.deploy_sequence import SEQUENCE
from diagnyx_infra.policies import cost
from tests.rehearsal.variations import Variation, rehearse_variations


def _without(*keys: str):
    return lambda rest: tuple(s for s in rest if s.key not in keys)


def _replacing(key: str, **changes):
    return lambda rest: tuple(
        dataclasses.replace(s, **changes) if s.key == key else s for s in rest
    )


def _swap_identity_center_before_the_organization(rest):
    swapped = list(rest)
    identity_center = swapped.pop([s.key for s in swapped].index("identity-center"))
    swapped.insert([s.key for s in swapped].index("organization"), identity_center)
    return tuple(swapped)


class _NotRegistered:
    def __init__(self, *args, **kwargs):
        pass


def _own_services_monitor(patch):
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

    patch.setattr(cost_governance.CostGovernance, "_anomaly_detection", with_own_services_monitor)


def _bare_monitor_specification(account_ids):
    # The old code's specification, without the read-back nulls.
    return json.dumps({"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(account_ids)}})


def _without_the_owner_tag(patch):
    # A required tag key the providers never put on anything never reaches billing data.
    real = StackSettings.default_tags
    patch.setattr(
        StackSettings,
        "default_tags",
        lambda self: {k: v for k, v in real(self).items() if k != "Owner"},
    )


# What only shared services need: a variation about the management stack goes without them.
SHARED_SERVICES_STEPS = ("shared", "registrar", "delegation", "certificates")

# Each mistake, from the step where it starts to matter (the steps before it are the same with
# or without it: the shared rehearsal's).
VARIATIONS = {
    # The mistake an earlier review found: policies naming the trail by the security account's ID.
    "trail ARN of the security account": Variation(
        "security", lambda patch: patch.setattr(baseline, "MANAGEMENT_ACCOUNT", "security")
    ),
    "no CloudTrail delegated administrator": Variation(
        "organization",
        lambda patch: patch.setattr(
            aws.cloudtrail, "OrganizationDelegatedAdminAccount", _NotRegistered
        ),
    ),
    "Identity Center before the organization": Variation(
        "organization", steps=_swap_identity_center_before_the_organization
    ),
    "cost tags before billing has their keys": Variation(
        "cost-tags", steps=_replacing("cost-tags", console="")
    ),
    # The setting flipped without the registrar step and without doctor's confirmation.
    "certificates before the registrar delegates": Variation(
        "registrar",
        steps=lambda rest: _replacing("delegation", diagnyx=())(_without("registrar")(rest)),
    ),
    "doctor without the registrar": Variation("registrar", steps=_without("registrar")),
    "a second AWS-services monitor": Variation("management", _own_services_monitor),
    "a monitor specification without the read-back nulls": Variation(
        "management",
        lambda patch: patch.setattr(
            cost, "linked_account_monitor_specification", _bare_monitor_specification
        ),
    ),
    "a cost tag no resource carries": Variation(
        "organization", _without_the_owner_tag, steps=_without(*SHARED_SERVICES_STEPS)
    ),
    # `accounts sync` has no --write: the README once wrote it so.
    "a command misspelt": Variation(
        "sync", steps=_replacing("sync", diagnyx=("accounts sync --write",))
    ),
    "no activation step": Variation(
        "cost-tags", steps=_without("cost-tags"), checked=["management"]
    ),
}


@pytest.fixture(scope="module")
def results():
    """One rehearsal up to shared services (what the variations need), each variation from
    where it starts."""
    shared, found = rehearse_variations(["shared"], VARIATIONS)
    return {"shared": shared, **found}


def test_trail_arn_with_the_security_accounts_id_is_refused(results):
    failure = results["trail ARN of the security account"].failure
    assert failure is not None
    assert failure.step.startswith("step 8:")
    assert failure.type == "aws:cloudtrail/trail:Trail"
    assert failure.name == "baseline-organization-trail-trail"
    assert "InsufficientS3BucketPolicyException" in failure.error
    assert "management account" in failure.error  # the rule is named


def test_organization_trail_needs_cloudtrails_own_delegated_administrator(results):
    failure = results["no CloudTrail delegated administrator"].failure
    assert failure is not None
    assert failure.type == "aws:cloudtrail/trail:Trail"
    assert "NotOrganizationMasterAccountException" in failure.error


def test_identity_center_enabled_before_the_organization_breaks_the_organization(results):
    failure = results["Identity Center before the organization"].failure
    assert failure is not None
    assert failure.step.endswith("The organization and its accounts")
    assert failure.type == "aws:organizations/organization:Organization"
    assert "AlreadyInOrganizationException" in failure.error


def test_cost_allocation_tags_before_their_keys_reach_billing_are_refused(results):
    failure = results["cost tags before billing has their keys"].failure
    assert failure is not None
    assert failure.type == "aws:costexplorer/costAllocationTag:CostAllocationTag"
    assert "not found in billing data" in failure.error


def test_certificates_before_the_registrar_delegates_are_refused(results):
    failure = results["certificates before the registrar delegates"].failure
    assert failure is not None
    assert failure.step.endswith("Certificates")
    assert failure.type == "aws:acm/certificateValidation:CertificateValidation"
    assert "ValidationTimedOut" in failure.error
    assert "registrar" in failure.error


def test_doctor_does_not_confirm_a_delegation_the_registrar_has_not_made(results):
    failure = results["doctor without the registrar"].failure
    assert failure is not None
    assert failure.step.endswith("Confirm the delegation")
    assert "DNS delegation" in failure.error


def test_a_second_aws_services_monitor_fails_the_management_deploy(results):
    failure = results["a second AWS-services monitor"].failure
    assert failure is not None
    assert failure.step.endswith("Identity Center, anomaly detection and cross-account trust")
    assert failure.name == "cost-governance-anomalies-by-service"
    assert "Limit exceeded on dimensional spend monitor creation" in failure.error


def test_a_monitor_specification_the_provider_reads_back_differently_fails(results):
    failure = results["a monitor specification without the read-back nulls"].failure
    assert failure is not None
    assert failure.type == "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
    assert "every `pulumi up` would replace it" in failure.error
    assert "anomaly_monitor.go" in failure.error


def test_a_cost_allocation_tag_no_resource_carries_is_refused(results):
    failure = results["a cost tag no resource carries"].failure
    assert failure is not None
    assert failure.step.endswith("A day later: cost allocation tags")
    assert failure.name == "cost-governance-cost-tag-Owner"
    assert "tag key Owner not found in billing data" in failure.error


def test_each_command_runs_as_the_readme_writes_it(results):
    """`diagnyx rehearse` passes its own command line in: a command the README writes wrongly
    fails the rehearsal at its step (this one did: `accounts sync` has no --write)."""
    failure = results["a command misspelt"].failure
    assert failure is not None
    assert failure.step.endswith("Record the member account IDs")
    assert "No such option: --write" in failure.error


def test_without_the_activation_step_the_checklist_finds_the_tags_inactive(results):
    result = results["no activation step"]
    assert result.failure is None
    assert result.checked == ["management"]
    (line,) = [f for f in result.findings if f.item == "cost allocation tags"]
    assert line.status == "fail"
    assert "inactive: CostCenter, Environment, ManagedBy, Owner, Project" in line.detail


def test_the_variations_change_only_what_follows_their_start(results):
    """Each variation carried out the shared steps before its start once, as the shared
    rehearsal did: its steps begin with exactly those."""
    shared = results["shared"].steps
    starts = {s.title: n for n, s in enumerate(SEQUENCE)}
    for name, variation in VARIATIONS.items():
        first = [s.key for s in SEQUENCE].index(variation.start)
        before = [label for label in shared if starts[label.split(": ", 1)[1]] < first]
        assert results[name].steps[: len(before)] == before, name


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
