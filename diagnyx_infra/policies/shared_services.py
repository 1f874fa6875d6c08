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


def policy_administrator_roles(deployment_role: str) -> tuple[str, ...]:
    """Roles that may change or delete a repository policy: the usual deployment roles plus the
    role the shared stack deploys through (``deployment.roleName``).

    ECR's SetRepositoryPolicy refuses a policy that would stop the caller from calling it again
    (unless `force` is set, which the AWS provider never does), so a policy that left out the
    deploying role could not be applied at all. The role is exempt whether or not this run
    assumes it (CI runs with `callerInAccount`): the policy must not change between a local
    deploy and a CI deploy, or each would lock the other out."""
    extra = () if deployment_role in naming.DEPLOYMENT_ROLES else (deployment_role,)
    return (*naming.DEPLOYMENT_ROLES, *extra)


def repository_policy(
    pull_account_ids: Sequence[str], shared_account_id: str, deployment_role: str
) -> PolicyDocument:
    """Workload accounts pull; only the shared account's CI role pushes, so nothing a
    non-production account can do changes what production pulls (tags are immutable too).
    ``deployment_role`` is the role the shared stack deploys through (see
    ``policy_administrator_roles``)."""
    ci_role = f"arn:aws:iam::{shared_account_id}:role/{naming.CICD_ROLE}"
    deployers = [
        f"arn:aws:iam::{shared_account_id}:role/{role}"
        for role in policy_administrator_roles(deployment_role)
    ]
    pulls = []
    if pull_account_ids:  # a statement must name a principal; pending accounts are left out
        pulls.append(
            {
                "Sid": "WorkloadAccountsPull",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{i}:root" for i in sorted(pull_account_ids)]},
                "Action": list(PULL_ACTIONS),
            }
        )
    return document(
        *pulls,
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
