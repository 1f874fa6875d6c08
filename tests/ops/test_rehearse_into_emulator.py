"""`diagnyx emulator` and `diagnyx rehearse --endpoint-url`: a rehearsal deploys into a running
emulator and leaves the landing zone there, with stack files holding its account IDs, for the
operations commands (and a person with the AWS CLI) to look at."""

import json
import os
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
import requests

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from diagnyx_infra.rehearsal.server import (
    CREDENTIALS,
    NotLoopback,
    emulator_url,
    loopback_host,
    only_signed_and_addressed,
)
from tests.ops.conftest import DIAGNYX, run_diagnyx


@pytest.fixture
def emulator():
    """`diagnyx emulator --port 0`, as a person starts it: its endpoint, then Ctrl-C."""
    process = subprocess.Popen(
        [str(DIAGNYX), "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("emulator listening on http://127.0.0.1:"), first
    yield first.split()[3], process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_rehearsal_into_the_emulator_is_left_there_for_the_commands(emulator, monkeypatch):
    endpoint, server = emulator
    env = {"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS}
    rehearsal = run_diagnyx(env, "rehearse", "security", "--endpoint-url", endpoint, "--json")
    assert rehearsal.returncode == 0, rehearsal.stderr
    report = json.loads(rehearsal.stdout)
    stack_files = Path(report["stackFiles"])
    try:
        assert report["failure"] is None and report["drift"]["drifted"] is False
        # CloudTrail's delegated administrator is registered: the emulator holds moto's gaps.
        assert any(s["stack"] == "security" for s in report["stacks"])
        assert f"left in the emulator at {endpoint}" in rehearsal.stderr
        assert f"./run drift security --project-dir {stack_files}" in rehearsal.stderr
        ids = (stack_files / "Pulumi.security.yaml").read_text()
        assert "pending" not in ids.split("diagnyx:accountIds:")[1].split("diagnyx:")[0]
        where = ("--project-dir", str(stack_files))
        checklist = run_diagnyx(env, "checklist", "--account", "security", *where)
        assert checklist.returncode == 0, checklist.stdout
        # A change made by hand in the rehearsed landing zone is exactly its drift (the
        # rehearsal's own drift check found none before it).
        security = LandingZone.load(stack_files).account_ids["security"]
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        Aws.from_environment().assume(security).client("iam").create_user(UserName="intruder")
        changed = run_diagnyx(env, "drift", "security", "--json", *where)
        assert changed.returncode == 1
        assert [(d["account"], d["kind"], d["target"]) for d in json.loads(changed.stdout)[
            "drifts"]] == [("security", "IAM user", "user intruder")]  # fmt: skip
        again = run_diagnyx(env, "rehearse", "security", "--endpoint-url", endpoint)
        assert again.returncode == 2
        assert "the emulator already holds organization o-" in again.stderr
        # A web page can reach a loopback port: it gets no CORS answer, and an unsigned request
        # (all a page can send without one) is refused.
        page = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        preflight = requests.options(endpoint, headers=page, timeout=10)
        assert "Access-Control-Allow-Origin" not in preflight.headers
        form = {"Action": "CreateUser", "UserName": "from-a-page", "Version": "2010-05-08"}
        assert requests.post(endpoint, data=form, timeout=10).status_code == 403
    finally:
        shutil.rmtree(stack_files, ignore_errors=True)
    server.send_signal(signal.SIGINT)  # Ctrl-C
    assert server.wait(timeout=30) == 0
    assert "emulator stopped" in server.stderr.read()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://10.0.0.1:5000", "'10.0.0.1' is not a loopback address"),
        ("http://emulator.example:5000", "'emulator.example' is not a loopback address"),
        ("file:///tmp/x", "is not an http:// URL"),
        ("http://127.0.0.1:99999", "Port out of range"),
        ("http://127.0.0.1:9\n", "holds spaces or control characters"),
    ],
)
def test_only_a_loopback_emulator_is_rehearsed_into(url, problem, tmp_path):
    result = run_diagnyx({}, "rehearse", "security", "--endpoint-url", url)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --endpoint-url: ") and problem in result.stderr
    assert result.stdout == ""


def test_an_emulator_out_of_reach_exits_3():
    result = run_diagnyx({}, "rehearse", "security", "--endpoint-url", "http://127.0.0.1:9")
    assert result.returncode == 3
    assert result.stderr.startswith("error: cannot reach the emulator at http://127.0.0.1:9")


def test_the_emulator_listens_on_loopback_only_and_says_when_it_cannot():
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"):
        assert loopback_host(host) == host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.com"):
        with pytest.raises(NotLoopback):
            loopback_host(host)
    assert emulator_url("http://[::1]:5000/") == "http://[::1]:5000"
    exposed = run_diagnyx({}, "emulator", "--host", "0.0.0.0")
    assert exposed.returncode == 2
    assert exposed.stderr.startswith("error: --host: '0.0.0.0' is not a loopback address")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = run_diagnyx({}, "emulator", "--port", port)
    assert busy.returncode == 2
    assert busy.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")


def test_the_emulator_answers_signed_requests_to_its_own_address_only():
    seen = []

    def app(environ, start_response):
        seen.append(environ["HTTP_HOST"])
        start_response("200 OK", [])
        return [b"ok"]

    signed = "AWS4-HMAC-SHA256 Credential=rehearsal/20261207/us-east-1/iam/aws4_request, ..."

    def status(host, authorization=signed, query="", path="/", port=5000):
        answer = []
        environ = {"HTTP_HOST": host, "HTTP_AUTHORIZATION": authorization, "QUERY_STRING": query,
                   "PATH_INFO": path}  # fmt: skip
        only_signed_and_addressed(app, port)(environ, lambda code, headers: answer.append(code))
        return answer[0]

    for host in ("127.0.0.1:5000", "[::1]:5000", "localhost:5000", "bucket.localhost:5000"):
        assert status(host) == "200 OK", host
    assert status("127.0.0.1", port=80) == "200 OK"  # port 80 goes unsaid
    # What a web page can send: no Authorization, a forged presigned query, moto's own API.
    assert status("127.0.0.1:5000", authorization="") == "403 Forbidden"
    forged = "Action=CreateUser&UserName=x&X-Amz-Signature=x"
    assert status("127.0.0.1:5000", authorization="", query=forged) == "403 Forbidden"
    assert status("127.0.0.1:5000", path="/moto-api/reset") == "403 Forbidden"
    assert status("127.0.0.1:5000", path="/moto-api/recorder/replay-recording") == "403 Forbidden"
    for host in ("evil.example:5000", "127.0.0.1:5001", "127.0.0.1", "", "10.0.0.1:5000",
                 "127.0.0.1.evil.example:5000"):  # fmt: skip
        assert status(host) == "403 Forbidden", host  # a rebound name, another port
    assert seen == ["127.0.0.1:5000", "[::1]:5000", "localhost:5000", "bucket.localhost:5000",
                    "127.0.0.1"]  # fmt: skip


def test_the_rehearsal_sends_nothing_past_its_emulator(monkeypatch, tmp_path):
    """An endpoint of one service, or the SDK told to ignore configured endpoints, would send
    the rehearsal's calls elsewhere: both are cleared while it runs, and put back after."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", "https://iam.attacker.example")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    # ~/.aws/config of the user, naming an endpoint of its own
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        "[default]\nendpoint_url = http://attacker.example:8080\n"
    )
    monkeypatch.setenv("HOME", str(home))
    with emulated_aws("http://127.0.0.1:5000"):
        assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
        assert not {"AWS_ENDPOINT_URL_IAM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                    "AWS_USE_DUALSTACK_ENDPOINT", "AWS_PROFILE"} & set(os.environ)  # fmt: skip
        assert os.environ["AWS_ACCESS_KEY_ID"] == "rehearsal"
        assert os.environ["AWS_CONFIG_FILE"] == os.devnull
        assert os.environ["NO_PROXY"] == "internal.example,127.0.0.1,localhost,::1"
        assert urllib.request.proxy_bypass("127.0.0.1")  # the emulator is not proxied
        client = Aws.from_environment().client("sts")
        assert client.meta.endpoint_url == "http://127.0.0.1:5000"
    with emulated_aws():  # moto in process: AWS's own hosts, which it catches
        client = Aws.from_environment().client("sts")
        assert client.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"
    assert os.environ["AWS_ENDPOINT_URL_IAM"] == "https://iam.attacker.example"
    assert os.environ["AWS_PROFILE"] == "production"
    assert os.environ["NO_PROXY"] == "internal.example"
    assert "AWS_CONFIG_FILE" not in os.environ
