"""The organization trail and its archive in the security account; no paid trail elsewhere."""

import json

from diagnyx_infra.policies.audit import security_event_patterns
from tests.components.test_baseline import assert_hardened, of_bucket, statements
from tests.helpers import ALL_STACKS

TRAIL = "aws:cloudtrail/trail:Trail"
SECURITY = "333333333333"
MANAGEMENT = "111111111111"
# The security account creates the trail as CloudTrail's delegated administrator, but the
# management account owns it: its ARN, and so every aws:SourceArn for it, carries management's ID.
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/diagnyx-organization-trail"


def archive_bucket(security):
    (bucket,) = [
        b
        for b in security.of_type("aws:s3/bucket:Bucket")
        if b.inputs["bucket"] == f"diagnyx-audit-logs-{SECURITY}"
    ]
    return bucket


def test_only_the_security_account_has_a_trail(recordings):
    with_trails = {s for s in ALL_STACKS if recordings[s].of_type(TRAIL)}
    assert with_trails == {"security"}


def test_organization_trail_settings(recordings):
    security = recordings["security"]
    (trail,) = security.of_type(TRAIL)
    assert trail.inputs["name"] == "diagnyx-organization-trail"
    assert trail.inputs["isOrganizationTrail"] is True
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    (key,) = security.of_type("aws:kms/key:Key")
    assert trail.inputs["kmsKeyId"] == key.state["arn"]
    assert trail.inputs["s3BucketName"] == archive_bucket(security).inputs["bucket"]
    assert trail.protect and trail.retain_on_delete


def test_archive_is_locked_for_seven_years_and_moves_to_cheaper_storage(recordings):
    security = recordings["security"]
    bucket = archive_bucket(security)
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.protect and bucket.retain_on_delete
    lock = of_bucket(
        security, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", bucket
    )
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}
    lifecycle = of_bucket(
        security, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket
    )
    (rule,) = lifecycle.inputs["rules"]
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    assert rule["expiration"] == {"days": 2557}


def test_archive_accepts_delivery_only_from_the_organization_trail(recordings):
    security = recordings["security"]
    policy = assert_hardened(security, archive_bucket(security))
    for sid in ("CloudTrailAclCheck", "CloudTrailWrite"):
        statement = policy[sid]
        assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    assert policy["CloudTrailWrite"]["Resource"].endswith("/AWSLogs/*")


def test_security_key_lets_only_the_trail_encrypt_logs(recordings):
    (key,) = recordings["security"].of_type("aws:kms/key:Key")
    trail_statement = statements(key.inputs["policy"])["OrganizationTrailEncryptsLogs"]
    assert trail_statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trail_statement["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}
    assert trail_statement["Action"] == "kms:GenerateDataKey*"
    describe = statements(key.inputs["policy"])["OrganizationTrailDescribesKey"]
    assert describe["Action"] == "kms:DescribeKey"
    assert describe["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    for other in ALL_STACKS:
        if other != "security":
            (key,) = recordings[other].of_type("aws:kms/key:Key")
            assert "OrganizationTrailEncryptsLogs" not in statements(key.inputs["policy"])


def test_security_account_is_cloudtrail_delegated_administrator(management):
    # Through CloudTrail's own resource: registering through Organizations would not create
    # CloudTrail's service-linked role.
    assert "cloudtrail.amazonaws.com" not in {
        d.inputs["servicePrincipal"]
        for d in management.of_type(
            "aws:organizations/delegatedAdministrator:DelegatedAdministrator"
        )
    }
    (delegation,) = management.of_type(
        "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount"
    )
    (security,) = [
        a
        for a in management.of_type("aws:organizations/account:Account")
        if a.name.endswith("-security")
    ]
    assert delegation.inputs["accountId"] == security.id
    (organization,) = management.of_type("aws:organizations/organization:Organization")
    assert organization.urn in delegation.dependencies
    assert "cloudtrail.amazonaws.com" in organization.inputs["awsServiceAccessPrincipals"]


def test_security_deploy_role_may_read_what_cloudtrail_needs(recordings):
    reads = {
        "organizations:DescribeOrganization",
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:ListAccounts",
        # Security Hub's configuration policy is attached to the organization's root.
        "organizations:ListDelegatedAdministrators",
        "organizations:ListRoots",
    }
    for stack in ALL_STACKS:
        (policy,) = [
            p
            for p in recordings[stack].of_type("aws:iam/rolePolicy:RolePolicy")
            if p.inputs["name"] == "CICDPolicy"
        ]
        granted = statements(policy.inputs["policy"]).get("OrganizationTrailReads")
        if stack == "security":
            assert set(granted["Action"]) == reads
        else:
            assert granted is None


def test_security_alarms_deliver_to_the_alarm_topic(recordings):
    for stack in ALL_STACKS:
        recording = recordings[stack]
        rules = {
            r.inputs["name"]: r
            for r in recording.of_type("aws:cloudwatch/eventRule:EventRule")
            if "region" not in r.inputs  # the home region's: the other forwards (alarm tests)
        }
        expected = security_event_patterns(is_management=stack == "management")
        assert set(rules) == {f"diagnyx-security-{name}" for name in expected}
        alarm_topic = next(
            t
            for t in recording.of_type("aws:sns/topic:Topic")
            if t.inputs["name"] == "diagnyx-alarms"
        )
        targets = [
            t
            for t in recording.of_type("aws:cloudwatch/eventTarget:EventTarget")
            if "region" not in t.inputs
        ]
        assert {t.inputs["rule"] for t in targets} == set(rules)
        assert {t.inputs["arn"] for t in targets} == {alarm_topic.state["arn"]}
        root = json.loads(rules["diagnyx-security-root-sign-in"].inputs["eventPattern"])
        assert root["detail"]["userIdentity"]["type"] == ["Root"]


def test_account_trail_only_when_config_asks():
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_config

    def ask(config):
        config["diagnyx:accountTrail"] = "true"

    recording = run_stack("dev", config=edited_config("dev", ask))
    (trail,) = recording.of_type(TRAIL)
    assert trail.inputs["isOrganizationTrail"] is False
    assert trail.inputs["name"] == "diagnyx-account-trail"
