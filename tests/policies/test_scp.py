"""The SCP builders, checked statement by statement."""

import pytest

from diagnyx_infra import naming
from diagnyx_infra.policies import scp
from diagnyx_infra.policies.documents import size

INPUTS = scp.ScpInputs(
    allowed_regions=["us-east-1", "us-west-2"],
    non_production_instance_types=["t3.*", "t4g.*"],
)


def only_statement(doc):
    assert doc["Version"] == "2012-10-17"
    assert len(doc["Statement"]) == 1
    return doc["Statement"][0]


def statements_by_sid(doc):
    return {s["Sid"]: s for s in doc["Statement"]}


@pytest.mark.parametrize("key", scp.CATALOGUE)
def test_every_policy_only_denies_and_fits_the_strictest_limit(key):
    policy = scp.build(key, INPUTS)
    assert {s["Effect"] for s in policy.document["Statement"]} == {"Deny"}
    assert size(policy.document) <= 5120
    sids = [s["Sid"] for s in policy.document["Statement"]]
    assert all(sid.isalnum() for sid in sids) and len(set(sids)) == len(sids)


def test_deny_leave_organization():
    statement = only_statement(scp.deny_leave_organization(INPUTS))
    assert statement["Action"] == "organizations:LeaveOrganization"


def test_region_deny_exempts_global_services_and_deployment_roles():
    statement = only_statement(scp.deny_unapproved_regions(INPUTS))
    assert "Action" not in statement
    for service in (
        "iam:*",
        "organizations:*",
        "sts:*",
        "budgets:*",
        "ce:*",
        "route53:*",
        "cloudfront:*",
        "support:*",
        "health:*",
        "aws-portal:*",
        "waf:*",
        "globalaccelerator:*",
        "acm:*",
    ):
        assert service in statement["NotAction"]
    condition = statement["Condition"]
    assert condition["StringNotEquals"]["aws:RequestedRegion"] == ["us-east-1", "us-west-2"]
    assert condition["ArnNotLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::*:role/OrganizationAccountAccessRole",
        "arn:aws:iam::*:role/DiagnyxCrossAccountCICD",
    ]


def test_root_user_deny_matches_only_root_principals():
    statement = only_statement(scp.deny_root_user(INPUTS))
    assert statement["Action"] == "*"
    assert statement["Condition"] == {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}


def test_baseline_protection_covers_trail_bucket_roles_and_key_windows():
    by_sid = statements_by_sid(scp.protect_baseline(INPUTS))
    trail = by_sid["ProtectOrganizationTrail"]
    assert "cloudtrail:StopLogging" in trail["Action"]
    assert trail["Resource"].endswith(f"trail/{naming.ORGANIZATION_TRAIL}")
    bucket = by_sid["ProtectAuditBucketConfiguration"]
    assert bucket["Resource"] == "arn:aws:s3:::diagnyx-audit-logs-*"
    # Every bucket-configuration write (tests/policies/test_tamper_resistance.py evaluates them).
    assert bucket["Action"] == ["s3:DeleteBucket*", "s3:Put*Configuration", "s3:PutBucket*"]
    objects = by_sid["ProtectAuditLogObjects"]
    assert "Condition" not in objects, "nobody may delete audit logs"
    roles = by_sid["ProtectDiagnyxRoles"]
    assert roles["Resource"] == "arn:aws:iam::*:role/Diagnyx*"
    assert "iam:DeleteRolePolicy" in roles["Action"]
    # Taking the boundary off is break-glass only (ProtectPermissionsBoundary), not CI's.
    assert "iam:DeleteRolePermissionsBoundary" not in roles["Action"]
    guarded = ("ProtectOrganizationTrail", "ProtectAuditBucketConfiguration", "ProtectDiagnyxRoles")
    for sid in guarded:
        assert "ArnNotLike" in by_sid[sid]["Condition"]
    keys = by_sid["DenyShortKeyDeletionWindow"]
    assert keys["Condition"] == {
        "NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "30"}
    }


def test_non_production_cost_control():
    by_sid = statements_by_sid(scp.non_production_cost_control(INPUTS))
    types = by_sid["DenyUnapprovedInstanceTypes"]
    assert types["Action"] == "ec2:RunInstances"
    assert types["Condition"] == {"StringNotLike": {"ec2:InstanceType": ["t3.*", "t4g.*"]}}
    purchases = by_sid["DenyReservedCapacityPurchases"]["Action"]
    assert "ec2:PurchaseReservedInstancesOffering" in purchases
    assert "savingsplans:CreateSavingsPlan" in purchases


def test_mfa_is_required_of_iam_users_only():
    statement = only_statement(scp.require_mfa_for_iam_users(INPUTS))
    condition = statement["Condition"]
    assert condition["BoolIfExists"] == {"aws:MultiFactorAuthPresent": "false"}
    # Role sessions (Identity Center, CI) have role ARNs and are untouched.
    assert condition["ArnLike"] == {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}
    assert "iam:EnableMFADevice" in statement["NotAction"]


def test_oversized_reports_policy_and_limit():
    policies = scp.build_all(["protect-baseline"], INPUTS)
    limit = size(policies["protect-baseline"].document) - 1
    assert scp.oversized(policies, limit) == [
        f"SCP 'protect-baseline' is {limit + 1} characters, over the limit of {limit}"
    ]
    assert scp.oversized(policies, limit + 1) == []
