"""Cost governance documents: the Cost Explorer access role and anomaly alert thresholds."""

import json
from collections.abc import Sequence

from .documents import PolicyDocument, document

# Every member of Cost Explorer's Expression, as the provider reads a monitor's specification back
# (aws-sdk-go-v2 marshals nil members as null) and compares it with the program's JSON strictly
# (terraform-provider-aws internal/verify/json.go: `{"a":1}` differs from `{"a":1,"b":null}`).
# monitor_specification forces a new monitor, so a spec without the nulls is replaced on every
# `pulumi up` (terraform-provider-aws #39885).
_EXPRESSION_MEMBERS = ("And", "CostCategories", "Dimensions", "Not", "Or", "Tags")


def linked_account_monitor_specification(account_ids: Sequence[str]) -> str:
    """A CUSTOM anomaly monitor over these linked accounts, in the exact form AWS reads back."""
    expression: dict = dict.fromkeys(_EXPRESSION_MEMBERS)
    expression["Dimensions"] = {
        "Key": "LINKED_ACCOUNT",
        "MatchOptions": None,
        "Values": sorted(account_ids),
    }
    return json.dumps(expression, separators=(",", ":"), sort_keys=True)


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
