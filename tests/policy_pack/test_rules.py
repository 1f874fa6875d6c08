"""The policy pack: every stack passes every rule, and every rule can fail."""

import json
from dataclasses import replace

import pytest
from pulumi_policy import (
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import PolicyCustomTimeouts

import diagnyx_rules as rules
import pack
from diagnyx_infra.config.loading import settings_from_config
from diagnyx_infra.policy_config import pack_settings
from tests.helpers import ALL_STACKS
from tests.policy_pack.subjects import subjects_of

ALL_RULES = [r.name for r in rules.RULES] + [r.name for r in rules.STACK_RULES]


def stack_config(recording):
    """The pack's settings for the stack, and the stack's facts (pack.stack_facts)."""
    config = recording.config
    settings = settings_from_config(recording.stack, config.values, config.secret_keys)
    facts = {"stack": recording.stack, "allowedRegions": list(settings.allowed_regions)}
    return {**pack_settings(settings), **facts}


def test_at_least_25_rules_with_unique_names():
    assert len(ALL_RULES) >= 25
    assert len(set(ALL_RULES)) == len(ALL_RULES)


def test_the_pack_wraps_every_rule():
    policies = pack.policies()
    assert [p.name for p in policies] == ALL_RULES
    assert all(isinstance(p, ResourceValidationPolicy | StackValidationPolicy) for p in policies)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_passes_every_rule(recordings, stack):
    recording = recordings[stack]
    violations = rules.evaluate(subjects_of(recording), stack_config(recording))
    assert violations == []


def _options(subject) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=subject.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def _args(subject, config=None) -> ResourceValidationArgs:
    options = _options(subject)
    provider = PolicyProviderResource("pulumi:providers:aws", subject.provider_props, "urn:p", "p")
    return ResourceValidationArgs(
        subject.type, subject.props, f"urn:{subject.name}", subject.name, options, provider, config
    )


def _through_pack(subject, config=None) -> list[str]:
    """Run the pack's own policy objects, as the Pulumi engine would."""
    reported = []
    for policy in pack.policies():
        if isinstance(policy, ResourceValidationPolicy):
            policy.validate(
                _args(subject, config),
                lambda message, urn=None, name=policy.name: reported.append(name),
            )
    return reported


@pytest.mark.parametrize("stack", ["management", "security", "prod"])
def test_the_pack_objects_agree_with_the_offline_rules(recordings, stack):
    for subject in subjects_of(recordings[stack]):
        assert _through_pack(subject, stack_config(recordings[stack])) == [], subject.name


def S(type_, props, **kwargs):
    return rules.Subject(type=type_, name="bad", props=props, **kwargs)


GOOD_TAGS = {"tags": {k: "x" for k in rules.REQUIRED_TAGS}}
# The account provider every stack deploys through (providers.py), as the engine shows it.
ACCOUNT_PROVIDER = {"region": "us-east-1", "allowedAccountIds": ["444444444444"]}
CIS_POLICY = {
    "minimumPasswordLength": 14.0,
    "passwordReusePrevention": 24.0,
    "requireLowercaseCharacters": True,
    "requireUppercaseCharacters": True,
    "requireNumbers": True,
    "requireSymbols": True,
}
OPEN = json.dumps(
    {
        "Statement": [
            {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
        ]
    }
)

VIOLATIONS = {
    "s3-public-access-block-complete": S(rules.PUBLIC_ACCESS_BLOCK, {"blockPublicAcls": True}),
    "s3-sse-kms": S(
        rules.ENCRYPTION,
        {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                    "bucketKeyEnabled": True,
                }
            ]
        },
    ),
    "s3-bucket-keys": S(
        rules.ENCRYPTION,
        {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": "k",
                    }
                }
            ]
        },
    ),
    "s3-versioning": S(rules.VERSIONING, {"versioningConfiguration": {"status": "Suspended"}}),
    "s3-tls-only": S(rules.BUCKET_POLICY, {"policy": json.dumps({"Statement": []})}),
    "s3-no-public-policy": S(rules.BUCKET_POLICY, {"policy": OPEN}),
    "s3-owner-enforced": S(rules.OWNERSHIP, {"rule": {"objectOwnership": "ObjectWriter"}}),
    "s3-audit-archive-object-lock": S(
        rules.BUCKET, {"bucket": "diagnyx-audit-logs-333333333333"}, protect=True
    ),
    "kms-rotation": S(
        rules.KEY, {"enableKeyRotation": False, "deletionWindowInDays": 30}, protect=True
    ),
    "kms-deletion-window": S(
        rules.KEY, {"enableKeyRotation": True, "deletionWindowInDays": 7}, protect=True
    ),
    "kms-no-open-principal": S(
        rules.KEY, {"enableKeyRotation": True, "policy": OPEN}, protect=True
    ),
    "dynamodb-pitr": S(
        rules.TABLE,
        {
            "deletionProtectionEnabled": True,
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": "k"},
        },
        protect=True,
    ),
    "dynamodb-deletion-protection": S(
        rules.TABLE,
        {
            "pointInTimeRecovery": {"enabled": True},
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": "k"},
        },
        protect=True,
    ),
    "dynamodb-kms": S(
        rules.TABLE,
        {"pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": True},
        protect=True,
    ),
    "sns-encrypted": S(rules.TOPIC, {"kmsMasterKeyId": "alias/aws/sns"}),
    "sns-no-public-publish": S(
        rules.TOPIC_POLICY,
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Sid": "Budgets",
                            "Effect": "Allow",
                            "Principal": {"Service": "budgets.amazonaws.com"},
                            "Action": "sns:Publish",
                        }
                    ]
                }
            )
        },
    ),
    "ecr-scan-on-push": S(
        rules.REPOSITORY,
        {
            "imageTagMutability": "IMMUTABLE",
            "encryptionConfigurations": [{"encryptionType": "KMS"}],
        },
        protect=True,
    ),
    "ecr-immutable-tags": S(
        rules.REPOSITORY,
        {
            "imageTagMutability": "MUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS"}],
        },
        protect=True,
    ),
    "ecr-kms": S(
        rules.REPOSITORY,
        {
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "AES256"}],
        },
        protect=True,
    ),
    "ecr-no-public-pull": S(rules.REPOSITORY_POLICY, {"policy": OPEN}),
    "iam-no-wildcard-admin": S(
        rules.ROLE_POLICY,
        {
            "policy": json.dumps(
                {"Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
            )
        },
    ),
    "iam-role-bounded": S(
        rules.ROLE,
        {
            "name": "DiagnyxUnbounded",
            "assumeRolePolicy": json.dumps({"Statement": []}),
            **GOOD_TAGS,
        },
    ),
    "iam-trust-constrained": S(
        rules.ROLE,
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Sid": "Anyone",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            ),
            **GOOD_TAGS,
        },
    ),
    "iam-inline-policy-size": S(
        rules.ROLE_POLICY,
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Sid": "Big",
                            "Effect": "Allow",
                            "Action": [f"s3:Get{i:05d}" for i in range(800)],
                            "Resource": "*",
                        }
                    ]
                }
            )
        },
    ),
    "cloudtrail-multi-region": S(
        rules.TRAIL,
        {
            "isMultiRegionTrail": False,
            "enableLogFileValidation": True,
            "kmsKeyId": "k",
            **GOOD_TAGS,
        },
        protect=True,
    ),
    "cloudtrail-log-validation": S(
        rules.TRAIL,
        {
            "isMultiRegionTrail": True,
            "enableLogFileValidation": False,
            "kmsKeyId": "k",
            **GOOD_TAGS,
        },
        protect=True,
    ),
    "cloudtrail-kms": S(
        rules.TRAIL,
        {"isMultiRegionTrail": True, "enableLogFileValidation": True, **GOOD_TAGS},
        protect=True,
    ),
    "cloudtrail-global-events": S(
        rules.TRAIL,
        {
            "isMultiRegionTrail": True,
            "enableLogFileValidation": True,
            "kmsKeyId": "k",
            "includeGlobalServiceEvents": False,
            **GOOD_TAGS,
        },
        protect=True,
    ),
    "organizations-scp-size": S(
        rules.ORG_POLICY,
        {
            "type": "SERVICE_CONTROL_POLICY",
            "content": json.dumps({"Statement": [{"Sid": "x" * 6000}]}),
            **GOOD_TAGS,
        },
    ),
    "organizations-account-never-closed": S(
        rules.ACCOUNT, {"closeOnDeletion": True, **GOOD_TAGS}, protect=True
    ),
    "ec2-no-nat-gateway": S(rules.NAT_GATEWAY, GOOD_TAGS),
    "ec2-default-security-group-empty": S(
        rules.DEFAULT_SECURITY_GROUP, {"ingress": [{"protocol": "-1"}], **GOOD_TAGS}
    ),
    "required-tags": S(
        "aws:sns/topic:Topic", {"kmsMasterKeyId": "k", "tags": {"Environment": "dev"}}
    ),
    "stateful-resources-protected": S(
        rules.KEY,
        {"enableKeyRotation": True, "deletionWindowInDays": 30, **GOOD_TAGS},
        protect=False,
    ),
}


def _stack_violation(rule):
    if rule == "organizations-scps-per-target":
        return [
            S(rules.ORG_ATTACHMENT, {"policyId": f"p-{i}", "targetId": "r-root"}) for i in range(5)
        ]
    if rule == "store-settings-protected":
        return [
            S(rules.BUCKET, {"bucket": "diagnyx-state-1", "id": "diagnyx-state-1"}, protect=True),
            S(
                rules.PUBLIC_ACCESS_BLOCK,
                {
                    "bucket": "diagnyx-state-1",
                    "blockPublicAcls": True,
                    "blockPublicPolicy": True,
                    "ignorePublicAcls": True,
                    "restrictPublicBuckets": True,
                },
            ),
        ]
    if rule == "s3-account-public-access-blocked":
        return [S(rules.KEY, {"enableKeyRotation": True}, provider_props=ACCOUNT_PROVIDER)]
    if rule == "ebs-encryption-by-default":
        return [S(rules.EBS_ENCRYPTION_BY_DEFAULT, {"enabled": False, "region": "us-east-1"})]
    if rule == "iam-password-policy-cis":
        return [S(rules.PASSWORD_POLICY, {**CIS_POLICY, "minimumPasswordLength": 8.0})]
    if rule == "access-analyzer-organization":  # the stack of the audit archive, no analyzer
        return [S(rules.BUCKET, {"bucket": "diagnyx-audit-logs-333333333333"}, protect=True)]
    if rule == "iam-admin-only-in-administrator-set":
        return [
            S(rules.PERMISSION_SET, {"name": "Developer", "arn": "arn:ps/dev"}),
            S(
                rules.MANAGED_ATTACHMENT,
                {"permissionSetArn": "arn:ps/dev", "managedPolicyArn": rules.ADMINISTRATOR_ACCESS},
            ),
        ]
    raise KeyError(rule)


@pytest.mark.parametrize("rule", ALL_RULES)
def test_every_rule_can_fail(rule):
    subjects = [VIOLATIONS[rule]] if rule in VIOLATIONS else _stack_violation(rule)
    violated = {v.rule for v in rules.evaluate(subjects)}
    assert rule in violated


@pytest.mark.parametrize("rule", sorted(VIOLATIONS))
def test_the_pack_reports_each_resource_violation(rule):
    assert rule in _through_pack(VIOLATIONS[rule])


def test_a_nat_gateway_passes_when_the_stack_allows_it():
    subject = VIOLATIONS["ec2-no-nat-gateway"]
    assert rules.evaluate([subject], {"allowNatGateway": True}) == []
    assert "ec2-no-nat-gateway" not in _through_pack(subject, {"allowNatGateway": True})


def test_administrator_access_in_the_administrator_set_is_allowed(management):
    subjects = subjects_of(management)
    attachments = [s for s in subjects if s.type == rules.MANAGED_ATTACHMENT]
    assert any(s.props["managedPolicyArn"] == rules.ADMINISTRATOR_ACCESS for s in attachments)
    assert [
        v for v in rules.evaluate(subjects) if v.rule == "iam-admin-only-in-administrator-set"
    ] == []


def test_the_permissions_boundary_may_allow_every_action_and_nothing_else_may():
    boundary = {
        "name": "DiagnyxPermissionsBoundary",
        "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    }
    (rule,) = [r for r in rules.RULES if r.name == "iam-no-wildcard-admin"]
    assert rule.check(S(rules.IAM_POLICY, boundary), {}) == []
    assert rule.check(S(rules.IAM_POLICY, {**boundary, "name": "DiagnyxOther"}), {})


@pytest.mark.parametrize(
    "subject",
    [
        S(rules.GROUP, {"identityStoreId": "d-0000000000", "displayName": "Developers"}),
        S(rules.PERMISSION_SET, {"name": "Developer", "sessionDuration": "PT8H", **GOOD_TAGS}),
    ],
    ids=["group", "permission-set"],
)
def test_an_unprotected_identity_center_group_or_permission_set_fails(subject):
    assert [v.rule for v in rules.evaluate([subject])] == ["stateful-resources-protected"]
    assert _through_pack(subject) == ["stateful-resources-protected"]
    assert rules.evaluate([replace(subject, protect=True)]) == []


def _store_settings_violations(subjects) -> list[str]:
    return [v.message for v in rules.evaluate(subjects) if v.rule == "store-settings-protected"]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_unprotecting_any_setting_of_a_protected_store_fails(recordings, stack):
    """Reintroduce the mistake one resource at a time: each setting of a protected bucket, key
    or repository in the real stack, unprotected, is a violation naming it."""
    subjects = subjects_of(recordings[stack])
    settings = [s for s in subjects if s.type in rules.STORE_SETTINGS]
    assert {rules.BUCKET_POLICY, rules.PUBLIC_ACCESS_BLOCK, rules.ENCRYPTION} <= {
        s.type for s in settings
    }
    for setting in settings:
        assert setting.protect, setting.name
        mistaken = [replace(s, protect=False) if s is setting else s for s in subjects]
        (message,) = _store_settings_violations(mistaken)
        assert setting.name in message


def test_an_unprotected_bucket_is_the_other_rules_business():
    bucket, block = _stack_violation("store-settings-protected")
    subjects = [replace(bucket, protect=False), block]
    assert _store_settings_violations(subjects) == []
    assert "stateful-resources-protected" in {v.rule for v in rules.evaluate(subjects)}


def test_a_setting_is_matched_to_its_store_by_name_arn_or_id():
    key = S(rules.KEY, {"keyId": "1234", "arn": "arn:aws:kms:us-east-1:1:key/1234"}, protect=True)
    repository = S(rules.REPOSITORY, {"name": "diagnyx/api"}, protect=True)
    other = S(rules.BUCKET, {"bucket": "other", "id": "other"}, protect=True)
    for setting in (
        S(rules.KEY_ALIAS, {"targetKeyId": "1234"}),
        S(rules.KEY_POLICY, {"keyId": "arn:aws:kms:us-east-1:1:key/1234"}),
        S(rules.REPOSITORY_LIFECYCLE, {"repository": "diagnyx/api"}),
        S(rules.REPOSITORY_POLICY, {"repository": "diagnyx/api"}),
    ):
        assert len(_store_settings_violations([key, repository, other, setting])) == 1
    # A setting of a bucket this stack does not protect (or know) is not flagged.
    assert _store_settings_violations([other, S(rules.VERSIONING, {"bucket": "elsewhere"})]) == []


def _policy_resource(subject, property_dependencies=None) -> PolicyResource:
    provider = PolicyProviderResource("pulumi:providers:aws", {}, "urn:p", "p")
    return PolicyResource(
        subject.type,
        subject.props,
        f"urn:{subject.name}",
        subject.name,
        _options(subject),
        provider,
        None,
        [],
        property_dependencies or {},
    )


def test_the_pack_finds_the_store_through_dependencies_in_a_first_preview():
    """Before the bucket exists its name is unknown to the setting; the engine's property
    dependencies still tie the two together."""
    (policy,) = [p for p in pack.policies() if p.name == "store-settings-protected"]
    bucket = _policy_resource(S(rules.BUCKET, {"bucket": "diagnyx-state-1"}, protect=True))
    lock = _policy_resource(
        S(rules.OBJECT_LOCK, {"objectLockEnabled": "Enabled"}), {"bucket": [bucket]}
    )

    def report(resources) -> list[str]:
        reported = []
        policy.validate(StackValidationArgs(resources), lambda m, urn=None: reported.append(m))
        return reported

    (message,) = report([bucket, lock])
    assert "BucketObjectLockConfiguration" in message
    protected = _policy_resource(
        S(rules.OBJECT_LOCK, {"objectLockEnabled": "Enabled"}, protect=True), {"bucket": [bucket]}
    )
    assert report([bucket, protected]) == []


# --- the free security defaults (issue 16) --------------------------------------------------

FREE_DEFAULT_RULES = (
    "s3-account-public-access-blocked",
    "ebs-encryption-by-default",
    "iam-password-policy-cis",
    "access-analyzer-organization",
)


def _without(type_, region=None):
    """Takes the resources of ``type_`` (in ``region`` only, when given) out of a stack."""

    def mistake(subjects):
        return [
            s
            for s in subjects
            if not (s.type == type_ and (region is None or s.props.get("region") == region))
        ]

    return mistake


def _with_props(type_, **props):
    """Sets ``props`` on every resource of ``type_``."""

    def mistake(subjects):
        return [replace(s, props={**s.props, **props}) if s.type == type_ else s for s in subjects]

    return mistake


def _first_with_props(type_, **props):
    """Sets ``props`` on the first resource of ``type_`` only."""

    def mistake(subjects):
        first = next(s for s in subjects if s.type == type_)
        return [replace(s, props={**s.props, **props}) if s is first else s for s in subjects]

    return mistake


MISTAKES = {
    "no account public access block": (
        "dev",
        _without(rules.ACCOUNT_PUBLIC_ACCESS_BLOCK),
        "s3-account-public-access-blocked",
    ),
    "public buckets not restricted": (
        "management",
        _with_props(rules.ACCOUNT_PUBLIC_ACCESS_BLOCK, restrictPublicBuckets=False),
        "s3-account-public-access-blocked",
    ),
    "no EBS default encryption in us-west-2": (
        "prod",
        _without(rules.EBS_ENCRYPTION_BY_DEFAULT, "us-west-2"),
        "ebs-encryption-by-default",
    ),
    "EBS default encryption disabled": (
        "shared",
        _first_with_props(rules.EBS_ENCRYPTION_BY_DEFAULT, enabled=False),
        "ebs-encryption-by-default",
    ),
    "no password policy": ("uat", _without(rules.PASSWORD_POLICY), "iam-password-policy-cis"),
    "password length 8": (
        "staging",
        _with_props(rules.PASSWORD_POLICY, minimumPasswordLength=8.0),
        "iam-password-policy-cis",
    ),
    "reuse of the last 5 only": (
        "dev",
        _with_props(rules.PASSWORD_POLICY, passwordReusePrevention=5.0),
        "iam-password-policy-cis",
    ),
    "no symbols": (
        "security",
        _with_props(rules.PASSWORD_POLICY, requireSymbols=False),
        "iam-password-policy-cis",
    ),
    "no analyzer": ("security", _without(rules.ANALYZER), "access-analyzer-organization"),
    "account analyzers": (
        "security",
        _with_props(rules.ANALYZER, type="ACCOUNT"),
        "access-analyzer-organization",
    ),
    "no analyzer in us-west-2": (
        "security",
        _without(rules.ANALYZER, "us-west-2"),
        "access-analyzer-organization",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_free_default_weakened_in_a_real_stack_fails_its_rule(recordings, mistake):
    """Reintroduce the mistake in the stack as recorded: the stack passes every rule as it is
    (test_every_stack_passes_every_rule); weakened, exactly the default's rule fails."""
    stack, make, rule = MISTAKES[mistake]
    subjects = subjects_of(recordings[stack])
    config = stack_config(recordings[stack])
    assert [v for v in rules.evaluate(subjects, config) if v.rule in FREE_DEFAULT_RULES] == []
    violations = rules.evaluate(make(subjects), config)
    assert {v.rule for v in violations} == {rule}, violations


def test_every_stack_has_the_free_defaults_it_is_checked_for(recordings):
    """The rules above pass the real stacks because the resources are there, not vacuously."""
    for stack, recording in recordings.items():
        types = {s.type for s in subjects_of(recording)}
        assert {
            rules.ACCOUNT_PUBLIC_ACCESS_BLOCK,
            rules.EBS_ENCRYPTION_BY_DEFAULT,
            rules.PASSWORD_POLICY,
        } <= types, stack
        assert (rules.ANALYZER in types) == (stack == "security"), stack


def test_only_the_security_stack_needs_the_organization_analyzer(recordings):
    dev = subjects_of(recordings["dev"])
    assert rules.ANALYZER not in {s.type for s in dev}
    assert [v for v in rules.evaluate(dev, {"stack": "dev"}) if v.rule in FREE_DEFAULT_RULES] == []
    (violation,) = [
        v
        for v in rules.evaluate(dev, {"stack": "security"})
        if v.rule == "access-analyzer-organization"
    ]
    assert "no IAM Access Analyzer analyzer of type ORGANIZATION" in violation.message


def test_the_cis_thresholds_are_the_landing_zones_policy():
    """The pack cannot import the program; its CIS figures are those PASSWORD_POLICY meets."""
    from diagnyx_infra.policies.security_services import PASSWORD_POLICY

    assert PASSWORD_POLICY["minimum_password_length"] >= rules.CIS_MIN_PASSWORD_LENGTH == 14
    assert PASSWORD_POLICY["password_reuse_prevention"] >= rules.CIS_PASSWORD_REUSE == 24
    for klass in rules.PASSWORD_CLASSES:  # requireSymbols -> require_symbols
        key = "".join(f"_{c.lower()}" if c.isupper() else c for c in klass)
        assert PASSWORD_POLICY[key] is True, key


def test_resources_checked_alone_are_no_account_stack():
    """Without the account provider (allowedAccountIds), a list of resources is not a stack that
    must carry the account-level settings; with it, each missing one is a violation."""
    key = S(rules.KEY, {"enableKeyRotation": True, "deletionWindowInDays": 30}, protect=True)
    assert [v.rule for v in rules.evaluate([key])] == ["required-tags"]
    in_account = replace(key, provider_props=ACCOUNT_PROVIDER)
    assert {v.rule for v in rules.evaluate([in_account])} >= {
        "s3-account-public-access-blocked",
        "ebs-encryption-by-default",
        "iam-password-policy-cis",
    }


def test_without_the_allowed_regions_the_providers_region_needs_ebs_encryption():
    east = S(
        rules.EBS_ENCRYPTION_BY_DEFAULT,
        {"enabled": True, "region": "us-east-1"},
        provider_props=ACCOUNT_PROVIDER,
    )
    assert rules._ebs_encrypted_by_default([east], {}) == []
    both = {"allowedRegions": ["us-east-1", "us-west-2"]}
    (message,) = rules._ebs_encrypted_by_default([east], both)
    assert "not enabled in us-west-2" in message
    # The provider's default for `enabled` is true.
    unset = replace(east, props={"region": "us-east-1"})
    assert rules._ebs_encrypted_by_default([unset], {}) == []


def test_the_config_bucket_is_no_audit_archive():
    """AWS Config's bucket shares the audit prefix and cannot have Object Lock."""
    (rule,) = [r for r in rules.RULES if r.name == "s3-audit-archive-object-lock"]
    config_bucket = S(rules.BUCKET, {"bucket": "diagnyx-audit-logs-config-333333333333"})
    assert rule.check(config_bucket, {}) == []
    archive = S(rules.BUCKET, {"bucket": "diagnyx-audit-logs-333333333333"})
    assert rule.check(archive, {}) != []


def test_the_pack_reads_the_stack_facts_from_the_engines_environment():
    regions = json.dumps(["us-east-1", "us-west-2"])
    environ = {
        "PULUMI_STACK": "security",
        "PULUMI_CONFIG": json.dumps({"diagnyx:allowedRegions": regions, "aws:region": "x"}),
    }
    assert pack.stack_facts(environ) == {
        "stack": "security",
        "allowedRegions": ["us-east-1", "us-west-2"],
    }
    assert pack.stack_facts({}) == {}
    assert pack.stack_facts({"PULUMI_CONFIG": "not json"}) == {}


def _in_account(subject) -> PolicyResource:
    provider = PolicyProviderResource("pulumi:providers:aws", ACCOUNT_PROVIDER, "urn:p", "p")
    return PolicyResource(
        subject.type,
        subject.props,
        f"urn:{subject.name}",
        subject.name,
        _options(subject),
        provider,
        None,
        [],
        {},
    )


@pytest.mark.parametrize(
    ("environ", "reported"),
    [
        ({"PULUMI_STACK": "security"}, {"access-analyzer-organization"}),
        (
            {
                "PULUMI_STACK": "dev",
                "PULUMI_CONFIG": json.dumps(
                    {"diagnyx:allowedRegions": '["us-east-1","eu-west-1"]'}
                ),
            },
            {"ebs-encryption-by-default"},
        ),
        ({"PULUMI_STACK": "dev"}, set()),
    ],
    ids=["security stack", "two allowed regions", "dev, regions unknown"],
)
def test_the_pack_applies_the_stack_facts(monkeypatch, environ, reported):
    """The pack's own stack policies, as the engine runs them: an account stack with the free
    defaults of one region and no analyzer."""
    for key in ("PULUMI_STACK", "PULUMI_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    stack = [
        S(rules.ACCOUNT_PUBLIC_ACCESS_BLOCK, dict.fromkeys(rules.ACCOUNT_BLOCK_KEYS, True)),
        S(rules.EBS_ENCRYPTION_BY_DEFAULT, {"enabled": True, "region": "us-east-1"}),
        S(rules.PASSWORD_POLICY, CIS_POLICY),
    ]
    resources = [_in_account(s) for s in stack]
    found = set()
    for policy in pack.policies():
        if isinstance(policy, StackValidationPolicy) and policy.name in FREE_DEFAULT_RULES:
            policy.validate(
                StackValidationArgs(resources),
                lambda message, urn=None, name=policy.name: found.add(name),
            )
    assert found == reported
