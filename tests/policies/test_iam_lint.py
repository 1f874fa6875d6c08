"""Every IAM, KMS, bucket, topic, repository, trust and SCP document of every stack, checked with
the IAM policy linter parliament. Only findings listed in accepted_lint_findings.yaml (with their
reason) are allowed."""

import json
import warnings
from pathlib import Path

import pytest
import yaml

from tests.helpers import ALL_STACKS

ACCEPTED = {
    (entry["kind"], entry["issue"])
    for entry in yaml.safe_load((Path(__file__).parent / "accepted_lint_findings.yaml").read_text())
}
# resource type -> (document kind, property holding the document)
DOCUMENTS = {
    "aws:iam/role:Role": ("trust policy", "assumeRolePolicy"),
    "aws:iam/rolePolicy:RolePolicy": ("inline role policy", "policy"),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": (
        "permission set inline policy",
        "inlinePolicy",
    ),
    "aws:kms/key:Key": ("KMS key policy", "policy"),
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket policy", "policy"),
    "aws:sns/topicPolicy:TopicPolicy": ("topic policy", "policy"),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("ECR repository policy", "policy"),
    "aws:organizations/policy:Policy": ("SCP", "content"),
}


def documents(recordings):
    for stack in ALL_STACKS:
        for resource in recordings[stack].resources:
            if resource.type not in DOCUMENTS:
                continue
            kind, prop = DOCUMENTS[resource.type]
            if kind == "SCP" and resource.inputs.get("type") != "SERVICE_CONTROL_POLICY":
                continue  # tag policies are not IAM documents
            yield stack, resource.name, kind, resource.inputs[prop]


def lint(document: str):
    # Imported here: only the worker that runs this file pays for importing the linter.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports the deprecated pkg_resources
        from parliament import analyze_policy_string

    return analyze_policy_string(document).findings


def test_every_document_lints_clean_but_for_accepted_findings(recordings):
    checked = 0
    unexplained = []
    for stack, name, kind, document in documents(recordings):
        checked += 1
        for finding in lint(document):
            if (kind, finding.issue) not in ACCEPTED:
                unexplained.append(f"{stack}/{name} ({kind}): {finding.issue} {finding.detail}")
    assert checked > 70  # every role, key, bucket, topic, repository policy and SCP
    assert unexplained == []


def test_every_document_kind_is_linted(recordings):
    kinds = {kind for _, _, kind, _ in documents(recordings)}
    assert kinds == {kind for kind, _ in DOCUMENTS.values()}


def test_every_accepted_finding_still_occurs(recordings):
    """An accepted finding that no longer happens is removed from the list, not kept forever."""
    seen = {
        (kind, finding.issue)
        for _, _, kind, document in documents(recordings)
        for finding in lint(document)
    }
    assert seen >= ACCEPTED


@pytest.mark.parametrize(
    ("document", "issue"),
    [
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]},
            "UNKNOWN_ACTION",
        ),
        (
            {"Statement": [{"Effect": "Alow", "Action": "s3:GetObject", "Resource": "*"}]},
            "MALFORMED",
        ),
    ],
)
def test_the_linter_can_fail(document, issue):
    document = {"Version": "2012-10-17", **document}
    assert issue in {f.issue for f in lint(json.dumps(document))}
