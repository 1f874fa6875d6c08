"""Assumed-role sessions: reused while their credentials have time left, assumed again after."""

import boto3
import pytest
from moto import mock_aws

from diagnyx_infra.ops import aws as ops_aws
from diagnyx_infra.ops.aws import Aws

ACCOUNT = "123456789012"


@pytest.fixture
def caller(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield Aws(boto3.Session(region_name="us-east-1"))


def _assume_calls(caller: Aws) -> list[str]:
    calls: list[str] = []
    caller.client("sts").meta.events.register(
        "before-call.sts.AssumeRole", lambda **_: calls.append("AssumeRole")
    )
    return calls


def test_the_same_role_is_assumed_once_while_its_credentials_last(caller):
    calls = _assume_calls(caller)
    first = caller.assume(ACCOUNT)
    assert caller.assume(ACCOUNT) is first
    assert calls == ["AssumeRole"]
    # Another role or another external ID is another session.
    assert caller.assume(ACCOUNT, "OtherRole") is not first
    assert caller.assume(ACCOUNT, external_id="an-external-id") is not first
    assert len(calls) == 3


def test_credentials_near_their_end_are_assumed_again(caller, monkeypatch):
    calls = _assume_calls(caller)
    first = caller.assume(ACCOUNT)
    # 15-minute credentials never have 20 minutes left: each call assumes anew.
    monkeypatch.setattr(ops_aws, "REUSE_MARGIN", ops_aws.datetime.timedelta(minutes=20))
    assert caller.assume(ACCOUNT) is not first
    assert calls == ["AssumeRole", "AssumeRole"]


def test_a_handler_added_to_botocores_built_in_list_reaches_later_sessions(monkeypatch):
    """Sessions copy the built-in handlers registered once; a library that adds its own to
    botocore's list (moto does, when imported) must still reach sessions made after it."""
    import botocore.handlers

    from diagnyx_infra.ops.aws import _core_session

    _core_session()  # the list as it was, registered
    heard = []

    def marker(**_):
        heard.append(True)

    handlers = [*botocore.handlers.BUILTIN_HANDLERS, ("diagnyx-test-event", marker)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
    _core_session().emit("diagnyx-test-event")
    assert heard == [True]


def test_sessions_do_not_lengthen_the_shared_loaders_search_paths(monkeypatch):
    """boto3 adds its data folder to the loader of each session it makes; the loader is
    shared, and a long run (the tests, a rehearsal) makes hundreds of sessions."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for _ in range(5):
        Aws.from_environment()
    paths = ops_aws._shared_loader().search_paths
    assert len(paths) == len(set(paths))
    assert any(path.endswith("boto3/data") for path in paths)  # still there, once


def _handlers(session: boto3.Session, event: str) -> list:
    return list(session.events._emitter._handlers.prefix_search(event))


def test_a_session_gets_the_hooks_once_and_one_record_of_endpoints_down():
    """The hooks every client gets are registered on its boto3 session, once however many Aws
    share it (the roles assumed from it do); endpoints found down are the session's."""
    session = boto3.Session(region_name="us-east-1")
    before = len(_handlers(session, "before-call"))
    first, second = Aws(session), Aws(session)
    assert len(_handlers(session, "before-call")) == before + 1
    assert first._down is second._down
    other = Aws(boto3.Session(region_name="us-east-1"))
    assert other._down is not first._down
    assert len(_handlers(other.session, "before-call")) == before + 1


# --- client classes: botocore builds one per client; the operations tooling makes each once ---


def _credentials(n: int) -> dict[str, str]:
    return {
        "aws_access_key_id": f"AKIA{n}",
        "aws_secret_access_key": "secret",
        "aws_session_token": "token",
    }


def test_clients_of_a_service_share_one_class_across_sessions_and_roles(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    first, second = Aws.from_environment(), Aws.from_environment()
    role = Aws(first.session, ACCOUNT, credentials=_credentials(1))
    iam = first.client("iam")
    assert type(second.client("iam")) is type(iam)
    assert type(role.client("iam")) is type(iam)
    assert type(first.client("kms")) is not type(iam)
    # Each client still has its own credentials and handlers.
    assert role.client("iam")._request_signer._credentials.access_key == "AKIA1"
    assert role.client("iam").meta.events is not iam.meta.events
    # boto3 adds s3's transfer methods through a handler made per session: built each time,
    # and not remembered (the memory would grow by a class per session).
    remembered = len(ops_aws._CLIENT_CLASSES)
    assert type(second.client("s3")) is not type(first.client("s3"))
    assert hasattr(first.client("s3"), "upload_file")
    assert len(ops_aws._CLIENT_CLASSES) == remembered


def mark_sts(class_attributes, **_):
    class_attributes["marked"] = True


def test_a_session_with_its_own_class_handler_gets_a_class_of_its_own(monkeypatch):
    """A `creating-client-class` handler of one session (here a plain function, which the
    memory of classes keys on) shapes only that session's classes."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    plain, marked = Aws.from_environment(), Aws.from_environment()
    marked.session.events.register("creating-client-class.sts", mark_sts)
    assert getattr(marked.client("sts"), "marked", False) is True
    assert not hasattr(plain.client("sts"), "marked")
    assert type(plain.client("sts")) is not type(marked.client("sts"))


def test_a_session_of_another_loader_gets_its_own_class_and_is_not_remembered(monkeypatch):
    """A session reading its models elsewhere (its own loader, AWS_DATA_PATH) neither reuses a
    class built from another document of the service nor leaves its model in the memory of
    classes (which would keep every such session's models alive)."""
    import botocore.session

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    shared = Aws.from_environment().client("sts")
    remembered = dict(ops_aws._CLIENT_CLASSES)
    separate = botocore.session.Session()
    separate.register_component("data_loader", botocore.loaders.create_loader())
    assert type(separate.create_client("sts", region_name="us-east-1")) is not type(shared)
    assert remembered == ops_aws._CLIENT_CLASSES


def test_clients_of_a_service_share_one_service_model_across_sessions_and_roles(monkeypatch):
    """What a ServiceModel works out (operation models, shapes) is worked out once per service,
    not again for every client."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    first, second = Aws.from_environment(), Aws.from_environment()
    role = Aws(first.session, ACCOUNT, credentials=_credentials(1))
    model = first.client("iam").meta.service_model
    assert second.client("iam").meta.service_model is model
    assert role.client("iam").meta.service_model is model
    assert first.client("kms").meta.service_model is not model
    assert first.client("s3").meta.service_model is second.client("s3").meta.service_model


def test_a_session_of_another_loader_gets_its_own_service_model(monkeypatch):
    import botocore.session

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    shared = Aws.from_environment().client("sts").meta.service_model
    remembered = dict(ops_aws._SERVICE_MODELS)
    separate = botocore.session.Session()
    separate.register_component("data_loader", botocore.loaders.create_loader())
    assert separate.create_client("sts", region_name="us-east-1").meta.service_model is not shared
    assert remembered == ops_aws._SERVICE_MODELS


def test_a_model_parsed_again_gets_a_service_model_of_its_own(monkeypatch):
    """Should the shared loader read a service's document again, its clients get a model made
    from that document, not one remembered from the last."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    before = Aws.from_environment().client("sts").meta.service_model
    loader = ops_aws._shared_loader()
    monkeypatch.setattr(loader, "_cache", {})
    after = Aws.from_environment().client("sts").meta.service_model
    assert after is not before
    assert after._service_description is not before._service_description


def test_clients_leave_the_shared_service_model_as_they_found_it(caller):
    """A shared ServiceModel must hold nothing of one client: what it was made with (its
    metadata, its shapes, its signature version) is the same object however many clients of
    other accounts, regions and settings use it; only its caches grow."""
    from botocore.config import Config

    shared = Aws.from_environment()  # the shared loader's session, in moto (the fixture's)
    shared.client("iam").list_roles()
    models = [shared.client(service).meta.service_model for service in ("iam", "s3", "sts")]
    before = [dict(model.__dict__) for model in models]
    role = shared.assume(ACCOUNT)
    for region in ("eu-west-1", "us-west-2"):
        s3 = role.session.client("s3", region_name=region, config=Config(signature_version="s3v4"))
        s3.create_bucket(
            Bucket=f"b-{region}", CreateBucketConfiguration={"LocationConstraint": region}
        )
        s3.list_objects_v2(Bucket=f"b-{region}")
        s3.generate_presigned_url("get_object", Params={"Bucket": f"b-{region}", "Key": "k"})
    role.client("sts").get_caller_identity()
    role.client("iam").list_roles()
    assert role.client("s3").meta.service_model is models[1]
    for model, found in zip(models, before, strict=True):
        assert all(model.__dict__[key] is value for key, value in found.items())


def test_clients_of_a_service_share_one_endpoint_provider_and_resolve_their_own(monkeypatch):
    """The parsed endpoint ruleset is made once per service; each client still resolves the
    endpoint of its own region, FIPS setting and endpoint URL."""
    from botocore.config import Config

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = Aws.from_environment().session
    east = session.client("sts", region_name="us-east-1")
    west = session.client("sts", region_name="eu-west-1")
    fips = session.client("sts", region_name="us-west-2", config=Config(use_fips_endpoint=True))
    local = session.client("sts", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    providers = {id(c._ruleset_resolver._provider) for c in (east, west, fips, local)}
    assert len(providers) == 1
    assert session.client("s3")._ruleset_resolver._provider is not east._ruleset_resolver._provider
    assert [c.meta.endpoint_url for c in (east, west, fips, local)] == [
        "https://sts.us-east-1.amazonaws.com",
        "https://sts.eu-west-1.amazonaws.com",
        "https://sts-fips.us-west-2.amazonaws.com",
        "http://127.0.0.1:9",
    ]


def test_a_ruleset_parsed_again_gets_an_endpoint_provider_of_its_own(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    before = Aws.from_environment().client("sts")._ruleset_resolver._provider
    monkeypatch.setattr(ops_aws._shared_loader(), "_cache", {})
    after = Aws.from_environment().client("sts")._ruleset_resolver._provider
    assert after is not before


def test_sessions_leave_out_only_the_documentations_handlers(monkeypatch):
    """Every built-in handler but those that edit docstrings reaches a client; a method's
    docstring is still written."""
    import botocore.handlers

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    client = Aws.from_environment().client("s3")
    events = client.meta.events  # the client's copy of its session's handlers
    for event_name, handler, *_ in botocore.handlers.BUILTIN_HANDLERS:
        aliased = events._alias_event_name(event_name)
        registered = list(events._emitter._handlers.prefix_search(aliased))
        assert (handler in registered) != event_name.startswith("docs."), event_name
    assert "determine if a bucket exists" in str(client.head_bucket.__doc__)
