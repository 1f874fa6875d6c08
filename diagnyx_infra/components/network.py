"""Workload network ("separate VPCs per account, no direct connectivity between environments,
VPC peering only where necessary"): one VPC, public and private subnets across availability
zones, the default security group emptied, no NAT gateway unless config asks, optional flow logs,
and peering only from the allow-list."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..addressing import subnet_layout
from ..config.models import Network, NetworkEntry
from ..policies.network import flow_log_delivery_statements
from .secure_bucket import SecureBucket, SecureBucketArgs

ANYWHERE = "0.0.0.0/0"
FLOW_LOG_RETENTION_DAYS = 90
PEERINGS_TOKEN = "aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections"
# A request the accepter can act on, or one it already accepted: a connection passes through
# `provisioning` for seconds after acceptance, then is `active` (EC2 API reference,
# VpcPeeringConnectionStateReason).
ACCEPTABLE_PEERING_STATUSES = ("pending-acceptance", "provisioning", "active")


@dataclass(frozen=True)
class WorkloadNetworkArgs:
    stack: str
    account_id: str
    region: str
    network: Network
    networks: dict[str, NetworkEntry]
    account_ids: dict[str, str]
    kms_key_arn: pulumi.Input[str]


class WorkloadNetwork(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: WorkloadNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:network:WorkloadNetwork", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        own = args.networks[args.stack]
        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=own.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"diagnyx-{args.stack}"},
            opts=self._child,
        )
        # Adopting the default security group with no rules locks it down.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[], opts=self._child
        )
        self._subnets(own)
        if args.network.flow_logs:
            self._flow_logs()
        self._peerings()
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )

    def _subnets(self, own: NetworkEntry) -> None:
        name, args = self._name, self._args
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, opts=self._child)
        self.public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": ANYWHERE, "gateway_id": gateway.id}],
            tags={"Name": f"diagnyx-{args.stack}-public"},
            opts=self._child,
        )
        self.private_routes = aws.ec2.RouteTable(
            f"{name}-private",
            vpc_id=self.vpc.id,
            tags={"Name": f"diagnyx-{args.stack}-private"},
            opts=self._child,
        )
        self.public_subnet_ids, self.private_subnet_ids = [], []
        for pair in subnet_layout(own.cidr, args.network.availability_zones):
            zone = zones.names[pair.zone_index]
            for tier, cidr, routes, ids in (
                ("public", pair.public, self.public_routes, self.public_subnet_ids),
                ("private", pair.private, self.private_routes, self.private_subnet_ids),
            ):
                subnet = aws.ec2.Subnet(
                    f"{name}-{tier}-{pair.zone_index}",
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"diagnyx-{args.stack}-{tier}-{pair.zone_index}"},
                    opts=self._child,
                )
                aws.ec2.RouteTableAssociation(
                    f"{name}-{tier}-{pair.zone_index}-routes",
                    subnet_id=subnet.id,
                    route_table_id=routes.id,
                    opts=self._child,
                )
                ids.append(subnet.id)
        if args.network.nat_gateway:
            address = aws.ec2.Eip(f"{name}-nat-ip", domain="vpc", opts=self._child)
            nat = aws.ec2.NatGateway(
                f"{name}-nat",
                subnet_id=self.public_subnet_ids[0],
                allocation_id=address.id,
                opts=pulumi.ResourceOptions.merge(
                    self._child, pulumi.ResourceOptions(depends_on=[gateway])
                ),
            )
            aws.ec2.Route(
                f"{name}-private-egress",
                route_table_id=self.private_routes.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat.id,
                opts=self._child,
            )

    def _flow_logs(self) -> None:
        name, args = self._name, self._args
        bucket = SecureBucket(
            f"{name}-flow-logs",
            SecureBucketArgs(
                bucket_name=f"diagnyx-flow-logs-{args.account_id}-{args.region}",
                kms_key_arn=args.kms_key_arn,
                lifecycle_rules=[
                    {
                        "id": "expire-flow-logs",
                        "status": "Enabled",
                        "filter": {},
                        "expiration": {"days": FLOW_LOG_RETENTION_DAYS},
                        "noncurrent_version_expiration": {"noncurrent_days": 1},
                    }
                ],
                extra_statements=lambda arn: flow_log_delivery_statements(arn, args.account_id),
            ),
            opts=self._child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=bucket.bucket.arn,
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(depends_on=[bucket.policy])
            ),
        )

    def _peerings(self) -> None:
        """The first account of a pair requests, the second accepts. Each side needs the other's
        VPC ID in config (`networks.<name>.vpcId`), known once that stack is deployed."""
        args = self._args
        for requester, accepter in args.network.peerings:
            if args.stack not in (requester, accepter):
                continue
            peer = accepter if args.stack == requester else requester
            peer_vpc_id = args.networks[peer].vpc_id
            if peer_vpc_id is None:
                pulumi.log.warn(
                    f"peering {requester}-{accepter} waits for networks.{peer}.vpcId: deploy "
                    f"{peer}, then set it from `pulumi stack output vpcId -s {peer}`",
                    resource=self,
                )
                continue
            label = f"{self._name}-peering-{requester}-{accepter}"
            if args.stack == requester:
                connection_id = aws.ec2.VpcPeeringConnection(
                    label,
                    vpc_id=self.vpc.id,
                    peer_vpc_id=peer_vpc_id,
                    peer_owner_id=args.account_ids[peer],
                    peer_region=args.region,
                    tags={"Name": f"diagnyx-{requester}-{accepter}"},
                    opts=self._child,
                ).id
            else:
                request_id = self._pending_request(requester, accepter, peer_vpc_id)
                if request_id is None:
                    continue
                connection_id = aws.ec2.VpcPeeringConnectionAccepter(
                    label,
                    vpc_peering_connection_id=request_id,
                    auto_accept=True,
                    tags={"Name": f"diagnyx-{requester}-{accepter}"},
                    opts=self._child,
                ).id
            for tier, routes in (("public", self.public_routes), ("private", self.private_routes)):
                aws.ec2.Route(
                    f"{label}-{tier}",
                    route_table_id=routes.id,
                    destination_cidr_block=args.networks[peer].cidr,
                    vpc_peering_connection_id=connection_id,
                    opts=self._child,
                )

    def _pending_request(self, requester: str, accepter: str, peer_vpc_id: str) -> str | None:
        """The requester's connection this account can accept, or None (with one warning).

        A plain invoke, so the answer is known before anything is registered: the plural data
        source returns an empty list when nothing matches, where the singular one fails, and
        deleted, rejected or expired connections stay visible for a while, so the status is
        filtered too. Only values known from config are used, none from this run's resources."""
        args = self._args
        found = aws.ec2.get_vpc_peering_connections(
            # Filter names of the EC2 API's DescribeVpcPeeringConnections (API reference:
            # docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcPeeringConnections.html)
            filters=[
                {"name": "requester-vpc-info.vpc-id", "values": [peer_vpc_id]},
                {"name": "accepter-vpc-info.owner-id", "values": [args.account_id]},
                {
                    "name": "accepter-vpc-info.cidr-block",
                    "values": [args.networks[args.stack].cidr],
                },
                {"name": "status-code", "values": list(ACCEPTABLE_PEERING_STATUSES)},
            ],
            opts=pulumi.InvokeOptions(parent=self, provider=self.get_provider(PEERINGS_TOKEN)),
        )
        ids = sorted(found.ids or [])
        if len(ids) == 1:
            return ids[0]
        if not ids:
            pulumi.log.warn(
                f"peering {requester}-{accepter}: no pending request from {requester}'s VPC "
                f"{peer_vpc_id}; deploy {requester} first, then `pulumi up -s {accepter}` again",
                resource=self,
            )
        else:
            pulumi.log.warn(
                f"peering {requester}-{accepter}: {len(ids)} requests from {requester}'s VPC "
                f"{peer_vpc_id} match ({', '.join(ids)}); none accepted: delete or reject the "
                f"extra ones, then `pulumi up -s {accepter}` again",
                resource=self,
            )
        return None
