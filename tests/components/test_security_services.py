"""Security services under mocks: the free protections in every stack, the paid services off by
default and correct in every account once switched on (organization.securityServices)."""

import json

import pytest

from diagnyx_infra.engine.recording import RecordingMocks
from diagnyx_infra.engine.runner import run_stack
from diagnyx_infra.errors import ConfigError
from diagnyx_infra.naming import CICD_ROLE, audit_bucket_name
from diagnyx_infra.policies import security_services as services
from diagnyx_infra.policies.documents import size
from tests.helpers import ALL_STACKS, edited_project

REGIONS = ["us-east-1", "us-west-2"]  # Pulumi.yaml's allowedRegions
ACCOUNT_IDS = {
    "management": "111111111111",
    "shared": "222222222222",
    "security": "333333333333",
    "dev": "444444444444",
    "staging": "555555555555",
    "uat": "666666666666",
    "prod": "777777777777",
}
PAID_TYPES = ("aws:guardduty/", "aws:securityhub/", "aws:cfg/")


def statements(policy_json: str) -> dict:
    return {s["Sid"]: s for s in json.loads(policy_json)["Statement"]}


def switched_on(tmp_path, **switches) -> "object":
    def edit(stack, config):
        if stack == "management":
            config["diagnyx:organization"]["securityServices"] = switches

    return edited_project(tmp_path, edit)


@pytest.fixture(scope="module")
def all_on(tmp_path_factory):
    project = switched_on(
        tmp_path_factory.mktemp("all-on"), guardDuty=True, securityHub=True, awsConfig=True
    )
    return {stack: run_stack(stack, project) for stack in ALL_STACKS}


# --- free, always on ------------------------------------------------------------------------


def test_every_account_blocks_public_s3_encrypts_ebs_and_has_the_cis_password_policy(recordings):
    for stack, recording in recordings.items():
        (block,) = recording.of_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
        assert block.inputs["accountId"] == ACCOUNT_IDS[stack]
        for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"):
            assert block.inputs[setting] is True, (stack, setting)
        assert block.inputs["restrictPublicBuckets"] is True
        ebs = recording.of_type("aws:ebs/encryptionByDefault:EncryptionByDefault")
        assert sorted(e.inputs["region"] for e in ebs) == REGIONS, stack
        assert all(e.inputs["enabled"] is True for e in ebs)
        (password,) = recording.of_type("aws:iam/accountPasswordPolicy:AccountPasswordPolicy")
        assert password.inputs["minimumPasswordLength"] >= 14
        assert password.inputs["passwordReusePrevention"] >= 24
        for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"):
            key = f"require{kind}" if kind == "Numbers" or kind == "Symbols" else None
            key = key or f"require{kind}Characters"
            assert password.inputs[key] is True, (stack, key)
        # Nothing is lost: destroy or a dropped component leaves the account protected.
        for protection in (block, *ebs, password):
            assert protection.protect and protection.retain_on_delete, protection.urn


def test_security_account_owns_the_organization_analyzer_in_every_region(recordings, management):
    for stack, recording in recordings.items():
        analyzers = recording.of_type("aws:accessanalyzer/analyzer:Analyzer")
        if stack != "security":
            assert analyzers == [], stack
            continue
        assert sorted(a.inputs["region"] for a in analyzers) == REGIONS
        assert {a.inputs["type"] for a in analyzers} == {"ORGANIZATION"}
    (organization,) = management.of_type("aws:organizations/organization:Organization")
    assert "access-analyzer.amazonaws.com" in organization.inputs["awsServiceAccessPrincipals"]
    (delegation,) = management.of_type(
        "aws:organizations/delegatedAdministrator:DelegatedAdministrator"
    )
    assert delegation.inputs["servicePrincipal"] == "access-analyzer.amazonaws.com"
    assert delegation.inputs["accountId"] == "organization-account-security-id"
    assert organization.urn in delegation.dependencies


def test_deliveries_are_admitted_before_any_switch_so_no_deploy_order_breaks(recordings):
    """The security stack's buckets and key admit AWS Config and GuardDuty whatever the
    switches say: switching one on deploys management first, and its recorder delivers at
    once."""
    security = recordings["security"]
    policies = {
        p.name: statements(p.inputs["policy"])
        for p in security.of_type("aws:s3/bucketPolicy:BucketPolicy")
    }
    (archive,) = [p for name, p in policies.items() if "archive" in name]
    assert "GuardDutyExportsFindings" in archive
    (config,) = [p for name, p in policies.items() if "config-bucket" in name]
    assert sorted(config["ConfigDelivers"]["Condition"]["StringEquals"]["aws:SourceAccount"]) == (
        sorted(ACCOUNT_IDS.values())
    )
    (key,) = security.of_type("aws:kms/key:Key")
    assert {"ConfigEncryptsDeliveries", "GuardDutyEncryptsFindings"} <= set(
        statements(key.inputs["policy"])
    )
    for stack in ALL_STACKS:
        if stack != "security":
            (key,) = recordings[stack].of_type("aws:kms/key:Key")
            assert "ConfigEncryptsDeliveries" not in statements(key.inputs["policy"])


def test_paid_services_are_off_by_default(recordings, management):
    for stack, recording in recordings.items():
        paid = [r.type for r in recording.resources if r.type.startswith(PAID_TYPES)]
        assert paid == [], stack
    (organization,) = management.of_type("aws:organizations/organization:Organization")
    principals = organization.inputs["awsServiceAccessPrincipals"]
    for service in ("guardduty", "securityhub", "config"):
        assert f"{service}.amazonaws.com" not in principals


def test_the_alarm_covers_turning_the_services_off_in_every_account(recordings):
    for stack, recording in recordings.items():
        (rule,) = [
            r
            for r in recording.of_type("aws:cloudwatch/eventRule:EventRule")
            if r.inputs["name"].endswith("security-service-changes")
        ]
        pattern = json.loads(rule.inputs["eventPattern"])
        names = set(pattern["detail"]["eventName"])
        for disabling in (
            "DeleteAccountPublicAccessBlock",
            "DisableEbsEncryptionByDefault",
            "DeleteAccountPasswordPolicy",
            "DeleteAnalyzer",
            "DeleteDetector",
            "DisableSecurityHub",
            "StopConfigurationRecorder",
        ):
            assert disabling in names, (stack, disabling)


def _guard(recording) -> dict:
    (guard,) = [
        p
        for p in recording.of_type("aws:organizations/policy:Policy")
        if p.inputs["name"] == "DiagnyxProtectSecurityServices"
    ]
    return guard


def test_the_guard_covers_the_free_protections_and_only_switched_on_services(management):
    guard = _guard(management)
    denied = statements(guard.inputs["content"])
    turn_off, hiding = denied["ProtectSecurityServices"], denied["ProtectSecurityFindings"]
    assert "s3:PutAccountPublicAccessBlock" in turn_off["Action"]
    assert "access-analyzer:DeleteAnalyzer" in turn_off["Action"]
    assert "access-analyzer:CreateArchiveRule" in hiding["Action"]
    for statement in (turn_off, hiding):
        paid = ("guardduty:", "securityhub:", "config:")
        assert not any(a.startswith(paid) for a in statement["Action"])
    # Findings may be triaged in the security account only.
    assert hiding["Condition"]["StringNotEquals"] == {"aws:PrincipalAccount": "333333333333"}
    # On every OU: every member account is in one (the root's five places are taken).
    attached = {
        a.inputs["targetId"]
        for a in management.of_type("aws:organizations/policyAttachment:PolicyAttachment")
        if a.inputs["policyId"] == guard.id
    }
    ous = {
        o.id for o in management.of_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    assert attached == ous


# --- switched on ------------------------------------------------------------------------------


def test_security_hub_without_config_is_refused_by_name(tmp_path):
    project = switched_on(tmp_path, securityHub=True)
    with pytest.raises(ConfigError) as refused:
        run_stack("dev", project)
    message = str(refused.value)
    assert "securityServices" in message and "awsConfig" in message


def test_all_on_trusts_and_delegates_each_service_to_the_security_account(all_on):
    management = all_on["management"]
    (organization,) = management.of_type("aws:organizations/organization:Organization")
    principals = organization.inputs["awsServiceAccessPrincipals"]
    for service in ("guardduty", "securityhub", "config", "access-analyzer"):
        assert f"{service}.amazonaws.com" in principals
    delegated = {
        d.inputs["servicePrincipal"]: d.inputs["accountId"]
        for d in management.of_type(
            "aws:organizations/delegatedAdministrator:DelegatedAdministrator"
        )
    }
    assert delegated == {
        "access-analyzer.amazonaws.com": "organization-account-security-id",
        "config.amazonaws.com": "organization-account-security-id",
    }
    guard_duty_admins = management.of_type(
        "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount"
    )
    assert sorted(a.inputs["region"] for a in guard_duty_admins) == REGIONS
    (hub_admin,) = management.of_type(
        "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount"
    )
    for admin in (*guard_duty_admins, hub_admin):
        assert admin.inputs["adminAccountId"] == "organization-account-security-id"
        assert organization.urn in admin.dependencies


def test_all_on_guard_duty_covers_every_member_and_exports_to_the_archive(all_on):
    security = all_on["security"]
    configurations = security.of_type(
        "aws:guardduty/organizationConfiguration:OrganizationConfiguration"
    )
    assert sorted(c.inputs["region"] for c in configurations) == REGIONS
    assert {c.inputs["autoEnableOrganizationMembers"] for c in configurations} == {"ALL"}
    features = security.of_type(
        "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature"
    )
    assert {f.inputs["autoEnable"] for f in features} == {"NONE"}  # paid extras stay off
    assert len(features) == len(services.GUARD_DUTY_OPTIONAL_FEATURES) * len(REGIONS)
    (archive_policy,) = [
        p for p in security.of_type("aws:s3/bucketPolicy:BucketPolicy") if "archive" in p.name
    ]
    for export in security.of_type("aws:guardduty/publishingDestination:PublishingDestination"):
        assert export.inputs["destinationArn"] == (
            f"arn:aws:s3:::{audit_bucket_name(ACCOUNT_IDS['security'])}/guardduty/"
        )
        assert archive_policy.urn in export.dependencies
    granted = statements(archive_policy.inputs["policy"])
    assert granted["GuardDutyExportsFindings"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_IDS["security"]}
    }
    (key,) = security.of_type("aws:kms/key:Key")
    assert "GuardDutyEncryptsFindings" in statements(key.inputs["policy"])


def test_all_on_config_records_every_account_and_region_into_its_bucket(all_on):
    # Not the audit archive: AWS Config refuses a bucket with Object Lock.
    bucket = services.config_bucket_name(ACCOUNT_IDS["security"])
    assert bucket.startswith("diagnyx-audit-logs-")  # guarded by protect-baseline
    for stack, recording in all_on.items():
        recorders = recording.of_type("aws:cfg/recorder:Recorder")
        assert sorted(r.inputs["region"] for r in recorders) == REGIONS, stack
        for recorder in recorders:
            group = recorder.inputs["recordingGroup"]
            assert group["allSupported"] is True
            # Global types (IAM) once per account, in its home region.
            assert group["includeGlobalResourceTypes"] is (recorder.inputs["region"] == REGIONS[0])
            mode = recorder.inputs["recordingMode"]
            assert mode["recordingFrequency"] == "CONTINUOUS"
            override = mode["recordingModeOverride"]
            assert override["recordingFrequency"] == "DAILY"
            assert "AWS::EC2::NetworkInterface" in override["resourceTypes"]
        channels = recording.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
        assert {(c.inputs["s3BucketName"], c.inputs["s3KeyPrefix"]) for c in channels} == {
            (bucket, "config")
        }
        statuses = recording.of_type("aws:cfg/recorderStatus:RecorderStatus")
        assert len(statuses) == 2 and all(s.inputs["isEnabled"] for s in statuses)
    (config_bucket,) = [
        b
        for b in all_on["security"].of_type("aws:s3/bucket:Bucket")
        if b.inputs["bucket"] == bucket
    ]
    assert "objectLockEnabled" not in config_bucket.inputs
    assert config_bucket.protect and config_bucket.retain_on_delete
    (policy,) = [
        p
        for p in all_on["security"].of_type("aws:s3/bucketPolicy:BucketPolicy")
        if "config-bucket" in p.name
    ]
    delivers = statements(policy.inputs["policy"])["ConfigDelivers"]
    assert sorted(delivers["Condition"]["StringEquals"]["aws:SourceAccount"]) == sorted(
        ACCOUNT_IDS.values()
    )
    assert (
        f"arn:aws:s3:::{bucket}/config/AWSLogs/{ACCOUNT_IDS['prod']}/Config/*"
        in (delivers["Resource"])
    )
    (aggregator,) = all_on["security"].of_type(
        "aws:cfg/configurationAggregator:ConfigurationAggregator"
    )
    source = aggregator.inputs["organizationAggregationSource"]
    assert source["regions"] == REGIONS and source["allRegions"] is False


def test_all_on_security_hub_is_centrally_configured_from_the_root(all_on):
    security = all_on["security"]
    (configuration,) = security.of_type(
        "aws:securityhub/organizationConfiguration:OrganizationConfiguration"
    )
    assert configuration.inputs["organizationConfiguration"] == {"configurationType": "CENTRAL"}
    assert configuration.inputs["autoEnable"] is False
    (aggregator,) = security.of_type("aws:securityhub/findingAggregator:FindingAggregator")
    assert aggregator.inputs["linkingMode"] == "SPECIFIED_REGIONS"
    assert aggregator.inputs["specifiedRegions"] == ["us-west-2"]
    assert aggregator.urn in configuration.dependencies
    (policy,) = security.of_type("aws:securityhub/configurationPolicy:ConfigurationPolicy")
    standards = policy.inputs["configurationPolicy"]["enabledStandardArns"]
    assert any("cis-aws-foundations-benchmark/v/3.0.0" in s for s in standards)
    assert any("aws-foundational-security-best-practices" in s for s in standards)
    (association,) = security.of_type(
        "aws:securityhub/configurationPolicyAssociation:ConfigurationPolicyAssociation"
    )
    assert association.inputs["targetId"] == "r-mock"  # the organization's root


def test_all_on_guard_names_each_service_and_fits_the_scp_limit(all_on):
    guard = _guard(all_on["management"])
    denied = statements(guard.inputs["content"])
    for action in (
        "guardduty:DeleteDetector",
        "securityhub:DisableSecurityHub",
        "config:StopConfigurationRecorder",
    ):
        assert action in denied["ProtectSecurityServices"]["Action"]
    for action in ("guardduty:ArchiveFindings", "securityhub:BatchUpdateFindings"):
        assert action in denied["ProtectSecurityFindings"]["Action"]
    assert size(json.loads(guard.inputs["content"])) <= 5120  # the default scpMaxChars


def test_the_alarm_matches_every_call_the_guard_denies(all_on):
    """One list: each action the guard denies, by its CloudTrail event name and source."""
    (rule,) = [
        r
        for r in all_on["dev"].of_type("aws:cloudwatch/eventRule:EventRule")
        if r.inputs["name"].endswith("security-service-changes")
    ]
    pattern = json.loads(rule.inputs["eventPattern"])
    denied = statements(_guard(all_on["management"]).inputs["content"])
    for sid in ("ProtectSecurityServices", "ProtectSecurityFindings"):
        for action in denied[sid]["Action"]:
            prefix, name = action.split(":")
            assert "*" not in name, action  # an event name is never a wildcard
            assert name in pattern["detail"]["eventName"], action
            assert f"{services.EVENT_SOURCES[prefix]}" in pattern["detail"]["eventSource"]
    assert "DeleteAccountPublicAccessBlock" in pattern["detail"]["eventName"]


def test_all_on_only_the_security_deploy_role_passes_only_the_aggregator_role(all_on):
    for stack, recording in all_on.items():
        (policy,) = [
            p
            for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")
            if p.inputs["name"] == "CICDPolicy"
        ]
        granted = statements(policy.inputs["policy"])
        passing = granted.get("PassConfigAggregatorRoleToConfig")
        if stack != "security":
            assert passing is None, stack
            continue
        assert passing["Resource"] == (
            f"arn:aws:iam::{ACCOUNT_IDS['security']}:role/{services.CONFIG_AGGREGATOR_ROLE}"
        )
        assert passing["Condition"] == {
            "StringEquals": {"iam:PassedToService": "config.amazonaws.com"}
        }
    (role,) = [
        r
        for r in all_on["security"].of_type("aws:iam/role:Role")
        if r.inputs["name"] == services.CONFIG_AGGREGATOR_ROLE
    ]
    assert "permissionsBoundary" in role.inputs
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "config.amazonaws.com"}]
    assert CICD_ROLE not in json.dumps(trust)


@pytest.mark.parametrize("switch", ["guardDuty", "awsConfig"])
def test_one_switch_adds_only_its_own_service(tmp_path, switch):
    project = switched_on(tmp_path, **{switch: True})
    own = {"guardDuty": "aws:guardduty/", "awsConfig": "aws:cfg/"}[switch]
    for stack in ("management", "security"):
        recording = run_stack(stack, project)
        paid = {
            r.type.split("/")[0] + "/" for r in recording.resources if r.type.startswith(PAID_TYPES)
        }
        assert paid == {own}, (stack, paid)


class _NotYetDelegated(RecordingMocks):
    """Organizations before the management stack's deploy: no delegated administrator."""

    def call(self, args):
        if args.token == "aws:organizations/getDelegatedAdministrators:getDelegatedAdministrators":
            return {"delegatedAdministrators": [], "id": args.args["servicePrincipal"]}, []
        return super().call(args)


def test_the_administration_waits_for_its_delegation_and_says_so(tmp_path):
    """Switched on in a pull request, the security stack previews before the management stack
    has delegated anything: it registers none of the organization-wide parts (each would be
    refused) and names the deploy that lifts the wait; the Config bucket is there regardless."""
    project = switched_on(tmp_path, guardDuty=True, securityHub=True, awsConfig=True)
    security = run_stack("security", project, mocks=_NotYetDelegated())
    organization_wide = (
        "aws:accessanalyzer/",
        "aws:guardduty/",
        "aws:securityhub/",
        "aws:cfg/configurationAggregator",
    )
    assert [r.type for r in security.resources if r.type.startswith(organization_wide)] == []
    for principal in ("access-analyzer", "guardduty", "securityhub", "config"):
        assert any(
            w.startswith(f"{principal}.amazonaws.com's organization settings wait")
            and "`pulumi up -s management`" in w
            for w in security.warnings
        ), principal
    buckets = [b.inputs["bucket"] for b in security.of_type("aws:s3/bucket:Bucket")]
    assert services.config_bucket_name(ACCOUNT_IDS["security"]) in buckets
    # Its own recorder does not wait: it delivers to the bucket of the same deploy.
    assert len(security.of_type("aws:cfg/recorder:Recorder")) == len(REGIONS)


def test_all_on_the_detectors_we_hold_run_foundational_detection_only(all_on):
    """CreateDetector, and the designation that turns GuardDuty on, enable the paid protection
    plans by default; the cost estimate prices foundational detection only, so they are off."""
    for stack in ("management", "security"):
        features = all_on[stack].of_type("aws:guardduty/detectorFeature:DetectorFeature")
        assert {(f.inputs["name"], f.inputs["region"]) for f in features} == {
            (feature, region)
            for feature in services.GUARD_DUTY_OPTIONAL_FEATURES
            for region in REGIONS
        }, stack
        assert {f.inputs["status"] for f in features} == {"DISABLED"}
    (management_detector, _) = all_on["management"].of_type("aws:guardduty/detector:Detector")
    (feature, *_) = [
        f
        for f in all_on["management"].of_type("aws:guardduty/detectorFeature:DetectorFeature")
        if f.inputs["region"] == management_detector.inputs["region"]
    ]
    assert feature.inputs["detectorId"] == management_detector.id
    assert all_on["security"].of_type("aws:guardduty/detector:Detector") == []  # designation's
