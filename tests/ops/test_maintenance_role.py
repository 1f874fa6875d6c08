"""The scheduled maintenance workflow reads every account through the drift roles
(DiagnyxDriftCheck): each call the three reports make is one that role's policy allows in the
account it is made in, and the policy allows no read the reports do not make."""

from dataclasses import replace

from botocore.client import BaseClient

from diagnyx_infra import naming
from diagnyx_infra.ops import maintenance
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.policies.evaluation import Request, allows
from diagnyx_infra.policies.iam import (
    DRIFT_ACCOUNT_READS,
    DRIFT_ORGANIZATION_READS,
    MAINTENANCE_ACCOUNT_READS,
    MAINTENANCE_ORGANIZATION_READS,
    drift_reads,
)
from tests.ops.conftest import run_diagnyx
from tests.ops.test_drift import AUTHORIZED_AS


def test_each_report_read_is_one_the_drift_role_allows_where_it_is_made(
    aws_env, healthy, monkeypatch
):
    zone = LandingZone.load(healthy)
    calls: set[tuple[str, str, str]] = set()  # (account, action, resource)
    looking_at = ["management"]
    original_call = BaseClient._make_api_call

    def in_account(check):
        def checked(account):
            looking_at[0] = account.name
            try:
                return check(account)
            finally:
                looking_at[0] = "management"

        return checked

    def call(client, operation, params):
        service = client.meta.service_model.signing_name
        action = AUTHORIZED_AS.get((service, operation), f"{service}:{operation}")
        if action == "sts:AssumeRole":  # the management account's call, into a member
            calls.add(("management", action, params["RoleArn"]))
        elif action != "sts:GetCallerIdentity":
            calls.add((looking_at[0], action, "*"))
        return original_call(client, operation, params)

    items = tuple(replace(i, check=in_account(i.check)) for i in maintenance.ITEMS)
    monkeypatch.setattr(maintenance, "ITEMS", items)
    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    for cadence in maintenance.CADENCES:
        args = ("maintenance", cadence, "--access-role", naming.DRIFT_ROLE, "--json")
        run = run_diagnyx(aws_env, *args, "--project-dir", str(healthy))
        assert run.returncode == 0, run.stdout + run.stderr
    members = zone.stacks["management"].known_member_account_ids()
    refused = set()
    for name, action, resource in sorted(calls):
        settings = zone.stacks[name]
        policy = drift_reads(settings.is_management, members if settings.is_management else ())
        role = f"arn:aws:iam::{settings.account_id}:role/{naming.DRIFT_ROLE}"
        if not allows([policy], Request(action, resource, principal_arn=role)):
            refused.add((name, action))
    assert refused == set()
    # Least privilege: every read the policies add for the reports is one they make (what is
    # read only when there is something to read: a load balancer's target groups and their
    # health, a role's or a key's last use, a group member's name, Security Hub's findings
    # where it is on, and Cost Explorer's calls after the first, which moto lacks).
    used = {a for _, a, _ in calls} | {
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "iam:GetRole",
        "iam:GetAccessKeyLastUsed",
        "identitystore:DescribeUser",
        "securityhub:GetFindings",
        "ce:GetReservationUtilization",
        "ce:GetSavingsPlansCoverage",
    }
    drift = set(DRIFT_ACCOUNT_READS) | set(DRIFT_ORGANIZATION_READS) | {"sts:AssumeRole"}
    added = set(MAINTENANCE_ACCOUNT_READS) | set(MAINTENANCE_ORGANIZATION_READS)
    assert added == used - drift
    assert added.isdisjoint(drift)
    # The organization's reads only in the management account.
    members = {n for n in zone.stacks if n != "management"}
    assert not {a for n, a, _ in calls if n in members} & set(MAINTENANCE_ORGANIZATION_READS)
