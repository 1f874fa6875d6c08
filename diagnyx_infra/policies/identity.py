"""IAM Identity Center permission sets (the guide's least-privilege roles), as plain data."""

from dataclasses import dataclass, field

from . import iam
from .documents import PolicyDocument, document

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER_USER_ACCESS = "arn:aws:iam::aws:policy/PowerUserAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"


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
        }
    )


def devops_policy() -> PolicyDocument:
    """Deployment access only: the services the landing zone deploys, as the CI role has them."""
    return iam.cicd_permissions(is_management=False)


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
            "Deployment access only: read everything, change what the landing zone deploys",
            "PT4H",
            managed_policies=(READ_ONLY_ACCESS,),
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
