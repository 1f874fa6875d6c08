"""Trust and permission documents of the baseline's roles. Every trust statement is constrained
by an external ID, an OIDC subject, or the calling account."""

from .documents import PolicyDocument, document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"

# What the deployment role manages: the services this program deploys, nothing else.
MEMBER_DEPLOY_SERVICES = (
    "acm",
    "budgets",
    "cloudtrail",
    "dynamodb",
    "ec2",
    "ecr",
    "events",
    "iam",
    "kms",
    "route53",
    "s3",
    "sns",
)
MANAGEMENT_DEPLOY_SERVICES = ("ce", "identitystore", "organizations", "sso")


def _github_condition(subject: str) -> dict:
    return {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": subject,
        }
    }


def cicd_trust_policy(
    shared_account_id: str | None, external_id: str, oidc_provider_arn: str, deploy_subject: str
) -> PolicyDocument:
    """``shared_account_id`` is None while config marks the shared account pending: nothing
    trusts an account whose ID is not known to be ours."""
    statements = []
    if shared_account_id is not None:
        statements.append(
            {
                "Sid": "SharedServicesWithExternalId",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{shared_account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        )
    statements.append(
        {
            "Sid": "GitHubActionsDeployRef",
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": _github_condition(deploy_subject),
        }
    )
    return document(*statements)


def preview_trust_policy(oidc_provider_arn: str, pull_request_subject: str) -> PolicyDocument:
    return document(
        {
            "Sid": "GitHubActionsPullRequests",
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": _github_condition(pull_request_subject),
        }
    )


def audit_trust_policy(security_account_id: str) -> PolicyDocument:
    return document(
        {
            "Sid": "SecurityAccountAuditors",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{security_account_id}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": security_account_id}},
        }
    )


# Whoever creates or updates an organization trail needs these Organizations reads (CloudTrail
# User Guide, "Prepare for creating a trail for your organization"); iam:GetRole and
# iam:CreateServiceLinkedRole come with the iam service above.
ORGANIZATION_TRAIL_READS = (
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListAccounts",
)


def cicd_permissions(
    is_management: bool, manages_organization_trail: bool = False
) -> PolicyDocument:
    services = MEMBER_DEPLOY_SERVICES + (MANAGEMENT_DEPLOY_SERVICES if is_management else ())
    statements = [
        {
            "Sid": "DeployLandingZoneServices",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in sorted(services)],
            "Resource": "*",
        },
        {
            "Sid": "IdentityCheck",
            "Effect": "Allow",
            "Action": "sts:GetCallerIdentity",
            "Resource": "*",
        },
    ]
    if manages_organization_trail and not is_management:
        statements.append(
            {
                "Sid": "OrganizationTrailReads",
                "Effect": "Allow",
                "Action": list(ORGANIZATION_TRAIL_READS),
                "Resource": "*",
            }
        )
    return document(*statements)


def preview_state_access(bucket_arn: str, key_arn: str) -> PolicyDocument:
    """`pulumi preview` reads state and takes the backend's lock, which ReadOnlyAccess lacks."""
    return document(
        {
            "Sid": "ReadState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
        },
        {
            "Sid": "BackendLocks",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{bucket_arn}/.pulumi/locks/*",
        },
        {
            "Sid": "StateEncryption",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key_arn,
        },
    )
