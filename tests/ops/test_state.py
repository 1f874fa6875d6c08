"""`diagnyx state versions` / `restore` on a versioned state bucket (moto in this process): the
versions listed newest first, a restore that is a dry run unless applied, that keeps what it
replaces (and so undoes), and every refusal."""

import json

import pytest

from diagnyx_infra.config.consistency import validated_stack
from diagnyx_infra.engine.runner import PROJECT_DIR
from diagnyx_infra.naming import state_bucket_name
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.state import StateRefused, location, restore, versions
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from tests.test_cli import invoke

KEY = ".pulumi/stacks/diagnyx/management.json"


def checkpoint(resources: int, stack: str = "management") -> bytes:
    return json.dumps(
        {
            "version": 3,
            "checkpoint": {
                "stack": f"organization/diagnyx/{stack}",
                "latest": {"resources": [{"urn": f"urn:{i}"} for i in range(resources)]},
            },
        }
    ).encode()


@pytest.fixture
def state():
    """The management stack's state bucket with three checkpoints (1, 2, 3 resources)."""
    with emulated_aws():
        aws = Aws.from_environment("us-east-1")
        settings = validated_stack(PROJECT_DIR, "management")
        ids = {**settings.account_ids, "management": aws.account_id}
        settings = settings.model_copy(update={"account_ids": ids})
        s3 = aws.client("s3")
        bucket = state_bucket_name(aws.account_id, "us-east-1")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        written = [
            s3.put_object(Bucket=bucket, Key=KEY, Body=checkpoint(n))["VersionId"]
            for n in (1, 2, 3)
        ]
        yield aws, settings, bucket, written


def _current(aws, bucket) -> bytes:
    return aws.client("s3").get_object(Bucket=bucket, Key=KEY)["Body"].read()


def test_versions_are_listed_newest_first_with_the_current_one_marked(state):
    aws, settings, bucket, written = state
    where = location(aws, settings, "diagnyx")
    assert (where.bucket, where.key) == (bucket, KEY)
    found = versions(aws, where)
    assert [v.version_id for v in found] == list(reversed(written))
    assert [v.is_latest for v in found] == [True, False, False]


def test_a_restore_is_a_dry_run_unless_applied_and_keeps_what_it_replaced(state):
    aws, settings, bucket, written = state
    planned = restore(aws, settings, "diagnyx", written[0], apply=False)
    assert (planned.resources_before, planned.resources_after) == (3, 1)
    assert not planned.written and _current(aws, bucket) == checkpoint(3)
    done = restore(aws, settings, "diagnyx", written[0], apply=True)
    assert done.written and _current(aws, bucket) == checkpoint(1)
    # Nothing lost: the replaced state is a noncurrent version, and restoring it undoes this.
    assert done.replaced.version_id == written[2]
    restore(aws, settings, "diagnyx", written[2], apply=True)
    assert _current(aws, bucket) == checkpoint(3)
    assert len(versions(aws, location(aws, settings, "diagnyx"))) == 5


def test_each_refusal_changes_nothing(state):
    aws, settings, bucket, written = state
    s3 = aws.client("s3")
    with pytest.raises(StateRefused, match="is not a version of"):
        restore(aws, settings, "diagnyx", "no-such-version", apply=True)
    with pytest.raises(StateRefused, match="is already the current state"):
        restore(aws, settings, "diagnyx", written[2], apply=True)
    garbage = s3.put_object(Bucket=bucket, Key=KEY, Body=b"<html>")["VersionId"]
    other = s3.put_object(Bucket=bucket, Key=KEY, Body=checkpoint(9, "prod"))["VersionId"]
    s3.put_object(Bucket=bucket, Key=KEY, Body=checkpoint(3))
    with pytest.raises(StateRefused, match="is not a Pulumi checkpoint"):
        restore(aws, settings, "diagnyx", garbage, apply=True)
    with pytest.raises(StateRefused, match="is the state of stack 'organization/diagnyx/prod'"):
        restore(aws, settings, "diagnyx", other, apply=True)
    another_project = s3.put_object(
        Bucket=bucket, Key=KEY, Body=checkpoint(2).replace(b"/diagnyx/", b"/other/")
    )["VersionId"]
    s3.put_object(Bucket=bucket, Key=KEY, Body=checkpoint(3))
    with pytest.raises(StateRefused, match="'organization/other/management'"):
        restore(aws, settings, "diagnyx", another_project, apply=True)
    s3.put_object(Bucket=bucket, Key=".pulumi/locks/organization/diagnyx/management/1.json")
    with pytest.raises(StateRefused, match="is locked"):
        restore(aws, settings, "diagnyx", written[0], apply=True)
    assert _current(aws, bucket) == checkpoint(3)


def test_a_lock_taken_while_the_restore_runs_stops_it(state, monkeypatch):
    """Pulumi's own protocol: write the lock, then look for any other; one that appeared in
    between (an update starting) wins, and nothing is copied."""
    from diagnyx_infra.ops import state as module

    aws, settings, bucket, written = state
    s3 = aws.client("s3")
    lock = ".pulumi/locks/organization/diagnyx/management/update.json"
    looked = module._lock_keys
    calls = []

    def an_update_starts_after_the_first_look(*args):
        calls.append(args)
        if len(calls) == 2:  # between the restore's own lock and its second look
            s3.put_object(Bucket=bucket, Key=lock, Body=b"{}")
        return looked(*args)

    monkeypatch.setattr(module, "_lock_keys", an_update_starts_after_the_first_look)
    with pytest.raises(StateRefused, match="was locked meanwhile"):
        restore(aws, settings, "diagnyx", written[0], apply=True)
    assert _current(aws, bucket) == checkpoint(3)
    # Its own lock is gone; the update's stays.
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=".pulumi/locks/")["Contents"]
    ]
    assert keys == [lock]


def test_the_state_file_is_the_one_pulumi_reads_after_a_compression_switch(state):
    aws, settings, bucket, _ = state
    s3 = aws.client("s3")
    import gzip

    s3.put_object(Bucket=bucket, Key=KEY + ".gz", Body=gzip.compress(checkpoint(4)))
    s3.delete_object(Bucket=bucket, Key=KEY)  # Pulumi removes the other form
    where = location(aws, settings, "diagnyx")
    assert where.key == KEY + ".gz"
    (only,) = versions(aws, where)
    with pytest.raises(StateRefused, match="already the current state"):
        restore(aws, settings, "diagnyx", only.version_id, apply=False)


def test_a_reply_with_a_size_that_is_no_number_is_not_an_aws_answer(state, monkeypatch):
    from diagnyx_infra.ops.aws import MalformedReply

    aws, settings, _, _ = state
    s3 = aws.client("s3")
    real = s3.get_paginator

    class Pages:
        def __init__(self, name):
            self.paginator = real(name)

        def paginate(self, **kwargs):
            for page in self.paginator.paginate(**kwargs):
                for version in page.get("Versions", []):
                    version["Size"] = "big"
                yield page

    monkeypatch.setattr(s3, "get_paginator", Pages)
    with pytest.raises(MalformedReply, match="has a Size 'big'"):
        versions(aws, location(aws, settings, "diagnyx"))


def test_a_stack_without_state_in_its_bucket_is_named(state):
    aws, settings, _, _ = state
    with pytest.raises(StateRefused, match="no state of stack management"):
        location(aws, settings, "another-project")


def test_an_unknown_stack_exits_2_before_any_call():
    result = invoke("state", "restore", "nowhere", "v1", "--project-dir", str(PROJECT_DIR))
    assert result.returncode == 2 and "unknown stack 'nowhere'" in result.stderr
    assert "Traceback" not in result.stderr
