"""boto3 sessions for the tooling: standard retries and timeouts, role assumption into member
accounts, and errors sorted into what a report can say."""

import functools
import os
from dataclasses import dataclass

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .. import naming

DEFAULT_MAX_ATTEMPTS = 5
SESSION_NAME = "diagnyx-ops"


def client_config() -> Config:
    """Standard retry mode (throttling and transient errors, with backoff) and firm timeouts.
    AWS_MAX_ATTEMPTS, as for the AWS CLI, changes the number of attempts."""
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    return Config(
        retries={"mode": "standard", "max_attempts": attempts},
        connect_timeout=5,
        read_timeout=30,
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


class Aws:
    """A boto3 session plus the config every client gets."""

    def __init__(self, session: boto3.Session, account_id: str | None = None):
        self.session = session
        self._account_id = account_id
        self._config = client_config()
        self._clients: dict[str, object] = {}

    @classmethod
    def from_environment(cls, region: str | None = None) -> "Aws":
        region = region or os.environ.get("AWS_REGION") or "us-east-1"
        return cls(boto3.Session(region_name=region, botocore_session=_core_session()))

    def client(self, service: str):
        # Creating a boto3 client costs tens of milliseconds; one per service is enough.
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=self._config)
        return self._clients[service]

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
        return Aws(session, account_id)


@dataclass(frozen=True)
class ErrorKind:
    kind: str  # denied, missing, unavailable, failed
    message: str


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure"}
_MISSING_SUFFIXES = ("NotFound", "NotFoundException", "NoSuchEntity", "NoSuchBucket")


def classify(error: Exception) -> ErrorKind:
    """What went wrong, in the words a report uses."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or str(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _DENIED:
            return ErrorKind("denied", f"access denied: {message}")
        if code.endswith(_MISSING_SUFFIXES) or code in {"ResourceNotFoundException", "NotFound"}:
            return ErrorKind("missing", message or code)
        if status == 500 or "not been implemented" in message or code == "500":
            return ErrorKind(
                "unavailable", f"the endpoint does not implement this API (HTTP {status or code})"
            )
        return ErrorKind("failed", f"{code}: {message}")
    if isinstance(error, NotImplementedError):
        return ErrorKind("unavailable", f"the endpoint does not implement this API ({error})")
    if isinstance(error, BotoCoreError):
        return ErrorKind("failed", str(error))
    raise error
