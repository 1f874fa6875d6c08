"""`diagnyx checklist` end to end against the moto server."""

import json
import shutil
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from diagnyx_infra import naming
from diagnyx_infra.naming import state_bucket_name
from diagnyx_infra.ops.aws import Aws, classify
from diagnyx_infra.ops.bootstrap import set_setting
from diagnyx_infra.ops.checklist import ITEMS, Checklist
from diagnyx_infra.ops.findings import Status, exit_code, run_check
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.ops.security_checks import (
    BLOCK_PUBLIC_ACCESS,
    ITEMS_BY_ID,
    SECURITY_ITEMS,
    Account,
    account_controls,
)
from diagnyx_infra.policies import aws_managed
from diagnyx_infra.policies.audit import security_event_patterns, trail_arn
from diagnyx_infra.policies.evaluation import Request, allows
from diagnyx_infra.policies.identity import READ_ONLY_ACCESS, SECURITY_AUDIT
from diagnyx_infra.policies.scp import ALARM_RULE_PREFIX
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from tests.ops.conftest import run_diagnyx
from tests.ops.landscape import security_services
from tests.ops.test_faults import FAILING_EVERYTHING, StsOnlyProxy

# Cost Explorer's tag status and Access Analyzer (looked at in the security account only): moto
# has neither.
UNAVAILABLE_IN_MOTO = {"cost allocation tags", "IAM Access Analyzer"}
# Items that pass without a look in a member account other than security while the paid services
# are switched off (as in the example's Pulumi.management.yaml): those three services, and the
# organization's analyzer, which lives in the security account.
PAID = ("GuardDuty", "Security Hub", "AWS Config")
NOT_LOOKED_AT_IN_DEV = len(PAID) + 1


def checklist(env, project, *args):
    result = run_diagnyx(env, "checklist", *args, "--json", "--project-dir", str(project))
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def statuses(report):
    return {(f["account"], f["item"]): f["status"] for f in report["findings"]}


def test_healthy_landing_zone_passes(aws_env, healthy):
    code, report = checklist(aws_env, healthy, "--all")
    assert code == 0, report
    found = statuses(report)
    assert len(found) == 7 * len(ITEMS)
    unavailable = {(a, i) for a, i in found if i == "cost allocation tags"}
    unavailable.add(("security", "IAM Access Analyzer"))
    for (account, item), status in found.items():
        expected = "cannot check" if (account, item) in unavailable else "pass"
        assert status == expected, (account, item)
    assert report["summary"] == {"pass": 7 * len(ITEMS) - 8, "fail": 0, "cannot check": 8}
    assert report["cannotCheck"] == {"unavailable": 8}  # moto's gaps: exit 0, named
    for finding in report["findings"]:
        if finding["status"] == "cannot check":  # the reason is given, not a traceback
            assert "does not implement this API" in finding["detail"]
        if finding["item"] in PAID:  # switched off in the example: passed, not looked at
            assert finding["detail"].startswith("off: organization.securityServices."), finding
        if finding["item"] == "IAM Access Analyzer" and finding["account"] != "security":
            assert finding["detail"].startswith("not applicable: "), finding


# The reply every account meets through the proxy below; for the other replies one account (its
# twelve items, each API the checklist calls in a member account) shows how it is taken.
ALL_ACCOUNTS_REPLY = "nginx 500 page"
assert ALL_ACCOUNTS_REPLY in FAILING_EVERYTHING


@pytest.mark.parametrize("reply", list(FAILING_EVERYTHING))
def test_an_endpoint_failing_everything_but_sts_does_not_pass(
    aws_env, moto_endpoint, healthy, reply
):
    """The healthy landing zone above, through a proxy that passes STS to it and answers every
    other call with a 5xx: its items could not be checked, so no "all is well" (exit 3). Only
    moto's own reply to an API it lacks (cost allocation tags) may be set aside."""
    every_account = reply == ALL_ACCOUNTS_REPLY
    scope = ["--all"] if every_account else ["--account", "dev"]
    proxy = StsOnlyProxy(moto_endpoint, *FAILING_EVERYTHING[reply])
    try:
        env = {**aws_env, "AWS_ENDPOINT_URL": proxy.url}
        code, report = checklist(env, healthy, *scope)
        human = run_diagnyx(env, "checklist", "--account", "dev", "--project-dir", str(healthy))
    finally:
        proxy.close()
    assert code == 3, report["summary"]
    accounts = 7 if every_account else 1
    assert len(report["findings"]) == accounts * len(ITEMS)
    assert report["summary"]["fail"] == 0
    causes = report["cannotCheck"]
    assert causes["unreachable"] >= accounts * (len(ITEMS) - 2 - NOT_LOOKED_AT_IN_DEV), causes
    unavailable = {f["item"] for f in report["findings"] if f["cause"] == "unavailable"}
    assert unavailable <= UNAVAILABLE_IN_MOTO
    assert human.returncode == 3
    assert "AWS could not be reached" in human.stdout
    assert "not everything was checked (exit 3 unless an item failed)" in human.stdout


def _member(project, name):
    zone = LandingZone.load(project)
    return zone, Aws.from_environment().assume(zone.account_ids[name])


# Each breaks one item of one account; the landing zone is put back as built after the test.


def _suspend_versioning(project):
    zone, aws = _member(project, "dev")
    settings = zone.stacks["dev"]
    aws.client("s3").put_bucket_versioning(
        Bucket=state_bucket_name(settings.account_id, settings.region),
        VersioningConfiguration={"Status": "Suspended"},
    )
    return "dev", "state bucket"


def _delete_budget(project):
    zone, aws = _member(project, "staging")
    account_id = zone.account_ids["staging"]
    aws.client("budgets").delete_budget(AccountId=account_id, BudgetName="diagnyx-staging-monthly")
    return "staging", "budget"


def _delete_role(project):
    _, aws = _member(project, "uat")
    aws.client("iam").delete_role(RoleName=naming.AUDIT_ROLE)
    return "uat", "cross-account roles"


def _disable_rotation(project):
    _, aws = _member(project, "prod")
    kms = aws.client("kms")
    key_id = kms.describe_key(KeyId="alias/diagnyx-prod")["KeyMetadata"]["KeyId"]
    kms.disable_key_rotation(KeyId=key_id)
    return "prod", "KMS key rotation"


def _move_account(project):
    zone = LandingZone.load(project)
    organizations = Aws.from_environment().client("organizations")
    account_id = zone.account_ids["shared"]
    (parent,) = organizations.list_parents(ChildId=account_id)["Parents"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    organizations.move_account(
        AccountId=account_id, SourceParentId=parent["Id"], DestinationParentId=root
    )
    return "shared", "in organization and OU"


def _silence_an_alarm(project):
    _, aws = _member(project, "security")
    events = aws.client("events")
    rule = f"{ALARM_RULE_PREFIX}{next(iter(security_event_patterns()))}"
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    events.remove_targets(Rule=rule, Ids=[t["Id"] for t in targets])
    return "security", "security alarms"


def _delete_account_public_access_block(project):
    zone, aws = _member(project, "dev")
    account_controls(aws).delete_public_access_block(AccountId=zone.account_ids["dev"])
    return "dev", "S3 Block Public Access"


def _allow_public_bucket_policies(project):
    zone, aws = _member(project, "staging")
    account_controls(aws).put_public_access_block(
        AccountId=zone.account_ids["staging"],
        PublicAccessBlockConfiguration={
            **dict.fromkeys(BLOCK_PUBLIC_ACCESS, True),
            "BlockPublicPolicy": False,
        },
    )
    return "staging", "S3 Block Public Access"


def _disable_ebs_encryption(project):
    _, aws = _member(project, "prod")
    aws.client("ec2", "us-west-2").disable_ebs_encryption_by_default()  # the second region
    return "prod", "EBS encryption by default"


def _weaken_password_policy(project):
    _, aws = _member(project, "uat")
    policy = aws.client("iam").get_account_password_policy()["PasswordPolicy"]
    policy = {k: v for k, v in policy.items() if k != "ExpirePasswords"}
    aws.client("iam").update_account_password_policy(**{**policy, "MinimumPasswordLength": 8})
    return "uat", "password policy"


def _delete_password_policy(project):
    _, aws = _member(project, "shared")
    aws.client("iam").delete_account_password_policy()
    return "shared", "password policy"


BREAKERS = {
    "versioning suspended": _suspend_versioning,
    "budget missing": _delete_budget,
    "role missing": _delete_role,
    "rotation off": _disable_rotation,
    "wrong OU": _move_account,
    "an alarm notifying nobody": _silence_an_alarm,
    "no account public access block": _delete_account_public_access_block,
    "public bucket policies allowed": _allow_public_bucket_policies,
    "EBS default encryption off in a region": _disable_ebs_encryption,
    "password length 8": _weaken_password_policy,
    "no password policy": _delete_password_policy,
}
# The security services' items: their fix is the stack that sets them.
OWN_STACK_FIX = {"S3 Block Public Access", "EBS encryption by default", "password policy"}


@pytest.mark.parametrize("break_it", list(BREAKERS.values()), ids=list(BREAKERS))
@pytest.mark.usefixtures("aws_env", "put_back_afterwards")
def test_each_broken_item_fails_exactly_its_line(healthy, break_it):
    # The command's own engine, in process: the console script is exercised by the tests
    # around this one, and five more process starts would double this file's time.
    account, item = break_it(healthy)
    findings = Checklist(Aws.from_environment(), LandingZone.load(healthy)).account(account)
    failed = [(f.account, f.item) for f in findings if f.status == "fail"]
    assert failed == [(account, item)]
    (finding,) = [f for f in findings if f.item == item]
    assert finding.hint
    if item in OWN_STACK_FIX:  # a missing setting fails (not "cannot check") and names its fix
        assert finding.hint == f"run `pulumi up -s {account}`"


@pytest.mark.usefixtures("put_back_afterwards")
def test_stopped_trail_fails_the_trail_line_of_every_account(aws_env, healthy):
    zone = LandingZone.load(healthy)
    # The management account owns the organization trail: it is found by its ARN there.
    arn = trail_arn("us-east-1", zone.account_ids["management"])
    Aws.from_environment().client("cloudtrail").stop_logging(Name=arn)
    code, report = checklist(aws_env, healthy, "--all")
    assert code == 1
    failed = {(f["account"], f["item"]) for f in report["findings"] if f["status"] == "fail"}
    assert failed == {(name, "organization trail") for name in zone.account_names()}
    assert all("not logging" in f["detail"] for f in report["findings"] if f["status"] == "fail")


def test_human_output_has_one_line_per_item_and_counts(aws_env, healthy):
    result = run_diagnyx(aws_env, "checklist", "--account", "dev", "--project-dir", str(healthy))
    assert result.returncode == 0, result.stderr
    for item in ITEMS:
        assert item in result.stdout
    assert f"{len(ITEMS) - 1} pass, 0 fail, 1 cannot check" in result.stdout


def test_usage_errors_exit_2(aws_env, healthy):
    assert run_diagnyx(aws_env, "checklist", "--project-dir", str(healthy)).returncode == 2
    result = run_diagnyx(
        aws_env, "checklist", "--account", "sandbox", "--project-dir", str(healthy)
    )
    assert result.returncode == 2
    assert "unknown account 'sandbox': not an account of Pulumi.management.yaml" in result.stderr


def test_an_empty_account_fails_its_items_without_a_traceback(blank_env, blank_project):
    from tests.ops.conftest import build_organization

    project = build_organization(blank_project)
    code, report = checklist(blank_env, project, "--account", "dev")
    # Nothing built yet: items are missing (fail) but nothing crashes.
    assert code == 1
    assert "Traceback" not in json.dumps(report)
    assert {f["item"] for f in report["findings"]} == set(ITEMS)


def test_a_finding_prints_what_aws_holds_as_text_not_markup():
    """A name or an error message from AWS may hold "[/x]" or "[link=...]": printed as it is."""
    import io

    from rich.console import Console

    from diagnyx_infra.ops.findings import Finding, Status, render

    text = "role [/x] [link=https://e.example]y[/link]"
    finding = Finding("dev", "roles", Status.FAIL, text + "\x1b[2J", hint="[bold]delete it[/bold]")
    console = Console(file=io.StringIO(), width=300, color_system=None)
    render([finding], "checklist", console)
    printed = console.file.getvalue()
    assert text + "\ufffd[2J" in printed and "hint: [bold]delete it[/bold]" in printed
    assert "\x1b" not in printed  # an escape sequence from AWS does not reach the terminal


# --- the paid security services, switched on ------------------------------------------------


@pytest.fixture
def switched_on(aws_env, healthy, tmp_path, put_back_afterwards):
    """A copy of the stack files with every paid service switched on, and the services built in
    the dev and security accounts as the stacks leave them (in the others they are not: nothing
    deployed since the switch)."""
    project = tmp_path / "project"
    project.mkdir()
    for path in healthy.iterdir():
        shutil.copy(path, project)
    switches = dict.fromkeys(PAID_SWITCHES, True)
    set_setting(project, "management", "organization.securityServices", switches)
    zone = LandingZone.load(project)
    assert set(zone.management.organization.security_services.enabled()) == set(PAID_SWITCHES)
    caller = Aws.from_environment()
    for name in ("dev", "security"):
        security_services(caller.assume(zone.account_ids[name]), zone, name)
    return project


PAID_SWITCHES = ("guardDuty", "securityHub", "awsConfig")


def _paid_lines(project, account):
    findings = Checklist(Aws.from_environment(), LandingZone.load(project)).account(account)
    return {f.item: f for f in findings if f.item in PAID}


@pytest.mark.parametrize("account", ["dev", "security"])
def test_switched_on_services_pass_where_they_run(switched_on, account):
    lines = _paid_lines(switched_on, account)
    assert {item: f.status for item, f in lines.items()} == dict.fromkeys(PAID, "pass")
    assert "enabled in us-east-1, us-west-2" in lines["GuardDuty"].detail
    assert lines["AWS Config"].detail.startswith("diagnyx recording in us-east-1, us-west-2")


def test_switched_on_services_fail_where_they_do_not_run(switched_on):
    lines = _paid_lines(switched_on, "staging")
    assert {item: f.status for item, f in lines.items()} == dict.fromkeys(PAID, "fail")
    assert lines["GuardDuty"].detail == "no detector in us-east-1; no detector in us-west-2"
    assert lines["Security Hub"].detail == "not enabled in us-east-1, us-west-2"
    assert "no recorder diagnyx in us-east-1" in lines["AWS Config"].detail
    assert lines["GuardDuty"].hint.startswith("run `pulumi up -s security`")
    assert lines["Security Hub"].hint.startswith("run `pulumi up -s security`")
    assert lines["AWS Config"].hint == "run `pulumi up -s staging`"


def _suspend_detector(aws, zone):
    guardduty = aws.client("guardduty", "us-west-2")
    (detector,) = guardduty.list_detectors()["DetectorIds"]
    guardduty.update_detector(DetectorId=detector, Enable=False)
    return "dev", "GuardDuty", "detector suspended in us-west-2"


def _disable_security_hub(aws, zone):
    aws.client("securityhub", "us-west-2").disable_security_hub()
    return "dev", "Security Hub", "not enabled in us-west-2"


def _stop_recorder(aws, zone):
    aws.client("config", "us-west-2").stop_configuration_recorder(
        ConfigurationRecorderName="diagnyx"
    )
    return "dev", "AWS Config", "recorder diagnyx not recording in us-west-2"


def _delete_aggregator(aws, zone):
    security = Aws.from_environment().assume(zone.account_ids["security"])
    security.client("config").delete_configuration_aggregator(
        ConfigurationAggregatorName="diagnyx-organization"
    )
    return "security", "AWS Config", "no organization aggregator diagnyx-organization"


@pytest.mark.parametrize(
    "break_it",
    [_suspend_detector, _disable_security_hub, _stop_recorder, _delete_aggregator],
    ids=["detector suspended", "Security Hub off", "recorder stopped", "no aggregator"],
)
def test_each_broken_service_fails_its_line(switched_on, break_it):
    zone = LandingZone.load(switched_on)
    account, item, detail = break_it(Aws.from_environment().assume(zone.account_ids["dev"]), zone)
    lines = _paid_lines(switched_on, account)
    failed = {i for i, f in lines.items() if f.status == "fail"}
    assert failed == {item}
    assert lines[item].detail == detail
    assert "pulumi up -s" in lines[item].hint


# --- what the security items read -----------------------------------------------------------

# The IAM action an API call is authorized as, where the names differ (Service Authorization
# Reference, Amazon S3: S3 Control's GetPublicAccessBlock).
AUTHORIZED_AS = {("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock"}


def test_the_audit_role_may_make_every_read_of_the_security_items(switched_on, monkeypatch):
    """The security items run as DiagnyxAuditReadOnly (`--access-role`) as well as the default
    role: each call they make is allowed by its ReadOnlyAccess and SecurityAudit."""
    zone = LandingZone.load(switched_on)
    calls: set[str] = set()
    original = BaseClient._make_api_call

    def call(client, operation, params):
        model = client.meta.service_model
        key = (model.service_name, operation)
        calls.add(AUTHORIZED_AS.get(key, f"{model.signing_name}:{operation}"))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    aws = Aws.from_environment().assume(zone.account_ids["security"])
    for item in SECURITY_ITEMS:
        run_check(
            "security", item.item, lambda item=item: item.check(Account("security", aws, zone))
        )
    calls.discard("sts:AssumeRole")
    assert calls == {
        "s3:GetAccountPublicAccessBlock",
        "ec2:GetEbsEncryptionByDefault",
        "iam:GetAccountPasswordPolicy",
        "access-analyzer:ListAnalyzers",
        "guardduty:ListDetectors",
        "guardduty:GetDetector",
        "securityhub:DescribeHub",
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeDeliveryChannels",
        "config:DescribeConfigurationAggregators",
    }
    policies = [aws_managed.find(arn).document for arn in (READ_ONLY_ACCESS, SECURITY_AUDIT)]
    role = f"arn:aws:iam::{zone.account_ids['security']}:role/{naming.AUDIT_ROLE}"
    refused = {a for a in calls if not allows(policies, Request(a, "*", principal_arn=role))}
    assert refused == set()


# --- Access Analyzer, S3 Control and the errors, without the landing zone --------------------


def test_access_analyzer_in_moto_in_process_is_a_known_gap_not_a_fault():
    """The rehearsal runs moto in process, which answers a service it lacks with HTTP 404 "Not
    yet implemented": for ListAnalyzers, as for the moto server's page, the line cannot be
    checked, which leaves the exit code 0."""
    with emulated_aws():
        aws = Aws.from_environment("us-east-1")
        zone = SimpleNamespace(stacks={}, management=SimpleNamespace(allowed_regions=["us-east-1"]))
        item = ITEMS_BY_ID["access-analyzer"]
        finding = run_check(
            "security", item.item, lambda: item.check(Account("security", aws, zone))
        )
    assert (finding.status, finding.cause) == (Status.CANNOT, "unavailable")
    assert 'as moto in process answers a service it lacks (HTTP 404, "Not yet implemented")' in (
        finding.detail
    )
    assert exit_code([finding]) == 0


def _url_of_get_public_access_block(aws: Aws) -> str:
    sent = []

    def capture(request, **_):
        sent.append(request.url)
        raise RuntimeError("not sent")

    client = account_controls(aws)
    client.meta.events.register_first("before-send", capture)
    try:
        with pytest.raises(RuntimeError):
            client.get_public_access_block(AccountId="123456789012")
    finally:
        client.meta.events.unregister("before-send", capture)
    (url,) = sent
    return url


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        (None, "123456789012.s3-control.us-east-1.amazonaws.com"),  # AWS: the account's label
        ("http://127.0.0.1:4566", "127.0.0.1:4566"),  # an emulator: no subdomains there
        ("http://localhost:4566", "localhost:4566"),
        ("https://emulator.example.com", "123456789012.emulator.example.com"),
    ],
)
def test_s3_control_keeps_the_account_label_except_on_an_emulator_host(monkeypatch, endpoint, host):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    if endpoint is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    url = _url_of_get_public_access_block(Aws.from_environment("us-east-1"))
    assert urlsplit(url).netloc == host


def _error(code: str, message: str, operation: str = "GetPublicAccessBlock") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # Deleted or never set: a missing setting, so the line fails (not "cannot check").
        (_error("NoSuchPublicAccessBlockConfiguration", "not found"), "missing"),
        (_error("NoSuchEntity", "no policy", "GetAccountPasswordPolicy"), "missing"),
        (
            _error(
                "InvalidAccessException",
                "Account 123456789012 is not subscribed to AWS Security Hub",
                "DescribeHub",
            ),
            "missing",
        ),
        # The same code for anything else Security Hub refuses: not a missing setting.
        (_error("InvalidAccessException", "not permitted", "DescribeHub"), "failed"),
    ],
    ids=["no public access block", "no password policy", "hub not enabled", "hub refuses"],
)
def test_a_missing_security_setting_is_classified_missing(error, kind):
    assert classify(error).kind == kind
