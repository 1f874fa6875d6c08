"""An edited isolation record cannot give an account more than config grants: the issue's
attack (prod's ID under the name dev, `*:*` as the policy, Developers added) is refused, a
`*:*` document alone is ignored, and access config does not grant is never put back."""

import json
import shutil
import subprocess

import pytest

from diagnyx_infra import naming
from diagnyx_infra.config.stack_files import round_trip_yaml
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.isolation import Isolation, Record, rendered_cicd_policy
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx
from tests.ops.test_isolation import access_state

EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}],
}


def _session(zone, account):
    caller = Aws.from_environment()
    return caller if account == "management" else caller.assume(zone.account_ids[account])


def _live_policy(zone, account):
    iam = _session(zone, account).client("iam")
    document = iam.get_role_policy(RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY)[
        "PolicyDocument"
    ]
    return json.loads(document) if isinstance(document, str) else document


def _identity_center():
    caller = Aws.from_environment()
    sso = caller.client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    store = caller.client("identitystore")
    groups = {
        g["DisplayName"]: g["GroupId"]
        for g in store.list_groups(IdentityStoreId=instance["IdentityStoreId"])["Groups"]
    }
    sets = {
        sso.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn)[
            "PermissionSet"
        ]["Name"]: arn
        for arn in sso.list_permission_sets(InstanceArn=instance["InstanceArn"])["PermissionSets"]
    }
    return sso, instance["InstanceArn"], groups, sets


def _sets_of_group(zone, account, group):
    """The permission sets ``group`` holds on ``account``."""
    sso, instance, groups, sets = _identity_center()
    return sorted(
        name
        for name, arn in sets.items()
        for a in sso.list_account_assignments(
            InstanceArn=instance, AccountId=zone.account_ids[account], PermissionSetArn=arn
        )["AccountAssignments"]
        if a["PrincipalId"] == groups[group]
    )


def _isolate(env, project, account, records):
    result = run_diagnyx(
        env, "isolate", account, "--apply", "--yes", "--records-dir", str(records),
        "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record_file,) = records.glob(f"isolation-{account}-*.json")
    return record_file


def _restore(env, project, record_file):
    return run_diagnyx(
        env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(project)
    )


def test_the_issues_edited_record_gives_prod_nothing(aws_env, healthy, tmp_path):
    zone = LandingZone.load(healthy)
    rendered = rendered_cicd_policy(zone.stacks["prod"])
    before = {name: access_state(healthy, name) for name in ("prod", "dev")}
    assert _live_policy(zone, "prod") == rendered
    assert _sets_of_group(zone, "prod", "Developers") == []

    genuine = _isolate(aws_env, healthy, "prod", tmp_path / "records")
    assert access_state(healthy, "prod") == []
    record = json.loads(genuine.read_text())

    # The issue's record: name dev, prod's ID, `*:*`, Developers on prod as if removed.
    developers = next(
        item.model_dump(mode="json")
        for item in Isolation(Aws.from_environment(), zone).plan("dev").items
        if item.kind == "sso-assignment" and item.detail.group == "Developers"
    )
    attack = {
        **record,
        "account": "dev",
        "items": [
            {**item, "detail": {**item["detail"], "document": EVERYTHING}}
            if item["kind"] == "role-policy"
            else item
            for item in record["items"]
        ]
        + [{**developers, "state": "removed"}],
    }
    assert attack["account_id"] == zone.account_ids["prod"]
    attacked = tmp_path / "attack.json"
    attacked.write_text(json.dumps(attack))
    refused = _restore(aws_env, healthy, attacked)
    assert refused.returncode == 2, refused.stderr
    assert str(attacked) in refused.stderr and "account_id" in refused.stderr
    assert access_state(healthy, "prod") == []  # nothing given back, nothing given
    assert access_state(healthy, "dev") == before["dev"]

    # The same attack under prod's own name: prod gets what config grants, the policy the
    # program renders, and never the assignment config does not grant (exit 1: a removed
    # assignment is not put back).
    as_prod = tmp_path / "as-prod.json"
    as_prod.write_text(json.dumps({**attack, "account": "prod"}))
    restored = _restore(aws_env, healthy, as_prod)
    assert restored.returncode == 1, restored.stderr
    assert "not in the access matrix" in " ".join(restored.stderr.split())
    assert _sets_of_group(zone, "prod", "Developers") == []
    assert _live_policy(zone, "prod") == rendered
    assert access_state(healthy, "prod") == before["prod"]
    _isolate(aws_env, healthy, "prod", tmp_path / "again")
    assert access_state(healthy, "prod") == []

    # `*:*` alone is accepted and ignored: prod gets the policy the program renders.
    only_document = tmp_path / "document.json"
    only_document.write_text(
        json.dumps({**attack, "account": "prod", "items": attack["items"][:-1]})
    )
    restored = _restore(aws_env, healthy, only_document)
    assert restored.returncode == 0, restored.stderr
    assert "the record's document differs and is not used" in " ".join(restored.stdout.split())
    assert _live_policy(zone, "prod") == rendered
    assert "*:*" not in json.dumps(_live_policy(zone, "prod"))
    assert _sets_of_group(zone, "prod", "Developers") == []
    assert access_state(healthy, "prod") == before["prod"]

    # The genuine record now finds everything in place.
    again = _restore(aws_env, healthy, genuine)
    assert again.returncode == 0, again.stderr
    assert access_state(healthy, "prod") == before["prod"]


def test_access_config_does_not_grant_is_removed_and_never_given_back(aws_env, healthy, tmp_path):
    zone = LandingZone.load(healthy)
    before = access_state(healthy, "dev")
    sso, instance, groups, sets = _identity_center()
    # Developers as Administrator on dev: in AWS, not in the access matrix.
    sso.create_account_assignment(
        InstanceArn=instance,
        TargetId=zone.account_ids["dev"],
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=sets["Administrator"],
        PrincipalType="GROUP",
        PrincipalId=groups["Developers"],
    )
    assert _sets_of_group(zone, "dev", "Developers") == ["Administrator", "Developer"]

    record_file = _isolate(aws_env, healthy, "dev", tmp_path)
    assert access_state(healthy, "dev") == []
    kinds = [i.kind for i in Record.load(record_file).items]
    assert kinds.count("unmanaged-sso-assignment") == 1

    restore = _restore(aws_env, healthy, record_file)
    assert restore.returncode == 1, restore.stderr
    assert "will not restore SSO assignment Administrator -> group" in " ".join(
        restore.stdout.split()
    )
    assert "not in the access matrix" in restore.stderr
    assert _sets_of_group(zone, "dev", "Developers") == ["Developer"]
    assert access_state(healthy, "dev") == before
    # Run again, or as a dry run: the same exit 1, as the same assignment stays removed.
    again = _restore(aws_env, healthy, record_file)
    dry = run_diagnyx(aws_env, "restore", str(record_file), "--project-dir", str(healthy))
    assert (again.returncode, dry.returncode) == (1, 1), again.stderr + dry.stderr
    assert "not in the access matrix" in again.stderr and "not in the access matrix" in dry.stderr


def test_a_narrowed_access_matrix_still_gets_the_account_back(aws_env, healthy, tmp_path):
    """Developers taken off dev in config after dev was isolated: restore gives dev everything
    config now grants and leaves the Developers assignment out (exit 1, said), rather than
    refusing the record and leaving dev with nothing."""
    zone = LandingZone.load(healthy)
    before = access_state(healthy, "dev")
    record_file = _isolate(aws_env, healthy, "dev", tmp_path / "records")
    narrowed = tmp_path / "narrowed"
    narrowed.mkdir()
    for path in [*healthy.glob("Pulumi*.yaml"), healthy / "__main__.py"]:
        shutil.copy(path, narrowed)
    management = narrowed / "Pulumi.management.yaml"
    editor = round_trip_yaml()  # keeps the IDs quoted (YAML 1.2 reads 0123... as a number)
    data = editor.load(management.read_text())
    for assignment in data["config"]["diagnyx:identityCenter"]["assignments"]:
        if assignment["group"] == "Developers":
            assignment["targets"] = ["staging", "uat"]
    with management.open("w") as handle:
        editor.dump(data, handle)

    restored = run_diagnyx(
        aws_env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(narrowed)
    )
    assert restored.returncode == 1, restored.stderr
    assert "not in the access matrix" in restored.stderr
    assert _sets_of_group(zone, "dev", "Developers") == []
    assert _live_policy(zone, "dev") == rendered_cicd_policy(zone.stacks["dev"])
    others = [line for line in before if "Developers" not in line]
    assert sorted(access_state(healthy, "dev")) == sorted(others)

    again = _restore(aws_env, healthy, record_file)  # config as it was: Developers come back
    assert again.returncode == 0, again.stderr
    assert access_state(healthy, "dev") == before


def test_a_record_that_cannot_be_saved_changes_nothing(aws_env, healthy, tmp_path):
    """The record's folder takes no new file (immutable): restore refuses before any AWS
    change (exit 2), rather than putting back one grant and stopping."""
    records = tmp_path / "records"
    record_file = _isolate(aws_env, healthy, "uat", records)
    if subprocess.run(["chattr", "+i", str(records)], capture_output=True).returncode != 0:
        _restore(aws_env, healthy, record_file)
        pytest.skip("chattr +i is not allowed here")
    try:
        refused = _restore(aws_env, healthy, record_file)
        assert refused.returncode == 2, refused.stderr
        assert "cannot write the record there" in refused.stderr
        assert "nothing changed" in refused.stderr
        assert access_state(healthy, "uat") == []
    finally:
        subprocess.run(["chattr", "-i", str(records)], check=True)
    assert _restore(aws_env, healthy, record_file).returncode == 0
