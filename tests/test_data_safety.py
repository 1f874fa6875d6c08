"""Nothing is lost by a mistaken `pulumi destroy` or config edit: every stateful resource in every
stack is protected, and the ones holding data are also retained if protection is lifted. The
settings of a protected store are protected with it, so `pulumi destroy --exclude-protected`
leaves no store bare."""

import pytest

from diagnyx_infra.engine.recording import RecordedResource
from diagnyx_infra.engine.runner import StackRecording
from diagnyx_infra.policies.security_services import config_bucket_name
from tests.helpers import ALL_STACKS

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
REPOSITORY = "aws:ecr/repository:Repository"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"

# type -> must it also be retained on delete?
STATEFUL = {
    "aws:organizations/account:Account": False,  # close_on_deletion=False covers removal
    KEY: True,
    BUCKET: True,
    "aws:dynamodb/table:Table": True,
    REPOSITORY: True,
    "aws:cloudtrail/trail:Trail": True,
    # Replacing a zone or the delegation set changes the name servers every delegation names.
    "aws:route53/zone:Zone": True,
    "aws:route53/delegationSet:DelegationSet": True,
    # Group members live only in AWS; a retained group grants nothing once its assignments go.
    "aws:identitystore/group:Group": True,
    # All of a permission set is code: protected, so dropping or renaming one is deliberate.
    "aws:ssoadmin/permissionSet:PermissionSet": False,
    # The free account protections: a destroy or a dropped component leaves them on.
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": True,
    "aws:ebs/encryptionByDefault:EncryptionByDefault": True,
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": True,
}
# Access follows the code and config that grant it: never protected, so an edit revokes it.
FOLLOWS_CONFIG = (
    "aws:ssoadmin/accountAssignment:AccountAssignment",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
)
# A store -> the property its separate settings resources name it by, and its value for the store.
SETTINGS_OF = {
    BUCKET: ("bucket", lambda store: store.id),
    KEY: ("targetKeyId", lambda store: store.state["keyId"]),
    REPOSITORY: ("repository", lambda store: store.inputs["name"]),
}
# What a surviving bucket must keep, and what it must not lose even when dropped from the
# program: without them it is public, unencrypted, unversioned or open to ACLs.
HARDENING = {BUCKET_POLICY, PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING, OWNERSHIP}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stateful_resource_is_protected(recordings, stack):
    found = [r for r in recordings[stack].resources if r.type in STATEFUL]
    assert found
    for resource in found:
        assert resource.protect, resource.name
        if STATEFUL[resource.type]:
            assert resource.retain_on_delete, resource.name


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_access_follows_config_and_is_never_protected(recordings, stack):
    for resource in recordings[stack].resources:
        if resource.type in FOLLOWS_CONFIG:
            assert not resource.protect, resource.name


def destroyed_by_exclude_protected(recording: StackRecording) -> set[str]:
    """The URNs `pulumi destroy --exclude-protected` deletes: every resource not protected.

    The engine also spares what a protected resource depends on (its parent, provider and
    dependencies); this counts on none of that. A setting that survives only because, say, the
    trail happens to depend on the archive's policy is one refactor away from being lost."""
    return {r.urn for r in recording.resources if r.custom and not r.is_provider and not r.protect}


def settings_of(recording: StackRecording, store: RecordedResource) -> list[RecordedResource]:
    """The separate resources that configure ``store``: for a bucket, every resource whose
    ``bucket`` input is the bucket (policy, public access block, encryption, lock, ...)."""
    prop, name_of = SETTINGS_OF[store.type]
    return [
        r
        for r in recording.resources
        if r is not store and r.custom and r.inputs.get(prop) == name_of(store)
    ]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_destroy_exclude_protected_leaves_no_protected_store_bare(recordings, stack):
    recording = recordings[stack]
    destroyed = destroyed_by_exclude_protected(recording)
    stores = [r for r in recording.resources if r.type in SETTINGS_OF and r.protect]
    assert any(store.type == BUCKET for store in stores)
    for store in stores:
        assert store.urn not in destroyed
        settings = settings_of(recording, store)
        assert [s.name for s in settings if s.urn in destroyed] == [], (stack, store.name)
        if store.type != BUCKET:
            continue
        kept = {s.type for s in settings if s.urn not in destroyed}
        required = HARDENING | ({OBJECT_LOCK} if store.inputs.get("objectLockEnabled") else set())
        assert required <= kept, (stack, store.name, required - kept)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_a_retained_bucket_keeps_its_hardening(recordings, stack):
    """Dropped from the program once protection is lifted, a bucket stays in AWS: so do the
    settings whose deletion would weaken it (versioning suspended, ACLs back, no retention)."""
    recording = recordings[stack]
    for bucket in recording.of_type(BUCKET):
        for setting in settings_of(recording, bucket):
            if setting.type in HARDENING | {OBJECT_LOCK}:
                assert setting.retain_on_delete, (stack, setting.name)


def test_the_simulation_catches_an_unprotected_setting(recordings):
    """The check above fails when a bucket setting loses its protection."""
    from dataclasses import replace

    recording = recordings["security"]
    (archive,) = [b for b in recording.of_type(BUCKET) if b.inputs.get("objectLockEnabled")]
    (lock,) = [s for s in settings_of(recording, archive) if s.type == OBJECT_LOCK]
    mistaken = StackRecording(
        recording.stack,
        recording.config,
        [replace(r, protect=False) if r is lock else r for r in recording.resources],
        recording.outputs,
    )
    destroyed = destroyed_by_exclude_protected(mistaken)
    assert [s.type for s in settings_of(mistaken, archive) if s.urn in destroyed] == [OBJECT_LOCK]


def test_keys_wait_thirty_days_and_tables_refuse_deletion(recordings):
    for stack in ALL_STACKS:
        for key in recordings[stack].of_type("aws:kms/key:Key"):
            assert key.inputs["deletionWindowInDays"] == 30
        for table in recordings[stack].of_type("aws:dynamodb/table:Table"):
            assert table.inputs["deletionProtectionEnabled"] is True


ACCOUNT_IDS = {"security": "333333333333"}


def test_every_bucket_is_versioned_and_the_audit_archive_locked(recordings):
    for stack in ALL_STACKS:
        recording = recordings[stack]
        versioned = {
            v.inputs["bucket"]
            for v in recording.of_type("aws:s3/bucketVersioning:BucketVersioning")
            if v.inputs["versioningConfiguration"]["status"] == "Enabled"
        }
        for bucket in recording.of_type("aws:s3/bucket:Bucket"):
            assert bucket.id in versioned, (stack, bucket.name)
            if bucket.inputs["bucket"] == config_bucket_name(ACCOUNT_IDS["security"]):
                # AWS Config refuses a bucket with Object Lock: versioned, kept, and the SCP
                # denies deleting its objects (guarded by the audit buckets' prefix).
                assert "objectLockEnabled" not in bucket.inputs
            elif bucket.inputs["bucket"].startswith("diagnyx-audit-logs-"):
                assert bucket.inputs["objectLockEnabled"] is True
                (lock,) = recording.of_type(
                    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
                )
                assert lock.inputs["bucket"] == bucket.id


def test_readme_table_names_every_stateful_type():
    from diagnyx_infra.engine.runner import PROJECT_DIR

    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme[readme.index("### Nothing is lost") :]
    for label in (
        "member account",
        "KMS key",
        "state bucket",
        "lock table",
        "audit archive",
        "organization trail",
        "ECR repository",
        "Identity Center group",
        "Identity Center permission set",
        "bucket settings",
    ):
        assert f"| {label} |" in section
