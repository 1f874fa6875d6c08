"""The organization's tag policy: standard spelling of the required tag keys and the allowed
Environment values. Presence of the tags on what this program deploys comes from the providers'
``default_tags``; the tag policy keeps resources made outside Pulumi consistent."""

from collections.abc import Sequence
from typing import Any

TAG_POLICY_NAME = "DiagnyxRequiredTags"
TAG_POLICY_MAX_CHARS = 10_000

# Where a wrong Environment value is refused rather than only reported as noncompliant.
ENFORCED_FOR = ("dynamodb:ALL_SUPPORTED", "ec2:ALL_SUPPORTED", "s3:ALL_SUPPORTED")


def tag_policy(required_keys: Sequence[str], environments: Sequence[str]) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for key in required_keys:
        rule: dict[str, Any] = {"tag_key": {"@@assign": key}}
        if key == "Environment":
            rule["tag_value"] = {"@@assign": sorted(environments)}
            rule["enforced_for"] = {"@@assign": list(ENFORCED_FOR)}
        tags[key.lower()] = rule
    return {"tags": tags}
