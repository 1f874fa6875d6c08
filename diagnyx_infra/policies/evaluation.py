"""A small evaluator of IAM policy documents (plain dicts): does a bucket or key policy let
CloudTrail deliver for a trail, would a repository policy lock its caller out (rules the
rehearsal enforces and moto does not), what can a role's identity policies do and who does a
trust policy admit (the access analysis and `doctor`)?

It follows the IAM policy evaluation logic for one resource policy (IAM User Guide, "Policy
evaluation logic"): an explicit Deny wins, then an Allow, else nothing is granted. Conditions
follow "IAM JSON policy elements: Condition operators": every operator and key must hold; a key
absent from the request context fails a condition, except with a negated operator, `...IfExists`
or `Null`. Elements it does not know (NotPrincipal, set operators, other operators) raise
``CannotEvaluate`` rather than guess.

ECR's SetRepositoryPolicy refuses a policy that would deny its caller later SetRepositoryPolicy
calls unless `force` is set (ECR API reference, SetRepositoryPolicy, `force`), and
terraform-provider-aws's `aws_ecr_repository_policy`, which pulumi-aws wraps, never sets it.
"""

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/[^/]+$")


class CannotEvaluate(Exception):
    """The policy uses an element or operator this evaluation does not know."""


@dataclass(frozen=True)
class Request:
    """One request against a resource policy. ``context`` keys are lower case."""

    action: str
    resource: str
    service: str | None = None  # a service principal, e.g. cloudtrail.amazonaws.com
    principal_arn: str | None = None  # an IAM principal: its ARN
    federated: str | None = None  # a web identity provider's ARN (AssumeRoleWithWebIdentity)
    context: dict[str, str] = field(default_factory=dict)

    @property
    def account(self) -> str | None:
        return self.principal_arn.split(":")[4] if self.principal_arn else None


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
    if value is None:
        return []
    return [value] if isinstance(value, str | bool) else list(value)


def _wildcard(pattern: str) -> str:
    """A regular expression for one IAM pattern: `*` any run of characters, `?` any one; every
    other character, `[` included, stands for itself (IAM reference, "Action", "Resource",
    "String condition operators")."""
    return ".*".join(".".join(map(re.escape, run.split("?"))) for run in pattern.split("*"))


@functools.lru_cache(maxsize=8192)
def _matcher(patterns: tuple[Any, ...], ignore_case: bool) -> Callable[[str], Any]:
    """One compiled expression for a list of patterns: the access analysis asks the same
    statements (managed policies list hundreds of actions) hundreds of thousands of times."""
    if not patterns:
        return lambda value: None
    texts = (str(p).lower() if ignore_case else str(p) for p in patterns)
    return re.compile(f"(?:{'|'.join(map(_wildcard, texts))})\\Z", re.DOTALL).match


def _like(value: str, patterns: Iterable[Any], ignore_case: bool = False) -> bool:
    # ArnLike and StringLike allow `*` and `?`; ArnEquals behaves as ArnLike (IAM reference).
    key = tuple(patterns)
    try:
        match = _matcher(key, ignore_case)
    except TypeError:  # an unhashable pattern (a malformed policy): compared as its text
        match = _matcher(tuple(map(str, key)), ignore_case)
    return match(value.lower() if ignore_case else value) is not None


def _equals_ignore_case(value: str, patterns: Iterable[str]) -> bool:
    return value.lower() in {str(p).lower() for p in patterns}


# operator -> (test, negated)
_OPERATORS: dict[str, tuple[Callable[[str, list[str]], bool], bool]] = {
    "StringEquals": (lambda v, p: v in p, False),
    "StringNotEquals": (lambda v, p: v in p, True),
    "StringEqualsIgnoreCase": (_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignore_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (_like, False),
    "ArnLike": (_like, False),
    "ArnNotEquals": (_like, True),
    "ArnNotLike": (_like, True),
    "Bool": (_equals_ignore_case, False),
}


def conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """Every operator and every key of ``condition`` holds for ``context``."""
    for operator, tests in condition.items():
        if ":" in operator:
            raise CannotEvaluate(f"condition operator {operator}")
        if_exists = operator.endswith("IfExists")
        name = operator.removesuffix("IfExists")
        for key, patterns in tests.items():
            value = context.get(key.lower())
            if name == "Null":
                absent = {str(p).lower() for p in _values(patterns)} == {"true"}
                if (value is None) != absent:
                    return False
                continue
            if name not in _OPERATORS:
                raise CannotEvaluate(f"condition operator {operator}")
            test, negated = _OPERATORS[name]
            if value is None:
                if not (if_exists or negated):
                    return False
                continue
            matched = test(value, [str(p) for p in _values(patterns)])
            if matched == negated:
                return False
    return True


def _names_principal(statement: dict[str, Any], request: Request) -> bool:
    if "NotPrincipal" in statement:
        raise CannotEvaluate("NotPrincipal")
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict) or set(principal) - {"AWS", "Service", "Federated"}:
        raise CannotEvaluate(f"principal {principal!r}")
    if request.service is not None and request.service in _values(principal.get("Service")):
        return True
    if request.federated is not None and request.federated in _values(principal.get("Federated")):
        return True
    if request.principal_arn is None:
        return False
    account = request.account
    for entry in _values(principal.get("AWS")):
        if (
            entry in ("*", request.principal_arn, account)
            or entry == f"arn:aws:iam::{account}:root"
        ):
            return True
    return False


def _names(statement: dict[str, Any], element: str, value: str, ignore_case: bool) -> bool:
    """Action/NotAction (case-insensitive, IAM reference) or Resource/NotResource."""
    if f"Not{element}" in statement:
        return not _like(value, _values(statement[f"Not{element}"]), ignore_case)
    default = "*" if element == "Resource" else []
    return _like(value, _values(statement.get(element, default)), ignore_case)


def _applies(statement: dict[str, Any], request: Request, identity: bool = False) -> bool:
    """``identity``: the statement is in an identity policy (no Principal element)."""
    return (
        _names(statement, "Action", request.action, ignore_case=True)
        and _names(statement, "Resource", request.resource, ignore_case=False)
        and (identity or _names_principal(statement, request))
        and conditions_hold(statement.get("Condition") or {}, request.context)
    )


def allows(policies: list[str | dict], request: Request) -> bool:
    """Whether identity policies together allow ``request`` (an explicit Deny in any wins).
    Conditions are evaluated against ``request.context``; a key it lacks is absent."""
    effects = [
        s.get("Effect")
        for policy in policies
        for s in _statements(policy)
        if _applies(s, request, identity=True)
    ]
    return "Allow" in effects and "Deny" not in effects


def _statements(policy: str | dict) -> list[dict[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def decision(policy: str | dict, request: Request) -> str:
    """ "Deny" (an explicit Deny applies), "Allow", or "None" (nothing grants it)."""
    applying = [s.get("Effect") for s in _statements(policy) if _applies(s, request)]
    if "Deny" in applying:
        return "Deny"
    return "Allow" if "Allow" in applying else "None"


def denying_statement(policy: str | dict, action: str, caller_arn: str) -> str | None:
    """The Sid (or index) of the first Deny statement of ``policy`` that applies to ``action``
    called by ``caller_arn`` on the resource; None if none does. Raises ``CannotEvaluate``."""
    arn = principal_arn(caller_arn)
    context = {"aws:principalarn": arn, "aws:principalaccount": arn.split(":")[4]}
    request = Request(action, "*", principal_arn=arn, context=context)
    for index, statement in enumerate(_statements(policy)):
        if statement.get("Effect") != "Deny":
            continue
        # A repository policy has no Resource element: it is the repository itself.
        statement = {k: v for k, v in statement.items() if k not in ("Resource", "NotResource")}
        if _applies(statement, request):
            return str(statement.get("Sid", index))
    return None
