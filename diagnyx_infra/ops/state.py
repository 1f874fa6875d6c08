"""`diagnyx state versions STACK` / `diagnyx state restore STACK VERSION`: a stack's Pulumi state
as the versioned state bucket keeps it (every `pulumi up` writes a new version of the checkpoint
object; the bucket keeps noncurrent versions for `retention.stateNoncurrentVersionDays`).

Restoring never overwrites silently: it is a dry run unless applied; it refuses while the stack
is locked (an update running), a version that is not this stack's checkpoint, and the version
that is already current; applied, it copies the earlier version over the object, so the state it
replaces stays as a noncurrent version and the same command with that version ID undoes it.
After a restore, `pulumi refresh` reconciles the state with what AWS holds.
"""

import contextlib
import datetime
import getpass
import gzip
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..config.models import StackSettings
from ..naming import state_bucket_name
from .aws import Aws, MalformedReply, reply_field

STACKS_PREFIX = ".pulumi/stacks"
LOCKS_PREFIX = ".pulumi/locks"
MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024


class StateRefused(Exception):
    """Nothing was changed: the restore cannot be made as asked."""


@dataclass(frozen=True)
class StateVersion:
    version_id: str
    last_modified: str
    size: int
    is_latest: bool


@dataclass(frozen=True)
class Location:
    bucket: str
    key: str


@dataclass
class Restore:
    location: Location
    version: StateVersion
    replaced: StateVersion  # the current version, kept as noncurrent: restoring it undoes this
    resources_before: int
    resources_after: int
    written: bool = False


def location(aws: Aws, settings: StackSettings, project: str) -> Location:
    """The stack's checkpoint object in its account's state bucket, as Pulumi's DIY backend
    finds it (pkg/backend/diy/state.go, stackPath): of `.pulumi/stacks/<project>/<stack>.json`
    and its gzip and zstd forms, the one changed last that still exists (switching the
    compression deletes the other); the pre-project layout (`.pulumi/stacks/<stack>.json`)
    only when the project-scoped one holds nothing."""
    bucket = state_bucket_name(settings.account_id, settings.region)
    scoped = [
        f"{STACKS_PREFIX}/{project}/{settings.stack}.json{suffix}" for suffix in ("", ".gz", ".zst")
    ]
    legacy = [f"{STACKS_PREFIX}/{settings.stack}.json{suffix}" for suffix in ("", ".gz", ".zst")]
    for candidates in (scoped, legacy):
        current = [
            (modified, key) for key in candidates if (modified := _current(aws, bucket, key))
        ]
        if current:
            return Location(bucket, max(current)[1])
    raise StateRefused(
        f"no state of stack {settings.stack} in s3://{bucket} (looked for {', '.join(scoped)}):"
        ' has it been moved to its account\'s bucket (step 14 of "Deploying for real")?'
    )


def _current(aws: Aws, bucket: str, key: str) -> str | None:
    """When ``key``'s current version was written, or None when it has none (never written,
    or deleted)."""
    reply = aws.client("s3").list_object_versions(Bucket=bucket, Prefix=key, MaxKeys=10)
    operation = "s3:ListObjectVersions"
    for version in reply.get("Versions", []):
        if reply_field(version, "Key", operation=operation) == key and version.get("IsLatest"):
            return str(reply_field(version, "LastModified", operation=operation))
    return None


def versions(aws: Aws, where: Location) -> list[StateVersion]:
    """Every version of the checkpoint object, newest first (delete markers left out)."""
    s3 = aws.client("s3")
    found = []
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=where.bucket, Prefix=where.key)
    operation = "s3:ListObjectVersions"
    for page in pages:
        for version in page.get("Versions", []):
            if reply_field(version, "Key", operation=operation) != where.key:
                continue
            size = reply_field(version, "Size", operation=operation)
            if not isinstance(size, int):
                raise MalformedReply(operation=operation, problem=f"has a Size {size!r}")
            found.append(
                StateVersion(
                    version_id=str(reply_field(version, "VersionId", operation=operation)),
                    last_modified=str(reply_field(version, "LastModified", operation=operation)),
                    size=size,
                    is_latest=bool(version.get("IsLatest")),
                )
            )
    return sorted(found, key=lambda v: v.last_modified, reverse=True)


def restore(
    aws: Aws, settings: StackSettings, project: str, version_id: str, apply: bool
) -> Restore:
    """Make ``version_id`` the stack's current state (a dry run unless ``apply``)."""
    where = location(aws, settings, project)
    known = versions(aws, where)
    wanted = next((v for v in known if v.version_id == version_id), None)
    if wanted is None:
        listed = ", ".join(v.version_id for v in known[:5]) or "none"
        raise StateRefused(
            f"{version_id!r} is not a version of s3://{where.bucket}/{where.key} (newest: "
            f"{listed}; `diagnyx state versions {settings.stack}` lists them)"
        )
    current = next((v for v in known if v.is_latest), None)
    if current is None:
        raise StateRefused(f"s3://{where.bucket}/{where.key} has no current version (deleted)")
    if current.version_id == version_id:
        raise StateRefused(f"{version_id} is already the current state of {settings.stack}")
    _refuse_if_locked(aws, where, settings.stack, project)
    reference = _reference(where, settings.stack, project)
    before = _resources(aws, where, current, reference)
    after = _resources(aws, where, wanted, reference)
    result = Restore(where, wanted, current, before, after)
    if apply:
        with _locked(aws, where, settings.stack, project):
            # Under the lock nothing else writes it: still the version the plan replaces?
            latest = next((v for v in versions(aws, where) if v.is_latest), None)
            if latest is None or latest.version_id != current.version_id:
                raise StateRefused(
                    f"the state of {settings.stack} changed while this ran (now "
                    f"{latest.version_id if latest else 'deleted'}); run it again"
                )
            aws.client("s3").copy_object(
                Bucket=where.bucket,
                Key=where.key,
                CopySource={"Bucket": where.bucket, "Key": where.key, "VersionId": version_id},
                MetadataDirective="COPY",
            )
        result.written = True
    return result


def _lock_prefix(stack: str, project: str) -> str:
    """Pulumi's DIY backend lock folder of a project-scoped stack (pkg/backend/diy/lock.go:
    `.pulumi/locks/organization/<project>/<stack>/<id>.json`)."""
    return f"{LOCKS_PREFIX}/organization/{project}/{stack}/"


@contextlib.contextmanager
def _locked(aws: Aws, where: Location, stack: str, project: str) -> Iterator[None]:
    """The stack's lock, taken as Pulumi takes it: write a lock file, then check that it is the
    only one (another taken in between means an update started: refused)."""
    s3 = aws.client("s3")
    key = f"{_lock_prefix(stack, project)}{uuid.uuid4()}.json"
    content = {
        "pid": os.getpid(),
        "username": getpass.getuser(),
        "hostname": socket.gethostname(),
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
        "by": "diagnyx state restore",
    }
    s3.put_object(Bucket=where.bucket, Key=key, Body=json.dumps(content).encode())
    try:
        others = [k for k in _lock_keys(aws, where, stack, project) if k != key]
        if others:
            raise StateRefused(
                f"stack {stack} was locked meanwhile (s3://{where.bucket}/{others[0]})"
            )
        yield
    finally:
        s3.delete_object(Bucket=where.bucket, Key=key)


def _lock_keys(aws: Aws, where: Location, stack: str, project: str) -> list[str]:
    s3 = aws.client("s3")
    keys = []
    for prefix in (_lock_prefix(stack, project), f"{LOCKS_PREFIX}/{stack}/"):
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=where.bucket, Prefix=prefix
        ):
            keys += [
                str(reply_field(item, "Key", operation="s3:ListObjectsV2"))
                for item in page.get("Contents", [])
            ]
    return keys


def _refuse_if_locked(aws: Aws, where: Location, stack: str, project: str) -> None:
    """Pulumi's DIY backend locks a stack with objects under .pulumi/locks/ while an update
    runs; restoring under it would be overwritten, or break it."""
    locks = _lock_keys(aws, where, stack, project)
    if locks:
        raise StateRefused(
            f"stack {stack} is locked (s3://{where.bucket}/{locks[0]}): an update is running, "
            "or one was stopped; `pulumi cancel` after checking, then restore"
        )


def _reference(where: Location, stack: str, project: str) -> str:
    """The checkpoint's own name of the stack: `organization/<project>/<stack>` in the
    project-scoped layout, the bare name in the older one."""
    scoped = where.key.startswith(f"{STACKS_PREFIX}/{project}/")
    return f"organization/{project}/{stack}" if scoped else stack


def _resources(aws: Aws, where: Location, version: StateVersion, reference: str) -> int:
    """The checkpoint's resource count, after checking it is a Pulumi checkpoint of the stack
    ``reference`` names (a file not validated against config is not restored)."""
    if version.size > MAX_CHECKPOINT_BYTES:
        raise StateRefused(f"version {version.version_id} is {version.size} bytes: not a state")
    body = (
        aws.client("s3")
        .get_object(Bucket=where.bucket, Key=where.key, VersionId=version.version_id)["Body"]
        .read()
    )
    if where.key.endswith(".gz"):
        body = gzip.decompress(body)
    try:
        document: Any = json.loads(body)
        checkpoint = document["checkpoint"]
        named = str(checkpoint["stack"])
        resources = (checkpoint.get("latest") or {}).get("resources") or []
    except (ValueError, KeyError, TypeError, AttributeError, OSError, EOFError):
        raise StateRefused(
            f"version {version.version_id} is not a Pulumi checkpoint (JSON with "
            "checkpoint.stack); nothing restored"
        ) from None
    if named != reference:
        raise StateRefused(
            f"version {version.version_id} is the state of stack {named!r}, not {reference!r}"
        )
    return len(resources)
