"""Helpers for IAM-style policy documents."""

import json
from typing import Any

PolicyDocument = dict[str, Any]


def document(*statements: dict[str, Any]) -> PolicyDocument:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def to_json(doc: PolicyDocument) -> str:
    """Minified JSON: AWS counts whitespace against policy size limits."""
    return json.dumps(doc, separators=(",", ":"), sort_keys=False)


def size(doc: PolicyDocument) -> int:
    return len(to_json(doc))
