"""`diagnyx doctor` and `diagnyx cost report` against the moto server."""

import datetime as dt
import json
import shutil

import pytest
import requests

from diagnyx_infra.ops.aws import (
    CALL_DEADLINE,
    CONNECT_TIMEOUT,
    NETWORK_ATTEMPTS,
    READ_TIMEOUT,
    Aws,
)
from diagnyx_infra.ops.cost_report import last_full_month, month_range
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx
from tests.ops.test_faults import FAILING_EVERYTHING, StsOnlyProxy


def test_doctor_passes_on_a_healthy_landing_zone(aws_env, healthy):
    result = run_diagnyx(aws_env, "doctor", "--json", "--project-dir", str(healthy))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["fail"] == 0
    items = {(f["account"], f["item"]) for f in report["findings"]}
    assert ("organization", "caller identity") in items
    assert ("dev", "assume OrganizationAccountAccessRole") in items
    deploy = {
        f["account"]: f
        for f in report["findings"]
        if f["item"] == "who can assume DiagnyxCrossAccountCICD"
    }
    assert set(deploy) == {"management", "security", "shared", "dev", "staging", "uat", "prod"}
    assert deploy["prod"]["detail"] == (
        "admits the shared services deploy role, GitHub repo:diagnyx/diagnyx-infra:environment:prod"
    )
    assert deploy["management"]["detail"] == (
        "admits GitHub repo:diagnyx/diagnyx-infra:environment:management"
    )
    sso = next(f for f in report["findings"] if f["item"] == "Identity Center")
    assert "Administrator" in sso["detail"] and "Finance" in sso["detail"]


@pytest.mark.parametrize("reply", ["nginx 500 page", "Werkzeug 500 page"])
def test_doctor_through_an_endpoint_failing_everything_but_sts_exits_3(
    aws_env, moto_endpoint, healthy, reply
):
    """The healthy landing zone, through a proxy that passes STS to it and answers everything
    else with HTTP 500 and an HTML page: most of the doctor's look could not be made."""
    proxy = StsOnlyProxy(moto_endpoint, *FAILING_EVERYTHING[reply])
    try:
        env = {**aws_env, "AWS_ENDPOINT_URL": proxy.url}
        result = run_diagnyx(env, "doctor", "--json", "--project-dir", str(healthy))
    finally:
        proxy.close()
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["fail"] == 0
    assert report["cannotCheck"].get("unreachable", 0) >= 20, report["cannotCheck"]
    assert "unavailable" not in report["cannotCheck"]
    assert "AWS could not be reached" in result.stderr


def test_doctor_fails_a_deploy_role_that_trusts_an_account_root(aws_env, healthy):
    """The earlier design: management trusted the whole shared services account."""
    zone = LandingZone.load(healthy)
    iam = Aws.from_environment().client("iam")
    before = iam.get_role(RoleName="DiagnyxCrossAccountCICD")["Role"]["AssumeRolePolicyDocument"]
    # A copy: boto3 hands the document over decoded, and `before` is what is put back.
    widened = json.loads(before if isinstance(before, str) else json.dumps(before))
    widened["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{zone.account_ids['shared']}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.update_assume_role_policy(
        RoleName="DiagnyxCrossAccountCICD", PolicyDocument=json.dumps(widened)
    )
    try:
        result = run_diagnyx(aws_env, "doctor", "--json", "--project-dir", str(healthy))
    finally:
        iam.update_assume_role_policy(
            RoleName="DiagnyxCrossAccountCICD",
            PolicyDocument=before if isinstance(before, str) else json.dumps(before),
        )
    put_back = iam.get_role(RoleName="DiagnyxCrossAccountCICD")["Role"]["AssumeRolePolicyDocument"]
    assert put_back == before, "the module shares the landing zone: the trust policy is put back"
    assert result.returncode == 1
    report = json.loads(result.stdout)
    (line,) = [
        f
        for f in report["findings"]
        if f["account"] == "management" and f["item"] == "who can assume DiagnyxCrossAccountCICD"
    ]
    assert line["status"] == "fail"
    assert "unexpected principal" in line["detail"] and ":root" in line["detail"]


def test_doctor_reports_a_wrong_management_account_with_a_hint(aws_env, healthy, tmp_path):
    for path in healthy.glob("Pulumi*.yaml"):
        text = path.read_text().replace('management: "123456789012"', 'management: "210987654321"')
        (tmp_path / path.name).write_text(text)
    shutil.copy(healthy / "__main__.py", tmp_path)
    result = run_diagnyx(aws_env, "doctor", "--json", "--project-dir", str(tmp_path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    identity = next(f for f in report["findings"] if f["item"] == "caller identity")
    assert identity["status"] == "fail"
    assert "not the management account 210987654321" in identity["detail"]
    assert identity["hint"]


def _inject_costs(endpoint, spend_by_account, month):
    start, end = month_range(month)
    groups = [
        {"Keys": [account_id], "Metrics": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}}}
        for account_id, amount in spend_by_account.items()
    ]
    result = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": start, "End": end},
                "Total": {},
                "Groups": groups,
                "Estimated": False,
            }
        ]
    }
    response = requests.post(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
        json={"results": [result]},
        timeout=10,
    )
    response.raise_for_status()


def test_cost_report_flags_accounts_over_80_percent(aws_env, moto_endpoint, healthy):
    zone = LandingZone.load(healthy)
    ids = zone.account_ids
    # A month within Cost Explorer's history, the one before the last complete one (moto
    # answers the same query with the same result: the next test asks for the last one).
    month = last_full_month(dt.date.fromisoformat(f"{last_full_month()}-01"))
    _inject_costs(
        moto_endpoint, {ids["dev"]: 170.0, ids["prod"]: 900.0, ids["shared"]: 20.0}, month
    )
    result = run_diagnyx(
        aws_env, "cost", "report", "--month", month, "--json", "--project-dir", str(healthy)
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    rows = {r["account"]: r for r in report["accounts"]}
    assert rows["dev"]["spend_usd"] == 170.0 and rows["dev"]["budget_usd"] == 200
    assert rows["dev"]["percent"] == 85.0 and rows["dev"]["overAlert"] is True
    assert rows["prod"]["percent"] == 50.0 and rows["prod"]["overAlert"] is False
    assert rows["uat"]["spend_usd"] == 0.0
    assert report["totalUsd"] == 1090.0
    assert report["organizationBudgetUsd"] == 2850


def test_cost_report_within_budget_exits_0_and_prints_a_table(aws_env, moto_endpoint, healthy):
    zone = LandingZone.load(healthy)
    month = last_full_month()
    _inject_costs(moto_endpoint, {zone.account_ids["staging"]: 100.0}, month)
    result = run_diagnyx(aws_env, "cost", "report", "--project-dir", str(healthy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Spend by account, {month}" in result.stdout
    assert "$2,850" in result.stdout


@pytest.mark.parametrize(
    ("month", "said"),
    [
        ("2026-13", "--month: '2026-13' is not YYYY-MM"),
        # An unset $MONTH in CI: not silently the last month.
        ("", "--month: empty: give a complete month as YYYY-MM"),
    ],
)
def test_cost_report_rejects_a_bad_month(aws_env, healthy, month, said):
    result = run_diagnyx(
        aws_env, "cost", "report", "--month", month, "--json", "--project-dir", str(healthy)
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert said in line, line


def test_last_full_month():
    assert last_full_month(dt.date(2026, 1, 15)) == "2025-12"
    assert month_range("2026-02") == ("2026-02-01", "2026-03-01")


def test_retry_configuration_is_standard_mode():
    config = Aws.from_environment().client("sts").meta.config
    assert config.retries["mode"] == "standard"
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    # A silent endpoint is given up on well within 30 s (tests/ops/test_faults.py measures it).
    assert NETWORK_ATTEMPTS * max(CONNECT_TIMEOUT, READ_TIMEOUT) < 20
    # One that drips its reply within 30 s; the socket timeouts still report their own faults.
    assert NETWORK_ATTEMPTS * CALL_DEADLINE <= 30
    assert CALL_DEADLINE > CONNECT_TIMEOUT + READ_TIMEOUT
