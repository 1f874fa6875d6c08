"""The account baseline in every stack, as the real program registers it under mocks."""

import json

import pytest

from diagnyx_infra.naming import state_bucket_name
from tests.helpers import ALL_STACKS

BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

GUIDE_BUDGETS = {
    "dev": 200,
    "staging": 400,
    "uat": 300,
    "prod": 1800,
    "shared": 100,
    "security": 50,
}


def one(recording, type_):
    (resource,) = recording.of_type(type_)
    return resource


def statements(policy_json):
    return {s["Sid"]: s for s in json.loads(policy_json)["Statement"]}


@pytest.fixture(params=ALL_STACKS)
def stack(request, recordings):
    return recordings[request.param]


def account_id(recording):
    return recording.outputs["accountId"]


def test_exactly_one_customer_managed_key_kept_on_destroy(stack):
    key = one(stack, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect and key.retain_on_delete
    alias = one(stack, "aws:kms/alias:Alias")
    assert alias.inputs["name"] == f"alias/diagnyx-{stack.stack}"


def test_key_policy_keeps_administrators_and_scopes_services(stack):
    key = one(stack, "aws:kms/key:Key")
    by_sid = statements(key.inputs["policy"])
    admins = by_sid["AccountAdministratorsThroughIam"]
    assert admins["Principal"] == {"AWS": f"arn:aws:iam::{account_id(stack)}:root"}
    assert admins["Action"] == "kms:*"
    services = by_sid["ServicesOnBehalfOfThisAccount"]
    assert services["Condition"]["StringEquals"] == {"kms:CallerAccount": account_id(stack)}
    assert sorted(services["Condition"]["StringLike"]["kms:ViaService"]) == [
        "dynamodb.us-east-1.amazonaws.com",
        "ecr.us-east-1.amazonaws.com",
        "s3.us-east-1.amazonaws.com",
        "sns.us-east-1.amazonaws.com",
    ]
    publishers = by_sid["TopicPublishers"]
    assert set(publishers["Principal"]["Service"]) == {
        "budgets.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
    }
    assert publishers["Condition"] == {"StringEquals": {"aws:SourceAccount": account_id(stack)}}


def state_bucket(stack):
    name = state_bucket_name(account_id(stack), "us-east-1")
    (bucket,) = [b for b in stack.of_type(BUCKET) if b.inputs["bucket"] == name]
    return bucket


def of_bucket(stack, type_, bucket):
    """The one resource of ``type_`` configuring ``bucket``."""
    (resource,) = [r for r in stack.of_type(type_) if r.inputs["bucket"] == bucket.id]
    return resource


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(stack):
    bucket = state_bucket(stack)
    assert bucket.protect and bucket.retain_on_delete
    assert stack.outputs["stateBucket"] == bucket.inputs["bucket"]
    assert_hardened(stack, bucket)
    lifecycle = of_bucket(stack, LIFECYCLE, bucket)
    (expiry,) = lifecycle.inputs["rules"]
    assert expiry["noncurrentVersionExpiration"]["noncurrentDays"] == 90


def assert_hardened(stack, bucket):
    versioning = of_bucket(stack, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    sse = of_bucket(stack, SSE, bucket)
    (rule,) = sse.inputs["rules"]
    assert rule["bucketKeyEnabled"] is True
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == one(stack, "aws:kms/key:Key").state["arn"]
    block = of_bucket(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    for setting in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[setting] is True
    ownership = of_bucket(stack, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"

    policy = statements(
        of_bucket(stack, "aws:s3/bucketPolicy:BucketPolicy", bucket).inputs["policy"]
    )
    tls = policy["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket_arn = f"arn:aws:s3:::{bucket.inputs['bucket']}"
    assert tls["Resource"] == [bucket_arn, f"{bucket_arn}/*"]
    return policy


def test_lock_table(stack):
    table = one(stack, "aws:dynamodb/table:Table")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["hashKey"] == "LockID"
    assert table.inputs["attributes"] == [{"name": "LockID", "type": "S"}]
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["serverSideEncryption"]["enabled"] is True
    assert table.inputs["deletionProtectionEnabled"] is True
    assert table.protect and table.retain_on_delete


def test_topics_are_encrypted_and_only_this_account_publishes(stack):
    topics = {t.inputs["name"]: t for t in stack.of_type("aws:sns/topic:Topic")}
    assert set(topics) == {"diagnyx-alarms", "diagnyx-budget-alerts"}
    key_arn = one(stack, "aws:kms/key:Key").state["arn"]
    assert all(t.inputs["kmsMasterKeyId"] == key_arn for t in topics.values())
    for policy in stack.of_type("aws:sns/topicPolicy:TopicPolicy"):
        publish = statements(policy.inputs["policy"])["ServicesPublishFromThisAccount"]
        assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": account_id(stack)}}
        assert "*" not in json.dumps(publish["Principal"])
    endpoints = {
        s.inputs["topic"].rsplit(":", 1)[1]: s.inputs["endpoint"]
        for s in stack.of_type("aws:sns/topicSubscription:TopicSubscription")
    }
    assert endpoints == {
        "diagnyx-alarms": "ops@diagnyx.ai",
        "diagnyx-budget-alerts": "finance@diagnyx.ai",
    }


@pytest.mark.parametrize(("name", "limit"), GUIDE_BUDGETS.items())
def test_member_budgets_match_the_guide(recordings, name, limit):
    budget = account_budget(recordings[name])
    assert float(budget.inputs["limitAmount"]) == limit
    assert budget.inputs["timeUnit"] == "MONTHLY"
    assert "costFilters" not in budget.inputs  # a member account's budget sees only itself


def test_management_budget_counts_only_the_management_account(management):
    budget = account_budget(management)
    assert float(budget.inputs["limitAmount"]) == 25
    assert budget.inputs["costFilters"] == [{"name": "LinkedAccount", "values": ["111111111111"]}]


def account_budget(stack):
    (budget,) = [
        b
        for b in stack.of_type("aws:budgets/budget:Budget")
        if b.inputs["name"] == f"diagnyx-{stack.stack}-monthly"
    ]
    return budget


def test_budget_alerts_at_50_80_100_actual_and_100_forecast(stack):
    budget = account_budget(stack)
    thresholds = sorted(
        (n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"]
    )
    assert thresholds == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    topic_arn = next(
        t.state["arn"]
        for t in stack.of_type("aws:sns/topic:Topic")
        if t.inputs["name"] == "diagnyx-budget-alerts"
    )
    for notification in budget.inputs["notifications"]:
        assert notification["subscriberSnsTopicArns"] == [topic_arn]
        assert notification["subscriberEmailAddresses"] == ["finance@diagnyx.ai"]


def test_ecr_repositories_from_config():
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_config

    def add_repositories(config):
        config["diagnyx:ecrRepositories"] = ["diagnyx/api", "diagnyx/worker"]

    dev = run_stack("dev", config=edited_config("dev", add_repositories))
    repos = dev.of_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repos) == ["diagnyx/api", "diagnyx/worker"]
    for repo in repos:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert repo.protect
    for lifecycle in dev.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        (rule,) = json.loads(lifecycle.inputs["policy"])["rules"]
        assert rule["selection"]["tagStatus"] == "untagged"
        assert rule["action"] == {"type": "expire"}
    assert run_stack("uat").of_type("aws:ecr/repository:Repository") == []
