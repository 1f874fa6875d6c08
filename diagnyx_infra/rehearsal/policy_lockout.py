"""Would a resource policy deny its own caller the right to change it again?

ECR's SetRepositoryPolicy refuses such a policy: "If the policy you specify will prevent the caller
from making future calls to SetRepositoryPolicy, you must set force to true" (ECR API reference,
SetRepositoryPolicy, parameter `force`). terraform-provider-aws's `aws_ecr_repository_policy`,
which pulumi-aws wraps, never sets `force`, so for this program such a policy cannot be applied.
moto does not check it; the rehearsal's ECR handler asks this module instead.

Only what the program's policies use is evaluated: Deny statements with `Principal` "*" or AWS
principals, `Action` with `*`/`?` wildcards, and the condition operators in ``_OPERATORS`` on
`aws:PrincipalArn` and `aws:PrincipalAccount`. Anything else is reported as not evaluable.
"""

import json
import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any

_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/[^/]+$")


class CannotEvaluate(Exception):
    """The policy uses an element or operator this evaluation does not know."""


def principal_arn(caller_arn: str) -> str:
    """`aws:PrincipalArn` of a caller from STS GetCallerIdentity: for an assumed-role session
    (`arn:aws:sts::<acct>:assumed-role/<Role>/<session>`) the role's ARN
    (`arn:aws:iam::<acct>:role/<Role>`), for users and the root user their own ARN. (A role
    with a path would need IAM to find the path; the program's roles have none.)"""
    assumed = _ASSUMED_ROLE.match(caller_arn)
    if assumed:
        partition, account, role = assumed.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return caller_arn


def _values(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _like(value: str, patterns: Iterable[str]) -> bool:
    # ArnEquals/ArnLike both allow `*` and `?` (IAM condition operators reference).
    return any(fnmatchcase(value, pattern) for pattern in patterns)


_OPERATORS: dict[str, Callable[[str, list[str]], bool]] = {
    "ArnEquals": _like,
    "ArnLike": _like,
    "ArnNotEquals": lambda v, p: not _like(v, p),
    "ArnNotLike": lambda v, p: not _like(v, p),
    "StringEquals": lambda v, p: v in p,
    "StringNotEquals": lambda v, p: v not in p,
    "StringLike": _like,
    "StringNotLike": lambda v, p: not _like(v, p),
}


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """All operators and all their keys must hold (condition keys are case-insensitive)."""
    for operator, tests in condition.items():
        test = _OPERATORS.get(operator)
        if test is None:
            raise CannotEvaluate(f"condition operator {operator}")
        for key, patterns in tests.items():
            value = context.get(key.lower())
            if value is None:
                raise CannotEvaluate(f"condition key {key}")
            if not test(value, _values(patterns)):
                return False
    return True


def _names_principal(principal: Any, arn: str, account: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict) or set(principal) - {"AWS", "Service", "Federated"}:
        raise CannotEvaluate(f"principal {principal!r}")
    for entry in _values(principal.get("AWS", [])):
        if entry in ("*", arn, account) or entry == f"arn:aws:iam::{account}:root":
            return True
    return False


def _names_action(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _like(action.lower(), [a.lower() for a in _values(statement["NotAction"])])
    return _like(action.lower(), [a.lower() for a in _values(statement.get("Action", []))])


def denying_statement(policy: str | dict, action: str, caller_arn: str) -> str | None:
    """The Sid (or index) of the first Deny statement of ``policy`` that applies to ``action``
    called by ``caller_arn``; None if no statement denies it. Raises ``CannotEvaluate``."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    arn = principal_arn(caller_arn)
    account = arn.split(":")[4]
    context = {"aws:principalarn": arn, "aws:principalaccount": account}
    statements = document.get("Statement", [])
    for index, statement in enumerate([statements] if isinstance(statements, dict) else statements):
        if statement.get("Effect") != "Deny" or not _names_action(statement, action):
            continue
        if "NotPrincipal" in statement:
            raise CannotEvaluate("NotPrincipal")
        if not _names_principal(statement.get("Principal"), arn, account):
            continue
        if _conditions_hold(statement.get("Condition", {}), context):
            return str(statement.get("Sid", index))
    return None
