"""SCPs and the tag policy of the management stack, with their attachments."""

import json

from diagnyx_infra.config.models import REQUIRED_TAG_KEYS

POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"

EXPECTED_ATTACHMENTS = {
    "Root": {
        "DiagnyxDenyLeaveOrganization",
        "DiagnyxDenyUnapprovedRegions",
        "DiagnyxDenyRootUser",
        "DiagnyxProtectBaseline",
        "DiagnyxRequiredTags",
    },
    # Every OU carries the security services' guard (the root has no place left).
    "Production": {"DiagnyxRequireMfaForIamUsers", "DiagnyxProtectSecurityServices"},
    "NonProduction": {"DiagnyxNonProductionCostControl", "DiagnyxProtectSecurityServices"},
    "Security": {"DiagnyxProtectSecurityServices"},
    "SharedServices": {"DiagnyxProtectSecurityServices"},
}


def _policies(management):
    return {p.id: p for p in management.of_type(POLICY)}


def attachments_by_target(management):
    target_names = {"r-mock": "Root", **{o.id: o.inputs["name"] for o in management.of_type(OU)}}
    policies = _policies(management)
    found: dict[str, set[str]] = {}
    for attachment in management.of_type(ATTACHMENT):
        target = target_names[attachment.inputs["targetId"]]
        found.setdefault(target, set()).add(policies[attachment.inputs["policyId"]].inputs["name"])
    return found


def test_each_target_gets_exactly_its_policies(management):
    assert attachments_by_target(management) == EXPECTED_ATTACHMENTS


def test_no_target_exceeds_the_per_target_limit_with_full_aws_access(management):
    for target, names in attachments_by_target(management).items():
        scps = [n for n in names if n != "DiagnyxRequiredTags"]
        assert len(scps) + 1 <= 5, target


def test_policy_content_is_minified_json_under_its_limit(management):
    for policy in management.of_type(POLICY):
        content = policy.inputs["content"]
        parsed = json.loads(content)
        assert content == json.dumps(parsed, separators=(",", ":"))
        limit = 5120 if policy.inputs["type"] == "SERVICE_CONTROL_POLICY" else 10_000
        assert len(content) <= limit, policy.name


def test_region_deny_uses_the_allowed_regions_from_config(management):
    (region_policy,) = [
        p for p in management.of_type(POLICY) if p.inputs["name"] == "DiagnyxDenyUnapprovedRegions"
    ]
    statement = json.loads(region_policy.inputs["content"])["Statement"][0]
    assert statement["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == [
        "us-east-1",
        "us-west-2",
    ]


def test_tag_policy_enforces_required_keys_and_the_organization_environments(management):
    (tag_policy,) = [p for p in management.of_type(POLICY) if p.inputs["type"] == "TAG_POLICY"]
    tags = json.loads(tag_policy.inputs["content"])["tags"]
    assert {rule["tag_key"]["@@assign"] for rule in tags.values()} == set(REQUIRED_TAG_KEYS)
    assert tags["environment"]["tag_value"]["@@assign"] == [
        "development",
        "management",
        "production",
        "security",
        "shared-services",
        "staging",
        "uat",
    ]
