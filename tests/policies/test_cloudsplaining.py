"""Every identity policy the program writes, scanned with cloudsplaining for privilege escalation,
resource exposure, data exfiltration and credentials exposure. Only findings listed (with their
reason) in accepted_cloudsplaining_findings.yaml pass; a listed finding that stops occurring
fails too."""

import json
from pathlib import Path

import pytest
import yaml

from diagnyx_infra import naming
from tests.helpers import ALL_STACKS

ACCEPTED = {
    (entry["policy"], entry["category"])
    for entry in yaml.safe_load(
        (Path(__file__).parent / "accepted_cloudsplaining_findings.yaml").read_text()
    )
}
CATEGORIES = {
    "privilege escalation": lambda d: [e["type"] for e in d.allows_privilege_escalation],
    "resource exposure": lambda d: d.permissions_management_without_constraints,
    "data exfiltration": lambda d: d.allows_data_exfiltration_actions,
    "credentials exposure": lambda d: d.credentials_exposure,
}


def identity_policies(recordings):
    """(name, document) of every role policy, customer managed policy and permission set inline
    policy. The permissions boundary is left out: it grants nothing (its Allow * is a ceiling)."""
    for stack in ALL_STACKS:
        recording = recordings[stack]
        for policy in recording.of_type("aws:iam/rolePolicy:RolePolicy"):
            yield policy.inputs["name"], policy.inputs["policy"]
        for policy in recording.of_type("aws:iam/policy:Policy"):
            if policy.inputs["name"] != naming.PERMISSIONS_BOUNDARY:
                yield policy.inputs["name"], policy.inputs["policy"]
        sets = {
            p.state["arn"]: p.inputs["name"]
            for p in recording.of_type("aws:ssoadmin/permissionSet:PermissionSet")
        }
        for policy in recording.of_type(
            "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
        ):
            yield (
                f"{sets[policy.inputs['permissionSetArn']]} (permission set)",
                policy.inputs["inlinePolicy"],
            )


def scanned(document: dict):
    # Imported here: only the worker that runs this file pays for importing the scanner.
    from cloudsplaining.scan.policy_document import PolicyDocument

    return PolicyDocument(document)


@pytest.fixture(scope="module")
def findings(recordings):
    found: dict[tuple[str, str], list[str]] = {}
    for name, text in identity_policies(recordings):
        document = scanned(json.loads(text))
        for category, scan in CATEGORIES.items():
            hits = scan(document)
            if hits:
                found.setdefault((name, category), []).extend(hits)
    return found


def test_no_finding_but_the_accepted_ones(findings):
    unexplained = {key: sorted(set(v))[:5] for key, v in findings.items() if key not in ACCEPTED}
    assert unexplained == {}


def test_every_accepted_finding_still_occurs(findings):
    assert ACCEPTED - set(findings) == set()


def test_the_boundary_is_only_ever_a_boundary(recordings):
    """Left out of the scan because it grants nothing: so it must never be attached as a policy."""
    for stack in ALL_STACKS:
        attached = {
            a.inputs["policyArn"]
            for a in recordings[stack].of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        }
        assert not any(naming.PERMISSIONS_BOUNDARY in arn for arn in attached)


@pytest.mark.parametrize(
    ("statement", "category"),
    [
        ({"Action": ["iam:CreatePolicyVersion"], "Resource": "*"}, "privilege escalation"),
        ({"Action": ["s3:GetObject"], "Resource": "*"}, "data exfiltration"),
        ({"Action": ["iam:CreateAccessKey"], "Resource": "*"}, "credentials exposure"),
        ({"Action": ["s3:PutBucketPolicy"], "Resource": "*"}, "resource exposure"),
    ],
)
def test_the_scanner_can_fail(statement, category):
    document = scanned({"Statement": [{"Effect": "Allow", **statement}]})
    assert CATEGORIES[category](document)
