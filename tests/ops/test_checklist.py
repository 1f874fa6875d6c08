"""`diagnyx checklist` end to end against the moto server."""

import json

import pytest

from diagnyx_infra import naming
from diagnyx_infra.naming import state_bucket_name
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.checklist import ITEMS, Checklist
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.policies.audit import security_event_patterns, trail_arn
from diagnyx_infra.policies.scp import ALARM_RULE_PREFIX
from tests.ops.conftest import run_diagnyx
from tests.ops.test_faults import FAILING_EVERYTHING, StsOnlyProxy

UNAVAILABLE_IN_MOTO = {"cost allocation tags"}  # Cost Explorer tag status: not implemented


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
    for (account, item), status in found.items():
        expected = "cannot check" if item in UNAVAILABLE_IN_MOTO else "pass"
        assert status == expected, (account, item)
    assert report["summary"] == {"pass": 7 * (len(ITEMS) - 1), "fail": 0, "cannot check": 7}
    for finding in report["findings"]:
        if finding["item"] in UNAVAILABLE_IN_MOTO:  # the reason is given, not a traceback
            assert "does not implement this API" in finding["detail"]


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
    assert causes["unreachable"] >= accounts * (len(ITEMS) - 2), causes
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


@pytest.mark.parametrize(
    "break_it",
    [
        _suspend_versioning,
        _delete_budget,
        _delete_role,
        _disable_rotation,
        _move_account,
        _silence_an_alarm,
    ],
    ids=[
        "versioning suspended",
        "budget missing",
        "role missing",
        "rotation off",
        "wrong OU",
        "an alarm notifying nobody",
    ],
)
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
    assert "11 pass, 0 fail, 1 cannot check" in result.stdout


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
