"""Documents of the shared services account: who may pull and push central images."""

from collections.abc import Sequence

from .. import naming
from .documents import PolicyDocument, document

PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
PUSH_ACTIONS = (
    "ecr:BatchDeleteImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
POLICY_ACTIONS = ("ecr:DeleteRepositoryPolicy", "ecr:SetRepositoryPolicy")


def repository_policy(pull_account_ids: Sequence[str], shared_account_id: str) -> PolicyDocument:
    """Workload accounts pull; only the shared account's CI role pushes, so nothing a
    non-production account can do changes what production pulls (tags are immutable too)."""
    ci_role = f"arn:aws:iam::{shared_account_id}:role/{naming.CICD_ROLE}"
    deployers = [
        f"arn:aws:iam::{shared_account_id}:role/{role}" for role in naming.DEPLOYMENT_ROLES
    ]
    return document(
        {
            "Sid": "WorkloadAccountsPull",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{i}:root" for i in sorted(pull_account_ids)]},
            "Action": list(PULL_ACTIONS),
        },
        {
            "Sid": "CiRolePushes",
            "Effect": "Allow",
            "Principal": {"AWS": ci_role},
            "Action": [*PULL_ACTIONS, *PUSH_ACTIONS],
        },
        {
            "Sid": "NobodyElsePushes",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(PUSH_ACTIONS),
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ci_role}},
        },
        {
            "Sid": "OnlyDeployersChangeThisPolicy",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(POLICY_ACTIONS),
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": deployers}},
        },
    )


def image_decrypt_statement(pull_account_ids: Sequence[str], region: str) -> dict:
    """Key policy statement: pulling accounts decrypt image layers, through ECR only."""
    return {
        "Sid": "WorkloadAccountsDecryptImages",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{i}:root" for i in sorted(pull_account_ids)]},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": f"ecr.{region}.amazonaws.com"}},
    }
