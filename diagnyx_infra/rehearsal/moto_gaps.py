"""What moto's model of AWS lacks and the emulator adds, for the in-process rehearsal and for a
moto server the tests (or a person) run: imported for its effect, once."""

import moto.iam.models
import moto.organizations.models
import moto.securityhub.models
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


# AWS Config's organization aggregator is administered by a delegated administrator registered
# for config.amazonaws.com (AWS Config Developer Guide, "Registering a Delegated Administrator":
# `aws organizations register-delegated-administrator --service-principal=config.amazonaws.com`).
# moto's list of such services has only config-multiaccountsetup.amazonaws.com.
CONFIG = "config.amazonaws.com"
if CONFIG not in _SUPPORTED:
    _SUPPORTED.append(CONFIG)
# Security Hub's EnableOrganizationAdminAccount registers its administrator as an Organizations
# delegated administrator for securityhub.amazonaws.com (Organizations User Guide, "AWS services
# that you can use with AWS Organizations": Security Hub supports delegated administrators).
SECURITY_HUB = "securityhub.amazonaws.com"
if SECURITY_HUB not in _SUPPORTED:
    _SUPPORTED.append(SECURITY_HUB)

# AWS Config's service-linked role is AWSServiceRoleForConfig (AWS Config Developer Guide,
# "Using Service-Linked Roles for AWS Config"); moto names a role after the service's host name
# as it is spelled (AWSServiceRoleForconfig) unless its table says otherwise.
moto.iam.models.SERVICE_NAME_CONVERSION.setdefault("config", "Config")


# UpdateOrganizationConfiguration takes an OrganizationConfiguration of ConfigurationType alone:
# Status and StatusMessage are what Security Hub reports back (Security Hub API Reference,
# OrganizationConfiguration: Status reports whether central configuration could be enabled;
# terraform-provider-aws internal/service/securityhub/organization_configuration.go sends
# ConfigurationType only, then waits for DescribeOrganizationConfiguration to report ENABLED).
# moto 5.2 refuses the request without a Status; it is taken as enabled, as Security Hub reports
# it once done.
_update_organization_configuration = (
    moto.securityhub.models.SecurityHubBackend.update_organization_configuration
)


def _update_organization_configuration_without_status(
    self, auto_enable, auto_enable_standards=None, organization_configuration=None
):
    if organization_configuration and "Status" not in organization_configuration:
        organization_configuration = {**organization_configuration, "Status": "ENABLED"}
    return _update_organization_configuration(
        self, auto_enable, auto_enable_standards, organization_configuration
    )


moto.securityhub.models.SecurityHubBackend.update_organization_configuration = (
    _update_organization_configuration_without_status
)
