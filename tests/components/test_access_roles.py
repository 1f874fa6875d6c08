"""CI/CD identity and cross-account roles in every stack: trust policies statement by statement."""

import json

import pytest

from diagnyx_infra.delivery import DEPLOY_BRANCHES
from tests.helpers import ALL_STACKS

ROLE = "aws:iam/role:Role"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
REPO = "diagnyx/diagnyx-infra"
SHARED = "222222222222"
SECURITY = "333333333333"


@pytest.fixture(params=ALL_STACKS)
def stack(request, recordings):
    return recordings[request.param]


def roles(stack):
    return {r.inputs["name"]: r for r in stack.of_type(ROLE)}


def trust(role):
    return {s["Sid"]: s for s in json.loads(role.inputs["assumeRolePolicy"])["Statement"]}


def test_github_oidc_provider(stack):
    (oidc,) = stack.of_type(OIDC)
    assert oidc.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_exactly_the_three_baseline_roles(stack):
    baseline = {"DiagnyxCrossAccountCICD", "DiagnyxCICDPreview", "DiagnyxAuditReadOnly"}
    extra = {"DiagnyxCostExplorerAccess"} if stack.stack == "management" else set()
    assert set(roles(stack)) == baseline | extra


def test_cicd_role_trusts_shared_services_with_external_id_and_this_stacks_ref(stack):
    statements = trust(roles(stack)["DiagnyxCrossAccountCICD"])
    shared = statements["SharedServicesWithExternalId"]
    assert shared["Principal"] == {"AWS": f"arn:aws:iam::{SHARED}:root"}
    assert shared["Condition"] == {
        "StringEquals": {"sts:ExternalId": "offline-secret-diagnyx-ciExternalId"}
    }
    github = statements["GitHubActionsDeployRef"]
    assert github["Action"] == "sts:AssumeRoleWithWebIdentity"
    conditions = github["Condition"]["StringEquals"]
    assert conditions["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    # dev and staging deploy from their branch; prod and the manually dispatched stacks through
    # an approval environment, which becomes the OIDC subject.
    branch = {"dev": "develop", "staging": "staging"}.get(stack.stack)
    expected = (
        f"repo:{REPO}:ref:refs/heads/{branch}"
        if branch
        else f"repo:{REPO}:environment:{stack.stack}"
    )
    assert conditions["token.actions.githubusercontent.com:sub"] == expected


def test_deploy_branches_follow_the_guide():
    assert DEPLOY_BRANCHES == {"prod": "main", "staging": "staging", "dev": "develop"}


def test_cicd_policy_is_named_for_the_isolation_procedure_and_not_admin(stack):
    (policy,) = [
        p
        for p in stack.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["name"] == "CICDPolicy"
    ]
    assert policy.inputs["role"] == roles(stack)["DiagnyxCrossAccountCICD"].id
    document = json.loads(policy.inputs["policy"])
    actions = [
        a
        for s in document["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "*" not in actions and "*:*" not in actions
    assert ("organizations:*" in actions) == (stack.stack == "management")


def test_preview_role_trusts_only_pull_requests_and_reads(stack):
    role = roles(stack)["DiagnyxCICDPreview"]
    (statement,) = trust(role).values()
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        f"repo:{REPO}:pull_request"
    )
    attached = {
        a.inputs["policyArn"]
        for a in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    }
    assert attached == {"arn:aws:iam::aws:policy/ReadOnlyAccess"}


def test_audit_role_trusts_the_security_account_only(stack):
    role = roles(stack)["DiagnyxAuditReadOnly"]
    (statement,) = trust(role).values()
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{SECURITY}:root"}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": SECURITY}}
    attached = {
        a.inputs["policyArn"]
        for a in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    }
    assert attached == {
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/SecurityAudit",
    }


def test_every_trust_statement_is_constrained(stack):
    for role in stack.of_type(ROLE):
        for statement in trust(role).values():
            condition = json.dumps(statement.get("Condition", {}))
            assert any(
                key in condition
                for key in ("sts:ExternalId", ":sub", "aws:PrincipalAccount", "aws:PrincipalOrgID")
            ), (role.inputs["name"], statement["Sid"])


def test_external_id_stays_secret(stack):
    cicd = next(r for r in stack.of_type(ROLE) if r.inputs["name"] == "DiagnyxCrossAccountCICD")
    # The trust policy embeds the external ID, so Pulumi must store it encrypted.
    assert cicd.secret_inputs == ["assumeRolePolicy"]
    assert "diagnyx:ciExternalId" in stack.config.secret_keys
    preview = next(r for r in stack.of_type(ROLE) if r.inputs["name"] == "DiagnyxCICDPreview")
    assert preview.secret_inputs == []
