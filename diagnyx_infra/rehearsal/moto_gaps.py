"""What moto's model of AWS lacks and the emulator adds, for the in-process rehearsal and for a
moto server the tests (or a person) run: imported for its effect, once."""

import moto.organizations.models
import moto.ssoadmin.models
from moto.ssoadmin.exceptions import ResourceNotFoundException

from ..policies import aws_managed

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


def _managed_policy_with_its_path(self, managed_policy_arn: str):
    if aws_managed.find(managed_policy_arn, self.partition) is None:
        raise ResourceNotFoundException(f"Policy does not exist with ARN: {managed_policy_arn}")
    return moto.ssoadmin.models.ManagedPolicy(managed_policy_arn, managed_policy_arn.split("/")[-1])


moto.ssoadmin.models.SSOAdminBackend._find_managed_policy = _managed_policy_with_its_path
