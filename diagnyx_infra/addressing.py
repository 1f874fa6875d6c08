"""Subnet layout of a workload VPC: pure arithmetic, shared by the network component and tests."""

import ipaddress
from dataclasses import dataclass

# The VPC is cut into 16 equal blocks: public subnets take the first ones, private subnets the
# second half, so adding an availability zone never renumbers an existing subnet.
BLOCKS_PREFIX_DELTA = 4
PRIVATE_OFFSET = 8


@dataclass(frozen=True)
class SubnetPair:
    zone_index: int
    public: str
    private: str


def subnet_layout(vpc_cidr: str, zone_count: int) -> list[SubnetPair]:
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(network.subnets(prefixlen_diff=BLOCKS_PREFIX_DELTA))
    if zone_count > PRIVATE_OFFSET:
        raise ValueError(f"at most {PRIVATE_OFFSET} availability zones fit the layout")
    return [
        SubnetPair(i, str(blocks[i]), str(blocks[PRIVATE_OFFSET + i])) for i in range(zone_count)
    ]
