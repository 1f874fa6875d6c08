"""Deterministic names shared by components, policies and tooling.

Names that other accounts or guardrails refer to (roles, the organization trail, the audit bucket)
are fixed here so an SCP written in the management stack protects exactly what the member stacks
create.
"""

ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
CICD_ROLE = "DiagnyxCrossAccountCICD"
CICD_POLICY = "CICDPolicy"
PREVIEW_STATE_POLICY = "PreviewStateAccess"  # the preview role's inline policy
PREVIEW_ROLE = "DiagnyxCICDPreview"
AUDIT_ROLE = "DiagnyxAuditReadOnly"
COST_EXPLORER_ROLE = "DiagnyxCostExplorerAccess"
COST_EXPLORER_POLICY = "CostExplorerRead"  # its inline policy
# `diagnyx drift`'s read-only role in every account (the scheduled drift workflow's), and its
# inline policy.
DRIFT_ROLE = "DiagnyxDriftCheck"
DRIFT_POLICY = "DriftReads"
# Forwards the regional security events of every other allowed region to the home region's bus.
ALARM_FORWARDING_ROLE = "DiagnyxAlarmForwarding"
ALARM_FORWARDING_POLICY = "ForwardToHomeBus"
ROLE_PREFIX = "Diagnyx"
# The managed policy every Diagnyx* role carries as its permissions boundary.
PERMISSIONS_BOUNDARY = "DiagnyxPermissionsBoundary"

ORGANIZATION_TRAIL = "diagnyx-organization-trail"
AUDIT_BUCKET_PREFIX = "diagnyx-audit-logs-"
# The security account's key (the baseline names each account's key `alias/diagnyx-<stack>`)
# encrypts the organization trail's logs: the audit key the SCPs protect by this alias.
AUDIT_KEY_ALIAS = "alias/diagnyx-security"

# Roles allowed to change guarded baseline resources and to work outside the allowed regions:
# the organization's break-glass role and the deployment role.
DEPLOYMENT_ROLES = (ORG_ACCESS_ROLE, CICD_ROLE)


def audit_bucket_name(security_account_id: str) -> str:
    return f"{AUDIT_BUCKET_PREFIX}{security_account_id}"


LOCK_TABLE_NAME = "diagnyx-pulumi-locks"


def state_bucket_name(account_id: str, region: str) -> str:
    """Globally unique and predictable: `pulumi login s3://<this>` needs no lookup."""
    return f"diagnyx-pulumi-state-{account_id}-{region}"
