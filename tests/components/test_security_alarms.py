"""The security alarms: free EventBridge rules on CloudTrail events, delivered to the alarm topic;
the organization's only in the management stack. Each pattern is matched against CloudTrail
events as EventBridge delivers them, with moto's implementation of EventBridge pattern matching."""

import json

import pytest
from moto.events.models import EventPattern

from diagnyx_infra.policies.audit import (
    MANAGEMENT_ALARMS,
    REGIONAL_ALARMS,
    security_event_patterns,
)
from tests.helpers import ALL_STACKS, MEMBER_STACKS

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
NEW_EVERY_ACCOUNT = ("kms-key-changes", "audit-bucket-changes")


def rules(recording) -> dict[str, dict]:
    """Rule name -> its event pattern, of the home region's rules (the alarms)."""
    return {
        r.inputs["name"]: json.loads(r.inputs["eventPattern"])
        for r in recording.of_type(RULE)
        if "region" not in r.inputs
    }


def alarm_topic_arn(recording) -> str:
    (topic,) = [
        t for t in recording.of_type("aws:sns/topic:Topic") if t.inputs["name"] == "diagnyx-alarms"
    ]
    return topic.state["arn"]


def api_call(service: str, name: str, **request) -> dict:
    """An AWS API call as EventBridge receives it from CloudTrail."""
    return {
        "source": f"aws.{service}",
        "detail-type": "AWS API Call via CloudTrail",
        "region": "us-east-1",
        "detail": {
            "eventSource": f"{service}.amazonaws.com",
            "eventName": name,
            "requestParameters": request,
        },
    }


def fires(pattern: dict, event: dict) -> bool:
    return EventPattern(json.dumps(pattern), pattern).matches_event(event)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_rule_notifies_the_alarm_topic(recordings, stack):
    recording = recordings[stack]
    names = set(rules(recording))
    targets = [t for t in recording.of_type(TARGET) if "region" not in t.inputs]
    assert {t.inputs["rule"] for t in targets} == names
    assert {t.inputs["arn"] for t in targets} == {alarm_topic_arn(recording)}
    for alarm in NEW_EVERY_ACCOUNT:
        assert f"diagnyx-security-{alarm}" in names


def test_organization_and_identity_center_alarms_only_in_the_management_stack(recordings):
    management = set(rules(recordings["management"]))
    for alarm in MANAGEMENT_ALARMS:
        assert f"diagnyx-security-{alarm}" in management
    for stack in MEMBER_STACKS:
        names = set(rules(recordings[stack]))
        assert not {f"diagnyx-security-{alarm}" for alarm in MANAGEMENT_ALARMS} & names, stack
        assert names == {f"diagnyx-security-{a}" for a in security_event_patterns()}


@pytest.mark.parametrize(
    "name",
    [
        "DisableKey",
        "ScheduleKeyDeletion",
        "PutKeyPolicy",
        "DisableKeyRotation",
        "DeleteAlias",
        "UpdateAlias",
    ],
)
def test_key_disable_deletion_and_policy_changes_alarm_in_every_account(recordings, name):
    event = api_call("kms", name, keyId="1234abcd")
    for stack in ALL_STACKS:
        assert fires(rules(recordings[stack])["diagnyx-security-kms-key-changes"], event), stack
    # Everyday use of a key is no alarm.
    routine = api_call("kms", "GenerateDataKey", keyId="1234abcd")
    assert not fires(rules(recordings["security"])["diagnyx-security-kms-key-changes"], routine)


@pytest.mark.parametrize(
    "name",
    [
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "PutBucketAcl",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        "PutBucketReplication",
        "PutBucketLifecycle",
        "PutBucketObjectLockConfiguration",
        "PutBucketEncryption",
        "PutBucketVersioning",
        "PutBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
        "PutBucketLogging",
        "DeleteBucket",
    ],
)
def test_audit_bucket_configuration_changes_alarm(recordings, name):
    pattern = rules(recordings["security"])["diagnyx-security-audit-bucket-changes"]
    assert fires(pattern, api_call("s3", name, bucketName="diagnyx-audit-logs-333333333333"))
    # Other buckets are reconfigured by every deploy: no alarm for them.
    state = "diagnyx-pulumi-state-333333333333-us-east-1"
    assert not fires(pattern, api_call("s3", name, bucketName=state))


@pytest.mark.parametrize(
    "name",
    [
        "UpdatePolicy",
        "DeletePolicy",
        "DetachPolicy",
        "AttachPolicy",
        "DisablePolicyType",
        "MoveAccount",
    ],
)
def test_scp_changes_and_detachments_alarm_in_the_management_account(recordings, name):
    pattern = rules(recordings["management"])["diagnyx-security-organization-policy-changes"]
    assert fires(pattern, api_call("organizations", name, policyId="p-abcd1234"))
    assert not fires(pattern, api_call("organizations", "ListPolicies"))


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("sso", "CreateAccountAssignment"),
        ("sso", "DeleteAccountAssignment"),
        ("sso", "PutInlinePolicyToPermissionSet"),
        ("sso", "AttachManagedPolicyToPermissionSet"),
        ("sso", "DetachManagedPolicyFromPermissionSet"),
        ("sso", "ProvisionPermissionSet"),
        ("identitystore", "CreateGroupMembership"),
    ],
)
def test_identity_center_changes_alarm_in_the_management_account(recordings, service, name):
    management = rules(recordings["management"])
    event = api_call(service, name)
    assert any(fires(pattern, event) for pattern in management.values())
    assert not any(
        fires(pattern, api_call(service, "ListPermissionSets")) for pattern in management.values()
    )


def test_a_stack_outside_us_east_1_is_warned_that_global_alarms_would_not_fire():
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_config

    def move(config):
        config["aws:region"] = "us-west-2"

    recording = run_stack("management", config=edited_config("management", move))
    (warning,) = [w for w in recording.warnings if w.startswith("security alarms:")]
    assert "us-east-1 only" in warning and "Organizations" in warning


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_other_allowed_region_forwards_its_regional_events_home(recordings, stack):
    """A regional service's events reach only the bus of the region the call was served in:
    us-west-2 sends the regional alarms' events to us-east-1's bus, whose rules alarm."""
    recording = recordings[stack]
    account = recording.outputs["accountId"]
    home_bus = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    forwarders = {r.inputs["name"]: r for r in recording.of_type(RULE) if "region" in r.inputs}
    assert set(forwarders) == {
        f"diagnyx-security-{alarm}-to-us-east-1" for alarm in REGIONAL_ALARMS
    }
    patterns = security_event_patterns()
    for alarm in REGIONAL_ALARMS:
        rule = forwarders[f"diagnyx-security-{alarm}-to-us-east-1"]
        assert rule.inputs["region"] == "us-west-2"
        assert json.loads(rule.inputs["eventPattern"]) == patterns[alarm]
    (role,) = [
        r
        for r in recording.of_type("aws:iam/role:Role")
        if r.inputs["name"] == "DiagnyxAlarmForwarding"
    ]
    targets = [t for t in recording.of_type(TARGET) if "region" in t.inputs]
    assert len(targets) == len(REGIONAL_ALARMS)
    for target in targets:
        assert (target.inputs["arn"], target.inputs["roleArn"]) == (home_bus, role.state["arn"])
        assert target.inputs["region"] == "us-west-2"
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    assert "permissionsBoundary" in role.inputs
    (policy,) = [
        p
        for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["name"] == "ForwardToHomeBus"
    ]
    (allowed,) = json.loads(policy.inputs["policy"])["Statement"]
    assert (allowed["Action"], allowed["Resource"]) == ("events:PutEvents", home_bus)


def test_a_guardduty_detector_deleted_in_another_region_alarms_at_home(recordings):
    """The forwarded event, as it arrives on the home bus, fires the home rule."""
    event = {**api_call("guardduty", "DeleteDetector", detectorId="d"), "region": "us-west-2"}
    home = rules(recordings["dev"])["diagnyx-security-security-service-changes"]
    assert fires(home, event)
