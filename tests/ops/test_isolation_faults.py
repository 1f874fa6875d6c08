"""Isolation survives what a real run meets: the process killed between an AWS call and the
record write, a reply lost on the network (the SDK's retry then finds the item gone), AWS out of
reach or an endpoint that is not AWS. In each, `restore --apply` returns the account to exactly
its access before isolation, and a command that could not reach AWS exits 3."""

import http.server
import json

import pytest
import requests

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.isolation import Isolation, Record
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx
from tests.ops.test_faults import serve
from tests.ops.test_isolation import access_state

ACCOUNT = "uat"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # nothing listens here


def _restore(env, project, record_file):
    result = run_diagnyx(
        env, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(project)
    )
    assert result.returncode == 0, result.stderr
    return result


def _only_record(records):
    (record_file,) = records.glob(f"isolation-{ACCOUNT}-*.json")
    return record_file


# --- killed between the call and the record write -------------------------------------------


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs."""


@pytest.mark.parametrize(
    ("kill_at_save", "death", "removed_before"),
    [
        # saves: 1 the plan, 2 CICDPolicy "removing", [delete], 3 "removed", 4 next "removing"...
        (3, KeyboardInterrupt, "role-policy"),
        (5, SystemExit, "sso-assignment"),
        (3, Killed, "role-policy"),
    ],
)
def test_killed_between_the_call_and_the_record_write(
    aws_env, healthy, tmp_path, monkeypatch, kill_at_save, death, removed_before
):
    before = access_state(healthy, ACCOUNT)
    isolation = Isolation(Aws.from_environment(), LandingZone.load(healthy))
    record = isolation.plan(ACCOUNT)
    path = tmp_path / f"isolation-{ACCOUNT}.json"
    saves = {"n": 0}
    save = Record.save

    def dies_at_one_save(self, target):
        saves["n"] += 1
        if saves["n"] == kill_at_save:
            raise death()
        save(self, target)

    monkeypatch.setattr(Record, "save", dies_at_one_save)
    with pytest.raises(death):
        isolation.isolate(record, path)
    monkeypatch.undo()

    # AWS has lost the item; the record on disk still says it was being removed.
    on_disk = Record.load(path)
    dying = next(i for i in on_disk.items if i.state == "removing")
    assert dying.kind == removed_before
    assert json.dumps(dying.detail.model_dump(), sort_keys=True) not in "".join(
        access_state(healthy, ACCOUNT)
    )
    assert len(access_state(healthy, ACCOUNT)) < len(before)

    restore = _restore(aws_env, healthy, path)
    assert "restoring" in restore.stdout
    assert access_state(healthy, ACCOUNT) == before


# --- a reply lost on the network --------------------------------------------------------------


class _DroppingProxy(http.server.ThreadingHTTPServer):
    """Forwards to the moto server; for the first ``drops`` requests of one operation, lets moto
    carry it out and then hangs up without the reply."""

    def __init__(self, target: str, operation: str, drops: int):
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target = target
        self.operation = operation
        self.drops = drops
        self.seen = 0

    def matches(self, headers, body: bytes) -> bool:
        target = headers.get("X-Amz-Target", "")
        return target.endswith(f".{self.operation}") or f"Action={self.operation}&" in (
            body.decode("utf-8", "replace") + "&"
        )


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers (40 ms a reply on a kept-alive connection).
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet
        pass

    def _forward(self):
        server: _DroppingProxy = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        answer = requests.request(
            self.command, server.target + self.path, data=body, headers=headers, timeout=30
        )
        if server.matches(self.headers, body):
            server.seen += 1
            if server.seen <= server.drops:  # done in AWS, the reply lost
                self.close_connection = True
                return
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in {"content-length", "transfer-encoding", "connection"} | {
                "content-encoding"
            }:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


@pytest.fixture
def dropping_proxy(moto_endpoint, request):
    operation, drops = request.param
    proxy = _DroppingProxy(moto_endpoint, operation, drops)
    serve(proxy)
    yield proxy
    proxy.shutdown()
    proxy.server_close()


@pytest.mark.parametrize(
    "dropping_proxy",
    [("DeleteRolePolicy", 1), ("DeleteAccountAssignment", 1)],
    indirect=True,
    ids=["DeleteRolePolicy", "DeleteAccountAssignment"],
)
def test_a_lost_reply_retried_finds_the_item_gone(aws_env, healthy, tmp_path, dropping_proxy):
    """The SDK retries the call whose reply was lost and gets NotFound: that is removed."""
    before = access_state(healthy, ACCOUNT)
    env = {**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{dropping_proxy.server_port}"}
    isolate = run_diagnyx(
        env, "isolate", ACCOUNT, "--apply", "--yes",
        "--records-dir", str(tmp_path), "--project-dir", str(healthy),
    )  # fmt: skip
    assert isolate.returncode == 0, isolate.stderr
    record = Record.load(_only_record(tmp_path))
    kind = "role-policy" if dropping_proxy.operation == "DeleteRolePolicy" else "sso-assignment"
    # Every removal of that kind, and the SDK's retry of the first after its lost reply.
    assert dropping_proxy.seen == sum(i.kind == kind for i in record.items) + 1
    assert record.finished and {i.state for i in record.items} == {"removed"}
    assert access_state(healthy, ACCOUNT) == []

    _restore(aws_env, healthy, _only_record(tmp_path))
    assert access_state(healthy, ACCOUNT) == before


@pytest.mark.parametrize(
    "dropping_proxy",
    [("DeleteRolePolicy", 100), ("DeleteAccountAssignment", 100)],
    indirect=True,
    ids=["DeleteRolePolicy", "DeleteAccountAssignment"],
)
def test_replies_lost_until_the_sdk_gives_up_stops_with_exit_3(
    aws_env, healthy, tmp_path, dropping_proxy
):
    """Every attempt's reply lost: the connection error ends the run; the record names the item
    as being removed although AWS removed it, and restore puts it back."""
    before = access_state(healthy, ACCOUNT)
    env = {**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{dropping_proxy.server_port}"}
    isolate = run_diagnyx(
        env, "isolate", ACCOUNT, "--apply", "--yes",
        "--records-dir", str(tmp_path), "--project-dir", str(healthy),
    )  # fmt: skip
    assert isolate.returncode == 3, isolate.stderr
    message = " ".join(isolate.stderr.split())
    assert "isolate stopped after" in message and "could not be reached" in message
    record_file = _only_record(tmp_path)
    assert f"diagnyx restore {record_file} --apply" in message
    assert "safe to run again" in message
    record = Record.load(record_file)
    assert not record.finished
    (lost,) = [i for i in record.items if i.state == "removing"]
    assert lost.kind == (
        "role-policy" if dropping_proxy.operation == "DeleteRolePolicy" else "sso-assignment"
    )
    after = access_state(healthy, ACCOUNT)
    assert len(after) == len(before) - 1 - sum(i.state == "removed" for i in record.items)

    restore = _restore(aws_env, healthy, record_file)
    assert "restoring" in restore.stdout
    assert access_state(healthy, ACCOUNT) == before


# --- AWS out of reach, or not AWS ---------------------------------------------------------------


class _NotAws(http.server.BaseHTTPRequestHandler):
    """A captive portal: every request gets a web page."""

    def log_message(self, *args):
        pass

    def _page(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    do_GET = do_POST = _page


@pytest.fixture
def portal():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    serve(server)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("where", ["nothing listening", "not AWS"])
def test_isolate_and_restore_exit_3_when_aws_cannot_be_reached(
    aws_env, healthy, tmp_path, portal, where
):
    endpoint = DEAD_ENDPOINT if where == "nothing listening" else portal
    before = access_state(healthy, ACCOUNT)
    away = {**aws_env, "AWS_ENDPOINT_URL": endpoint}
    isolate = run_diagnyx(
        away, "isolate", ACCOUNT, "--apply", "--yes", "--records-dir", str(tmp_path),
        "--project-dir", str(healthy),
    )  # fmt: skip
    assert isolate.returncode == 3, isolate.stderr
    assert "nothing changed" in isolate.stderr
    assert list(tmp_path.iterdir()) == []

    records = tmp_path / "records"
    done = run_diagnyx(
        aws_env, "isolate", ACCOUNT, "--apply", "--yes", "--records-dir", str(records),
        "--project-dir", str(healthy),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record_file = _only_record(records)
    written = record_file.read_bytes()
    restore = run_diagnyx(
        away, "restore", str(record_file), "--apply", "--yes", "--project-dir", str(healthy)
    )
    assert restore.returncode == 3, restore.stderr
    assert record_file.read_bytes() == written
    assert access_state(healthy, ACCOUNT) == []

    _restore(aws_env, healthy, record_file)
    assert access_state(healthy, ACCOUNT) == before
