"""boto3 sessions for the tooling: bounded retries and timeouts, replies that are not AWS's
refused, role assumption into member accounts, and errors sorted into what a report can say."""

import copy
import datetime
import functools
import ipaddress
import os
import re
import signal
import threading
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.client
import botocore.handlers
import botocore.loaders
import botocore.regions
import botocore.session
from botocore import exceptions as boto_errors
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.hooks import EVENT_ALIASES, EventAliaser, HierarchicalEmitter
from botocore.parsers import ResponseParserError

from .. import naming
from ..config.models import region_partitions

SESSION_NAME = "diagnyx-ops"
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# Assumed-role sessions last 15 minutes and are reused while at least 5 remain.
ASSUMED_SECONDS = 900
REUSE_MARGIN = datetime.timedelta(minutes=5)
MAX_ATTEMPTS_VARIABLE = "AWS_MAX_ATTEMPTS"

# How long one look at AWS may take. The bound for an endpoint that never answers is
# NETWORK_ATTEMPTS x (CONNECT_TIMEOUT or READ_TIMEOUT) plus a backoff of milliseconds: at most
# 2 x 8 s = 16 s (6 s when nothing accepts the connection), well under 30 s; a 30 s read timeout
# and five attempts for every fault took 184 s. For an endpoint that answers, but too slowly (a
# byte, or a header line, every few seconds: each socket read succeeds, so READ_TIMEOUT never
# fires), the bound is NETWORK_ATTEMPTS x CALL_DEADLINE = 2 x 15 s = 30 s; without a deadline
# such an endpoint kept `checklist --all` running for minutes.
# - CONNECT_TIMEOUT: a TCP (and TLS) connection to an AWS endpoint takes milliseconds; 3 s still
#   allows two lost SYNs on a bad link (Linux retransmits after 1 s, then 2 s).
# - READ_TIMEOUT: the calls these commands make (STS, Organizations, IAM, S3 and DynamoDB
#   settings, CloudTrail, Identity Center, Budgets) answer in well under a second; Cost
#   Explorer's monthly query in a few. 8 s leaves room for both.
# - NETWORK_ATTEMPTS: one retry of a timeout or refused connection covers a blip; more only
#   multiplies the wait for an endpoint that is down. Throttling and AWS's own transient
#   errors keep the standard retry mode and DEFAULT_MAX_ATTEMPTS (AWS_MAX_ATTEMPTS).
# - CALL_DEADLINE: one whole HTTP attempt (connect, send, every byte of the reply, reading it):
#   longer than CONNECT_TIMEOUT + READ_TIMEOUT (11 s), so an endpoint that does not connect or
#   says nothing is still reported by those timeouts and a reply that starts late can finish;
#   the replies themselves are kilobytes, milliseconds on any link. Watched by SIGALRM in the
#   main thread (_Watchdog); calls from other threads have the per-read timeouts only.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 8
CALL_DEADLINE = 15
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


class MalformedReply(BotoCoreError):
    """A reply botocore could parse that does not hold what the API answers (a missing field, a
    number that is not one, a page token that repeats): the endpoint is not AWS, or broken."""

    fmt = "{operation}: the reply {problem}; not an AWS answer"


def every(client, operation: str, key: str, **params) -> list:
    """The ``key`` items of every page of ``operation``: a list call may answer with a short
    page and a token, whatever the number of items (Organizations does)."""
    if not client.can_paginate(operation):
        return list(getattr(client, operation)(**params)[key])
    pages = client.get_paginator(operation).paginate(**params)
    return [item for page in pages for item in page[key]]


def reply_field(reply, *path: str, operation: str):
    """``reply[path[0]][path[1]]...``; a reply without it is a MalformedReply naming the field."""
    value = reply
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise MalformedReply(operation=operation, problem=f"has no {'.'.join(path)}")
        value = value[key]
    return value


class EndpointDown(BotoCoreError):
    """An endpoint that did not answer earlier in this run is not waited for again."""

    fmt = "{reason} (earlier in this run; not tried again)"


class CallDeadlineExceeded(boto_errors.ConnectionError):
    """One HTTP attempt took longer than CALL_DEADLINE: the endpoint sent its reply too slowly,
    or stopped part-way. A network fault (retried up to NETWORK_ATTEMPTS, then the endpoint is
    down for the run). botocore wraps it in HTTPClientError when it is raised while sending or
    receiving; _deadline_of unwraps it."""

    fmt = "no complete reply from {endpoint_url} within {seconds} s"


def _deadline_of(error: BaseException | None) -> CallDeadlineExceeded | None:
    """The CallDeadlineExceeded that ``error`` is, or that botocore wrapped in it."""
    if isinstance(error, CallDeadlineExceeded):
        return error
    if isinstance(error, boto_errors.HTTPClientError):
        inner = getattr(error, "kwargs", {}).get("error")
        if isinstance(inner, CallDeadlineExceeded):
            return inner
    return None


class _Watchdog:
    """The deadline over one HTTP attempt: armed on botocore's `before-send`, disarmed on
    `needs-retry` (emitted after every attempt, success or failure) and on `after-call-error`
    (a reply refused while being read ends the call without `needs-retry`). When it expires
    while armed, SIGALRM's handler raises CallDeadlineExceeded in the main thread, interrupting
    the socket read.

    Signals reach only the main thread, so attempts made in other threads are not watched (the
    moto server's threads in the tests are never touched). The SIGALRM handler that was there
    is put back after each attempt. ITIMER_REAL is one timer per process: when someone else has
    it running (a test runner's own time limit), the watchdog stands aside for that attempt
    rather than move or cancel their timer."""

    def __init__(self) -> None:
        self._armed = False
        self._previous = None
        self._endpoint = ""
        self._seconds = 0.0

    def arm(self, request=None, **_) -> None:
        if self._armed or threading.current_thread() is not threading.main_thread():
            return
        if not hasattr(signal, "setitimer"):  # Windows: the per-read timeouts only
            return
        if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
            return
        self._endpoint = _base_url(getattr(request, "url", None))
        self._seconds = CALL_DEADLINE
        self._previous = signal.signal(signal.SIGALRM, self._expired)
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self._seconds)

    def disarm(self, **_) -> None:
        if not self._armed:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        self._armed = False
        # None: the handler was not set from Python (not restorable); SIGALRM's default then.
        previous = signal.SIG_DFL if self._previous is None else self._previous
        self._previous = None
        signal.signal(signal.SIGALRM, previous)

    def _expired(self, signum, frame) -> None:
        if not self._armed:
            return
        self.disarm()
        raise CallDeadlineExceeded(endpoint_url=self._endpoint, seconds=_seconds(self._seconds))


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


_WATCHDOG = _Watchdog()


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


def _builtin_handlers() -> HierarchicalEmitter:
    """botocore's built-in event handlers, registered once: a session registers some 150 of
    them, inspecting each one's signature, which is most of what a new session costs. Made
    again if the list changes (a library adding its own, as moto does when imported)."""
    return _handlers_registered(len(botocore.handlers.BUILTIN_HANDLERS))


@functools.cache
def _handlers_registered(_count: int) -> HierarchicalEmitter:
    """As botocore's Session registers them, but for those of `docs.*` events: they edit the
    docstrings botocore writes for a client's methods when one is read (help()), which these
    commands never do, and every client copies its session's handlers (a third of a new
    client's cost, in proportion to their number: the documentation's are 30 of 127)."""
    emitter = HierarchicalEmitter()
    session = botocore.session.Session(event_hooks=emitter, include_builtin_handlers=False)
    events = session.get_component("event_emitter")
    for event_name, handler, *register_type in botocore.handlers.BUILTIN_HANDLERS:
        if event_name.startswith("docs."):
            continue
        if not register_type:
            events.register(event_name, handler)
        elif register_type[0] is botocore.handlers.REGISTER_FIRST:
            events.register_first(event_name, handler)
        elif register_type[0] is botocore.handlers.REGISTER_LAST:
            events.register_last(event_name, handler)
    return emitter


class _AliasesRemembered(EventAliaser):
    """botocore's event aliaser with one memory of event names for the whole process. botocore
    remembers each name's alias in the aliaser, but every client gets a copy of its session's
    with nothing remembered, so each client worked out the aliases of its events again (a walk
    of botocore's alias table for each of some fifteen names per operation: in the operations
    tests, 64,000 walks and 1.7 s of profiled time). A name's alias depends only on the table,
    which is botocore's own constant."""

    _REMEMBERED: ClassVar[dict[str, str]] = {}

    def __init__(self, event_emitter, event_aliases=None):
        super().__init__(event_emitter, event_aliases)
        if self._event_aliases == EVENT_ALIASES:
            self._alias_name_cache = self._REMEMBERED


# The classes botocore builds for the clients of the shared loader's sessions, each made once:
# (service, class handlers) -> (the service's parsed model, the class). See _remembering.
_CLIENT_CLASSES: dict[tuple, tuple[object, type]] = {}


def _remembering(build: Callable) -> Callable:
    """botocore's ClientCreator._create_client_class (``build``), each class made once.

    botocore builds a new class for every client, with a method per operation of its service:
    a millisecond (a third of a new client's cost) and thousands of objects left to the garbage
    collector, for each client of each account a command visits. A class depends only on the
    service's model and on the session's `creating-client-class` handlers (which may add methods,
    as boto3's does for s3). So a class is reused only by the sessions of the shared loader (the
    models of other sessions, which parse their own, are not kept alive here), for the same
    parsed model and the same handlers, all of them plain functions: at most one class per
    service. Anything else (a session of its own loader, a handler made per session, botocore's
    internals changed) gets a class built as botocore builds it. (A class's docstrings refer to
    the event emitter of the client it was first built for: one emitter kept per service.)"""

    def client_class(creator, service_name: str, service_model):
        remembered = _remembered_as(creator, service_name, service_model)
        if remembered is None:
            return build(creator, service_name, service_model)
        key, document = remembered
        made = _CLIENT_CLASSES.get(key)
        if made is None or made[0] is not document:  # the loader parsed the model again
            made = _CLIENT_CLASSES[key] = (document, build(creator, service_name, service_model))
        return made[1]

    client_class.remembers_classes = True
    return client_class


def _remembered_as(creator, service_name: str, service_model) -> tuple[tuple, object] | None:
    """The key under which the class ``creator`` builds is remembered, and the parsed model it
    is built from; None if it is not to be remembered."""
    try:
        if creator._loader is not _shared_loader():
            return None
        document = service_model._service_description
        event = f"creating-client-class.{service_model.service_id.hyphenize()}"
        emitter = creator._event_emitter
        if isinstance(emitter, EventAliaser):
            event, emitter = emitter._alias_event_name(event), emitter._emitter
        handlers = tuple(emitter._handlers.prefix_search(event))
    except AttributeError:  # botocore changed
        return None
    if not all(_plain_function(handler) for handler in handlers):
        return None
    return (service_name, handlers), document


def _plain_function(handler) -> bool:
    """A function defined at a module's top level: the same object in every session."""
    return isinstance(handler, types.FunctionType) and handler.__qualname__ == handler.__name__


if not getattr(botocore.client.ClientCreator._create_client_class, "remembers_classes", False):
    botocore.client.ClientCreator._create_client_class = _remembering(
        botocore.client.ClientCreator._create_client_class
    )


# The service models of the shared loader's clients, each made once:
# (service, API version) -> (the service's parsed model, the ServiceModel). See _one_model_each.
_SERVICE_MODELS: dict[tuple[str, str | None], tuple[object, object]] = {}


def _one_model_each(load: Callable) -> Callable:
    """botocore's ClientCreator._load_service_model (``load``), each service's model made once.

    botocore makes a new ServiceModel for every client, and every client then works out again,
    call by call, the operation models and shapes the ServiceModel caches: a fifth of the
    client-side CPU of a checklist. A ServiceModel is made from the parsed document alone and
    holds nothing of a client: botocore never sets its signature version, and its caches only
    remember what it worked out. (botocore's S3 and S3 Control handlers do adjust operation
    entries of the parsed document when a client is made, the same way each time; the loader
    shared that document between clients before.) So the clients of the shared loader's
    sessions share one per service and API version, for as long as the loader holds the same
    parsed document; any other session's clients get theirs as botocore makes them, and are not
    kept alive here. A test checks that clients of other accounts, regions and settings leave a
    shared model's attributes as they were."""

    def service_model(creator, service_name: str, api_version: str | None = None):
        loader = getattr(creator, "_loader", None)
        if loader is None or loader is not _shared_loader():
            return load(creator, service_name, api_version)
        document = loader.load_service_model(service_name, "service-2", api_version=api_version)
        made = _SERVICE_MODELS.get((service_name, api_version))
        if made is None or made[0] is not document:
            made = (document, load(creator, service_name, api_version))
            _SERVICE_MODELS[(service_name, api_version)] = made
        return made[1]

    service_model.remembers_models = True
    return service_model


if not getattr(botocore.client.ClientCreator._load_service_model, "remembers_models", False):
    botocore.client.ClientCreator._load_service_model = _one_model_each(
        botocore.client.ClientCreator._load_service_model
    )


# The endpoint providers of the clients made so far, by the ruleset, partitions and excluded
# parameters they were made from (the objects themselves are kept, so that their ids stay theirs).
_ENDPOINT_PROVIDERS: dict[tuple[int, int, int], tuple[object, object, object, object]] = {}
_ENDPOINT_PROVIDERS_KEPT = 64


def _one_endpoint_provider_each(make: type) -> Callable:
    """botocore's EndpointProvider (``make``), one per service's ruleset.

    botocore makes an EndpointProvider for every client, parsing its service's endpoint ruleset
    into rule objects again (a tenth of a new client's cost), and each provider remembers the
    endpoints it resolved for itself alone. A provider holds only the parsed ruleset and that
    memory of resolved endpoints, keyed by every input of the resolution, so the clients of a
    service share one for as long as botocore hands them the same ruleset document (its loader
    caches it). A few dozen are kept: rulesets from other loaders replace one another."""

    def provider(ruleset_data, partition_data, excluded_params=None):
        key = (id(ruleset_data), id(partition_data), id(excluded_params))
        made = _ENDPOINT_PROVIDERS.get(key)
        if made is None or not (
            made[0] is ruleset_data and made[1] is partition_data and made[2] is excluded_params
        ):
            if len(_ENDPOINT_PROVIDERS) >= _ENDPOINT_PROVIDERS_KEPT:
                _ENDPOINT_PROVIDERS.clear()
            built = make(
                ruleset_data=ruleset_data,
                partition_data=partition_data,
                excluded_params=excluded_params,
            )
            made = _ENDPOINT_PROVIDERS[key] = (ruleset_data, partition_data, excluded_params, built)
        return made[3]

    provider.shares_providers = True
    return provider


if not getattr(botocore.regions.EndpointProvider, "shares_providers", False):
    botocore.regions.EndpointProvider = _one_endpoint_provider_each(
        botocore.regions.EndpointProvider
    )


def _core_session() -> botocore.session.Session:
    """A botocore session of its own (credentials, config, handlers) that shares with the
    process's other sessions what never changes: the service models (parsing them again for
    every session costs most of a check's time), a copy of the built-in handlers, and the
    aliases of event names."""
    core = botocore.session.Session(
        event_hooks=copy.copy(_builtin_handlers()), include_builtin_handlers=False
    )
    if isinstance(getattr(core, "_events", None), EventAliaser):  # else botocore changed: as is
        core._events = _AliasesRemembered(core._events._emitter)
        core.register_component("event_emitter", core._events)
    core.register_component("data_loader", _shared_loader())
    return core


def _region_variables() -> tuple[tuple[str, str | None], ...]:
    return tuple((name, os.environ.get(name)) for name in ("AWS_REGION", "AWS_DEFAULT_REGION"))


def _checked_region(region: str | None) -> str:
    """--region, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1: a region of
    botocore's endpoint data (a made-up or misspelt one would otherwise fail as an unreachable
    endpoint)."""
    given = [(n, v) for n, v in (("--region", region), *_region_variables()) if v]
    source, region = given[0] if given else ("the default region", "us-east-1")
    if region not in region_partitions():
        raise SettingError(f"{source} {region!r}: not an AWS region (e.g. us-east-1)")
    return region


def _check_endpoint_url() -> None:
    url = os.environ.get("AWS_ENDPOINT_URL")
    if url:
        _check_url(url, "AWS_ENDPOINT_URL")


def _reading_replies(make_api_call, service: str):
    """A client's API calls, with a reply botocore parsed into something its parser did not
    expect (an empty document, a field of the wrong type) reported as MalformedReply rather
    than the parser's own KeyError or ValueError."""

    def call(operation_name, api_params):
        try:
            return make_api_call(operation_name, api_params)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            if isinstance(error, SettingError):
                raise
            raise MalformedReply(
                operation=f"{service}:{operation_name}",
                problem=f"could not be read ({type(error).__name__}: {error})",
            ) from None

    return call


def _check_url(url: str | None, what: str) -> None:
    if not url:
        return
    problem = "not an http:// or https:// URL with a host"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as error:
        problem = str(error)
    else:
        if parts.scheme in ("http", "https") and parts.hostname:
            return
    raise SettingError(f"{what}={url!r}: {problem}")


def _base_url(url: str | None) -> str:
    """'http://127.0.0.1:4566/b?versioning' -> 'http://127.0.0.1:4566'."""
    if not url:
        return "the endpoint"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


class Aws:
    """A boto3 session plus the config and hooks every client gets. ``credentials`` (an assumed
    role's) are given to each client; without them the session's own are used."""

    def __init__(
        self,
        session: boto3.Session,
        account_id: str | None = None,
        credentials: dict[str, str] | None = None,
    ):
        self.session = session
        self._credentials = credentials or {}
        self._account_id = account_id
        self._config = client_config()
        self._clients: dict[tuple[str, str | None], object] = {}
        # Roles assumed from this session, reused while their credentials have time left: a
        # command that visits an account twice (the checklist, a rehearsal's deploys) assumes
        # its role and builds its clients once.
        self._assumed: dict[tuple[str, str, str | None], tuple[Aws, datetime.datetime]] = {}
        # Endpoints that did not answer in this run, kept by the boto3 session and so shared
        # with the roles assumed from it: a checklist of many items waits for a dead endpoint
        # once, not once per item.
        self._down = _hooked(session)

    @classmethod
    def from_environment(cls, region: str | None = None) -> "Aws":
        """The session of the environment's credentials. Raises SettingError, before any call,
        for a region AWS does not have or an AWS_ENDPOINT_URL that is not an http(s) URL."""
        region = _checked_region(region)
        _check_endpoint_url()
        session = boto3.Session(region_name=region, botocore_session=_core_session())
        # boto3 appends its data folder to the loader's search paths for each session it makes;
        # the loader is shared, so the list would grow by one entry per session (hundreds in a
        # long run), and every model not yet loaded is looked for in each of them. Only repeats
        # at the end are taken off: a thread walking the list meanwhile misses none before them.
        paths = _shared_loader().search_paths
        while len(paths) > 1 and paths[-1] in paths[:-1]:
            paths.pop()
        return cls(session)

    def client(self, service: str, region: str | None = None):
        # Creating a boto3 client costs tens of milliseconds; one per service is enough.
        key = (service, region)
        if key not in self._clients:
            try:
                client = self.session.client(
                    service, region_name=region, config=self._config, **self._credentials
                )
            except ValueError as error:  # an endpoint from a profile or AWS_ENDPOINT_URL_<SERVICE>
                raise SettingError(f"{service} endpoint: {error}") from None
            _check_url(client.meta.endpoint_url, f"the {service} endpoint")
            client._make_api_call = _reading_replies(client._make_api_call, service)
            # The only hook of the client's own (it names the client's endpoint); the others
            # came with its session's handlers (_hook_session).
            client.meta.events.register("before-parse", functools.partial(_refuse_non_aws, client))
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
            reply = self.client("sts").get_caller_identity()
            account = reply.get("Account")
            if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
                raise MalformedReply(
                    operation="sts:GetCallerIdentity", problem=f"names no account ({account!r})"
                )
            self._account_id = account
        return self._account_id

    def assume(
        self, account_id: str, role: str = naming.ORG_ACCESS_ROLE, external_id: str | None = None
    ) -> "Aws":
        key = (account_id, role, external_id)
        cached = self._assumed.get(key)
        now = datetime.datetime.now(datetime.UTC)
        if cached and cached[1] - now > REUSE_MARGIN:
            return cached[0]
        params = {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{role}",
            "RoleSessionName": SESSION_NAME,
            "DurationSeconds": ASSUMED_SECONDS,
        }
        if external_id:
            params["ExternalId"] = external_id
        reply = self.client("sts").assume_role(**params)
        credentials = reply.get("Credentials")
        if not isinstance(credentials, dict) or not all(
            isinstance(credentials.get(k), str) and credentials[k]
            for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")
        ):
            raise MalformedReply(operation="sts:AssumeRole", problem="holds no credentials")
        # The same session with the role's credentials on each client: a session per role would
        # set up its handlers and hooks again (3 ms; botocore still builds each client's class).
        assumed = Aws(
            self.session,
            account_id,
            credentials={
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            },
        )
        expires = credentials.get("Expiration")
        if isinstance(expires, datetime.datetime):
            self._assumed[key] = (assumed, expires.astimezone(datetime.UTC))
        return assumed


# Each boto3 session's endpoints found not to answer, for as long as the session lives.
_DOWN: "weakref.WeakKeyDictionary[boto3.Session, dict[str, str]]" = weakref.WeakKeyDictionary()


def _hooked(session: boto3.Session) -> dict[str, str]:
    """The endpoints of ``session`` found not to answer, its hooks registered on first use."""
    down = _DOWN.get(session)
    if down is None:
        down = _DOWN[session] = {}
        _hook_session(session, down)
    return down


def _hook_session(session: boto3.Session, down: dict[str, str]) -> None:
    """The hooks every client of ``session`` gets: registered on the session once, as each
    client starts from a copy of its session's handlers (registered on each client, they cost
    a millisecond per client, most of it botocore inspecting each handler's signature).
    ``down`` holds the endpoints found not to answer."""

    def skip_if_down(params: dict, **_) -> None:
        endpoint = _base_url(params.get("url"))
        if endpoint in down:
            raise EndpointDown(endpoint=endpoint, reason=down[endpoint])

    def note_down(exception: Exception, **_) -> None:
        exception = _deadline_of(exception) or exception
        if isinstance(exception, NETWORK_FAULTS) and not isinstance(
            exception, boto_errors.ProxyConnectionError
        ):
            url = getattr(exception, "kwargs", {}).get("endpoint_url")
            if url:
                down[_base_url(url)] = _network_problem(exception)

    events = session.events
    events.register("before-call", skip_if_down)
    events.register("before-send", _WATCHDOG.arm)
    # Disarmed first: a later handler may end the call by raising.
    events.register_first("needs-retry", _WATCHDOG.disarm)
    events.register("needs-retry", _limit_network_retries)
    events.register_first("after-call-error", _WATCHDOG.disarm)
    events.register("after-call-error", note_down)


def _limit_network_retries(attempts: int, caught_exception: Exception | None = None, **_):
    """Network faults get NETWORK_ATTEMPTS, whatever the retry mode would allow: raising here
    ends the call with the fault itself (botocore's `needs-retry` hook)."""
    if isinstance(caught_exception, NETWORK_FAULTS) and attempts >= NETWORK_ATTEMPTS:
        raise _deadline_of(caught_exception) or caught_exception
    return None


_JSON_PROTOCOLS = ("json", "rest-json")
_XML_PROTOCOLS = ("query", "ec2", "rest-xml")

# The APIs these commands call that moto (5.2) does not implement. moto's server answers an
# action it lacks with HTTP 500 and Werkzeug's generic internal-error page (the "The
# list_cost_allocation_tags action has not been implemented" stays in the server's log), from a
# "Server: Werkzeug/..." server. Only that reply, to one of these APIs, is an emulator's gap that
# a report may set aside ("not offered by this endpoint"); any other 5xx, HTML page or garbage is
# an endpoint that did not answer as AWS. A check that starts calling another API moto lacks
# exits 3 on the moto server until the API is named here. (moto in process, as the rehearsal
# runs it, raises NotImplementedError instead, see classify; for a service it lacks altogether,
# as Access Analyzer, it answers HTTP 404 "Not yet implemented", also taken only for these.)
EMULATOR_GAPS = frozenset(
    {
        "ce:ListCostAllocationTags",
        "accessanalyzer:ListAnalyzers",
        # What the maintenance reports read that moto 5.2 lacks.
        "backup:ListBackupJobs",
        "ce:GetAnomalies",
        "ce:GetReservationCoverage",
        "ce:GetReservationUtilization",
        "ce:GetSavingsPlansCoverage",
    }
)
_WERKZEUG_500 = (
    b"<!doctype html> <html lang=en> <title>500 Internal Server Error</title> "
    b"<h1>Internal Server Error</h1> <p>The server encountered an internal error and was unable "
    b"to complete your request. Either the server is overloaded or there is an error in the "
    b"application.</p>"
)
# A moto server's answer to a REST path it has no route for (backup:ListBackupJobs).
_WERKZEUG_404 = (
    b"<!doctype html> <html lang=en> <title>404 Not Found</title> <h1>Not Found</h1> "
    b"<p>The requested URL was not found on the server. If you entered the URL manually please "
    b"check your spelling and try again.</p>"
)
_MOTO_NO_SERVICE = b"Not yet implemented"  # moto in process, for a service it does not have
_GAP_ANSWERS = {
    "server": "as a moto server answers an action it lacks (HTTP 500 or 404, its error page)",
    "in process": 'as moto in process answers a service it lacks (HTTP 404, "Not yet implemented")',
}


def _header(headers, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


@functools.cache
def _aws_dns_suffixes() -> tuple[str, ...]:
    """The DNS suffixes of AWS's partitions, dual-stack ones included (botocore's
    partitions.json): a reply from one of these hosts is never taken for an emulator's gap,
    whatever page a proxy in between sends."""
    data = botocore.loaders.create_loader().load_data("partitions")
    outputs = [partition.get("outputs", {}) for partition in data.get("partitions", [])]
    keys = ("dnsSuffix", "dualStackDnsSuffix")
    return tuple(sorted({o[k].lower() for o in outputs for k in keys if o.get(k)}))


def _is_aws_host(endpoint_url: str | None) -> bool:
    host = (urlsplit(endpoint_url or "").hostname or "").lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in _aws_dns_suffixes())


def _emulator_gap(
    operation_model, response_dict: dict, endpoint_url: str | None
) -> tuple[str, str] | None:
    """('ce:ListCostAllocationTags', how) when this is moto answering an API it lacks, one of
    EMULATOR_GAPS: its server's error page from a host that is not AWS's ("server") or, in
    process, its answer for a service it does not have, which carries no header at all, as no
    HTTP server's reply does ("in process"); None otherwise."""
    api = f"{operation_model.service_model.service_name}:{operation_model.name}"
    if api not in EMULATOR_GAPS:
        return None
    status = response_dict.get("status_code")
    body = response_dict.get("body", b"")
    headers = response_dict.get("headers")
    pages = {500: _WERKZEUG_500, 404: _WERKZEUG_404}
    if (
        status in pages
        and not _is_aws_host(endpoint_url)
        and _header(headers, "server").startswith("Werkzeug/")
        and b" ".join(body.split()) == pages[status]
    ):
        return api, "server"
    if status == 404 and body == _MOTO_NO_SERVICE and not headers:
        return api, "in process"
    return None


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
    endpoint = _base_url(client.meta.endpoint_url)
    if gap := _emulator_gap(operation_model, response_dict, client.meta.endpoint_url):
        api, how = gap
        what = "an HTML page" if how == "server" else repr(_MOTO_NO_SERVICE.decode())
        raise NotAwsReply(endpoint=endpoint, status=status, what=what, gap=api, how=how)
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
    raise NotAwsReply(endpoint=endpoint, status=status, what=what)


@dataclass(frozen=True)
class ErrorKind:
    # credentials, setting: fix the environment (exit 2)
    # unreachable: AWS could not be reached or did not answer as AWS (exit 3)
    # unavailable: the endpoint does not offer this API: one of moto's known gaps
    #   (EMULATOR_GAPS), or moto in process raising NotImplementedError
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
# ...NotFoundError: S3's ServerSideEncryptionConfigurationNotFoundError, a setting deleted.
# NoSuchPublicAccessBlockConfiguration: no public access block, on a bucket or (S3 Control) the
# account.
_MISSING_CODES = {"ResourceNotFoundException", "NotFound", "NoSuchPublicAccessBlockConfiguration"}
_MISSING_SUFFIXES = (
    "NotFound",
    "NotFoundException",
    "NotFoundError",
    "NoSuchEntity",
    "NoSuchBucket",
)


def classify(error: Exception) -> ErrorKind:
    """What went wrong, in the words a report uses. Total: any exception gets a kind."""
    if isinstance(error, ClientError):
        return _classify_reply(error)
    if isinstance(error, SettingError):
        return ErrorKind("setting", str(error))
    if isinstance(error, _CREDENTIAL_ERRORS):
        return ErrorKind("credentials", str(error))
    if isinstance(error, NotAwsReply):
        if gap := error.kwargs.get("gap"):
            how = _GAP_ANSWERS[error.kwargs.get("how", "server")]
            return ErrorKind(
                "unavailable",
                f"the endpoint does not implement this API: {error.kwargs['endpoint']} answered "
                f"{gap} {how}",
            )
        return ErrorKind("unreachable", str(error))
    if (deadline := _deadline_of(error)) is not None:
        return ErrorKind("unreachable", str(deadline))
    if isinstance(error, EndpointDown | MalformedReply):
        return ErrorKind("unreachable", str(error))
    if isinstance(error, boto_errors.PaginationError | boto_errors.ParamValidationError):
        # A page token that repeats, or one no call can take back (not text): a reply's doing,
        # as the program's own parameters are validated config.
        problem = " ".join(str(error).split())
        return ErrorKind("unreachable", f"the replies are not an AWS API's: {problem}")
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
    if code == "AWSOrganizationsNotInUseException":
        return ErrorKind(
            "credentials",
            "the credentials' account is in no organization: log in to the organization's "
            "management account",
        )
    if code in _DENIED:
        return ErrorKind("denied", f"access denied: {message}")
    if code.endswith(_MISSING_SUFFIXES) or code in _MISSING_CODES:
        return ErrorKind("missing", message or code)
    if code == "InvalidAccessException" and "not subscribed" in message:
        # Security Hub in an account or region where it is not enabled ("Account ... is not
        # subscribed to AWS Security Hub"); the code alone also means a call not permitted.
        return ErrorKind("missing", message)
    if not code or code.isdigit() or code == "Unknown":
        # No AWS error code in the reply: botocore fell back to the HTTP status. Only S3's
        # HEAD requests answer so (they have no body).
        if error.operation_name.startswith("Head") and status in (403, 404):
            if status == 404:
                return ErrorKind("missing", message or "not found")
            return ErrorKind("denied", f"access denied: {message or 'HTTP 403'}")
        # A 500 or 501 without a code is no emulator's gap either (those are EMULATOR_GAPS).
        return ErrorKind(
            "unreachable", f"the endpoint answered HTTP {status} without an AWS error code"
        )
    return ErrorKind("failed", f"{code}: {message}")


def _network_problem(error: Exception) -> str:
    """A network fault in one line naming the endpoint and what happened."""
    if (deadline := _deadline_of(error)) is not None:
        return str(deadline)
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


# --- S3 Control, through an emulator ---------------------------------------------------------

# The S3 Control clients seen so far (each given the hook below if its endpoint needs it).
_SEEN: "weakref.WeakSet[object]" = weakref.WeakSet()


def account_controls(aws: Aws):
    """The S3 Control client of ``aws``. S3 Control's endpoints carry the account's ID as the
    host's first label (`<id>.s3-control.<region>.amazonaws.com`, as botocore's endpoint rules
    build them, for AWS_ENDPOINT_URL too). An emulator at an IP address or a one-label host
    (127.0.0.1, localhost) has no such names, so for those the label is left off: the request
    goes to the endpoint itself, the account in its x-amz-account-id header as ever."""
    client = aws.client("s3control")
    if client not in _SEEN:
        if _has_no_subdomains(urlsplit(client.meta.endpoint_url).hostname or ""):
            client.meta.events.register("before-sign.s3-control", _without_account_label)
        _SEEN.add(client)
    return client


def _has_no_subdomains(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return True


def _without_account_label(request, **_) -> None:
    parts = urlsplit(request.url)
    label, _, rest = parts.netloc.partition(".")
    if rest and ACCOUNT_ID.fullmatch(label):
        request.url = urlunsplit(parts._replace(netloc=rest))
