"""Nothing is lost by a mistaken `pulumi destroy` or config edit: every stateful resource in every
stack is protected, and the ones holding data are also retained if protection is lifted."""

import pytest

from tests.helpers import ALL_STACKS

# type -> must it also be retained on delete?
STATEFUL = {
    "aws:organizations/account:Account": False,  # close_on_deletion=False covers removal
    "aws:kms/key:Key": True,
    "aws:s3/bucket:Bucket": True,
    "aws:dynamodb/table:Table": True,
    "aws:ecr/repository:Repository": True,
    "aws:cloudtrail/trail:Trail": True,
    # Replacing a zone or the delegation set changes the name servers every delegation names.
    "aws:route53/zone:Zone": True,
    "aws:route53/delegationSet:DelegationSet": True,
}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stateful_resource_is_protected(recordings, stack):
    found = [r for r in recordings[stack].resources if r.type in STATEFUL]
    assert found
    for resource in found:
        assert resource.protect, resource.name
        if STATEFUL[resource.type]:
            assert resource.retain_on_delete, resource.name


def test_keys_wait_thirty_days_and_tables_refuse_deletion(recordings):
    for stack in ALL_STACKS:
        for key in recordings[stack].of_type("aws:kms/key:Key"):
            assert key.inputs["deletionWindowInDays"] == 30
        for table in recordings[stack].of_type("aws:dynamodb/table:Table"):
            assert table.inputs["deletionProtectionEnabled"] is True


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
            if bucket.inputs["bucket"].startswith("diagnyx-audit-logs-"):
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
    ):
        assert f"| {label} |" in section
