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
    state: dict = {"reply": {}, "assume": _NO_CREDENTIALS}

    class Reply(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if "GetCostAndUsage" in (self.headers.get("X-Amz-Target") or ""):
                body, kind = json.dumps(state["reply"]).encode(), "application/x-amz-json-1.1"
            elif b"Action=AssumeRole" in sent:  # a well-formed reply, credentials as set
                body, kind = state["assume"].encode(), "text/xml"
            else:
                body, kind = _IDENTITY.encode(), "text/xml"
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
    assert not records.exists()  # nothing recorded, nothing changed


def test_a_records_dir_that_is_a_file_is_a_usage_error(tmp_path):
    project = copy_project(tmp_path / "project")
    taken = tmp_path / "records"
    taken.write_text("not a folder")
    result = run_diagnyx(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "isolate", "dev", "--apply", "--yes",
        "--records-dir", str(taken), "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"--records-dir {taken}: is not a folder" in result.stderr
    assert taken.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"AWS_ENDPOINT_URL": "notaurl"}, "AWS_ENDPOINT_URL='notaurl': not an http:// or https://"),
        ({"AWS_ENDPOINT_URL": "http://[::1"}, "AWS_ENDPOINT_URL='http://[::1': Invalid IPv6 URL"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:99999"}, "Port out of range"),
        ({"AWS_ENDPOINT_URL": "ftp://127.0.0.1"}, "AWS_ENDPOINT_URL='ftp://127.0.0.1': not an"),
        ({"--region": "mars-north-1"}, "--region 'mars-north-1': not an AWS region"),
        ({"AWS_REGION": "us-east-1 "}, "AWS_REGION 'us-east-1 ': not an AWS region"),
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
