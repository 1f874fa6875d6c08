"""IAM Identity Center permission sets (the guide's least-privilege roles), as plain data."""

from dataclasses import dataclass, field

from .. import naming
from .documents import PolicyDocument, document

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER_USER_ACCESS = "arn:aws:iam::aws:policy/PowerUserAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"
# Lists and describes resources and their metadata; reads no data (no objects, items, secrets).
VIEW_ONLY_ACCESS = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"


@dataclass(frozen=True)
class PermissionSetSpec:
    name: str
    description: str
    # ISO 8601; short where the access is powerful.
    session_duration: str
    managed_policies: tuple[str, ...] = ()
    inline_policy: PolicyDocument | None = None
    tags: dict[str, str] = field(default_factory=dict)


def finance_policy() -> PolicyDocument:
    """Billing and Cost Explorer, nothing else ("Finance: billing access only")."""
    return document(
        {
            "Sid": "BillingAndCostExplorer",
            "Effect": "Allow",
            "Action": [
                "account:GetAccountInformation",
                "aws-portal:View*",
                "billing:Get*",
                "billing:List*",
                "budgets:Describe*",
                "budgets:View*",
                "ce:*",
                "consolidatedbilling:Get*",
                "consolidatedbilling:List*",
                "cur:Describe*",
                "cur:Get*",
                "freetier:Get*",
                "invoicing:Get*",
                "invoicing:List*",
                "payments:Get*",
                "payments:List*",
                "pricing:*",
                "tax:Get*",
                "tax:List*",
            ],
            "Resource": "*",
        },
        # The guide's cost-analysis commands run through DiagnyxCostExplorerAccess.
        assume_named_role("AssumeCostExplorerRole", naming.COST_EXPLORER_ROLE),
    )


def assume_named_role(sid: str, role: str) -> dict:
    """A seat may assume the landing zone's role of this name in any account; the role's own
    trust decides which seat it admits."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": f"arn:aws:iam::*:role/{role}",
    }


def devops_policy() -> PolicyDocument:
    """ "Deployment access only" (the guide): deployments run in CI, so the seat watches them and
    reads everything operational (with ViewOnlyAccess), but changes nothing and reads no data."""
    return document(
        {
            "Sid": "WatchOperations",
            "Effect": "Allow",
            "Action": [
                "cloudformation:Describe*",
                "cloudtrail:LookupEvents",
                "cloudwatch:Describe*",
                "cloudwatch:Get*",
                "cloudwatch:List*",
                "ecr:DescribeImageScanFindings",
                "ecr:DescribeImages",
                "ecr:DescribeRepositories",
                "health:Describe*",
                "logs:Describe*",
                "logs:FilterLogEvents",
                "logs:GetLogEvents",
                "logs:GetQueryResults",
                "logs:StartQuery",
                "logs:StopQuery",
                "xray:Get*",
            ],
            "Resource": "*",
        }
    )


def auditor_policy() -> PolicyDocument:
    """The Auditor seat reaches each account's DiagnyxAuditReadOnly role."""
    return document(assume_named_role("AssumeAuditRole", naming.AUDIT_ROLE))


PERMISSION_SETS: dict[str, PermissionSetSpec] = {
    spec.name: spec
    for spec in (
        PermissionSetSpec(
            "Administrator",
            "Full administration (break-glass, short sessions)",
            "PT1H",
            managed_policies=(ADMINISTRATOR_ACCESS,),
        ),
        PermissionSetSpec(
            "DevOps",
            "Deployment access only: watch pipelines and operations, read metadata, no changes",
            "PT4H",
            managed_policies=(VIEW_ONLY_ACCESS,),
            inline_policy=devops_policy(),
        ),
        PermissionSetSpec(
            "Developer",
            "Build and run workloads; no IAM or organization changes",
            "PT8H",
            managed_policies=(POWER_USER_ACCESS,),
        ),
        PermissionSetSpec(
            "Finance",
            "Billing and Cost Explorer only",
            "PT4H",
            inline_policy=finance_policy(),
        ),
        PermissionSetSpec(
            "Auditor",
            "Read-only plus security audit",
            "PT4H",
            managed_policies=(READ_ONLY_ACCESS, SECURITY_AUDIT),
            inline_policy=auditor_policy(),
        ),
    )
}

GROUPS: dict[str, str] = {
    "Administrators": "Platform administrators",
    "DevOps": "Deploy and operate the landing zone and workloads",
    "Developers": "Application developers (non-production only)",
    "Finance": "Billing and cost analysis",
    "Auditors": "Read-only audit of every account",
}
