"""`diagnyx cost report` does not trust Cost Explorer's reply, nor `isolate` STS's: a page
token that repeats, a reply without its fields, an amount that is not a finite number, an
AssumeRole without credentials are "not an AWS answer" (exit 3, one line), never a loop, a
traceback or `$nan`. The endpoint is a small server on 127.0.0.1 that answers STS as the
management account and Cost Explorer with the reply under test."""

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from tests.ops.conftest import copy_project, run_diagnyx

MANAGEMENT_ID = "111111111111"  # the example stack files' management account
_IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    f"<GetCallerIdentityResult><Arn>arn:aws:iam::{MANAGEMENT_ID}:user/finance</Arn>"
    f"<UserId>AIDAEXAMPLE</UserId><Account>{MANAGEMENT_ID}</Account></GetCallerIdentityResult>"
    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
)

_NO_CREDENTIALS = (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
    "</AssumeRoleResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata>"
    "</AssumeRoleResponse>"
)


def _group(account, amount):
    return {"Keys": account, "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def _credentials(access_key: str = "ASIAEXAMPLE", expiration: str = "2099-01-01T00:00:00Z"):
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        f"<Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
        f"<SessionToken>t</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
        "</AssumeRoleResult><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata>"
        "</AssumeRoleResponse>"
    )


REPLIES = {
    "an empty object": ({}, "has no ResultsByTime list"),
    "a page token that repeats": (
        {"ResultsByTime": [], "NextPageToken": "again"},
        "repeats a page token",
    ),
    "an amount that is a word": (
        {"ResultsByTime": [{"Groups": [_group([MANAGEMENT_ID], "lots")]}]},
        "has a group without an account and an amount",
    ),
    "a group without keys": (
        {"ResultsByTime": [{"Groups": [_group([], "1.00")]}]},
        "has a group without an account and an amount",
    ),
    "amounts that add up past any number": (
        {"ResultsByTime": [{"Groups": [_group(["444444444444"], "1e308")] * 2}]},
        "adds up to an endless amount",
    ),
    "a page token that is an object": (
        {"ResultsByTime": [], "NextPageToken": {"a": 1}},
        "has a page token that is no text",
    ),
    "groups that are a number": ({"ResultsByTime": [{"Groups": 5}]}, "could not be read"),
    "keys that are a string": (
        {"ResultsByTime": [{"Groups": [_group("444444444444", "1.00")]}]},
        "has a group without an account and an amount",
    ),
    "an account that is markup": (
        {"ResultsByTime": [{"Groups": [_group(["[bold red]x[/]"], "1.00")]}]},
        "has a group without an account and an amount",
    ),
    "NaN as an amount": (
        {"ResultsByTime": [{"Groups": [_group([MANAGEMENT_ID], "NaN")]}]},
        "has an amount that is not a number (nan)",
    ),
}


@pytest.fixture
def endpoint() -> Iterator[dict]:
    """The server's URL and the Cost Explorer reply it gives (set by the test)."""
    state: dict = {"reply": {}, "assume": _NO_CREDENTIALS, "identity": _IDENTITY, "json": {}}

    class Reply(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
            if target in state["json"]:  # an Organizations or other JSON API, as set
                reply = state["json"][target]
                body, kind = json.dumps(reply).encode(), "application/x-amz-json-1.1"
            elif target == "GetCostAndUsage":
                body, kind = json.dumps(state["reply"]).encode(), "application/x-amz-json-1.1"
            elif b"Action=AssumeRole" in sent:  # a well-formed reply, credentials as set
                body, kind = state["assume"].encode(), "text/xml"
            else:
                body, kind = state["identity"].encode(), "text/xml"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Reply)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def _env(endpoint: dict) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint["url"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }


@pytest.mark.parametrize("case", REPLIES, ids=list(REPLIES))
def test_a_reply_cost_explorer_would_not_give_exits_3(case, endpoint, tmp_path):
    reply, said = REPLIES[case]
    endpoint["reply"] = reply
    env = _env(endpoint)
    project = copy_project(tmp_path / "project")
    for extra in ([], ["--json"]):
        result = run_diagnyx(env, "cost", "report", *extra, "--project-dir", str(project))
        assert result.returncode == 3, result.stdout + result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: cannot look at AWS: Cost Explorer: ce:GetCostAndUsage")
        assert said in line
        assert result.stdout == ""


@pytest.mark.parametrize("apply", [[], ["--apply", "--yes"]], ids=["dry run", "apply"])
def test_an_assume_role_reply_without_credentials_exits_3(apply, endpoint, tmp_path):
    project = copy_project(tmp_path / "project")
    records = tmp_path / "records"
    result = run_diagnyx(
        _env(endpoint), "isolate", "dev", *apply, "--records-dir", str(records),
        "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "sts:AssumeRole: the reply holds no credentials; not an AWS answer" in line
    assert not list(records.glob("*")), "nothing recorded, nothing changed"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda path: path.symlink_to(path.parent / "nowhere"), "is a link to nothing"),
        (lambda path: path.write_text("not a folder"), "is not a folder"),
    ],
    ids=["a dangling link", "a file"],
)
def test_a_records_dir_that_cannot_hold_records_is_a_usage_error(make, said, tmp_path):
    """Refused before any AWS call (the endpoint is dead: a call would be exit 3)."""
    project = copy_project(tmp_path / "project")
    taken = tmp_path / "records"
    make(taken)
    result = run_diagnyx(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "isolate", "dev", "--apply", "--yes",
        "--records-dir", str(taken), "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"--records-dir {taken}: {said}" in result.stderr
    assert result.stdout == ""
    assert taken.is_symlink() or taken.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"AWS_ENDPOINT_URL": "notaurl"}, "AWS_ENDPOINT_URL='notaurl': not an http:// or https://"),
        ({"AWS_ENDPOINT_URL": "http://[::1"}, "AWS_ENDPOINT_URL='http://[::1': Invalid IPv6 URL"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:99999"}, "Port out of range"),
        ({"AWS_ENDPOINT_URL": "ftp://127.0.0.1"}, "AWS_ENDPOINT_URL='ftp://127.0.0.1': not an"),
        ({"--region": "mars-north-1"}, "--region 'mars-north-1': not an AWS region"),
        ({"AWS_REGION": "us-east-1 "}, "AWS_REGION 'us-east-1 ': not an AWS region"),
        ({"AWS_DEFAULT_REGION": "mars-1"}, "AWS_DEFAULT_REGION 'mars-1': not an AWS region"),
    ],
    ids=lambda v: next(iter(v.values())) if isinstance(v, dict) else None,
)
@pytest.mark.parametrize(
    "command", [("checklist", "--all"), ("isolate", "dev"), ("cost", "report")], ids=" ".join
)
def test_an_unusable_endpoint_or_region_is_a_usage_error(setting, said, command, tmp_path):
    """Refused before any call (exit 2, one line), not reported as AWS unreachable."""
    project = copy_project(tmp_path / "project")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env |= {k: v for k, v in setting.items() if not k.startswith("--")}
    region = ["--region", setting["--region"]] if "--region" in setting else []
    result = run_diagnyx(env, *command, *region, "--project-dir", str(project))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert said in line


@pytest.mark.parametrize(
    ("assume", "said"),
    [
        (_credentials(access_key=""), "sts:AssumeRole: the reply holds no credentials"),
        (_credentials(expiration="notadate"), "sts:AssumeRole: the reply could not be read"),
        ("<x/>", "sts:AssumeRole: the reply could not be read"),
    ],
    ids=["empty key", "a date that is not one", "an empty document"],
)
def test_an_assume_role_reply_that_is_not_one_exits_3(assume, said, endpoint, tmp_path):
    endpoint["assume"] = assume
    project = copy_project(tmp_path / "project")
    result = run_diagnyx(_env(endpoint), "isolate", "dev", "--project-dir", str(project))
    assert result.returncode == 3, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert said in line


def test_an_endpoint_from_the_profile_that_is_no_url_is_a_usage_error(tmp_path):
    project = copy_project(tmp_path / "project")
    profile = tmp_path / "config"
    profile.write_text("[default]\nendpoint_url = http://[::1\n")
    env = {
        "AWS_CONFIG_FILE": str(profile),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for command in (("isolate", "dev"), ("checklist", "--all"), ("cost", "report")):
        result = run_diagnyx(env, *command, "--project-dir", str(project))
        assert result.returncode == 2, (command, result.stdout + result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert "endpoint" in line and "Invalid IPv6 URL" in line, line


NOT_IN_USE = {"__type": "AWSOrganizationsNotInUseException", "Message": "not in use"}


def _organization(master="111111111111"):
    return {"Organization": {"Id": "o-example", "MasterAccountId": master, "FeatureSet": "ALL"}}


def _accounts(*pairs):
    return {"Accounts": [{"Id": i, "Email": e, "Name": e} for i, e in pairs]}


def _files(project):
    return {p.name: p.read_text() for p in project.glob("Pulumi.*.yaml")}


def test_bootstrap_refuses_a_caller_identity_without_an_account(endpoint, tmp_path):
    endpoint["identity"] = _IDENTITY.replace(
        f"<Account>{MANAGEMENT_ID}</Account>", "<Account>abc</Account>"
    )
    endpoint["json"] = {"DescribeOrganization": NOT_IN_USE}
    project = copy_project(tmp_path / "project")
    before = _files(project)
    result = run_diagnyx(
        _env(endpoint), "bootstrap", "start", "--write", "--project-dir", str(project)
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "sts:GetCallerIdentity: the reply names no account ('abc')" in result.stderr
    assert _files(project) == before


@pytest.mark.parametrize(
    ("accounts", "said"),
    [
        ([("111111111111", "root@x"), ("abc", "aws+dev@diagnyx.ai")], "names an account 'abc'"),
        (
            [("111111111111", "root@x"), ("111111111111", "aws+dev@diagnyx.ai")],
            "lists one ID twice",
        ),
        ([("111111111111", "root@x"), ("555555555555", 5)], "has an e-mail 5"),
    ],
    ids=["an ID that is a word", "one ID twice", "an e-mail that is a number"],
)
def test_sync_writes_nothing_from_a_list_of_accounts_aws_would_not_give(
    accounts, said, endpoint, tmp_path
):
    endpoint["json"] = {
        "DescribeOrganization": _organization(),
        "ListAccounts": _accounts(*accounts),
    }
    project = copy_project(tmp_path / "project")
    before = _files(project)
    result = run_diagnyx(_env(endpoint), "accounts", "sync", "--project-dir", str(project))
    assert result.returncode == 3, result.stdout + result.stderr
    assert said in result.stderr
    assert _files(project) == before


def test_sync_stops_on_a_page_token_that_repeats(endpoint, tmp_path):
    endpoint["json"] = {
        "DescribeOrganization": _organization(),
        "ListAccounts": {**_accounts(("111111111111", "root@x")), "NextToken": "again"},
    }
    project = copy_project(tmp_path / "project")
    result = run_diagnyx(_env(endpoint), "accounts", "sync", "--project-dir", str(project))
    assert result.returncode == 3, result.stdout + result.stderr


def test_bootstrap_guards_the_unqualified_account_ids_key(endpoint, tmp_path):
    """Files naming another real management account under `accountIds:` (the project's
    namespace, as the CLI reads it) are refused as under `diagnyx:accountIds`."""
    endpoint["identity"] = _IDENTITY.replace(MANAGEMENT_ID, "222222222222")
    endpoint["json"] = {"DescribeOrganization": NOT_IN_USE}
    project = copy_project(tmp_path / "project")
    for path in project.glob("Pulumi.*.yaml"):
        text = path.read_text().replace("  diagnyx:accountIds:", "  accountIds:")
        path.write_text(text.replace('management: "111111111111"', 'management: "999999999999"'))
    before = _files(project)
    result = run_diagnyx(
        _env(endpoint), "bootstrap", "start", "--write", "--project-dir", str(project)
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "management account 999999999999, and the caller is account 222222222222" in (
        result.stderr
    )
    assert _files(project) == before


def test_an_unreadable_reply_in_isolation_exits_3(endpoint, tmp_path):
    """Replies of the member account's APIs that are not theirs (IAM answers with STS's
    document, sso-admin lists an instance without its identity store): exit 3 and one line,
    nothing recorded."""
    endpoint["assume"] = _credentials()
    endpoint["json"] = {"ListInstances": {"Instances": [{"InstanceArn": "arn:aws:sso:::x"}]}}
    project = copy_project(tmp_path / "project")
    records = tmp_path / "records"
    result = run_diagnyx(
        _env(endpoint), "isolate", "dev", "--apply", "--yes", "--records-dir", str(records),
        "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "nothing changed" in line and "not an AWS answer" in line, line
    assert not list(records.glob("*"))  # nothing recorded


def test_a_reply_the_command_cannot_read_is_exit_3_not_a_traceback(endpoint, tmp_path, monkeypatch):
    """Whatever field a command reads that a reply lacks: one line, exit 3 (the wrapper every
    operations command has)."""
    from diagnyx_infra import cli

    def unreadable(*args):
        return {}["ResultsByTime"]

    monkeypatch.setattr(cli, "build_cost_report", unreadable)
    project = copy_project(tmp_path / "project")
    result = run_diagnyx(_env(endpoint), "cost", "report", "--project-dir", str(project))
    assert result.returncode == 3, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        "error: cannot look at AWS: a reply is not what the API answers (KeyError: "
        "'ResultsByTime'); stopped there"
    )


def test_sync_refuses_two_accounts_of_config_on_one_id(endpoint, tmp_path):
    """dev's e-mail is listed with the management account's ID: two accounts of config would
    get one ID (which every later command refuses): exit 2 before anything is written."""
    endpoint["json"] = {
        "DescribeOrganization": _organization(),
        "ListAccounts": _accounts(("111111111111", "aws+dev@diagnyx.ai")),
    }
    project = copy_project(tmp_path / "project")
    before = _files(project)
    result = run_diagnyx(_env(endpoint), "accounts", "sync", "--project-dir", str(project))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "management and dev would get one ID, 111111111111" in result.stderr
    assert _files(project) == before


@pytest.mark.parametrize(
    ("operation", "reply"),
    [
        ("ListAccounts", {**_accounts(("111111111111", "root@x")), "NextToken": 5}),
        ("DescribeOrganization", {"Organization": {"MasterAccountId": 111111111111}}),
    ],
    ids=["a page token that is a number", "an account ID that is a number"],
)
def test_sync_refuses_replies_of_the_wrong_type(operation, reply, endpoint, tmp_path):
    endpoint["json"] = {"DescribeOrganization": _organization(), operation: reply}
    project = copy_project(tmp_path / "project")
    result = run_diagnyx(_env(endpoint), "accounts", "sync", "--project-dir", str(project))
    assert result.returncode == 3, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_every_page_of_a_list_is_read():
    """A list call may answer a short page and a token (Organizations does): `every` reads on."""
    import boto3
    from botocore.stub import Stubber

    from diagnyx_infra.ops.aws import every

    sns = boto3.client(
        "sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(sns) as stub:
        stub.add_response("list_topics", {"Topics": [{"TopicArn": "arn:one"}], "NextToken": "2"})
        stub.add_response("list_topics", {"Topics": [{"TopicArn": "arn:two"}]}, {"NextToken": "2"})
        assert every(sns, "list_topics", "Topics") == [
            {"TopicArn": "arn:one"},
            {"TopicArn": "arn:two"},
        ]
