"""The emulated AWS a rehearsal starts from, and what the emulator keeps between deploys.

It starts as a new AWS customer does: one management account, no organization, IAM Identity
Center and Cost Explorer not enabled, no tag keys in billing data, and a registrar that does not
yet delegate the domain. Console-only steps of the deploy sequence change it (`CONSOLE_STEPS`).
moto holds what its API covers; this object holds what it lacks (Cost Explorer, CloudTrail's
delegated administrator, Security Hub's home Region, what a console step enabled) and each
stack's deployed state, so a second `pulumi up` of a stack updates instead of creating twice.
"""

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..ops.aws import Aws

DEFAULT_SERVICES_MONITOR = "Default-Services-Monitor"
# The name servers a registrar parks a new domain on, before anyone delegates it.
PARKED_NAME_SERVERS = ("ns1.registrar-parking.example", "ns2.registrar-parking.example")


@dataclass
class Deployed:
    """One resource of a stack as the emulator created it."""

    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class World:
    management: Aws  # the caller: the management account's credentials
    region: str
    identity_center_enabled: bool = False
    cost_explorer_enabled: bool = False
    anomaly_monitors: dict[str, dict[str, Any]] = field(default_factory=dict)  # ARN -> monitor
    billing_tag_keys: set[str] = field(default_factory=set)
    active_cost_tags: set[str] = field(default_factory=set)
    tag_keys_in_use: set[str] = field(default_factory=set)  # on resources deployed so far
    cloudtrail_administrators: set[str] = field(default_factory=set)
    # Security Hub's finding aggregators (moto has none): account -> its home (aggregation) Region
    finding_aggregators: dict[str, str] = field(default_factory=dict)
    # ... and the Regions each links to its home Region: account -> linked Regions
    linked_regions: dict[str, list[str]] = field(default_factory=dict)
    registrar: dict[str, list[str]] = field(default_factory=dict)  # domain -> its name servers
    domain: str | None = None  # the company's domain (sharedServices.domain), once registered
    # stack -> (type, logical name) -> what was created; stack -> its outputs
    state: dict[str, dict[tuple[str, str], Deployed]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def register_domain(self, domain: str) -> None:
        """The company owns the domain at a registrar, still parked on the registrar's name
        servers. (moto's Route 53 Domains refuses many TLDs, `.ai` among them, so the registrar
        is emulated here.)"""
        self.domain = domain
        self.registrar[domain] = list(PARKED_NAME_SERVERS)

    def delegated_name_servers(self, domain: str) -> list[str] | None:
        """What the registrar answers for ``domain``, or None if it is not registered here."""
        servers = self.registrar.get(domain)
        return None if servers is None else sorted(n.rstrip(".").lower() for n in servers)

    def monitor_arn(self) -> str:
        return f"arn:aws:ce::{self.management.account_id}:anomalymonitor/{uuid.uuid4()}"

    def services_monitor_arn(self) -> str:
        for arn, monitor in self.anomaly_monitors.items():
            if monitor["name"] == DEFAULT_SERVICES_MONITOR:
                return arn
        raise LookupError(f"no {DEFAULT_SERVICES_MONITOR}: Cost Explorer is not enabled")


# --- console-only steps of the deploy sequence, as the emulator performs them ------------------


def enable_identity_center(world: World) -> None:
    """Enabling the organization instance with no organization creates one (IAM Identity
    Center User Guide, "Enable IAM Identity Center"): the program's Organization then fails
    with AlreadyInOrganizationException, which the rehearsal shows if the steps are swapped."""
    organizations = world.management.client("organizations")
    try:
        organizations.describe_organization()
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        organizations.create_organization(FeatureSet="ALL")
    world.identity_center_enabled = True


def enable_cost_explorer(world: World) -> None:
    """AWS creates its AWS-services monitor when Cost Explorer is enabled (AWS Cost Management
    User Guide, "Detecting unusual spend with AWS Cost Anomaly Detection")."""
    world.cost_explorer_enabled = True
    world.anomaly_monitors[world.monitor_arn()] = {
        "name": DEFAULT_SERVICES_MONITOR,
        "type": "DIMENSIONAL",
        "dimension": "SERVICE",
    }


def delegate_domain(world: World) -> None:
    """The operator points the registrar at the delegation set's name servers."""
    domain = world.domain
    assert domain is not None
    name_servers = world.outputs.get("shared", {}).get("nameServers")
    if not name_servers:
        raise LookupError("the shared stack has no nameServers output to delegate to")
    world.registrar[domain] = list(name_servers)


def tag_keys_reach_billing(world: World) -> None:
    """A day after the first tagged resource, the keys the deployed resources carry (the
    providers' default tags) appear in billing data; keys nothing carries never do."""
    world.billing_tag_keys.update(world.tag_keys_in_use)


CONSOLE_STEPS: dict[str, Callable[[World], None]] = {
    "identity-center": enable_identity_center,
    "cost-explorer": enable_cost_explorer,
    "registrar": delegate_domain,
    "cost-tags": tag_keys_reach_billing,
}


@contextlib.contextmanager
def cost_allocation_tags_answered(world: World) -> Iterator[None]:
    """moto has no ListCostAllocationTags; while this is open it answers from the world as AWS
    does: the keys seen in billing data, each Active or Inactive (Cost Explorer API reference,
    ListCostAllocationTags), so the checklist can verify the activation step."""
    from moto.ce.responses import CostExplorerResponse

    def list_cost_allocation_tags(response: CostExplorerResponse) -> str:
        wanted = json.loads(response.body or "{}").get("TagKeys")
        keys = sorted(k for k in world.billing_tag_keys if not wanted or k in wanted)
        tags = [
            {
                "TagKey": key,
                "Type": "UserDefined",
                "Status": "Active" if key in world.active_cost_tags else "Inactive",
            }
            for key in keys
        ]
        return json.dumps({"CostAllocationTags": tags})

    from .moto_speed import forget_response_methods

    CostExplorerResponse.list_cost_allocation_tags = list_cost_allocation_tags
    forget_response_methods()  # moto_speed keeps each class's methods: it has one more now
    try:
        yield
    finally:
        del CostExplorerResponse.list_cost_allocation_tags
        forget_response_methods()
