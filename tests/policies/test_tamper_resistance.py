"""No path from a foothold in a member account to the guardrails or the audit trail: the SCPs
evaluated request by request (action, resource, principal, request context), as AWS would.

The evaluation reuses the condition logic of diagnyx_infra/policies/evaluation.py for
single-valued operators and adds what SCPs here also use: set operators on multivalued keys
(`ForAnyValue:`) and `NumericLessThan` (IAM User Guide, "Condition operators" and "Multivalued
context keys"). An SCP statement has no Principal: it applies to every principal of the account.
"""

from fnmatch import fnmatchcase

import pytest

from diagnyx_infra import naming
from diagnyx_infra.policies import scp
from diagnyx_infra.policies.evaluation import conditions_hold

INPUTS = scp.ScpInputs(
    allowed_regions=["us-east-1", "us-west-2"],
    non_production_instance_types=["t3.*"],
)
BASELINE = scp.build("protect-baseline", INPUTS).document

SECURITY = "333333333333"
DEV = "444444444444"
BREAK_GLASS = naming.ORG_ACCESS_ROLE
CI = naming.CICD_ROLE
ADMIN = "AWSReservedSSO_Administrator_0123456789abcdef"  # an Identity Center administrator
ANYONE_ELSE = (ADMIN, naming.PREVIEW_ROLE, naming.AUDIT_ROLE, "SomeWorkloadRole")

AUDIT_BUCKET = f"arn:aws:s3:::{naming.audit_bucket_name(SECURITY)}"
AUDIT_KEY = f"arn:aws:kms:us-east-1:{SECURITY}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AUDIT_KEY_ALIASES = [naming.AUDIT_KEY_ALIAS]
BOUNDARY = f"arn:aws:iam::{DEV}:policy/{naming.PERMISSIONS_BOUNDARY}"
ORG_ACCESS_ROLE = f"arn:aws:iam::{DEV}:role/{naming.ORG_ACCESS_ROLE}"


def _values(value):
    return [value] if isinstance(value, str | bool) else list(value)


def _matches(value: str, patterns, ignore_case: bool) -> bool:
    fold = str.lower if ignore_case else str
    return any(fnmatchcase(fold(value), fold(str(p))) for p in _values(patterns))


def _condition_holds(condition: dict, context: dict) -> bool:
    single = {}
    for operator, tests in condition.items():
        if operator.startswith("ForAnyValue:"):
            name = operator.removeprefix("ForAnyValue:")
            assert name in ("StringEquals", "StringLike"), operator
            for key, patterns in tests.items():
                present = context.get(key.lower(), [])
                if name == "StringEquals":
                    if not set(present) & set(_values(patterns)):
                        return False
                elif not any(_matches(v, patterns, ignore_case=False) for v in present):
                    return False
        elif operator == "NumericLessThan":
            for key, limit in tests.items():
                value = context.get(key.lower())
                if value is None or not float(value) < float(limit):
                    return False
        else:
            single[operator] = tests
    return conditions_hold(single, context)


def denied(
    action: str,
    resource: str,
    role: str,
    account: str = SECURITY,
    doc: dict = BASELINE,
    **context,
) -> list[str]:
    """The Sids of the Deny statements of ``doc`` that refuse ``action`` on ``resource`` to a
    session of ``role`` (empty: the SCP allows it)."""
    values = {"aws:principalarn": f"arn:aws:iam::{account}:role/{role}"}
    values.update({k.replace("__", ":").lower(): v for k, v in context.items()})
    sids = []
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Deny"
        if "NotAction" in statement:
            acts = not _matches(action, statement["NotAction"], ignore_case=True)
        else:
            acts = _matches(action, statement["Action"], ignore_case=True)
        if (
            acts
            and _matches(resource, statement["Resource"], ignore_case=False)
            and _condition_holds(statement.get("Condition", {}), values)
        ):
            sids.append(statement["Sid"])
    return sids


def exempt_roles(statement: dict) -> list[str]:
    """The roles a statement exempts by aws:PrincipalArn, by name."""
    arns = statement.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn", [])
    return [arn.rsplit("/", 1)[1] for arn in arns]


def by_sid() -> dict[str, dict]:
    return {s["Sid"]: s for s in BASELINE["Statement"]}


# --- OrganizationAccountAccessRole -------------------------------------------------------------

ROLE_WRITES = (
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRole",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:UpdateRole",
    "iam:TagRole",
    "iam:UntagRole",
)


@pytest.mark.parametrize("action", ROLE_WRITES)
@pytest.mark.parametrize("caller", (BREAK_GLASS, CI, *ANYONE_ELSE))
def test_nobody_in_a_member_account_changes_organization_account_access_role(action, caller):
    # Every exemption is by this role's name: rewriting its trust would hand them all out.
    assert "ProtectOrganizationAccessRole" in denied(action, ORG_ACCESS_ROLE, caller, DEV)


def test_organization_account_access_role_statement_has_no_exemption():
    statement = by_sid()["ProtectOrganizationAccessRole"]
    assert "Condition" not in statement
    assert statement["Resource"] == "arn:aws:iam::*:role/OrganizationAccountAccessRole"


def test_the_role_can_still_be_used():
    for action in ("sts:AssumeRole", "iam:GetRole", "iam:ListAttachedRolePolicies"):
        assert denied(action, ORG_ACCESS_ROLE, ADMIN, DEV) == []


# --- the permissions boundary -------------------------------------------------------------------

BOUNDARY_POLICY_WRITES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)


@pytest.mark.parametrize("action", BOUNDARY_POLICY_WRITES)
def test_only_break_glass_replaces_or_deletes_the_boundary(action):
    for caller in (CI, *ANYONE_ELSE):
        assert "ProtectPermissionsBoundary" in denied(action, BOUNDARY, caller, DEV), caller
    assert denied(action, BOUNDARY, BREAK_GLASS, DEV) == []


def test_other_customer_managed_policies_are_not_the_boundary():
    other = f"arn:aws:iam::{DEV}:policy/DiagnyxPermissionsBoundaryCopy"
    assert denied("iam:CreatePolicyVersion", other, ADMIN, DEV) == []


def test_only_break_glass_takes_a_boundary_off_a_diagnyx_role():
    for role in (naming.CICD_ROLE, naming.PREVIEW_ROLE, naming.AUDIT_ROLE):
        arn = f"arn:aws:iam::{DEV}:role/{role}"
        for caller in (CI, *ANYONE_ELSE):
            sids = denied("iam:DeleteRolePermissionsBoundary", arn, caller, DEV)
            assert "ProtectPermissionsBoundary" in sids, (role, caller)
        assert denied("iam:DeleteRolePermissionsBoundary", arn, BREAK_GLASS, DEV) == []
    # CI still deploys its roles: setting the boundary stays the deployment roles' (as before).
    ci_role = f"arn:aws:iam::{DEV}:role/{naming.CICD_ROLE}"
    assert denied("iam:PutRolePermissionsBoundary", ci_role, CI, DEV) == []
    assert denied("iam:PutRolePermissionsBoundary", ci_role, ADMIN, DEV) == ["ProtectDiagnyxRoles"]


# --- the audit key ------------------------------------------------------------------------------

AUDIT_KEY_WRITES = (
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKeyRotation",
    "kms:RevokeGrant",
)


@pytest.mark.parametrize("action", AUDIT_KEY_WRITES)
def test_only_break_glass_disables_repolicies_or_deletes_the_audit_key(action):
    # A 30-day window: the short-window statement does not apply, only the audit key's.
    window = {"kms__ScheduleKeyDeletionPendingWindowInDays": "30"}
    for caller in (CI, *ANYONE_ELSE):
        sids = denied(action, AUDIT_KEY, caller, kms__ResourceAliases=AUDIT_KEY_ALIASES, **window)
        assert sids == ["ProtectAuditKey"], caller
    assert (
        denied(action, AUDIT_KEY, BREAK_GLASS, kms__ResourceAliases=AUDIT_KEY_ALIASES, **window)
        == []
    )


@pytest.mark.parametrize("action", AUDIT_KEY_WRITES)
def test_the_audit_key_is_matched_by_its_alias_only(action):
    # The other accounts' keys (alias/diagnyx-dev, ...) and keys without aliases: CI deploys them.
    window = {"kms__ScheduleKeyDeletionPendingWindowInDays": "30"}
    dev_key = f"arn:aws:kms:us-east-1:{DEV}:key/abcd"
    for aliases in (["alias/diagnyx-dev"], [], ["alias/diagnyx-security-copy"]):
        assert denied(action, dev_key, CI, DEV, kms__ResourceAliases=aliases, **window) == []


def test_direct_grants_on_the_audit_key_are_denied_service_grants_are_not():
    for caller in (CI, *ANYONE_ELSE):
        direct = denied(
            "kms:CreateGrant",
            AUDIT_KEY,
            caller,
            kms__ResourceAliases=AUDIT_KEY_ALIASES,
            kms__GrantIsForAWSResource="false",
        )
        assert direct == ["ProtectAuditKeyGrants"], caller
    # DynamoDB creating its grant for the lock table while CI deploys it.
    service = denied(
        "kms:CreateGrant",
        AUDIT_KEY,
        CI,
        kms__ResourceAliases=AUDIT_KEY_ALIASES,
        kms__GrantIsForAWSResource="true",
    )
    assert service == []
    assert (
        denied(
            "kms:CreateGrant",
            AUDIT_KEY,
            BREAK_GLASS,
            kms__ResourceAliases=AUDIT_KEY_ALIASES,
            kms__GrantIsForAWSResource="false",
        )
        == []
    )


@pytest.mark.parametrize("action", ("kms:DeleteAlias", "kms:UpdateAlias"))
def test_the_alias_that_identifies_the_audit_key_stays(action):
    alias = f"arn:aws:kms:us-east-1:{SECURITY}:{naming.AUDIT_KEY_ALIAS}"
    for caller in (CI, *ANYONE_ELSE):
        assert denied(action, alias, caller) == ["ProtectAuditKeyAlias"], caller
    assert denied(action, alias, BREAK_GLASS) == []
    other = f"arn:aws:kms:us-east-1:{DEV}:alias/diagnyx-dev"
    assert denied(action, other, CI, DEV) == []


def test_the_audit_key_statements_use_the_documented_condition_key():
    statements = by_sid()
    for sid in ("ProtectAuditKey", "ProtectAuditKeyGrants"):
        condition = statements[sid]["Condition"]
        assert condition["ForAnyValue:StringEquals"] == {
            "kms:ResourceAliases": ["alias/diagnyx-security"]
        }


def test_the_scps_audit_key_alias_is_the_security_stacks(recordings):
    security = recordings["security"]
    (alias,) = security.of_type("aws:kms/alias:Alias")
    (key,) = security.of_type("aws:kms/key:Key")
    (trail,) = security.of_type("aws:cloudtrail/trail:Trail")
    assert alias.inputs["name"] == naming.AUDIT_KEY_ALIAS
    assert alias.inputs["targetKeyId"] == key.state["keyId"]
    assert trail.inputs["kmsKeyId"] == key.state["arn"]


# --- the audit bucket ---------------------------------------------------------------------------

# IAM actions (not API names) for every bucket-configuration write, including those that the
# previous list missed (ACL, ownership controls, replication, logging, ...).
AUDIT_BUCKET_WRITES = (
    "s3:PutBucketAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketCORS",
    "s3:PutBucketWebsite",
    "s3:PutBucketTagging",
    "s3:PutInventoryConfiguration",
    "s3:PutAnalyticsConfiguration",
    "s3:PutMetricsConfiguration",
    "s3:PutIntelligentTieringConfiguration",
    "s3:PutAccelerateConfiguration",
    "s3:DeleteBucketWebsite",
    # already covered before
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:DeleteBucket",
)


@pytest.mark.parametrize("action", AUDIT_BUCKET_WRITES)
def test_only_deployment_roles_reconfigure_the_audit_bucket(action):
    for caller in ANYONE_ELSE:
        assert denied(action, AUDIT_BUCKET, caller) == ["ProtectAuditBucketConfiguration"]
    for caller in (BREAK_GLASS, CI):
        assert denied(action, AUDIT_BUCKET, caller) == []


@pytest.mark.parametrize("action", ("s3:DeleteObject", "s3:DeleteObjectVersion"))
def test_nobody_deletes_audit_logs(action):
    log = f"{AUDIT_BUCKET}/AWSLogs/o-abc/{DEV}/CloudTrail/us-east-1/2026/01/01/x.json.gz"
    for caller in (BREAK_GLASS, CI, *ANYONE_ELSE):
        assert denied(action, log, caller) == ["ProtectAuditLogObjects"]


def test_bucket_wildcards_catch_no_object_action_and_no_other_bucket():
    log = f"{AUDIT_BUCKET}/AWSLogs/x.json.gz"
    for action in ("s3:PutObject", "s3:GetObject", "s3:PutObjectRetention"):
        assert denied(action, log, ADMIN) == []
    state = f"arn:aws:s3:::diagnyx-pulumi-state-{DEV}-us-east-1"
    assert denied("s3:PutBucketPolicy", state, ADMIN, DEV) == []


# --- the alarms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("events:DeleteRule", f"arn:aws:events:us-east-1:{DEV}:rule/diagnyx-security-root-sign-in"),
        (
            "events:DisableRule",
            f"arn:aws:events:us-east-1:{DEV}:rule/diagnyx-security-kms-key-changes",
        ),
        ("events:RemoveTargets", f"arn:aws:events:us-east-1:{DEV}:rule/diagnyx-security-x"),
        ("sns:DeleteTopic", f"arn:aws:sns:us-east-1:{DEV}:diagnyx-alarms"),
        ("sns:SetTopicAttributes", f"arn:aws:sns:us-east-1:{DEV}:diagnyx-alarms"),
    ],
)
def test_only_deployment_roles_change_the_alarms(action, resource):
    for caller in ANYONE_ELSE:
        assert denied(action, resource, caller, DEV) == ["ProtectSecurityAlarms"]
    for caller in (BREAK_GLASS, CI):
        assert denied(action, resource, caller, DEV) == []


# --- exemptions, exactly ------------------------------------------------------------------------


def test_exemptions_are_exactly_as_decided():
    deployment = [naming.ORG_ACCESS_ROLE, naming.CICD_ROLE]
    expected = {
        "ProtectOrganizationTrail": deployment,
        "ProtectAuditBucketConfiguration": deployment,
        "ProtectAuditLogObjects": [],
        "ProtectAuditKey": [naming.ORG_ACCESS_ROLE],
        "ProtectAuditKeyGrants": [naming.ORG_ACCESS_ROLE],
        "ProtectAuditKeyAlias": [naming.ORG_ACCESS_ROLE],
        "ProtectOrganizationAccessRole": [],
        "ProtectDiagnyxRoles": deployment,
        "ProtectPermissionsBoundary": [naming.ORG_ACCESS_ROLE],
        "ProtectSecurityAlarms": deployment,
        "DenyShortKeyDeletionWindow": [],
    }
    assert {sid: exempt_roles(s) for sid, s in by_sid().items()} == expected
