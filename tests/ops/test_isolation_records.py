"""`diagnyx restore` refuses a record it cannot trust: malformed in any shape, or disagreeing with
config. Each is exit 2 with one message naming the file and the field, before any AWS call: the
same happens with AWS unreachable (so no AWS call was made), and every account stays exactly as
it was."""

import copy
import json

import pytest
from typer.testing import CliRunner

from diagnyx_infra.cli import app
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.isolation import Isolation
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx
from tests.ops.test_isolation import access_state, reader

# Nothing listens here: a command that calls AWS exits 3, not 2.
DEAD_ENDPOINT = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def everything_looker(healthy):
    """Every account's access (one session per account for the module: seconds saved a case)."""
    zone = LandingZone.load(healthy)
    looker = reader(healthy)

    def state():
        return {
            name: sorted(
                json.dumps({"kind": i.kind, **i.detail.model_dump()}, sort_keys=True)
                for i in looker.plan(name).items
            )
            for name in zone.account_names()
        }

    return state


@pytest.fixture(scope="module")
def everything(isolated_prod, everything_looker):
    """Every account's access now, and as it was once prod was isolated; compared once more
    after every case of the module has run."""
    isolated = everything_looker()
    yield everything_looker, isolated
    assert everything_looker() == isolated, "a refused record changed an account"


@pytest.fixture(scope="module")
def isolated_prod(aws_env, healthy, tmp_path_factory):
    """prod isolated through the CLI: its genuine record, and prod's access before. Every case
    below leaves every account as this left it."""
    before = access_state(healthy, "prod")
    records = tmp_path_factory.mktemp("records")
    isolate = run_diagnyx(
        aws_env, "isolate", "prod", "--apply", "--yes", "--records-dir", str(records),
        "--project-dir", str(healthy),
    )  # fmt: skip
    assert isolate.returncode == 0, isolate.stderr
    (record_file,) = records.glob("isolation-prod-*.json")
    assert access_state(healthy, "prod") == []
    yield record_file, before
    restore = run_diagnyx(
        aws_env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(healthy)
    )
    assert restore.returncode == 0, restore.stderr
    assert access_state(healthy, "prod") == before


def _ids(project):
    return LandingZone.load(project).account_ids


def _set(path, value):
    def edit(record, project):
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _delete(path):
    def edit(record, project):
        target = record
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


def _role_policy(record):
    return next(i for i in record["items"] if i["kind"] == "role-policy")


def _an_ungranted_assignment(record, project):
    """Developers on prod, which the access matrix forbids (IDs copied from dev's)."""
    zone = LandingZone.load(project)
    dev = Isolation(Aws.from_environment(), zone).plan("dev")
    developer = next(
        i for i in dev.items if i.kind == "sso-assignment" and i.detail.group == "Developers"
    )
    record["items"].append({**developer.model_dump(mode="json"), "state": "removed"})


def _the_attack_of_the_issue(record, project):
    """Account name dev with prod's ID, `*:*` as the policy, Developers added."""
    record["account"] = "dev"
    _role_policy(record)["detail"]["document"] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}],
    }
    _an_ungranted_assignment(record, project)


# (case, what is written, the field the message names)
EDITS = [
    ("bad kind", _set(["items", 0, "kind"], "iam-user"), "items[0]"),
    ("string for a boolean", _set(["finished"], "true"), "finished"),
    ("number for a string", _set(["account"], 7), "account"),
    ("number for the account ID", _set(["account_id"], 111111111111), "account_id"),
    ("account ID not 12 digits", _set(["account_id"], "1234"), "account_id"),
    ("missing account_id", _delete(["account_id"]), "account_id"),
    ("missing items", _delete(["items"]), "items"),
    ("missing item state", _delete(["items", 0, "state"]), "items[0].state"),
    ("missing detail field", _delete(["items", 1, "detail", "group"]), "items[1].detail.group"),
    ("extra field", _set(["restore_as"], "Administrator"), "restore_as"),
    ("extra item field", _set(["items", 1, "removed"], True), "items[1].removed"),
    ("old boolean format", _set(["items", 0, "restored"], False), "items[0].restored"),
    ("extra detail field", _set(["items", 0, "detail", "arn"], "x"), "items[0].detail.arn"),
    ("unknown state", _set(["items", 0, "state"], "gone"), "items[0].state"),
    ("another version", _set(["version"], 1), "version"),
    ("items not a list", _set(["items"], {"0": {}}), "items"),
    ("item not an object", _set(["items", 0], "role-policy"), "items[0]"),
    ("unknown account", _set(["account"], "sandbox"), "account"),
    ("another account's name", _set(["account"], "dev"), "account_id"),
    ("another account's ID", lambda r, p: r.update(account_id=_ids(p)["dev"]), "account_id"),
    ("another role", _set(["items", 0, "detail", "role_name"], "OrgAdmin"), "items[0].detail"),
    ("another policy", _set(["items", 0, "detail", "policy_name"], "Admin"), "items[0].detail"),
    ("the issue's edited record", _the_attack_of_the_issue, "account_id"),
]

# (case, the file's bytes or a directory, what the message says)
RAW = [
    ("a list", b"[]", "the record"),
    ("null", b"null", "the record"),
    ("a number", b"12", "the record"),
    ("a string", b'"isolation"', "the record"),
    ("empty", b"", "not JSON"),
    ("not JSON", b"{account: prod", "not JSON"),
    ("truncated", None, "not JSON"),
    ("not UTF-8", b'{"account": "pr\xff\xfed"}', "not UTF-8"),
    ("larger than a record", b" " * 1_000_001 + b"{}", "larger than"),
    ("a directory", "dir", "not a regular file"),
    ("no such file", "missing", "no such file"),
    # The genuine record with `"account": "dev"` before its own account: not the last one read.
    ("a key given twice", "duplicate", "key 'account' appears twice"),
]


def _write_edit(genuine, tmp_path, project, edit):
    record = json.loads(genuine.read_text())
    assert record["items"][0]["kind"] == "role-policy"  # the edits above rely on the order
    edited = copy.deepcopy(record)
    edit(edited, project)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    return path


def _write_raw(genuine, tmp_path, content):
    path = tmp_path / "record.json"
    if content == "dir":
        path.mkdir()
    elif content == "missing":
        pass
    elif content is None:
        path.write_bytes(genuine.read_bytes()[:-40])
    elif content == "duplicate":
        path.write_text(genuine.read_text().replace("{", '{"account": "dev", ', 1))
    else:
        path.write_bytes(content)
    return path


def _restore_in_process(env, *args):
    """The command in this process (a subprocess per case would take minutes)."""
    return CliRunner().invoke(app, ["restore", *args], env={**env, "COLUMNS": "250"})


# Every account's access is compared after one case of each kind (and after all of them, in
# `everything`): each case's run against a dead endpoint exiting 2, not 3, already proves it was
# refused before any AWS call, which the comparison after each case repeated at a second a case.
STATE_COMPARED = {"the issue's edited record", "truncated"}
assert [len(STATE_COMPARED & {case[0] for case in kind}) for kind in (EDITS, RAW)] == [1, 1]


def _assert_refused(aws_env, project, path, field, everything, compare_state):
    for env in (aws_env, {**aws_env, "AWS_ENDPOINT_URL": DEAD_ENDPOINT}):
        result = _restore_in_process(
            env, str(path), "--apply", "--yes", "--project-dir", str(project)
        )
        assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        message = " ".join(result.stderr.split())
        assert message.startswith(f"error: {path}: "), message
        assert field in message, message
        assert len(lines) <= 3, lines  # one message, wrapped at most
    if compare_state:
        now, isolated = everything
        assert now() == isolated


def test_the_genuine_record_is_accepted(aws_env, healthy, isolated_prod):
    genuine, _ = isolated_prod
    dry = run_diagnyx(aws_env, "restore", str(genuine), "--project-dir", str(healthy))
    assert dry.returncode == 0, dry.stderr
    assert "prod: would restore inline policy CICDPolicy" in dry.stdout
    assert access_state(healthy, "prod") == []


@pytest.mark.parametrize(("case", "edit", "field"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edited_record_is_refused(
    aws_env, healthy, isolated_prod, everything, tmp_path, case, edit, field
):
    genuine, _ = isolated_prod
    path = _write_edit(genuine, tmp_path, healthy, edit)
    _assert_refused(aws_env, healthy, path, field, everything, case in STATE_COMPARED)


@pytest.mark.parametrize(("case", "content", "says"), RAW, ids=[r[0] for r in RAW])
def test_a_malformed_record_is_refused(
    aws_env, healthy, isolated_prod, everything, tmp_path, case, content, says
):
    genuine, _ = isolated_prod
    path = _write_raw(genuine, tmp_path, content)
    _assert_refused(aws_env, healthy, path, says, everything, case in STATE_COMPARED)


@pytest.mark.parametrize(
    "command",
    [
        ("isolate", "dev"),
        ("isolate", "dev", "--apply", "--yes"),
        ("restore", "RECORD", "--apply", "--yes"),
        ("cost", "report"),
    ],
    ids=" ".join,
)
def test_credentials_of_another_account_are_refused(
    aws_env, healthy, isolated_prod, everything, command
):
    """Credentials of a member account (dev's, through its access role) cannot isolate, restore
    or report for the organization: exit 2 naming both accounts, before anything is planned."""
    ids = _ids(healthy)
    credentials = Aws.from_environment().assume(ids["dev"])._credentials
    env = {
        **aws_env,
        "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": credentials["aws_session_token"],
    }
    args = [str(isolated_prod[0]) if a == "RECORD" else a for a in command]
    result = run_diagnyx(env, *args, "--project-dir", str(healthy))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"the credentials are for account {ids['dev']}, not the management account" in line
    assert ids["management"] in line
    assert result.stdout == ""
