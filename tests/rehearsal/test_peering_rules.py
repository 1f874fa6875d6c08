"""VPC peering in the emulator follows AWS's rules: AcceptVpcPeeringConnection takes only a
pending request addressed to the caller's account, and the accepter's look-up sees only the
requests its filters select (moto alone ignores the filters)."""

import pytest
from pulumi.runtime import mocks as pulumi_mocks

from diagnyx_infra.components.network import PEERINGS_TOKEN
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.rehearsal.emulator import EmulatorMocks
from diagnyx_infra.rehearsal.handlers import Context, peering_accepter
from diagnyx_infra.rehearsal.rehearse import REGION, emulated_aws
from diagnyx_infra.rehearsal.world import World

REQUESTER_ACCOUNT = "111111111111"
ACCEPTER_ACCOUNT = "222222222222"
REQUESTER_CIDR, ACCEPTER_CIDR = "10.10.0.0/16", "10.20.0.0/16"


class _Accounts:
    def __init__(self) -> None:
        caller = Aws.from_environment(REGION)
        self.requester = caller.assume(REQUESTER_ACCOUNT)
        self.accepter = caller.assume(ACCEPTER_ACCOUNT)
        self.requester_vpc = self._vpc(self.requester, REQUESTER_CIDR)
        self.accepter_vpc = self._vpc(self.accepter, ACCEPTER_CIDR)

    @staticmethod
    def _vpc(aws: Aws, cidr: str) -> str:
        return aws.client("ec2").create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]

    def request(self) -> str:
        return self.requester.client("ec2").create_vpc_peering_connection(
            VpcId=self.requester_vpc,
            PeerVpcId=self.accepter_vpc,
            PeerOwnerId=ACCEPTER_ACCOUNT,
            PeerRegion=REGION,
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]

    def status(self, connection_id: str) -> str:
        (connection,) = self.accepter.client("ec2").describe_vpc_peering_connections(
            VpcPeeringConnectionIds=[connection_id]
        )["VpcPeeringConnections"]
        return connection["Status"]["Code"]

    def accept(self, connection_id: str, aws: Aws | None = None) -> tuple[str, dict]:
        return peering_accepter(
            Context(aws or self.accepter, "network-peering-dev-staging"),
            {"vpcPeeringConnectionId": connection_id},
        )


@pytest.fixture
def accounts():
    with emulated_aws():
        yield _Accounts()


def test_a_pending_request_is_accepted(accounts):
    connection_id = accounts.request()
    assert accounts.status(connection_id) == "pending-acceptance"
    assert accounts.accept(connection_id) == (connection_id, {})
    assert accounts.status(connection_id) == "active"


def test_an_unknown_connection_is_refused(accounts):
    with pytest.raises(ValueError, match="pcx-0000000000000000f does not exist"):
        accounts.accept("pcx-0000000000000000f")


def test_a_deleted_request_is_refused(accounts):
    connection_id = accounts.request()
    accounts.requester.client("ec2").delete_vpc_peering_connection(
        VpcPeeringConnectionId=connection_id
    )
    with pytest.raises(ValueError, match=f"{connection_id} is deleted"):
        accounts.accept(connection_id)


def test_a_rejected_request_is_refused(accounts):
    connection_id = accounts.request()
    accounts.accepter.client("ec2").reject_vpc_peering_connection(
        VpcPeeringConnectionId=connection_id
    )
    with pytest.raises(ValueError, match=f"{connection_id} is rejected"):
        accounts.accept(connection_id)


def test_an_active_connection_is_not_accepted_twice(accounts):
    connection_id = accounts.request()
    accounts.accept(connection_id)
    with pytest.raises(ValueError, match=f"{connection_id} is active"):
        accounts.accept(connection_id)


def test_only_the_accepter_account_may_accept(accounts):
    connection_id = accounts.request()
    with pytest.raises(ValueError, match=f"addressed to account {ACCEPTER_ACCOUNT}"):
        accounts.accept(connection_id, accounts.requester)
    assert accounts.status(connection_id) == "pending-acceptance"


def test_the_look_up_sees_only_live_requests_to_this_account(accounts):
    stale = accounts.request()
    accounts.requester.client("ec2").delete_vpc_peering_connection(VpcPeeringConnectionId=stale)
    rejected = accounts.request()
    accounts.accepter.client("ec2").reject_vpc_peering_connection(VpcPeeringConnectionId=rejected)
    mocks = EmulatorMocks("staging", accounts.accepter, World(accounts.accepter, REGION))
    mocks.sessions["staging-account-id"] = accounts.accepter

    def look_up(cidr: str = ACCEPTER_CIDR) -> list[str]:
        filters = [
            {"name": "requester-vpc-info.vpc-id", "values": [accounts.requester_vpc]},
            {"name": "accepter-vpc-info.owner-id", "values": [ACCEPTER_ACCOUNT]},
            {"name": "accepter-vpc-info.cidr-block", "values": [cidr]},
            {"name": "status-code", "values": ["pending-acceptance", "active"]},
        ]
        answer, _ = mocks.call(
            pulumi_mocks.MockCallArgs(
                PEERINGS_TOKEN, {"filters": filters}, "urn:mock::staging-account-id"
            )
        )
        assert answer["id"] == REGION
        return answer["ids"]

    assert look_up() == []  # only a deleted and a rejected connection: nothing to accept
    live = accounts.request()
    assert look_up() == [live]
    assert look_up("10.99.0.0/16") == []  # a request for another VPC of this account
    accounts.accept(live)
    assert look_up() == [live]  # later runs still find the connection they accepted
