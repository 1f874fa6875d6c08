"""`diagnyx maintenance weekly` against moto in this process, with what each item looks for put
there by the test: unused resources priced from the price table, and backup health."""

import dataclasses
import datetime
import json

import pytest
from botocore.exceptions import ClientError

from diagnyx_infra.config.models import PENDING_ID
from diagnyx_infra.engine.runner import PROJECT_DIR
from diagnyx_infra.naming import LOCK_TABLE_NAME, state_bucket_name
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.findings import (
    EXIT_CANNOT_LOOK,
    PENDING,
    UNCONFIGURED,
    Finding,
    Status,
    exit_code,
)
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.ops.maintenance import (
    MAX_CELL,
    Report,
    _trusted,
    accounts_to_read,
    markdown,
    period,
    report,
)
from diagnyx_infra.prices import price_table
from diagnyx_infra.rehearsal.rehearse import emulated_aws
from tests.test_cli import invoke

REGION = "us-east-1"


@pytest.fixture
def dev():
    """The dev account (moto in process) with a healthy backend: its state bucket versioned,
    its lock table recoverable."""
    with emulated_aws():
        caller = Aws.from_environment(REGION)
        zone = LandingZone.load(PROJECT_DIR)
        account = caller.assume(zone.account_ids["dev"])
        bucket = state_bucket_name(zone.account_ids["dev"], REGION)
        s3 = account.client("s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = account.client("dynamodb")
        dynamodb.create_table(
            TableName=LOCK_TABLE_NAME,
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_continuous_backups(
            TableName=LOCK_TABLE_NAME,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        yield caller, zone, account


def _lines(caller, zone, now=None):
    result = report(caller, zone, "weekly", ["dev"], "OrganizationAccountAccessRole", now)
    return {f.item: f for f in result.findings}, result


def test_a_tidy_account_needs_nothing(dev):
    caller, zone, _ = dev
    lines, result = _lines(caller, zone)
    assert lines["Unused resources"].status == Status.PASS
    backup = lines["Backup health"]
    assert backup.status == Status.PASS, backup.detail
    # moto has no AWS Backup jobs: said, not failed.
    assert "AWS Backup jobs not looked at" in backup.detail
    assert "# Weekly maintenance report" in markdown(result)


def test_each_unused_resource_is_found_with_its_monthly_price(dev):
    caller, zone, account = dev
    ec2 = account.client("ec2")
    ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=100)
    ec2.allocate_address(Domain="vpc")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10)
    ec2.create_snapshot(VolumeId=volume["VolumeId"])
    ec2.attach_volume(
        VolumeId=volume["VolumeId"], InstanceId=instance["InstanceId"], Device="/dev/sdf"
    )
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    account.client("elbv2").create_load_balancer(Name="forgotten", Subnets=subnets)
    prices = price_table()["idle"]
    # Now: nothing stopped long, no snapshot old yet.
    lines, _ = _lines(caller, zone)
    unused = lines["Unused resources"]
    assert unused.status == Status.FAIL
    assert "attached to nothing" in unused.detail and "associated with nothing" in unused.detail
    assert "stopped since" not in unused.detail and "snapshot" not in unused.detail
    assert "load balancer forgotten with no targets" in unused.detail
    expected = (
        100 * prices["ebsVolumePerGbMonth"]
        + prices["publicIpv4Monthly"]
        + prices["loadBalancerMonthly"]
    )
    assert unused.detail.startswith(f"${expected:.2f} a month")
    # 100 days on: the instance has been stopped over 30 days, the snapshot is over 90.
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=100)
    lines, _ = _lines(caller, zone, later)
    detail = lines["Unused resources"].detail
    assert f"instance {instance['InstanceId']} stopped since" in detail
    assert "snapshot snap-" in detail and "over 90 days old" in detail


def test_a_backend_without_versioning_or_recovery_needs_action(dev):
    caller, zone, account = dev
    bucket = state_bucket_name(zone.account_ids["dev"], REGION)
    account.client("s3").put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    account.client("dynamodb").update_continuous_backups(
        TableName=LOCK_TABLE_NAME,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    lines, _ = _lines(caller, zone)
    backup = lines["Backup health"]
    assert backup.status == Status.FAIL
    assert "versioning is not enabled" in backup.detail
    assert "point-in-time recovery is DISABLED" in backup.detail
    assert backup.hint.startswith("run `pulumi up")


def test_an_account_without_its_backend_could_not_be_looked_at(dev):
    caller, zone, _ = dev
    result = report(caller, zone, "weekly", ["staging"], "OrganizationAccountAccessRole")
    (backup,) = [f for f in result.findings if f.item == "Backup health"]
    # Its state bucket is missing (a missing setting): it fails, never passes.
    assert backup.status == Status.FAIL and "missing" in backup.detail


def test_an_unknown_cadence_exits_2():
    result = invoke("maintenance", "yearly", "--project-dir", str(PROJECT_DIR))
    assert result.returncode == 2 and "unknown cadence 'yearly'" in result.stderr


def test_cost_anomalies_are_read_in_the_management_account_only(dev):
    caller, zone, _ = dev
    result = report(caller, zone, "weekly", ["management", "dev"], "OrganizationAccountAccessRole")
    lines = {(f.account, f.item): f for f in result.findings}
    assert lines["dev", "Cost anomalies"].detail.startswith("not applicable")
    # moto has no GetAnomalies: the management account's line says it could not look.
    anomalies = lines["management", "Cost anomalies"]
    assert anomalies.status == Status.CANNOT, anomalies


def test_roles_users_and_keys_unused_for_90_days_need_action(dev):
    caller, zone, account = dev
    iam = account.client("iam")
    iam.create_role(RoleName="forgotten", AssumeRolePolicyDocument="{}")
    iam.create_role(
        RoleName="AWSServiceRoleForThing",
        Path="/aws-service-role/thing.amazonaws.com/",
        AssumeRolePolicyDocument="{}",
    )
    iam.create_user(UserName="someone")
    key = iam.create_access_key(UserName="someone")["AccessKey"]["AccessKeyId"]
    monthly = report(caller, zone, "monthly", ["dev"], "OrganizationAccountAccessRole")
    (fresh,) = [f for f in monthly.findings if f.item == "Unused access"]
    assert fresh.status == Status.PASS, fresh.detail
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=100)
    monthly = report(caller, zone, "monthly", ["dev"], "OrganizationAccountAccessRole", later)
    (old,) = [f for f in monthly.findings if f.item == "Unused access"]
    assert old.status == Status.FAIL
    assert "role forgotten never used" in old.detail
    assert f"user someone's access key {key}" in old.detail and "user someone never" in old.detail
    assert "AWSServiceRoleForThing" not in old.detail  # AWS manages it


def test_group_memberships_are_listed_for_the_review(dev):
    caller, zone, _ = dev
    sso = caller.client("sso-admin")
    store = sso.list_instances()["Instances"][0]["IdentityStoreId"]
    identities = caller.client("identitystore")
    group = identities.create_group(IdentityStoreId=store, DisplayName="Administrators")
    user = identities.create_user(
        IdentityStoreId=store,
        UserName="ada",
        DisplayName="Ada",
        Name={"GivenName": "Ada", "FamilyName": "L"},
    )
    identities.create_group_membership(
        IdentityStoreId=store, GroupId=group["GroupId"], MemberId={"UserId": user["UserId"]}
    )
    monthly = report(caller, zone, "monthly", ["management"], "OrganizationAccountAccessRole")
    (groups,) = [f for f in monthly.findings if f.item == "Identity Center groups"]
    assert groups.status == Status.PASS and "Administrators: ada" in groups.detail


def _spend(account_id: str, by_account: dict[str, float], month: str) -> None:
    """Cost Explorer's answer for the month, through moto's injection (its backend's queue)."""
    from moto.ce.models import ce_backends

    from diagnyx_infra.ops.cost_report import month_range

    start, end = month_range(month)
    groups = [
        {"Keys": [i], "Metrics": {"UnblendedCost": {"Amount": str(a), "Unit": "USD"}}}
        for i, a in by_account.items()
    ]
    result = {
        "ResultsByTime": [
            {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": groups}
        ]
    }
    ce_backends[account_id]["global"].cost_usage_results_queue.append(result)


def test_last_months_spend_is_held_against_each_budget(dev):
    from diagnyx_infra.ops.cost_report import last_full_month

    caller, zone, _ = dev
    month = last_full_month()
    ids = zone.account_ids
    _spend(caller.account_id, {ids["dev"]: 170.0, ids["prod"]: 900.0}, month)
    monthly = report(caller, zone, "monthly", ["management"], "OrganizationAccountAccessRole")
    (budgets,) = [f for f in monthly.findings if f.item == "Budget against actual"]
    assert budgets.status == Status.FAIL, budgets.detail
    assert "at 80% of its budget or more, or unknown: dev" in budgets.detail
    assert "dev $170.00 of $200.00 (85%)" in budgets.detail
    assert "prod $900.00 of $1,800.00 (50%)" in budgets.detail


def test_roles_trusted_outside_the_organization_need_action(dev):
    import json

    caller, zone, account = dev
    iam = account.client("iam")

    def trust(principal):
        statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    security = zone.account_ids["security"]
    iam.create_role(RoleName="audit", AssumeRolePolicyDocument=trust({"AWS": security}))
    quarterly = report(caller, zone, "quarterly", ["dev"], "OrganizationAccountAccessRole")
    (roles,) = [f for f in quarterly.findings if f.item == "Cross-account roles"]
    assert roles.status == Status.PASS and f"audit: account {security}" in roles.detail
    stranger = "arn:aws:iam::999988887777:root"
    iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": stranger}))
    quarterly = report(caller, zone, "quarterly", ["dev"], "OrganizationAccountAccessRole")
    (roles,) = [f for f in quarterly.findings if f.item == "Cross-account roles"]
    assert roles.status == Status.FAIL
    assert roles.detail == "trusted outside the organization: vendor (account 999988887777)"


def test_the_quarterly_report_reads_what_is_on_and_says_what_it_could_not(dev):
    caller, zone, _ = dev
    quarterly = report(caller, zone, "quarterly", ["management"], "OrganizationAccountAccessRole")
    lines = {f.item: f for f in quarterly.findings}
    # Security Hub is off in the project's config: not read. moto has no coverage reports.
    assert lines["Security Hub findings"].detail.startswith("off:")
    assert lines["Reservations and Savings Plans"].status == Status.CANNOT


def test_open_security_hub_findings_by_severity_where_it_is_on(dev, tmp_path):
    from tests.helpers import edited_project

    caller, _, account = dev

    def hub_on(stack, config):
        if stack == "management":
            config["diagnyx:organization"]["securityServices"] = {
                "securityHub": True,
                "awsConfig": True,
            }

    zone = LandingZone.load(edited_project(tmp_path, hub_on, stacks=["management"]))
    hub = account.client("securityhub")
    hub.enable_security_hub()
    dev_id = zone.account_ids["dev"]
    hub.batch_import_findings(
        Findings=[
            {
                "SchemaVersion": "2018-10-08",
                "Id": f"finding-{severity}",
                "ProductArn": f"arn:aws:securityhub:{REGION}:{dev_id}:product/{dev_id}/default",
                "GeneratorId": "test",
                "AwsAccountId": dev_id,
                "Types": ["Software and Configuration Checks"],
                "CreatedAt": "2026-12-01T00:00:00Z",
                "UpdatedAt": "2026-12-01T00:00:00Z",
                "Severity": {"Label": severity},
                "Title": f"a {severity} finding",
                "Description": "test",
                "Resources": [{"Type": "Other", "Id": "x"}],
            }
            for severity in ("HIGH", "LOW")
        ]
    )
    quarterly = report(caller, zone, "quarterly", ["dev"], "OrganizationAccountAccessRole")
    (findings,) = [f for f in quarterly.findings if f.item == "Security Hub findings"]
    assert findings.status == Status.FAIL, findings.detail
    assert findings.detail == "1 high, 1 low"


def test_the_guardrails_review_lists_each_scp_with_its_targets_and_the_drift(dev):
    caller, zone, _ = dev
    organizations = caller.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    quarterly = report(caller, zone, "quarterly", ["management"], "OrganizationAccountAccessRole")
    (review,) = [f for f in quarterly.findings if f.item == "SCPs and drift"]
    # An organization the program did not build: its drift is the review's finding.
    assert review.status == Status.FAIL, review.detail
    assert review.detail.startswith("drifted from config:")
    assert "FullAWSAccess on Root" in review.detail


def test_a_role_any_token_of_an_identity_provider_may_assume_needs_action(dev):
    caller, zone, account = dev
    provider = "arn:aws:iam::{}:oidc-provider/token.actions.githubusercontent.com"
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider.format(zone.account_ids["dev"])},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts"}},
    }
    account.client("iam").create_role(
        RoleName="ci", AssumeRolePolicyDocument=json.dumps({"Statement": [statement]})
    )
    quarterly = report(caller, zone, "quarterly", ["dev"], "OrganizationAccountAccessRole")
    (roles,) = [f for f in quarterly.findings if f.item == "Cross-account roles"]
    assert roles.status == Status.FAIL
    assert "anyone of identity provider token.actions.githubusercontent.com" in roles.detail


def test_an_account_pending_without_its_stack_or_refusing_the_role_could_not_be_looked_at(
    dev, monkeypatch
):
    caller, zone, _ = dev
    ids = {**zone.account_ids, "uat": PENDING_ID}
    monkeypatch.setattr(LandingZone, "account_ids", property(lambda _: ids))
    refused = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")

    def assume(account_id, role):
        if account_id == zone.account_ids["staging"]:
            raise refused
        return real_assume(account_id, role)

    real_assume = caller.assume
    caller.assume = assume
    without_prod = dataclasses.replace(
        zone, stacks={n: s for n, s in zone.stacks.items() if n != "prod"}
    )
    names = ["staging", "uat", "prod", "dev"]
    result = report(caller, without_prod, "weekly", names, "AuditRole")
    by_account = {}
    for finding in result.findings:
        by_account.setdefault(finding.account, set()).add((finding.status, finding.cause))
    assert by_account["staging"] == {(Status.CANNOT, "denied")}
    assert by_account["uat"] == {(Status.CANNOT, PENDING)}
    assert by_account["prod"] == {(Status.CANNOT, UNCONFIGURED)}  # never a silent pass
    assert (Status.PASS, "") in by_account["dev"]  # the others are still read
    assert exit_code(result.findings) == EXIT_CANNOT_LOOK


def test_text_from_aws_cannot_break_out_of_its_markdown_cell():
    hostile = "x | y\n# heading @team ``[link](https://e.example)`` \x1b[31m" + "z" * 3000
    result = Report("weekly", [Finding("dev", "Unused resources", Status.FAIL, hostile)])
    row = next(line for line in markdown(result).splitlines() if line.startswith("| `dev`"))
    assert "\n" not in row and "\x1b" not in row
    assert "x \\| y" in row and "```" in row  # pipes escaped, fenced past the text's backticks
    assert "(3" in row and "characters)" in row and len(row) < MAX_CELL + 200


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        ("weekly", datetime.date(2026, 12, 7), "2026-W50"),
        ("weekly", datetime.date(2027, 1, 1), "2026-W53"),  # ISO weeks cross the new year
        ("monthly", datetime.date(2026, 12, 1), "2026-12"),
        ("quarterly", datetime.date(2026, 10, 1), "2026-Q4"),
        ("quarterly", datetime.date(2027, 3, 31), "2027-Q1"),
    ],
)
def test_each_report_names_the_period_it_was_made_in(cadence, day, expected):
    now = datetime.datetime.combine(day, datetime.time(5, 17), datetime.UTC)
    assert period(cadence, now) == expected


def test_the_last_line_says_what_the_exit_code_says():
    def ending(*findings):
        return markdown(Report("weekly", list(findings), "2026-W50")).splitlines()[-1]

    passed = Finding("dev", "Unused resources", Status.PASS, "nothing")
    failed = Finding("dev", "Backup health", Status.FAIL, "versioning is not enabled")
    gap = Finding("uat", "Cost anomalies", Status.CANNOT, "moto", cause="unavailable")
    refused = Finding("uat", "Backup health", Status.CANNOT, "no", cause="denied")
    assert ending(passed, gap) == "**nothing needs action**"
    assert ending(passed, refused) == (
        "**nothing needs action where it could be looked at; 1 could not**"
    )
    assert ending(failed, refused) == (
        "**1 item(s) need action, in 1 account(s); 1 could not be looked at**"
    )
    assert ending(failed) == "**1 item(s) need action, in 1 account(s)**"
    assert markdown(Report("weekly", [], "2026-W50")).startswith(
        "# Weekly maintenance report, 2026-W50\n"
    )


def test_every_account_but_those_still_pending_is_read(monkeypatch):
    zone = LandingZone.load(PROJECT_DIR)
    ids = {**zone.account_ids, "uat": PENDING_ID}
    monkeypatch.setattr(LandingZone, "account_ids", property(lambda _: ids))
    created, pending = accounts_to_read(zone)
    assert created[0] == "management" and "uat" not in created and pending == ["uat"]
    assert set(created) | set(pending) == set(ids)


def test_an_account_config_does_not_name_exits_2():
    result = invoke("maintenance", "weekly", "--account", "qa", "--project-dir", str(PROJECT_DIR))
    assert result.returncode == 2 and "qa" in result.stderr and "Traceback" not in result.stderr


GITHUB = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
EKS = "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
EKS_SUB = "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"
OIDC_NAMED_SAML = "arn:aws:iam::1:oidc-provider/evil.example.com/:saml-provider/x"


@pytest.mark.parametrize(
    ("provider", "condition", "anyone"),
    [
        (GITHUB, {"StringEquals": {SUB: "repo:diagnyx/infra:environment:prod"}}, False),
        (GITHUB, {"StringLike": {SUB: ["repo:diagnyx/*", "repo:diagnyx/infra:*"]}}, False),
        (GITHUB, {"StringLike": {SUB: "repo:*"}}, True),
        (GITHUB, {"StringLike": {SUB: "repo:diagnyx*"}}, True),  # diagnyx-evil/... too
        (GITHUB, {"StringLike": {SUB: "repo:d?agnyx/*"}}, True),
        (GITHUB, {"StringEquals": {SUB: "${token.actions.githubusercontent.com:sub}"}}, True),
        (EKS, {"StringLike": {EKS_SUB: "system:serviceaccount:*"}}, True),
        (EKS, {"StringLike": {EKS_SUB: "system:serviceaccount:ci:*"}}, False),
        (OIDC_NAMED_SAML, {"StringEquals": {"x:aud": "y"}}, True),
        (GITHUB, {"StringLike": {SUB: "*"}}, True),
        (GITHUB, {"StringLike": {SUB: ["repo:diagnyx/*", "*"]}}, True),
        (GITHUB, {"StringNotEquals": {SUB: "repo:someone/else"}}, True),
        (GITHUB, {"Null": {SUB: "false"}}, True),
        (GITHUB, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts"}}, True),
        ("arn:aws:iam::1:saml-provider/Okta", {"StringEquals": {"SAML:aud": "x"}}, False),
    ],
)  # fmt: skip
def test_an_identity_provider_trust_admits_anyone_unless_it_names_its_subjects(
    provider, condition, anyone
):
    statement = {"Effect": "Allow", "Principal": {"Federated": provider}, "Condition": condition}
    (who,) = _trusted({"Statement": [statement]})
    assert who.startswith("anyone of identity provider") is anyone


def test_identity_centers_roles_are_not_cross_account_roles(dev):
    caller, zone, account = dev
    saml = f"arn:aws:iam::{zone.account_ids['dev']}:saml-provider/AWSSSO_0123_DO_NOT_DELETE"
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": saml},
        "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
    }
    account.client("iam").create_role(
        RoleName="AWSReservedSSO_Admin_0123",
        Path="/aws-reserved/sso.amazonaws.com/",
        AssumeRolePolicyDocument=json.dumps({"Statement": [statement]}),
    )
    quarterly = report(caller, zone, "quarterly", ["dev"], "OrganizationAccountAccessRole")
    (roles,) = [f for f in quarterly.findings if f.item == "Cross-account roles"]
    assert roles.status == Status.PASS and "AWSReservedSSO" not in roles.detail


def test_markdown_and_json_together_exit_2():
    both = ("--markdown", "--json", "--project-dir", str(PROJECT_DIR))
    result = invoke("maintenance", "weekly", *both)
    assert result.returncode == 2 and "either --markdown or --json" in result.stderr


def test_an_item_that_could_not_look_says_why_not_how_to_fix_it():
    refused = Finding("uat", "Cost anomalies", Status.CANNOT, "no", "look into it", "denied")
    row = next(
        line
        for line in markdown(Report("weekly", [refused], "2026-W50")).splitlines()
        if line.startswith("| `uat`")
    )
    assert row.endswith("| `could not look: access denied` |") and "look into it" not in row
