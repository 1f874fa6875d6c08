"""Workload networks: one isolated VPC per account, no NAT by default, peering by allow-list."""

import ipaddress
from pathlib import Path

import pytest
from pulumi.runtime import mocks as pulumi_mocks

from diagnyx_infra.addressing import subnet_layout
from diagnyx_infra.components.network import PEERINGS_TOKEN
from diagnyx_infra.engine.recording import RecordingMocks
from diagnyx_infra.engine.runner import run_stack
from tests.helpers import ALL_STACKS, edited_config, edited_project

NETWORK_STACKS = ("dev", "staging", "uat", "prod")
CIDRS = {
    "dev": "10.10.0.0/16",
    "staging": "10.20.0.0/16",
    "uat": "10.30.0.0/16",
    "prod": "10.40.0.0/16",
}


def test_only_workload_accounts_have_a_vpc(recordings):
    with_vpc = {s for s in ALL_STACKS if recordings[s].of_type("aws:ec2/vpc:Vpc")}
    assert with_vpc == set(NETWORK_STACKS)


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_vpc_subnets_and_locked_default_security_group(recordings, stack):
    recording = recordings[stack]
    (vpc,) = recording.of_type("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == CIDRS[stack]
    (default_sg,) = recording.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs["vpcId"] == vpc.id
    assert default_sg.inputs.get("ingress", []) == [] and default_sg.inputs.get("egress", []) == []
    subnets = recording.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 4  # two zones, public and private
    assert {s.inputs["availabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1b"}
    network = ipaddress.IPv4Network(CIDRS[stack])
    for subnet in subnets:
        assert ipaddress.IPv4Network(subnet.inputs["cidrBlock"]).subnet_of(network)
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    assert recording.outputs["vpcId"] == vpc.id


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_no_nat_gateway_or_peering_by_default(recordings, stack):
    recording = recordings[stack]
    assert recording.of_type("aws:ec2/natGateway:NatGateway") == []
    assert recording.of_type("aws:ec2/eip:Eip") == []
    assert recording.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection") == []
    assert recording.of_type("aws:ec2/flowLog:FlowLog") == []


def test_subnet_layout_never_overlaps_and_keeps_numbering():
    two = subnet_layout("10.10.0.0/16", 2)
    three = subnet_layout("10.10.0.0/16", 3)
    assert three[:2] == two
    cidrs = [ipaddress.IPv4Network(c) for p in three for c in (p.public, p.private)]
    assert all(not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_nat_gateway_switch_adds_one_nat_and_a_default_route():
    def nat_on(config):
        config["diagnyx:network"]["natGateway"] = True

    recording = run_stack("dev", config=edited_config("dev", nat_on))
    (nat,) = recording.of_type("aws:ec2/natGateway:NatGateway")
    (route,) = recording.of_type("aws:ec2/route:Route")
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert route.inputs["natGatewayId"] == nat.id


def test_flow_logs_switch_delivers_to_an_encrypted_bucket():
    def flow_logs_on(config):
        config["diagnyx:network"]["flowLogs"] = True

    recording = run_stack("dev", config=edited_config("dev", flow_logs_on))
    (flow_log,) = recording.of_type("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["logDestinationType"] == "s3"
    assert (
        flow_log.inputs["logDestination"] == "arn:aws:s3:::diagnyx-flow-logs-444444444444-us-east-1"
    )


def _peer_dev_staging(config, with_ids=True):
    config["diagnyx:network"]["peerings"] = [["dev", "staging"]]
    if with_ids:
        config["diagnyx:networks"]["dev"]["vpcId"] = "vpc-0123456789abcdef0"
        config["diagnyx:networks"]["staging"]["vpcId"] = "vpc-0fedcba9876543210"


@pytest.fixture(scope="module")
def peered(tmp_path_factory) -> Path:
    """dev and staging peer; every network stack's file knows both VPC IDs (they must agree)."""

    def edit(stack, config):
        if "diagnyx:network" in config:
            _peer_dev_staging(config)

    return edited_project(tmp_path_factory.mktemp("peered"), edit)


def test_peering_requester_and_accepter_sides(peered):
    requester = run_stack("dev", peered)
    (connection,) = requester.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert connection.inputs["peerVpcId"] == "vpc-0fedcba9876543210"
    assert connection.inputs["peerOwnerId"] == "555555555555"
    routes = requester.of_type("aws:ec2/route:Route")
    assert {r.inputs["destinationCidrBlock"] for r in routes} == {CIDRS["staging"]}
    assert len(routes) == 2

    accepter = run_stack("staging", peered)
    (accept,) = accepter.of_type(
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
    )
    assert accept.inputs["autoAccept"] is True
    assert {r.inputs["destinationCidrBlock"] for r in accepter.of_type("aws:ec2/route:Route")} == {
        CIDRS["dev"]
    }
    untouched = run_stack("uat", peered)
    assert untouched.of_type("aws:ec2/route:Route") == []


def test_peering_waits_for_the_peers_vpc_id():
    recording = run_stack("dev", config=edited_config("dev", lambda c: _peer_dev_staging(c, False)))
    assert recording.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection") == []
    assert any("waits for networks.staging.vpcId" in w for w in recording.warnings)


class _PeeringAnswers(RecordingMocks):
    """Answers the accepter's look-up with ``ids`` and keeps what it was asked."""

    def __init__(self, ids: list[str]):
        super().__init__()
        self.ids = ids
        self.asked: list[pulumi_mocks.MockCallArgs] = []

    def call(self, args):
        if args.token == PEERINGS_TOKEN:
            self.asked.append(args)
            return {"ids": self.ids, "id": "us-east-1"}, []
        return super().call(args)


def _accept_side(project: Path, ids: list[str]):
    mocks = _PeeringAnswers(ids)
    recording = run_stack("staging", project, mocks=mocks)
    accepters = recording.of_type(
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
    )
    peering_warnings = [w for w in recording.warnings if w.startswith("peering dev-staging")]
    return recording, accepters, peering_warnings, mocks


def test_accepter_without_a_request_warns_once_and_skips(peered):
    recording, accepters, warnings, _ = _accept_side(peered, [])
    assert accepters == []
    assert recording.of_type("aws:ec2/route:Route") == []
    assert len(warnings) == 1
    assert "no pending request from dev's VPC vpc-0123456789abcdef0" in warnings[0]
    assert "deploy dev first, then `pulumi up -s staging` again" in warnings[0]


def test_accepter_accepts_the_one_matching_request(peered):
    recording, accepters, warnings, _ = _accept_side(peered, ["pcx-0aaaaaaaaaaaaaaa1"])
    (accept,) = accepters
    assert accept.inputs["vpcPeeringConnectionId"] == "pcx-0aaaaaaaaaaaaaaa1"
    assert warnings == []
    routes = recording.of_type("aws:ec2/route:Route")
    assert len(routes) == 2
    assert {r.inputs["vpcPeeringConnectionId"] for r in routes} == {accept.id}


def test_accepter_with_several_requests_accepts_none(peered):
    recording, accepters, warnings, _ = _accept_side(
        peered, ["pcx-0aaaaaaaaaaaaaaa1", "pcx-0bbbbbbbbbbbbbbb2"]
    )
    assert accepters == []
    assert recording.of_type("aws:ec2/route:Route") == []
    assert len(warnings) == 1
    assert "pcx-0aaaaaaaaaaaaaaa1" in warnings[0] and "pcx-0bbbbbbbbbbbbbbb2" in warnings[0]


def test_accepter_looks_up_live_requests_to_this_account_through_its_provider(peered):
    recording, _, _, mocks = _accept_side(peered, ["pcx-0aaaaaaaaaaaaaaa1"])
    (asked,) = mocks.asked
    filters = {f["name"]: sorted(f["values"]) for f in asked.args["filters"]}
    assert filters == {
        "requester-vpc-info.vpc-id": ["vpc-0123456789abcdef0"],
        "accepter-vpc-info.owner-id": ["555555555555"],
        "accepter-vpc-info.cidr-block": [CIDRS["staging"]],
        "status-code": ["active", "pending-acceptance", "provisioning"],
    }
    (provider,) = [r for r in recording.resources if r.is_provider]
    assert asked.provider == f"{provider.urn}::{provider.id}"
