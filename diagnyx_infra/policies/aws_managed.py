"""AWS's managed policies (their names, paths and documents) as moto ships AWS's published
catalogue: read once per process for the access analysis, the rehearsal's rules and the
emulator's fix to moto. Parsing it makes about 50 MB of objects: three readers of it each
parsing it again tripled that, in every rehearsal and in every process forked before the first
use."""

import functools
import json
from typing import NamedTuple

PREFIX = "arn:aws:iam::aws:policy/"


class ManagedPolicy(NamedTuple):
    path: str  # "/", "/job-function/", ...
    document: dict


@functools.cache
def catalogue() -> dict[str, ManagedPolicy]:
    """Each AWS managed policy by name."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {
        name: ManagedPolicy(entry.get("Path", "/"), entry["Document"])
        for name, entry in json.loads(aws_managed_policies_data).items()
    }


def find(arn: str, partition: str = "aws") -> ManagedPolicy | None:
    """The AWS managed policy of ``arn``, or None if AWS has none of that name and path (both
    are part of its ARN: arn:aws:iam::aws:policy/job-function/ViewOnlyAccess)."""
    prefix = f"arn:{partition}:iam::aws:policy/"
    if not arn.startswith(prefix):
        return None
    name = arn.rsplit("/", 1)[-1]
    policy = catalogue().get(name)
    if policy is None or arn != f"{prefix[:-1]}{policy.path}{name}":
        return None
    return policy
