"""`diagnyx state versions STACK` / `diagnyx state restore STACK VERSION`: a stack's Pulumi state
as the versioned state bucket keeps it (every `pulumi up` writes a new version of the checkpoint
object; the bucket keeps noncurrent versions for `retention.stateNoncurrentVersionDays`).

Restoring never overwrites silently: it is a dry run unless applied; it refuses while the stack
is locked (an update running), a version that is not this stack's checkpoint, and the version
that is already current; applied, it copies the earlier version over the object, so the state it
replaces stays as a noncurrent version and the same command with that version ID undoes it.
After a restore, `pulumi refresh` reconciles the state with what AWS holds.
"""

import gzip
import json
from dataclasses import dataclass
from typing import Any

from ..config.models import StackSettings
from ..naming import state_bucket_name
from .aws import Aws, reply_field

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
    """The stack's checkpoint object in its account's state bucket: the project-scoped layout
    of Pulumi's DIY backend (`.pulumi/stacks/<project>/<stack>.json`, gzipped with
    PULUMI_DIY_BACKEND_GZIP), else the older one (`.pulumi/stacks/<stack>.json`)."""
    bucket = state_bucket_name(settings.account_id, settings.region)
    s3 = aws.client("s3")
    candidates = [
        f"{STACKS_PREFIX}/{project}/{settings.stack}.json",
        f"{STACKS_PREFIX}/{project}/{settings.stack}.json.gz",
        f"{STACKS_PREFIX}/{settings.stack}.json",
    ]
    for key in candidates:
        reply = s3.list_object_versions(Bucket=bucket, Prefix=key, MaxKeys=1)
        found = reply.get("Versions", []) + reply.get("DeleteMarkers", [])
        if any(reply_field(v, "Key", operation="s3:ListObjectVersions") == key for v in found):
            return Location(bucket, key)
    raise StateRefused(
        f"no state of stack {settings.stack} in s3://{bucket} (looked for {', '.join(candidates)}):"
        ' has it been moved to its account\'s bucket (step 14 of "Deploying for real")?'
    )


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
            found.append(
                StateVersion(
                    version_id=str(reply_field(version, "VersionId", operation=operation)),
                    last_modified=str(reply_field(version, "LastModified", operation=operation)),
                    size=int(reply_field(version, "Size", operation=operation)),
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
    before = _resources(aws, where, current, settings.stack)
    after = _resources(aws, where, wanted, settings.stack)
    result = Restore(where, wanted, current, before, after)
    if apply:
        aws.client("s3").copy_object(
            Bucket=where.bucket,
            Key=where.key,
            CopySource={"Bucket": where.bucket, "Key": where.key, "VersionId": version_id},
            MetadataDirective="COPY",
        )
        result.written = True
    return result


def _refuse_if_locked(aws: Aws, where: Location, stack: str, project: str) -> None:
    """Pulumi's DIY backend locks a stack with objects under .pulumi/locks/ while an update
    runs; restoring under it would be overwritten, or break it."""
    s3 = aws.client("s3")
    reply = s3.list_objects_v2(Bucket=where.bucket, Prefix=f"{LOCKS_PREFIX}/")
    for item in reply.get("Contents", []):
        key = str(reply_field(item, "Key", operation="s3:ListObjectsV2"))
        parts = key.removeprefix(f"{LOCKS_PREFIX}/").split("/")
        if stack in parts[:-1] and (project in parts[:-1] or len(parts) == 2):
            raise StateRefused(
                f"stack {stack} is locked (s3://{where.bucket}/{key}): an update is running, or "
                "one was stopped; `pulumi cancel` after checking, then restore"
            )


def _resources(aws: Aws, where: Location, version: StateVersion, stack: str) -> int:
    """The checkpoint's resource count, after checking it is a Pulumi checkpoint of ``stack``
    (a file not validated against config is not restored)."""
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
        named = str(checkpoint["stack"]).rsplit("/", 1)[-1]
        resources = (checkpoint.get("latest") or {}).get("resources") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StateRefused(
            f"version {version.version_id} is not a Pulumi checkpoint (JSON with "
            "checkpoint.stack); nothing restored"
        ) from None
    if named != stack:
        raise StateRefused(
            f"version {version.version_id} is the state of stack {named!r}, not {stack!r}"
        )
    return len(resources)
