"""`diagnyx isolate` and `diagnyx restore`: dry run by default, a record before any change,
restore returns the account to where it was, twice is harmless, the management and security
accounts need an explicit override."""

import functools
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from diagnyx_infra import naming
from diagnyx_infra.engine.runner import PROJECT_DIR
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.checklist import Checklist
from diagnyx_infra.ops.isolation import Failed, Isolation, Record, rendered_cicd_policy
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx


def reader(project: Path) -> Isolation:
    """An Isolation that only reads ``project``'s landing zone: its sessions, assumed roles and
    clients are made once (they cost more than the reads), and so are the names of the Identity
    Center groups and permission sets (made with the landing zone; no test adds, renames or
    deletes one). Every plan reads the account's policy and assignments anew."""
    looker = Isolation(Aws.from_environment(), LandingZone.load(project))
    looker._group_names = functools.cache(looker._group_names)
    looker._permission_sets = functools.cache(looker._permission_sets)
    return looker


_looker = functools.cache(reader)  # one per landing zone


def access_state(project, account):
    """What isolation touches: the CICD inline policy and every SSO assignment of the account."""
    record = _looker(project).plan(account)
    return sorted(
        json.dumps({"kind": item.kind, **item.detail.model_dump()}, sort_keys=True)
        for item in record.items
    )


def failing_items(project, account):
    looker = _looker(project)
    findings = Checklist(looker.caller, looker.zone).account(account)
    return sorted(f.item for f in findings if f.status == "fail")


def test_dry_run_changes_nothing(aws_env, healthy, tmp_path):
    before = access_state(healthy, "dev")
    result = run_diagnyx(
        aws_env, "isolate", "dev", "--records-dir", str(tmp_path), "--project-dir", str(healthy)
    )
    assert result.returncode == 0, result.stderr
    assert "would remove inline policy CICDPolicy of role DiagnyxCrossAccountCICD" in result.stdout
    assert "would remove SSO assignment Developer -> group Developers" in result.stdout
    assert "dry run" in result.stderr
    assert access_state(healthy, "dev") == before
    assert list(tmp_path.iterdir()) == []


def test_dry_run_as_json_lists_the_items(aws_env, healthy, tmp_path):
    result = run_diagnyx(
        aws_env, "isolate", "dev", "--json", "--records-dir", str(tmp_path),
        "--project-dir", str(healthy),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["account"] == "dev" and shown["record"] is None
    assert {i["kind"] for i in shown["items"]} == {"role-policy", "sso-assignment"}
    assert {i["action"] for i in shown["items"]} == {"would remove"}


def test_isolate_then_restore_returns_the_account_to_its_state(aws_env, healthy, tmp_path):
    before = access_state(healthy, "dev")
    assert len(before) == 1 + 4  # CICDPolicy + Administrators, DevOps, Developers, Auditors

    isolate_dev = ("isolate", "dev", "--apply", "--yes", "--records-dir", str(tmp_path))
    isolate = run_diagnyx(aws_env, *isolate_dev, "--project-dir", str(healthy))
    assert isolate.returncode == 0, isolate.stderr
    (record_file,) = tmp_path.glob("isolation-dev-*.json")
    assert f"record: {record_file}" in isolate.stderr.replace("\n", "")
    record = Record.load(record_file)
    assert record.finished and all(item.state == "removed" for item in record.items)
    assert access_state(healthy, "dev") == []
    assert failing_items(healthy, "dev") == ["SSO assignments", "cross-account roles"]

    twice = run_diagnyx(aws_env, *isolate_dev, "--project-dir", str(healthy))
    assert twice.returncode == 0
    assert "already isolated" in twice.stderr
    assert len(list(tmp_path.glob("isolation-dev-*.json"))) == 1

    dry = run_diagnyx(aws_env, "restore", str(record_file), "--project-dir", str(healthy))
    assert dry.returncode == 0 and access_state(healthy, "dev") == []
    assert "would restore inline policy CICDPolicy" in dry.stdout

    restore_dev = ("restore", str(record_file), "--apply", "--yes", "--project-dir", str(healthy))
    restore = run_diagnyx(aws_env, *restore_dev)
    assert restore.returncode == 0, restore.stderr
    assert access_state(healthy, "dev") == before
    assert failing_items(healthy, "dev") == []
    assert all(item.state == "restored" for item in Record.load(record_file).items)

    again = run_diagnyx(aws_env, *restore_dev)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    assert access_state(healthy, "dev") == before


def test_a_failure_half_way_leaves_a_true_record(aws_env, healthy, tmp_path, monkeypatch):
    before = access_state(healthy, "staging")
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
    with pytest.raises(Failed, match="slow down") as stopped:
        isolation.isolate(record, path)
    assert "stopped after 2 of 5 removals" in str(stopped.value)
    assert "safe to run again" in str(stopped.value)
    saved = Record.load(path)
    assert [i.state for i in saved.items][:3] == ["removed", "removed", "removing"]
    assert {i.state for i in saved.items[3:]} == {"planned"}
    assert not saved.finished
    # Restoring from that record puts back exactly what was removed.
    monkeypatch.undo()
    fresh = Isolation(Aws.from_environment(), zone)
    fresh.restore(saved, path, fresh.restore_plan(saved))
    assert access_state(healthy, "staging") == before
    assert failing_items(healthy, "staging") == []


def test_the_policy_restore_writes_is_the_one_the_program_renders(recordings):
    """The pure builder called as the baseline component calls it, for every stack (the
    program's runs under Pulumi mocks, shared with the rest of the suite)."""
    zone = LandingZone.load(PROJECT_DIR)
    assert set(zone.stacks) <= set(recordings)
    for name, settings in zone.stacks.items():
        (policy,) = [
            p
            for p in recordings[name].of_type("aws:iam/rolePolicy:RolePolicy")
            if p.inputs["name"] == naming.CICD_POLICY
        ]
        assert json.loads(policy.inputs["policy"]) == rendered_cicd_policy(settings), name


def test_isolating_an_unknown_account_is_a_usage_error(aws_env, healthy):
    result = run_diagnyx(aws_env, "isolate", "sandbox", "--project-dir", str(healthy))
    assert result.returncode == 2
    assert naming.CICD_POLICY not in result.stdout


@pytest.mark.parametrize(
    ("account", "why"),
    [
        ("management", "cut off your own access to the organization"),
        ("security", "audit trail"),
    ],
)
def test_critical_accounts_need_the_override(aws_env, healthy, tmp_path, account, why):
    before = access_state(healthy, account)
    for extra in ((), ("--apply", "--yes")):
        refused = run_diagnyx(
            aws_env, "isolate", account, *extra, "--records-dir", str(tmp_path),
            "--project-dir", str(healthy),
        )  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        message = " ".join(refused.stderr.split())
        assert why in message and "--allow-critical-account" in message
        assert refused.stdout == ""
    assert access_state(healthy, account) == before
    assert list(tmp_path.iterdir()) == []


def test_the_management_account_isolated_with_the_override_and_restored(aws_env, healthy, tmp_path):
    before = access_state(healthy, "management")
    isolate = run_diagnyx(
        aws_env, "isolate", "management", "--apply", "--yes", "--allow-critical-account",
        "--records-dir", str(tmp_path), "--project-dir", str(healthy),
    )  # fmt: skip
    assert isolate.returncode == 0, isolate.stderr
    assert "warning: management" in isolate.stderr
    assert "cut off your own access" in " ".join(isolate.stderr.split())
    assert access_state(healthy, "management") == []
    (record_file,) = tmp_path.glob("isolation-management-*.json")
    restore = run_diagnyx(
        aws_env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(healthy)
    )
    assert restore.returncode == 0, restore.stderr
    assert access_state(healthy, "management") == before


def test_a_record_that_cannot_be_written_stops_isolation_before_any_change(
    aws_env, healthy, tmp_path
):
    before = access_state(healthy, "dev")
    not_a_folder = tmp_path / "records"
    not_a_folder.write_text("a file where the records folder should be")
    result = run_diagnyx(
        aws_env, "isolate", "dev", "--apply", "--yes", "--records-dir", str(not_a_folder),
        "--project-dir", str(healthy),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"--records-dir {not_a_folder}: is not a folder" in " ".join(result.stderr.split())
    assert access_state(healthy, "dev") == before


def test_restore_dry_run_as_json(aws_env, healthy, tmp_path):
    before = access_state(healthy, "uat")
    isolate = run_diagnyx(
        aws_env, "isolate", "uat", "--apply", "--yes", "--records-dir", str(tmp_path),
        "--project-dir", str(healthy),
    )  # fmt: skip
    assert isolate.returncode == 0, isolate.stderr
    (record_file,) = tmp_path.glob("isolation-uat-*.json")
    dry = run_diagnyx(aws_env, "restore", str(record_file), "--json", "--project-dir", str(healthy))
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["record"] == str(record_file)
    assert {i["action"] for i in shown["items"]} == {"would restore"}
    assert access_state(healthy, "uat") == []
    restore = run_diagnyx(
        aws_env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(healthy)
    )
    assert restore.returncode == 0, restore.stderr
    assert access_state(healthy, "uat") == before
