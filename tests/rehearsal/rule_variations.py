"""The mistakes the rehearsal's AWS rules catch, each reintroduced from the step where it
starts to matter (the steps before it are the same with or without it), or from the step where
it shows, with the emulated AWS made what the mistake would have left there (``left``: a copy
that replayed every step in between cost a second of CPU each). test_rehearse.py carries them
out as variations of its rehearsal (variations.py)."""

import dataclasses
import json

import pulumi
import pulumi_aws as aws

from diagnyx_infra.components import baseline, cost_governance
from diagnyx_infra.config.models import StackSettings
from diagnyx_infra.policies import cost
from diagnyx_infra.rehearsal.moto_gaps import CLOUDTRAIL
from diagnyx_infra.rehearsal.world import World
from tests.rehearsal.variations import Variation


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


def _no_cloudtrail_administrator(world: World) -> None:
    organizations = world.management.client("organizations")
    for account_id in sorted(world.cloudtrail_administrators):
        organizations.deregister_delegated_administrator(
            AccountId=account_id, ServicePrincipal=CLOUDTRAIL
        )
    world.cloudtrail_administrators.clear()


def _no_resource_tagged_owner(world: World) -> None:
    world.tag_keys_in_use.discard("Owner")


def _without_the_owner_tag(patch):
    # A required tag key the providers never put on anything never reaches billing data.
    real = StackSettings.default_tags
    patch.setattr(
        StackSettings,
        "default_tags",
        lambda self: {k: v for k, v in real(self).items() if k != "Owner"},
    )


# Each mistake, from the step where it starts to matter (the steps before it are the same with
# or without it: the shared rehearsal's), or where it shows (``left``).
VARIATIONS = {
    # The mistake an earlier review found: policies naming the trail by the security account's ID.
    "trail ARN of the security account": Variation(
        "security", lambda patch: patch.setattr(baseline, "MANAGEMENT_ACCOUNT", "security")
    ),
    # The program without its CloudTrail delegated administrator: the organization step would
    # not register it, which shows when the security account creates the organization trail.
    # The rule is carried out from the state that leaves (``left``); that the program registers
    # the administrator is what the shared rehearsal's security step needs to pass.
    "no CloudTrail delegated administrator": Variation(
        "security",
        lambda patch: patch.setattr(
            aws.cloudtrail, "OrganizationDelegatedAdminAccount", _NotRegistered
        ),
        left=_no_cloudtrail_administrator,
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
    # Deployed without the Owner tag from the first step on, no resource carries it, which
    # shows when its cost allocation tag is activated. The rule is carried out from the state
    # that leaves (``left``); that the emulator counts only the keys the providers' default tags
    # put on resources is tested alone (test_emulator.py), and that the program's providers
    # carry every required tag in test_stacks.py.
    "a cost tag no resource carries": Variation(
        "cost-tags", _without_the_owner_tag, left=_no_resource_tagged_owner
    ),
    # `accounts sync` has no --write: the README once wrote it so.
    "a command misspelt": Variation(
        "sync", steps=_replacing("sync", diagnyx=("accounts sync --write",))
    ),
    "no activation step": Variation(
        "cost-tags", steps=_without("cost-tags"), checked=["management"]
    ),
}
