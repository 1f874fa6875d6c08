"""What moto's model of AWS lacks and the emulator adds, for the in-process rehearsal and for a
moto server the tests (or a person) run: imported for its effect, once."""

import functools
import json

import moto.organizations.models
import moto.ssoadmin.models
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.ssoadmin.exceptions import ResourceNotFoundException

CLOUDTRAIL = "cloudtrail.amazonaws.com"

# CloudTrail's RegisterOrganizationDelegatedAdmin registers the account as an Organizations
# delegated administrator for cloudtrail.amazonaws.com, which ListDelegatedAdministrators then
# lists (CloudTrail User Guide, "Add a CloudTrail delegated administrator"; Organizations User
# Guide, "AWS services that you can use with AWS Organizations": CloudTrail supports delegated
# administrators). moto's list of such services leaves CloudTrail out.
_SUPPORTED = moto.organizations.models.FakeDelegatedAdministrator.SUPPORTED_SERVICES
if CLOUDTRAIL not in _SUPPORTED:
    _SUPPORTED.append(CLOUDTRAIL)


# AttachManagedPolicyToPermissionSet takes any AWS managed policy by its ARN, path included
# (IAM Identity Center API Reference, AttachManagedPolicyToPermissionSet; e.g.
# arn:aws:iam::aws:policy/job-function/ViewOnlyAccess). moto 5.2 reads each policy's path under
# "path" where its catalogue says "Path", so it refuses every one outside "/" and takes them
# without their path.


@functools.cache
def _catalogue() -> dict:
    return json.loads(aws_managed_policies_data)


def _managed_policy_with_its_path(self, managed_policy_arn: str):
    name = managed_policy_arn.split("/")[-1]
    policy = _catalogue().get(name)
    path = policy.get("Path", "/") if policy is not None else None
    expected = f"arn:{self.partition}:iam::aws:policy{path}{name}"
    if path is None or managed_policy_arn != expected:
        raise ResourceNotFoundException(f"Policy does not exist with ARN: {managed_policy_arn}")
    return moto.ssoadmin.models.ManagedPolicy(managed_policy_arn, name)


moto.ssoadmin.models.SSOAdminBackend._find_managed_policy = _managed_policy_with_its_path
