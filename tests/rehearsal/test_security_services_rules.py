"""The security services in the emulator (rehearsal/handlers.py, aws_rules.py, moto_gaps.py),
one call at a time: each rule AWS enforces and moto does not, shown refusing the mistake and
accepting the right order; what moto lacks reported as not emulated, after AWS's checks.
test_security_services_rehearsal.py carries the program's own resources through them."""

import json
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.policies import security_services as services
from diagnyx_infra.policies.baseline import deny_insecure_transport
from diagnyx_infra.rehearsal import aws_rules as rules
from diagnyx_infra.rehearsal import handlers
from diagnyx_infra.rehearsal.aws_rules import RuleViolation
from diagnyx_infra.rehearsal.emulator import (
    HANDLERS,
    PROVIDER,
    EmulatorMocks,
    _update_organization,
)
from diagnyx_infra.rehearsal.handlers import NOT_EMULATED, Context, NotEmulated
from diagnyx_infra.rehearsal.rehearse import REGION, emulated_aws
from diagnyx_infra.rehearsal.world import Deployed, World

OTHER_REGION = "us-west-2"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"
CONFIG = "config.amazonaws.com"
ROLE = "arn:aws:iam::{}:role/DiagnyxConfigAggregator"


@dataclass
class Organization:
    world: World
    management: Context
    security: Context
    dev: Context

    def trust(self, principal: str) -> None:
        self.world.management.client("organizations").enable_aws_service_access(
            ServicePrincipal=principal
        )

    def delegate(self, principal: str) -> None:
        rules.delegated_administrator(
            self.management,
            {"accountId": self.security.aws.account_id, "servicePrincipal": principal},
        )


@pytest.fixture
def org():
    with emulated_aws():  # moto in this process, as the rehearsal's
        management = Aws.from_environment(REGION)
        world = World(management, REGION)
        organizations = management.client("organizations")
        organizations.create_organization(FeatureSet="ALL")

        def member(name: str) -> Context:
            created = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
            account_id = created["CreateAccountStatus"]["AccountId"]
            return Context(management.assume(account_id), name, world)

        yield Organization(
            world, Context(management, "management", world), member("security"), member("dev")
        )


def test_every_type_moto_lacks_still_goes_through_a_handler():
    """A type not emulated is named with its reason, after its handler ran AWS's checks."""
    assert NOT_EMULATED
    for type_, reason in NOT_EMULATED.items():
        assert type_ in HANDLERS, type_
        assert reason.startswith("moto does not implement "), type_


# --- trusted access and delegated administrators ------------------------------------------


def test_a_delegated_administrator_needs_the_services_trusted_access(org):
    with pytest.raises(RuleViolation, match="unrecognized service principal"):
        org.delegate(CONFIG)
    org.trust(CONFIG)
    org.delegate(CONFIG)
    admins = org.world.management.client("organizations").list_delegated_administrators(
        ServicePrincipal=CONFIG
    )["DelegatedAdministrators"]
    assert [a["Id"] for a in admins] == [org.security.aws.account_id]
    with pytest.raises(RuleViolation, match="not the organization's management account"):
        rules.delegated_administrator(
            org.security,
            {"accountId": org.dev.aws.account_id, "servicePrincipal": CONFIG},
        )


def test_the_organization_analyzer_needs_trusted_access_and_its_delegated_administrator(org):
    analyzer = {"analyzerName": "diagnyx-organization", "type": "ORGANIZATION", "region": REGION}
    with pytest.raises(RuleViolation, match="trusted access for access-analyzer"):
        rules.access_analyzer(org.security, analyzer)
    org.trust(rules.ACCESS_ANALYZER)
    with pytest.raises(RuleViolation, match="neither the management account nor a delegated"):
        rules.access_analyzer(org.security, analyzer)
    org.delegate(rules.ACCESS_ANALYZER)
    # AWS's checks pass; moto has no Access Analyzer, which the rehearsal reports by name.
    with pytest.raises(NotEmulated, match="access-analyzer:CreateAnalyzer") as gap:
        rules.access_analyzer(org.security, analyzer)
    assert str(gap.value) == NOT_EMULATED[ANALYZER]


def test_the_organization_aggregator_needs_trusted_access_and_its_delegated_administrator(org):
    security_id = org.security.aws.account_id
    aggregator = {
        "name": services.CONFIG_AGGREGATOR,
        "organizationAggregationSource": {
            "allRegions": False,
            "regions": [REGION, OTHER_REGION],
            "roleArn": ROLE.format(security_id),
        },
        "region": REGION,
    }
    with pytest.raises(RuleViolation, match="OrganizationAccessDeniedException: trusted access"):
        rules.config_aggregator(org.security, aggregator)
    org.trust(CONFIG)
    with pytest.raises(RuleViolation, match="neither the management account nor a delegated"):
        rules.config_aggregator(org.security, aggregator)
    org.delegate(CONFIG)
    _, outputs = rules.config_aggregator(org.security, aggregator)
    found = org.security.client("config").describe_configuration_aggregators()
    (made,) = found["ConfigurationAggregators"]
    assert made["ConfigurationAggregatorArn"] == outputs["arn"]
    assert made["OrganizationAggregationSource"]["AwsRegions"] == [REGION, OTHER_REGION]


def test_guardduty_and_security_hub_administrators_are_designated_by_the_management_account(org):
    security_id = org.security.aws.account_id
    in_other_region = {"adminAccountId": security_id, "region": OTHER_REGION}
    with pytest.raises(RuleViolation, match="not the organization's management account"):
        rules.guardduty_admin(org.security, in_other_region)
    with pytest.raises(RuleViolation, match="not a member of the organization"):
        rules.guardduty_admin(org.management, {**in_other_region, "adminAccountId": "1" * 12})
    rules.guardduty_admin(org.management, in_other_region)
    organizations = org.world.management.client("organizations")
    trusted = organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert rules.GUARDDUTY in {p["ServicePrincipal"] for p in trusted}
    admins = organizations.list_delegated_administrators(ServicePrincipal=rules.GUARDDUTY)
    assert [a["Id"] for a in admins["DelegatedAdministrators"]] == [security_id]
    # GuardDuty is on in the administrator account where it was designated, and only there.
    assert org.security.client("guardduty", OTHER_REGION).list_detectors()["DetectorIds"]
    assert not org.security.client("guardduty", REGION).list_detectors()["DetectorIds"]

    rules.security_hub_admin(org.management, {"adminAccountId": security_id, "region": REGION})
    assert org.security.client("securityhub", REGION).describe_hub()["HubArn"]


def test_a_second_detector_or_hub_in_the_administrator_account_is_refused(org):
    """Designation turned the service on in the administrator account: its own detector or hub
    in that Region is a second one."""
    security_id = org.security.aws.account_id
    rules.guardduty_admin(org.management, {"adminAccountId": security_id, "region": REGION})
    with pytest.raises(RuleViolation, match="a detector already exists for the current account"):
        rules.guardduty_detector(org.security, {"enable": True, "region": REGION})
    detector_id, outputs = rules.guardduty_detector(org.security, {"region": OTHER_REGION})
    assert outputs["arn"].endswith(f":{security_id}:detector/{detector_id}")

    rules.security_hub_admin(org.management, {"adminAccountId": security_id, "region": REGION})
    with pytest.raises(RuleViolation, match="already subscribed to Security Hub"):
        rules.security_hub_account(
            org.security, {"enableDefaultStandards": False, "region": REGION}
        )
    # The management account enables its own before it designates (the provider's example).
    rules.security_hub_account(org.management, {"enableDefaultStandards": False, "region": REGION})


def test_guardduty_organization_settings_come_from_its_administrator_in_that_region(org):
    security_id = org.security.aws.account_id
    detector_id = org.security.client("guardduty", REGION).create_detector(Enable=True)[
        "DetectorId"
    ]
    members = {"detectorId": detector_id, "autoEnableOrganizationMembers": "ALL", "region": REGION}
    with pytest.raises(RuleViolation, match="not GuardDuty's delegated administrator in us-east"):
        rules.guardduty_organization_configuration(org.security, members)
    rules.guardduty_admin(org.management, {"adminAccountId": security_id, "region": REGION})
    # Its own detector, made before the designation, is the one designation keeps.
    assert org.security.client("guardduty", REGION).list_detectors()["DetectorIds"] == [detector_id]
    with pytest.raises(RuleViolation, match="no detector 0000"):
        rules.guardduty_organization_feature(
            org.security, {**members, "detectorId": "0" * 32, "name": "S3_DATA_EVENTS"}
        )
    # moto lacks the call; its effect is emulated: every member gets a detector in the Region,
    # the administrator keeps its own, and the management account is left to its own stack.
    assert org.dev.client("guardduty", REGION).list_detectors()["DetectorIds"] == []
    rules.guardduty_organization_configuration(org.security, members)
    rules.guardduty_organization_configuration(org.security, members)  # idempotent
    assert len(org.dev.client("guardduty", REGION).list_detectors()["DetectorIds"]) == 1
    assert org.dev.client("guardduty", OTHER_REGION).list_detectors()["DetectorIds"] == []
    assert org.security.client("guardduty", REGION).list_detectors()["DetectorIds"] == [detector_id]
    assert org.management.client("guardduty", REGION).list_detectors()["DetectorIds"] == []
    # NEW would leave existing members alone.
    other = org.dev.client("guardduty", OTHER_REGION)
    rules.guardduty_admin(org.management, {"adminAccountId": security_id, "region": OTHER_REGION})
    (other_detector,) = org.security.client("guardduty", OTHER_REGION).list_detectors()[
        "DetectorIds"
    ]
    rules.guardduty_organization_configuration(
        org.security,
        {"detectorId": other_detector, "autoEnableOrganizationMembers": "NEW",
         "region": OTHER_REGION},
    )  # fmt: skip
    assert other.list_detectors()["DetectorIds"] == []
    with pytest.raises(NotEmulated, match="guardduty:UpdateOrganizationConfiguration"):
        rules.guardduty_organization_feature(
            org.security, {**members, "name": "S3_DATA_EVENTS", "autoEnable": "NONE"}
        )


# --- deliveries to buckets of the security account ----------------------------------------


def _bucket(owner: Context, name: str, statements: list[dict]) -> str:
    arn = f"arn:aws:s3:::{name}"
    owner.client("s3").create_bucket(Bucket=name)
    policy = {"Version": "2012-10-17", "Statement": [deny_insecure_transport(arn), *statements]}
    owner.client("s3").put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return arn


def test_a_config_delivery_channel_needs_the_bucket_to_admit_the_recording_account(org):
    security_id, dev_id = org.security.aws.account_id, org.dev.aws.account_id
    role = org.dev.client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
    # AWS Config's service-linked role has its own name (moto_gaps.py).
    assert role["Role"]["RoleName"] == "AWSServiceRoleForConfig"
    recorder = {
        "name": services.CONFIG_RECORDER,
        "roleArn": role["Role"]["Arn"],
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        "recordingMode": {
            "recordingFrequency": "CONTINUOUS",
            "recordingModeOverride": {  # one block in the provider, a list in the API
                "resourceTypes": list(services.CONFIG_DAILY_TYPES),
                "recordingFrequency": "DAILY",
            },
        },
        "region": OTHER_REGION,
    }
    handlers.config_recorder(org.dev, recorder)
    bucket = services.config_bucket_name(security_id)
    channel = {
        "name": services.CONFIG_RECORDER,
        "s3BucketName": bucket,
        "s3KeyPrefix": services.CONFIG_PREFIX,
        "region": OTHER_REGION,
    }
    # Before the security stack made the bucket (a recorder deployed too early).
    with pytest.raises(RuleViolation, match=f"NoSuchBucketException: bucket {bucket} does not"):
        rules.config_delivery_channel(org.dev, channel)
    # A bucket whose policy names the security account only, not dev.
    _bucket(org.security, bucket, services.config_bucket_statements(f"arn:aws:s3:::{bucket}",
                                                                   [security_id]))  # fmt: skip
    with pytest.raises(RuleViolation, match="InsufficientDeliveryPolicyException") as refused:
        rules.config_delivery_channel(org.dev, channel)
    assert f"for account {dev_id}" in str(refused.value)
    statements = services.config_bucket_statements(f"arn:aws:s3:::{bucket}", [security_id, dev_id])
    org.security.client("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    rules.config_delivery_channel(org.dev, channel)
    config = org.dev.client("config", OTHER_REGION)
    (made,) = config.describe_delivery_channels()["DeliveryChannels"]
    assert (made["s3BucketName"], made["s3KeyPrefix"]) == (bucket, services.CONFIG_PREFIX)
    handlers.config_recorder_status(
        org.dev, {"name": services.CONFIG_RECORDER, "isEnabled": True, "region": OTHER_REGION}
    )
    (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True
    assert not org.dev.client("config", REGION).describe_configuration_recorders()[
        "ConfigurationRecorders"
    ]


def test_a_guardduty_export_needs_the_bucket_and_the_key_to_admit_guardduty(org):
    security_id = org.security.aws.account_id
    kms = org.security.client("kms")
    owner_only = {
        "Sid": "Owner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{security_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    key_arn = kms.create_key(
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [owner_only]})
    )["KeyMetadata"]["Arn"]
    detector_id, _ = rules.guardduty_detector(org.security, {"region": REGION})
    archive = _bucket(org.security, "diagnyx-audit-logs-test", [])
    export = {
        "detectorId": detector_id,
        "destinationArn": f"{archive}/{services.GUARD_DUTY_PREFIX}/",
        "kmsKeyArn": key_arn,
        "region": REGION,
    }
    with pytest.raises(
        RuleViolation, match=r"does not let guardduty\.amazonaws\.com s3:GetBucketLocation"
    ):
        rules.guardduty_publishing_destination(org.security, export)
    statements = services.archive_delivery_statements(archive, security_id)
    org.security.client("s3").put_bucket_policy(
        Bucket="diagnyx-audit-logs-test",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    with pytest.raises(RuleViolation, match=f"the policy of key {key_arn} does not let guardduty"):
        rules.guardduty_publishing_destination(org.security, export)
    key_statements = services.audit_key_statements([security_id], security_id)
    kms.put_key_policy(
        KeyId=key_arn,
        PolicyName="default",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [owner_only, *key_statements]}),
    )
    with pytest.raises(NotEmulated, match="guardduty:CreatePublishingDestination"):
        rules.guardduty_publishing_destination(org.security, export)


# --- Security Hub's central configuration -------------------------------------------------


def test_central_configuration_needs_the_home_region_first(org):
    security_id = org.security.aws.account_id
    rules.security_hub_admin(org.management, {"adminAccountId": security_id, "region": REGION})
    central = {
        "autoEnable": False,
        "autoEnableStandards": "NONE",
        "organizationConfiguration": {"configurationType": "CENTRAL"},
        "region": REGION,
    }
    policy = {"name": "diagnyx-standards", "region": REGION}
    with pytest.raises(RuleViolation, match="it has no finding aggregator"):
        rules.security_hub_organization_configuration(org.security, central)
    with pytest.raises(RuleViolation, match="central configuration is not on"):
        rules.security_hub_configuration_policy(org.security, policy)
    with pytest.raises(RuleViolation, match="Security Hub is not enabled in account"):
        rules.security_hub_finding_aggregator(
            org.security, {"linkingMode": "NO_REGIONS", "region": OTHER_REGION}
        )
    with pytest.raises(NotEmulated, match="securityhub:CreateFindingAggregator"):
        rules.security_hub_finding_aggregator(
            org.security, {"linkingMode": "SPECIFIED_REGIONS", "region": REGION}
        )
    assert org.world.finding_aggregators == {security_id: REGION}
    # moto takes the provider's OrganizationConfiguration without a Status (moto_gaps.py).
    rules.security_hub_organization_configuration(org.security, central)
    described = org.security.client("securityhub").describe_organization_configuration()
    assert described["OrganizationConfiguration"]["ConfigurationType"] == "CENTRAL"
    with pytest.raises(NotEmulated, match="securityhub:CreateConfigurationPolicy"):
        rules.security_hub_configuration_policy(org.security, policy)
    root = org.world.management.client("organizations").list_roots()["Roots"][0]["Id"]
    with pytest.raises(RuleViolation, match="neither the organization's root, an OU nor"):
        rules.security_hub_policy_association(
            org.security, {"policyId": "p", "targetId": "ou-none-00000000", "region": REGION}
        )
    # moto lacks the association; its effect on the root is emulated: Security Hub on in every
    # account of the organization, management included, in the home Region (no linked Region
    # here: the aggregator above links none).
    for account in (org.management, org.dev):
        with pytest.raises(ClientError):
            account.client("securityhub", REGION).describe_hub()
    rules.security_hub_policy_association(
        org.security, {"policyId": "p", "targetId": root, "region": REGION}
    )
    for account in (org.management, org.security, org.dev):
        assert account.client("securityhub", REGION).describe_hub()["HubArn"]
        with pytest.raises(ClientError):
            account.client("securityhub", OTHER_REGION).describe_hub()


# --- getOrganization, regional resources, the organization's update ------------------------


def test_get_organization_names_the_roots_only_to_the_management_account_and_administrators(org):
    root = org.world.management.client("organizations").list_roots()["Roots"][0]["Id"]
    assert [r["id"] for r in rules.organization_data(org.management.aws, org.world)["roots"]] == [
        root
    ]
    # A member that administers nothing reads the organization, not its roots: the program's
    # `roots[0]` would fail there.
    member = rules.organization_data(org.security.aws, org.world)
    assert member["masterAccountId"] == org.management.aws.account_id
    assert member["roots"] == [] and member["accounts"] == []
    org.trust(rules.ACCESS_ANALYZER)
    org.delegate(rules.ACCESS_ANALYZER)
    administrator = rules.organization_data(org.security.aws, org.world)
    assert [r["id"] for r in administrator["roots"]] == [root]
    assert rules.ACCESS_ANALYZER in administrator["awsServiceAccessPrincipals"]

    # The program's invoke, through the emulator's mocks, in the security account's provider.
    mocks = EmulatorMocks("security", org.world.management, org.world)
    role = f"arn:aws:iam::{org.security.aws.account_id}:role/OrganizationAccountAccessRole"
    provider_id, _ = mocks.new_resource(
        MockResourceArgs(
            PROVIDER, "security", {"assumeRoles": json.dumps([{"roleArn": role}])}, None,
            None, True,
        )
    )  # fmt: skip
    answer, _ = mocks.call(
        MockCallArgs("aws:organizations/getOrganization:getOrganization", {}, f"urn::{provider_id}")
    )
    assert [r["id"] for r in answer["roots"]] == [root]


def test_regional_resources_are_made_in_the_region_they_name(org):
    handlers.ebs_encryption_by_default(org.dev, {"enabled": True, "region": OTHER_REGION})
    assert org.dev.client("ec2", OTHER_REGION).get_ebs_encryption_by_default()[
        "EbsEncryptionByDefault"
    ]
    assert not org.dev.client("ec2", REGION).get_ebs_encryption_by_default()[
        "EbsEncryptionByDefault"
    ]
    dev_id = org.dev.aws.account_id
    handlers.account_public_access_block(
        org.dev,
        {"accountId": dev_id, **dict.fromkeys(
            ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
            True,
        )},
    )  # fmt: skip
    block = org.dev.client("s3control").get_public_access_block(AccountId=dev_id)
    assert all(block["PublicAccessBlockConfiguration"].values())
    policy = {
        "".join(w.title() if n else w for n, w in enumerate(k.split("_"))): v
        for k, v in services.PASSWORD_POLICY.items()
    }
    handlers.account_password_policy(org.dev, policy)
    applied = org.dev.client("iam").get_account_password_policy()["PasswordPolicy"]
    assert (applied["MinimumPasswordLength"], applied["PasswordReusePrevention"]) == (14, 24)


def test_trusted_access_follows_the_organizations_list_on_update(org):
    """The list is authoritative: a service trusted outside it loses its access."""
    organizations = org.world.management.client("organizations")
    root = organizations.list_roots()["Roots"][0]
    org.trust("ram.amazonaws.com")  # outside the program
    old = Deployed(
        "o-x",
        {"featureSet": "ALL", "awsServiceAccessPrincipals": ["ram.amazonaws.com"]},
        {"roots": [{"id": root["Id"]}]},
    )
    wanted = ["access-analyzer.amazonaws.com", "guardduty.amazonaws.com"]
    _update_organization(
        org.management, old, {"featureSet": "ALL", "awsServiceAccessPrincipals": wanted}
    )
    enabled = organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert sorted(p["ServicePrincipal"] for p in enabled) == wanted
    with pytest.raises(ValueError, match="changing featureSet would replace"):
        _update_organization(
            org.management, old, {"featureSet": "CONSOLIDATED_BILLING",
                                  "awsServiceAccessPrincipals": wanted},
        )  # fmt: skip


def test_a_rule_sends_events_to_another_regions_bus_only_through_a_role(org):
    """The alarm forwarding of the other allowed regions (security_alarms.py)."""
    account = org.dev.aws.account_id
    events = org.dev.client("events", OTHER_REGION)
    events.put_rule(Name="diagnyx-security-forward", EventPattern='{"source": ["aws.guardduty"]}')
    target = {
        "rule": "diagnyx-security-forward",
        "arn": f"arn:aws:events:{REGION}:{account}:event-bus/default",
        "region": OTHER_REGION,
    }
    with pytest.raises(RuleViolation, match="another Region and no RoleArn"):
        rules.event_target(org.dev, target)
    role = f"arn:aws:iam::{account}:role/DiagnyxAlarmForwarding"
    rules.event_target(org.dev, {**target, "roleArn": role})
    (sent,) = events.list_targets_by_rule(Rule="diagnyx-security-forward")["Targets"]
    assert (sent["Arn"], sent["RoleArn"]) == (target["arn"], role)
    # The same bus from its own Region needs no role.
    org.dev.client("events", REGION).put_rule(Name="home", EventPattern='{"source": ["x"]}')
    rules.event_target(org.dev, {**target, "rule": "home", "region": REGION})
