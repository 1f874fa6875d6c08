"""`diagnyx restore` returns the account to what config grants it, whatever the record lists: a
record with its `role-policy` item deleted, an item set back to "planned" or relabelled as not in
the access matrix still gets the account exactly its access before isolation, checked in AWS
afterwards. An account whose ID config marks pending is refused before any AWS call."""

import json
import shutil

import pytest

from diagnyx_infra import naming
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.bootstrap import set_setting
from diagnyx_infra.ops.isolation import Isolation, Record, rendered_cicd_policy
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx
from tests.ops.test_isolation import _looker, access_state

ACCOUNT = "dev"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # nothing listens here


@pytest.fixture(scope="module")
def dev_as_built(healthy):
    return access_state(healthy, ACCOUNT)


@pytest.fixture
def dev_put_back(put_back_afterwards):
    """Whatever a test leaves, the landing zone is as built again for the next test, and no
    look reuses sessions that assumed roles in the copy being replaced."""
    yield
    _looker.cache_clear()


@pytest.fixture(scope="module")
def dev_isolated_once(aws_env, healthy, landscape, dev_as_built, tmp_path_factory):
    """dev isolated once for the module, the landing zone then kept aside with its record: each
    test starts from a copy of it (milliseconds) instead of isolating again."""
    record_file = _isolate(aws_env, healthy, tmp_path_factory.mktemp("records"))
    assert access_state(healthy, ACCOUNT) == []
    kept = landscape.keep()
    yield kept, record_file
    landscape.discard(kept)


@pytest.fixture
def dev_isolated(dev_isolated_once, landscape, dev_put_back, tmp_path):
    """The landing zone with dev isolated, and a copy of the isolation's record for the test."""
    kept, record_file = dev_isolated_once
    landscape.start_from(kept)
    _looker.cache_clear()
    genuine = tmp_path / record_file.name
    shutil.copy(record_file, genuine)
    return genuine


def _isolate(env, project, records):
    result = run_diagnyx(
        env, "isolate", ACCOUNT, "--apply", "--yes", "--records-dir", str(records),
        "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record_file,) = records.glob(f"isolation-{ACCOUNT}-*.json")
    return record_file


def _restore(env, project, record_file, *extra):
    return run_diagnyx(env, "restore", str(record_file), *extra, "--project-dir", str(project))


def _group_item(record, group):
    return next(
        i
        for i in record["items"]
        if i["kind"] == "sso-assignment" and i["detail"]["group"] == group
    )


def _delete_role_policy(record):
    record["items"] = [i for i in record["items"] if i["kind"] != "role-policy"]


def _administrators_planned(record):
    _group_item(record, "Administrators")["state"] = "planned"


def _devops_unmanaged(record):
    item = _group_item(record, "DevOps")
    detail = item["detail"]
    item["kind"] = "unmanaged-sso-assignment"
    item["detail"] = {
        "permission_set": detail["permission_set"],
        "permission_set_arn": detail["permission_set_arn"],
        "principal_type": "GROUP",
        "principal_id": detail["group_id"],
    }


def _the_reviews_record(record):
    _delete_role_policy(record)
    _administrators_planned(record)


def _every_variant(record):
    _delete_role_policy(record)
    _administrators_planned(record)
    _devops_unmanaged(record)


def _no_items(record):
    record["items"] = []


EDITS = [
    ("role-policy item deleted", _delete_role_policy),
    ("an item set back to planned", _administrators_planned),
    ("an item relabelled unmanaged", _devops_unmanaged),
    ("role-policy deleted and an item planned", _the_reviews_record),
    ("all three", _every_variant),
    ("no items at all", _no_items),
]


@pytest.mark.parametrize("edit", [e[1] for e in EDITS], ids=[e[0] for e in EDITS])
def test_an_edited_record_still_restores_what_config_grants(
    aws_env, healthy, dev_as_built, dev_isolated, tmp_path, edit
):
    before = dev_as_built
    assert len(before) == 1 + 4  # CICDPolicy + Administrators, DevOps, Developers, Auditors
    genuine = dev_isolated
    assert access_state(healthy, ACCOUNT) == []
    record = json.loads(genuine.read_text())
    edit(record)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(record))

    dry = _restore(aws_env, healthy, edited)
    assert dry.returncode == 0, dry.stderr
    shown = " ".join(dry.stdout.split())
    assert f"{ACCOUNT}: would restore inline policy CICDPolicy" in shown
    for group in ("Administrators", "DevOps", "Developers", "Auditors"):
        assert f"-> group {group}" in shown
    assert "will not restore" not in shown
    assert access_state(healthy, ACCOUNT) == []

    restored = _restore(aws_env, healthy, edited, "--apply", "--yes")
    assert restored.returncode == 0, restored.stderr
    message = " ".join(restored.stderr.split())
    assert f"restored {ACCOUNT} (" in message and "checked in AWS" in message
    assert "not in the access matrix" not in message
    assert access_state(healthy, ACCOUNT) == before
    # Every item the account has again is marked so; none is left "removed".
    states = {i.state for i in Record.load(edited).items}
    assert states <= {"restored"}, states

    again = _restore(aws_env, healthy, genuine, "--apply", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    assert access_state(healthy, ACCOUNT) == before


def test_a_policy_with_another_document_is_replaced_by_the_rendered_one(
    aws_env, healthy, dev_as_built, dev_isolated
):
    before = dev_as_built
    zone = LandingZone.load(healthy)
    record_file = dev_isolated
    iam = Aws.from_environment().assume(zone.account_ids[ACCOUNT]).client("iam")
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName=naming.CICD_ROLE,
        PolicyName=naming.CICD_POLICY,
        PolicyDocument=json.dumps(everything),
    )
    restored = _restore(aws_env, healthy, record_file, "--apply", "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "AWS has another document, which it replaces" in " ".join(restored.stdout.split())
    document = iam.get_role_policy(RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY)[
        "PolicyDocument"
    ]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == rendered_cicd_policy(zone.stacks[ACCOUNT])
    assert access_state(healthy, ACCOUNT) == before


def test_what_could_not_be_put_back_is_found_by_the_check_and_exits_1(
    aws_env, healthy, dev_as_built, dev_isolated, monkeypatch
):
    before = dev_as_built
    record_file = dev_isolated
    put_back = Isolation._put_back

    def loses_devops(self, item, account_id, settings):
        if getattr(item.detail, "group", None) == "DevOps":
            return  # AWS said yes and did nothing
        put_back(self, item, account_id, settings)

    monkeypatch.setattr(Isolation, "_put_back", loses_devops)
    short = _restore(aws_env, healthy, record_file, "--apply", "--yes")
    assert short.returncode == 1, short.stderr
    message = " ".join(short.stderr.split())
    assert "still lacks what config grants it" in message
    assert "-> group DevOps" in message and "restored dev" not in message
    assert len(access_state(healthy, ACCOUNT)) == len(before) - 1

    monkeypatch.undo()
    again = _restore(aws_env, healthy, record_file, "--apply", "--yes")
    assert again.returncode == 0, again.stderr
    assert access_state(healthy, ACCOUNT) == before


# --- an account config marks pending ----------------------------------------------------------


@pytest.fixture
def dev_pending(healthy, tmp_path):
    """The healthy project with accountIds.dev pending in every stack file."""
    project = tmp_path / "pending-project"
    shutil.copytree(healthy, project)
    for stack in LandingZone.load(healthy).stacks:
        set_setting(project, stack, f"accountIds.{ACCOUNT}", "pending")
    assert LandingZone.load(project).account_ids[ACCOUNT] == "pending"
    return project


@pytest.fixture
def no_aws(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an AWS session was opened")

    monkeypatch.setattr(Aws, "from_environment", classmethod(refuse))


PENDING = (
    "accountIds.dev is pending: nothing to {} until the organization created it and "
    "`diagnyx accounts sync` recorded its ID"
)


def test_isolating_a_pending_account_is_refused_before_any_aws_call(
    aws_env, dev_pending, tmp_path, no_aws
):
    for apply in ((), ("--apply", "--yes")):
        result = run_diagnyx(
            {**aws_env, "AWS_ENDPOINT_URL": DEAD_ENDPOINT}, "isolate", ACCOUNT, *apply,
            "--records-dir", str(tmp_path / "records"), "--project-dir", str(dev_pending),
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert PENDING.format("isolate") in " ".join(result.stderr.split())
        assert result.stdout == ""
    assert not (tmp_path / "records").exists()


def test_restoring_a_pending_account_is_refused_before_any_aws_call(
    aws_env, healthy, dev_pending, tmp_path, no_aws
):
    dev_id = LandingZone.load(healthy).account_ids[ACCOUNT]
    record_file = tmp_path / "isolation-dev.json"
    record_file.write_text(
        json.dumps(
            {
                "version": 2,
                "account": ACCOUNT,
                "account_id": dev_id,
                "created": "2024-01-01T00:00:00+00:00",
                "finished": True,
                "items": [
                    {
                        "kind": "role-policy",
                        "detail": {
                            "role_name": naming.CICD_ROLE,
                            "policy_name": naming.CICD_POLICY,
                            "document": None,
                        },
                        "state": "removed",
                    }
                ],
            }
        )
    )
    written = record_file.read_bytes()
    for apply in ((), ("--apply", "--yes")):
        result = run_diagnyx(
            {**aws_env, "AWS_ENDPOINT_URL": DEAD_ENDPOINT}, "restore", str(record_file), *apply,
            "--project-dir", str(dev_pending),
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        message = " ".join(result.stderr.split())
        assert message.startswith(f"error: {record_file}: "), message
        assert PENDING.format("restore") in message
        assert result.stdout == ""
    assert record_file.read_bytes() == written
