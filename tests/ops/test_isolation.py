"""`diagnyx isolate` and `diagnyx restore`: dry run by default, a record before any change,
restore returns the account to where it was, twice is harmless."""

import json

import pytest
from botocore.exceptions import ClientError

from diagnyx_infra import naming
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.checklist import Checklist
from diagnyx_infra.ops.isolation import Isolation, Record
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx


def access_state(project, account):
    """What isolation touches: the CICD inline policy and the account's SSO assignments."""
    zone = LandingZone.load(project)
    record = Isolation(Aws.from_environment(), zone).plan(account)
    return sorted(json.dumps(item.detail, sort_keys=True) for item in record.items)


def failing_items(project, account):
    findings = Checklist(Aws.from_environment(), LandingZone.load(project)).account(account)
    return sorted(f.item for f in findings if f.status == "fail")


def test_dry_run_changes_nothing(aws_env, healthy, tmp_path):
    before = access_state(healthy, "dev")
    result = run_diagnyx(
        aws_env, "isolate", "dev", "--records-dir", str(tmp_path), "--project-dir", str(healthy)
    )
    assert result.returncode == 0, result.stderr
    assert "would remove inline policy CICDPolicy of role DiagnyxCrossAccountCICD" in result.stdout
    assert "would remove SSO assignment Developer" in result.stdout
    assert "dry run" in result.stderr
    assert access_state(healthy, "dev") == before
    assert list(tmp_path.iterdir()) == []


def test_isolate_then_restore_returns_the_account_to_its_state(aws_env, healthy, tmp_path):
    before = access_state(healthy, "dev")
    assert len(before) == 1 + 4  # CICDPolicy + Administrators, DevOps, Developers, Auditors

    isolate_dev = ("isolate", "dev", "--apply", "--yes", "--records-dir", str(tmp_path))
    isolate = run_diagnyx(aws_env, *isolate_dev, "--project-dir", str(healthy))
    assert isolate.returncode == 0, isolate.stderr
    (record_file,) = tmp_path.glob("isolation-dev-*.json")
    record = Record.load(record_file)
    assert all(item.removed for item in record.items)
    assert access_state(healthy, "dev") == []
    assert failing_items(healthy, "dev") == ["SSO assignments", "cross-account roles"]

    twice = run_diagnyx(aws_env, *isolate_dev, "--project-dir", str(healthy))
    assert twice.returncode == 0
    assert "already isolated" in twice.stderr
    assert len(list(tmp_path.glob("isolation-dev-*.json"))) == 1

    dry = run_diagnyx(aws_env, "restore", str(record_file), "--project-dir", str(healthy))
    assert dry.returncode == 0 and access_state(healthy, "dev") == []

    restore = run_diagnyx(
        aws_env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(healthy)
    )
    assert restore.returncode == 0, restore.stderr
    assert access_state(healthy, "dev") == before
    assert failing_items(healthy, "dev") == []
    assert all(item.restored for item in Record.load(record_file).items)


def test_a_failure_half_way_leaves_a_true_record(aws_env, healthy, tmp_path, monkeypatch):
    zone = LandingZone.load(healthy)
    isolation = Isolation(Aws.from_environment(), zone)
    record = isolation.plan("staging")
    path = tmp_path / "isolation-staging.json"
    sso = isolation.caller.client("sso-admin")
    calls = {"n": 0}
    original = sso.delete_account_assignment

    def fail_on_second(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "x"
            )
        return original(**kwargs)

    monkeypatch.setattr(sso, "delete_account_assignment", fail_on_second)
    with pytest.raises(ClientError, match="slow down"):
        isolation.isolate(record, path)
    saved = Record.load(path)
    removed = [i for i in saved.items if i.removed]
    assert [i.kind for i in removed] == [
        "role-policy",
        "sso-assignment",
    ]  # policy + first assignment
    assert len(saved.items) > len(removed)
    # Restoring from that record puts back exactly what was removed.
    monkeypatch.undo()
    Isolation(Aws.from_environment(), zone).restore(saved, path)
    assert failing_items(healthy, "staging") == []


def test_isolating_an_unknown_account_is_a_usage_error(aws_env, healthy):
    result = run_diagnyx(aws_env, "isolate", "sandbox", "--project-dir", str(healthy))
    assert result.returncode == 2
    assert naming.CICD_POLICY not in result.stdout
