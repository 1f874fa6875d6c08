"""What moto's model of AWS lacks and the emulator adds, for the in-process rehearsal and for a
moto server the tests (or a person) run: imported for its effect, once."""

import moto.organizations.models

CLOUDTRAIL = "cloudtrail.amazonaws.com"

# CloudTrail's RegisterOrganizationDelegatedAdmin registers the account as an Organizations
# delegated administrator for cloudtrail.amazonaws.com, which ListDelegatedAdministrators then
# lists (CloudTrail User Guide, "Add a CloudTrail delegated administrator"; Organizations User
# Guide, "AWS services that you can use with AWS Organizations": CloudTrail supports delegated
# administrators). moto's list of such services leaves CloudTrail out.
_SUPPORTED = moto.organizations.models.FakeDelegatedAdministrator.SUPPORTED_SERVICES
if CLOUDTRAIL not in _SUPPORTED:
    _SUPPORTED.append(CLOUDTRAIL)
