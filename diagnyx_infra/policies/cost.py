"""Cost governance documents: the Cost Explorer access role and anomaly alert thresholds."""

from collections.abc import Sequence

from .documents import PolicyDocument, document


def cost_explorer_trust(principals: Sequence[tuple[str, str]]) -> PolicyDocument:
    """(account ID, role name or pattern) pairs: only those roles of those accounts."""
    account_ids = sorted({account for account, _ in principals})
    return document(
        {
            "Sid": "NamedRolesOnly",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{i}:root" for i in account_ids]},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {
                    "aws:PrincipalArn": [
                        f"arn:aws:iam::{account}:role/{role}" for account, role in principals
                    ]
                },
                "StringEquals": {"aws:PrincipalAccount": account_ids},
            },
        }
    )


def cost_explorer_permissions() -> PolicyDocument:
    """Read costs and budgets, and name the accounts they belong to; nothing else."""
    return document(
        {
            "Sid": "ReadCosts",
            "Effect": "Allow",
            "Action": [
                "budgets:ViewBudget",
                "ce:Describe*",
                "ce:Get*",
                "ce:List*",
                "cur:DescribeReportDefinitions",
                "organizations:DescribeAccount",
                "organizations:ListAccounts",
            ],
            "Resource": "*",
        }
    )


def anomaly_threshold(amount_usd: float) -> dict:
    return {
        "dimension": {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "match_options": ["GREATER_THAN_OR_EQUAL"],
            "values": [f"{amount_usd:g}"],
        }
    }
