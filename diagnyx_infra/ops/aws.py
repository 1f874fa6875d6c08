"""boto3 sessions for the tooling: bounded retries and timeouts, replies that are not AWS's
refused, role assumption into member accounts, and errors sorted into what a report can say."""

import functools
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore import exceptions as boto_errors
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from .. import naming

SESSION_NAME = "diagnyx-ops"
MAX_ATTEMPTS_VARIABLE = "AWS_MAX_ATTEMPTS"

# How long one look at AWS may take. The bound for an endpoint that never answers is
# NETWORK_ATTEMPTS x (CONNECT_TIMEOUT or READ_TIMEOUT) plus a backoff of milliseconds: at most
# 2 x 8 s = 16 s (6 s when nothing accepts the connection), well under 30 s; a 30 s read timeout
# and five attempts for every fault took 184 s.
# - CONNECT_TIMEOUT: a TCP (and TLS) connection to an AWS endpoint takes milliseconds; 3 s still
#   allows two lost SYNs on a bad link (Linux retransmits after 1 s, then 2 s).
# - READ_TIMEOUT: the calls these commands make (STS, Organizations, IAM, S3 and DynamoDB
#   settings, CloudTrail, Identity Center, Budgets) answer in well under a second; Cost
#   Explorer's monthly query in a few. 8 s leaves room for both.
# - NETWORK_ATTEMPTS: one retry of a timeout or refused connection covers a blip; more only
#   multiplies the wait for an endpoint that is down. Throttling and AWS's own transient
#   errors keep the standard retry mode and DEFAULT_MAX_ATTEMPTS (AWS_MAX_ATTEMPTS).
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 8
NETWORK_ATTEMPTS = 2
DEFAULT_MAX_ATTEMPTS = 5

# Network faults: timeouts, refused connections, DNS failures, TLS and proxy failures, a
# connection closed before the answer (all botocore ConnectionError or HTTPClientError).
NETWORK_FAULTS = (boto_errors.ConnectionError, boto_errors.HTTPClientError)

# What an AWS call raises (ResponseParserError, a reply botocore cannot read, is no
# BotoCoreError).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)

_CREDENTIAL_ERRORS = (
    boto_errors.NoCredentialsError,
    boto_errors.PartialCredentialsError,
    boto_errors.CredentialRetrievalError,
    boto_errors.ProfileNotFound,
    boto_errors.SSOError,
    boto_errors.TokenRetrievalError,
)


class SettingError(ValueError):
    """An environment variable the tooling reads holds a value it cannot use."""


class NotAwsReply(BotoCoreError):
    """The endpoint answered, but not as an AWS API does (an HTML page, garbage)."""

    fmt = "{endpoint} answered HTTP {status} with {what}, not an AWS API reply"


class EndpointDown(BotoCoreError):
    """An endpoint that did not answer earlier in this run is not waited for again."""

    fmt = "{reason} (earlier in this run; not tried again)"


def max_attempts() -> int:
    """AWS_MAX_ATTEMPTS, as for the AWS CLI: attempts per call (throttling, AWS's transient
    errors; network faults get at most NETWORK_ATTEMPTS). Unset or empty: DEFAULT_MAX_ATTEMPTS."""
    raw = os.environ.get(MAX_ATTEMPTS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MAX_ATTEMPTS
    try:
        attempts = int(raw)
    except ValueError:
        attempts = 0
    if attempts < 1:
        raise SettingError(
            f"{MAX_ATTEMPTS_VARIABLE}={raw!r}: give a whole number of attempts, 1 or more "
            f"(or unset it for {DEFAULT_MAX_ATTEMPTS})"
        )
    return attempts


def client_config() -> Config:
    """Standard retry mode (throttling and transient errors, with backoff) and the timeouts
    above. Raises SettingError for an unusable AWS_MAX_ATTEMPTS."""
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts()},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )


@functools.cache
def _shared_loader():
    return botocore.session.Session().get_component("data_loader")


def _core_session() -> botocore.session.Session:
    """A botocore session sharing one model loader per process: parsing the service models
    again for every session or assumed role costs most of a check's time."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return core


def _base_url(url: str | None) -> str:
    """'http://127.0.0.1:4566/b?versioning' -> 'http://127.0.0.1:4566'."""
    if not url:
        return "the endpoint"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


class Aws:
    """A boto3 session plus the config and hooks every client gets."""

    def __init__(
        self,
        session: boto3.Session,
        account_id: str | None = None,
        down: dict[str, str] | None = None,
    ):
        self.session = session
        self._account_id = account_id
        self._config = client_config()
        self._clients: dict[tuple[str, str | None], object] = {}
        # Endpoints that did not answer in this run, shared with assumed sessions: a checklist
        # of many items waits for a dead endpoint once, not once per item.
        self._down = {} if down is None else down

    @classmethod
    def from_environment(cls, region: str | None = None) -> "Aws":
        region = region or os.environ.get("AWS_REGION") or "us-east-1"
        return cls(boto3.Session(region_name=region, botocore_session=_core_session()))

    def client(self, service: str, region: str | None = None):
        # Creating a boto3 client costs tens of milliseconds; one per service is enough.
        key = (service, region)
        if key not in self._clients:
            client = self.session.client(service, region_name=region, config=self._config)
            events = client.meta.events
            events.register("before-call", self._skip_if_down)
            events.register("needs-retry", _limit_network_retries)
            events.register("before-parse", functools.partial(_refuse_non_aws, client))
            events.register("after-call-error", self._note_down)
            self._clients[key] = client
        return self._clients[key]

    def endpoint(self, service: str = "sts") -> str | None:
        """The URL a service's calls go to (AWS_ENDPOINT_URL when set)."""
        try:
            return self.client(service).meta.endpoint_url
        except Exception:
            return None

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = self.client("sts").get_caller_identity()["Account"]
        return self._account_id

    def assume(
        self, account_id: str, role: str = naming.ORG_ACCESS_ROLE, external_id: str | None = None
    ) -> "Aws":
        params = {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{role}",
            "RoleSessionName": SESSION_NAME,
            "DurationSeconds": 900,
        }
        if external_id:
            params["ExternalId"] = external_id
        credentials = self.client("sts").assume_role(**params)["Credentials"]
        core = _core_session()
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.session.region_name,
            botocore_session=core,
        )
        return Aws(session, account_id, self._down)

    # --- hooks on every client ---------------------------------------------------------------

    def _skip_if_down(self, params: dict, **_) -> None:
        endpoint = _base_url(params.get("url"))
        if endpoint in self._down:
            raise EndpointDown(endpoint=endpoint, reason=self._down[endpoint])

    def _note_down(self, exception: Exception, **_) -> None:
        if isinstance(exception, NETWORK_FAULTS) and not isinstance(
            exception, boto_errors.ProxyConnectionError
        ):
            url = getattr(exception, "kwargs", {}).get("endpoint_url")
            if url:
                self._down[_base_url(url)] = _network_problem(exception)


def _limit_network_retries(attempts: int, caught_exception: Exception | None = None, **_):
    """Network faults get NETWORK_ATTEMPTS, whatever the retry mode would allow: raising here
    ends the call with the fault itself (botocore's `needs-retry` hook)."""
    if isinstance(caught_exception, NETWORK_FAULTS) and attempts >= NETWORK_ATTEMPTS:
        raise caught_exception
    return None


_JSON_PROTOCOLS = ("json", "rest-json")
_XML_PROTOCOLS = ("query", "ec2", "rest-xml")


def _refuse_non_aws(client, operation_model, response_dict: dict, **_) -> None:
    """Before botocore parses a reply: an HTML page, or a body that is not the protocol's JSON
    or XML, is not from AWS (a captive portal, a proxy's error page, a web server at
    AWS_ENDPOINT_URL). botocore would turn it into an empty result or an odd error code."""
    if operation_model.has_streaming_output or operation_model.has_event_stream_output:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    status = response_dict.get("status_code", 0)
    output = operation_model.output_shape
    if status < 300 and output is not None and output.serialization.get("payload"):
        return  # the body is a document of its own (an S3 bucket policy is JSON)
    head = body[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    protocol = operation_model.metadata.get("protocol", "")
    if head.lower().startswith((b"<!doctype html", b"<html")):
        what = "an HTML page"
    elif status < 300 and (output is None or not output.members):
        return  # nothing is read from the body of a success without output
    elif not head:
        # AWS's query protocols always explain an error; S3 (rest-xml) answers HEAD without.
        if status < 400 or protocol not in ("query", "ec2"):
            return
        what = "an empty body"
    elif protocol in _JSON_PROTOCOLS and not head.startswith((b"{", b"[", b"null")):
        what = "a body that is not JSON"
    elif protocol in _XML_PROTOCOLS and not head.startswith(b"<"):
        what = "a body that is not XML"
    else:
        return
    raise NotAwsReply(endpoint=_base_url(client.meta.endpoint_url), status=status, what=what)


@dataclass(frozen=True)
class ErrorKind:
    # credentials, setting: fix the environment (exit 2)
    # unreachable: AWS could not be reached or did not answer as AWS (exit 3)
    # unavailable: the endpoint does not offer this API (an emulator's gap)
    # denied, missing, failed: AWS answered with that
    kind: str
    message: str


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure"}
_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
}
_MISSING_SUFFIXES = ("NotFound", "NotFoundException", "NoSuchEntity", "NoSuchBucket")
_NOT_IMPLEMENTED_STATUSES = (500, 501)


def classify(error: Exception) -> ErrorKind:
    """What went wrong, in the words a report uses. Total: any exception gets a kind."""
    if isinstance(error, ClientError):
        return _classify_reply(error)
    if isinstance(error, SettingError):
        return ErrorKind("setting", str(error))
    if isinstance(error, _CREDENTIAL_ERRORS):
        return ErrorKind("credentials", str(error))
    if isinstance(error, NotAwsReply):
        if error.kwargs.get("status") in _NOT_IMPLEMENTED_STATUSES:
            # An emulator (moto) answers an API it lacks with an HTML 500 page.
            return ErrorKind(
                "unavailable", f"{error}: the endpoint does not implement this API, or failed"
            )
        return ErrorKind("unreachable", str(error))
    if isinstance(error, EndpointDown):
        return ErrorKind("unreachable", str(error))
    if isinstance(error, NETWORK_FAULTS):
        return ErrorKind("unreachable", _network_problem(error))
    if isinstance(error, ResponseParserError):
        return ErrorKind("unreachable", "the reply could not be read as an AWS API reply")
    if isinstance(error, NotImplementedError):
        return ErrorKind("unavailable", f"the endpoint does not implement this API ({error})")
    if isinstance(error, ValueError) and str(error).startswith("Invalid endpoint"):
        return ErrorKind("setting", f"{error} (AWS_ENDPOINT_URL, or endpoint_url in the profile)")
    if isinstance(error, BotoCoreError):
        return ErrorKind("failed", str(error))
    return ErrorKind("failed", f"{type(error).__name__}: {error}")


def _classify_reply(error: ClientError) -> ErrorKind:
    code = (error.response.get("Error") or {}).get("Code", "") or ""
    message = (error.response.get("Error") or {}).get("Message", "") or str(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _CREDENTIALS:
        return ErrorKind("credentials", f"credentials refused: {code}: {message}")
    if code in _DENIED:
        return ErrorKind("denied", f"access denied: {message}")
    if code.endswith(_MISSING_SUFFIXES) or code in {"ResourceNotFoundException", "NotFound"}:
        return ErrorKind("missing", message or code)
    if "not been implemented" in message:
        return ErrorKind(
            "unavailable", f"the endpoint does not implement this API (HTTP {status or code})"
        )
    if not code or code.isdigit() or code == "Unknown":
        # No AWS error code in the reply: botocore fell back to the HTTP status. Only S3's
        # HEAD requests answer so (they have no body).
        if error.operation_name.startswith("Head") and status in (403, 404):
            if status == 404:
                return ErrorKind("missing", message or "not found")
            return ErrorKind("denied", f"access denied: {message or 'HTTP 403'}")
        if status in _NOT_IMPLEMENTED_STATUSES:
            return ErrorKind(
                "unavailable", f"the endpoint does not implement this API (HTTP {status})"
            )
        return ErrorKind(
            "unreachable", f"the endpoint answered HTTP {status} without an AWS error code"
        )
    return ErrorKind("failed", f"{code}: {message}")


def _network_problem(error: Exception) -> str:
    """A network fault in one line naming the endpoint and what happened."""
    kwargs = getattr(error, "kwargs", {})
    endpoint = _base_url(kwargs.get("endpoint_url"))
    if isinstance(error, boto_errors.ConnectTimeoutError):
        return f"{endpoint}: no connection within {CONNECT_TIMEOUT} s (timed out)"
    if isinstance(error, boto_errors.ReadTimeoutError):
        return f"{endpoint} accepted the connection but sent no reply within {READ_TIMEOUT} s"
    if isinstance(error, boto_errors.ProxyConnectionError):
        return f"cannot connect to the proxy {kwargs.get('proxy_url')}: {_cause(error)}"
    if isinstance(error, boto_errors.SSLError):
        return f"{endpoint}: TLS failed: {_cause(error)}"
    if isinstance(error, boto_errors.EndpointConnectionError):
        return f"cannot connect to {endpoint}: {_cause(error)}"
    if isinstance(error, boto_errors.ConnectionClosedError):
        return f"{endpoint} closed the connection without a reply"
    return str(error)


def _cause(error: Exception) -> str:
    """'... [Errno 111] Connection refused' -> 'connection refused'; DNS failures say so."""
    cause = str(getattr(error, "kwargs", {}).get("error") or error)
    found = re.search(r"\[Errno (-?\d+)\] ([^'\")\]]+)", cause)
    if not found:
        return cause
    reason = found.group(2).strip().rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    # getaddrinfo's errors are negative (EAI_*): the name did not resolve.
    return f"DNS lookup failed ({reason})" if int(found.group(1)) < 0 else reason
