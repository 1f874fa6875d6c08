"""`diagnyx drift`: a landing zone as built reports nothing; each change made outside the program
is reported as exactly that finding."""

import io
import json
from dataclasses import replace

import pytest
from botocore.client import BaseClient
from rich.console import Console

from diagnyx_infra import naming
from diagnyx_infra.naming import state_bucket_name
from diagnyx_infra.ops import identity_center, maintenance
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.drift import (
    Drift,
    DriftCheck,
    DriftReport,
    NotLooked,
    as_markdown,
    render,
    summary,
)
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.policies.audit import trail_arn
from diagnyx_infra.policies.evaluation import Request, allows
from diagnyx_infra.policies.iam import (
    DRIFT_ACCOUNT_READS,
    DRIFT_ORGANIZATION_READS,
    MAINTENANCE_ACCOUNT_READS,
    MAINTENANCE_ORGANIZATION_READS,
    drift_reads,
)
from diagnyx_infra.policies.tag_policy import TAG_POLICY_NAME
from tests.ops.conftest import run_diagnyx
from tests.ops.landscape import create_budget

DEAD_ENDPOINT = "http://127.0.0.1:9"  # nothing listens here


def drift(env, project, *args):
    result = run_diagnyx(env, "drift", *args, "--json", "--project-dir", str(project))
    return result.returncode, json.loads(result.stdout) if result.stdout else None, result


def found(project, accounts, organization):
    """(account, kind, target) of every drift, looked at in this process."""
    zone = LandingZone.load(project)
    report = DriftCheck(Aws.from_environment(), zone).run(accounts, organization)
    assert report.not_looked == []
    return {(d.account, d.kind, d.target) for d in report.drifts}


# The IAM action an API call is authorized as, where the names differ (Service Authorization
# Reference: Amazon S3, AWS Budgets); GetCallerIdentity needs no permission.
AUTHORIZED_AS = {
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("budgets", "DescribeBudget"): "budgets:ViewBudget",
    ("budgets", "DescribeNotificationsForBudget"): "budgets:ViewBudget",
}


def _record_calls(monkeypatch, looking_at: list[str]) -> set[tuple[str, str, str]]:
    """Every AWS call from now on, as (account, IAM action, resource): the account is
    ``looking_at[0]`` as the call is made; an AssumeRole is the management account's, on the
    role it takes."""
    calls: set[tuple[str, str, str]] = set()
    original_call = BaseClient._make_api_call

    def call(client, operation, params):
        service = client.meta.service_model.signing_name
        action = AUTHORIZED_AS.get((service, operation), f"{service}:{operation}")
        if action == "sts:AssumeRole":  # the management account's call, into a member
            calls.add(("management", action, params["RoleArn"]))
        elif action != "sts:GetCallerIdentity":
            calls.add((looking_at[0], action, "*"))
        return original_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    return calls


def _refused_by_the_drift_role(zone, calls) -> set[tuple[str, str]]:
    """(account, action) of each call the drift role's policy in that account does not allow."""
    members = zone.stacks["management"].known_member_account_ids()
    refused = set()
    for name, action, resource in sorted(calls):
        settings = zone.stacks[name]
        policy = drift_reads(settings.is_management, members if settings.is_management else ())
        role = f"arn:aws:iam::{settings.account_id}:role/{naming.DRIFT_ROLE}"
        if not allows([policy], Request(action, resource, principal_arn=role)):
            refused.add((name, action))
    return refused


def test_the_landing_zone_as_built_has_not_drifted_and_the_drift_role_admits_every_call(
    aws_env, healthy, monkeypatch
):
    """`drift --all` as the scheduled check runs it (through the members' drift roles): no
    drift, and each of its calls is one the drift role's policy in that account allows."""
    zone = LandingZone.load(healthy)
    names = {account_id: name for name, account_id in zone.account_ids.items()}
    looking_at = ["management"]
    original_account = DriftCheck._account

    def account(check, name):
        looking_at[0] = name
        try:
            return original_account(check, name)
        finally:
            looking_at[0] = "management"

    monkeypatch.setattr(identity_center, "_NAMES", {})  # names described once per process
    monkeypatch.setattr(DriftCheck, "_account", account)
    calls = _record_calls(monkeypatch, looking_at)
    args = ("drift", "--all", "--access-role", naming.DRIFT_ROLE, "--project-dir", str(healthy))
    human = run_diagnyx(aws_env, *args)
    assert human.returncode == 0, human.stdout + human.stderr
    assert "no drift: AWS matches config" in human.stdout
    assert {a for _, a, _ in calls} >= {"iam:GetAccountAuthorizationDetails", "sts:AssumeRole"}
    assert _refused_by_the_drift_role(zone, calls) == set()
    for _, action, resource in calls:
        if action == "sts:AssumeRole":  # a member's drift role, by name
            assert names[resource.split(":")[4]] != "management"
            assert resource.endswith(f":role/{naming.DRIFT_ROLE}")
    # Least privilege: every action the policies allow is one drift makes (an IAM user's keys
    # and password are read only when there is a user, a VPC's security groups and peerings
    # only when there is a workload VPC, which this landing zone has not).
    used = {a for _, a, _ in calls} | {
        "iam:ListAccessKeys",
        "iam:GetLoginProfile",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcPeeringConnections",
    }
    assert set(DRIFT_ACCOUNT_READS) | set(DRIFT_ORGANIZATION_READS) == used - {"sts:AssumeRole"}


# The scheduled maintenance workflow reads every account through the same drift roles: each call
# the three reports make is one the role's policy allows in the account it is made in, and the
# policy allows no read the reports do not make.


def test_each_report_read_is_one_the_drift_role_allows_where_it_is_made(
    aws_env, healthy, monkeypatch
):
    zone = LandingZone.load(healthy)
    looking_at = ["management"]

    def in_account(check):
        def checked(account):
            looking_at[0] = account.name
            try:
                return check(account)
            finally:
                looking_at[0] = "management"

        return checked

    items = tuple(replace(i, check=in_account(i.check)) for i in maintenance.ITEMS)
    monkeypatch.setattr(maintenance, "ITEMS", items)
    calls = _record_calls(monkeypatch, looking_at)
    for cadence in maintenance.CADENCES:
        args = ("maintenance", cadence, "--access-role", naming.DRIFT_ROLE, "--json")
        run = run_diagnyx(aws_env, *args, "--project-dir", str(healthy))
        assert run.returncode == 0, run.stdout + run.stderr
    assert _refused_by_the_drift_role(zone, calls) == set()
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


def _organizations():
    return Aws.from_environment().client("organizations")


def _ou_ids(organizations):
    root = organizations.list_roots()["Roots"][0]["Id"]
    units = organizations.list_organizational_units_for_parent(ParentId=root)
    return root, {u["Name"]: u["Id"] for u in units["OrganizationalUnits"]}


def _scp_ids(organizations):
    policies = organizations.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    return {p["Name"]: p["Id"] for p in policies}


def _hand_made_scp_on_an_ou(zone):
    organizations = _organizations()
    _, ous = _ou_ids(organizations)
    ou = next(iter(ous))
    created = organizations.create_policy(
        Name="HandMade",
        Description="made in the console",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*",
                                                     "Resource": "*"}]}
        ),
    )  # fmt: skip
    organizations.attach_policy(PolicyId=created["Policy"]["PolicySummary"]["Id"], TargetId=ous[ou])
    return {
        ("organization", "SCP not in config", "SCP HandMade"),
        ("organization", "SCP attached outside config", f"SCP HandMade on {ou}"),
    }


def _scp_content_edited(zone):
    organizations = _organizations()
    name, policy_id = next(
        (n, i) for n, i in _scp_ids(organizations).items() if n != "FullAWSAccess"
    )
    organizations.update_policy(
        PolicyId=policy_id,
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Loosened", "Effect": "Deny", "Action": "nothing:*", "Resource": "*"}]}),
    )  # fmt: skip
    return {("organization", "SCP content changed", f"SCP {name}")}


def _scp_detached_from_the_root(zone):
    organizations = _organizations()
    root, _ = _ou_ids(organizations)
    attached = organizations.list_policies_for_target(
        TargetId=root, Filter="SERVICE_CONTROL_POLICY"
    )["Policies"]
    policy = next(p for p in attached if p["Name"] != "FullAWSAccess")
    organizations.detach_policy(PolicyId=policy["Id"], TargetId=root)
    return {("organization", "SCP detached", f"SCP {policy['Name']} on Root")}


def _account_moved_to_the_root(zone):
    organizations = _organizations()
    root, _ = _ou_ids(organizations)
    account_id = zone.account_ids["shared"]
    (parent,) = organizations.list_parents(ChildId=account_id)["Parents"]
    organizations.move_account(
        AccountId=account_id, SourceParentId=parent["Id"], DestinationParentId=root
    )
    return {("organization", "account in another OU", f"account shared ({account_id})")}


def _account_created_by_hand(zone):
    created = _organizations().create_account(Email="stray@example.com", AccountName="stray")
    account_id = created["CreateAccountStatus"]["AccountId"]
    return {("organization", "account not in config", f"account {account_id} (stray, "
             "stray@example.com)")}  # fmt: skip


def _ou_added(zone):
    organizations = _organizations()
    root, _ = _ou_ids(organizations)
    organizations.create_organizational_unit(ParentId=root, Name="Sandbox")
    return {("organization", "OU not in config", "OU Sandbox")}


def _tag_policy_detached(zone):
    organizations = _organizations()
    root, _ = _ou_ids(organizations)
    policies = organizations.list_policies(Filter="TAG_POLICY")["Policies"]
    (policy,) = [p for p in policies if p["Name"] == TAG_POLICY_NAME]
    organizations.detach_policy(PolicyId=policy["Id"], TargetId=root)
    return {("organization", "tag policy detached", f"tag policy {TAG_POLICY_NAME} on Root")}


def _trusted_services_changed(zone):
    organizations = _organizations()
    organizations.disable_aws_service_access(ServicePrincipal="tagpolicies.tag.amazonaws.com")
    organizations.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    return {
        ("organization", "trusted service disabled",
         "trusted access for tagpolicies.tag.amazonaws.com"),
        ("organization", "trusted service not in config", "trusted access for ram.amazonaws.com"),
    }  # fmt: skip


def _another_delegated_administrator(zone):
    organizations = _organizations()
    organizations.enable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
    dev = zone.account_ids["dev"]
    organizations.register_delegated_administrator(
        AccountId=dev, ServicePrincipal="guardduty.amazonaws.com"
    )
    return {
        ("organization", "trusted service not in config",
         "trusted access for guardduty.amazonaws.com"),
        ("organization", "delegated administrator not in config",
         f"guardduty.amazonaws.com administered by {dev}"),
    }  # fmt: skip


def _trail_arn(zone):
    region = zone.stacks["security"].region
    return trail_arn(region, zone.account_ids["management"])


def _trail_stopped(zone):
    Aws.from_environment().client("cloudtrail").stop_logging(Name=_trail_arn(zone))
    return {("organization", "trail not logging", f"trail {naming.ORGANIZATION_TRAIL}")}


def _trail_narrowed_to_writes(zone):
    Aws.from_environment().client("cloudtrail").put_event_selectors(
        TrailName=_trail_arn(zone),
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    return {("organization", "trail event selectors changed", f"trail {naming.ORGANIZATION_TRAIL}")}


# Changes made together (each test's landing zone is a fresh copy, milliseconds, but each
# comparison costs a tenth of a second): every finding is still exactly its change's.
def _permission_sets_widened(zone):
    sso, instance, sets = _identity_center(Aws.from_environment())
    instance_arn = instance["InstanceArn"]
    sso.attach_managed_policy_to_permission_set(
        InstanceArn=instance_arn, PermissionSetArn=sets["Developer"],
        ManagedPolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )  # fmt: skip
    sso.put_inline_policy_to_permission_set(
        InstanceArn=instance_arn, PermissionSetArn=sets["DevOps"],
        InlinePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )  # fmt: skip
    sso.update_permission_set(
        InstanceArn=instance_arn, PermissionSetArn=sets["Administrator"], SessionDuration="PT12H"
    )
    sso.create_permission_set(InstanceArn=instance_arn, Name="Contractor")
    return {
        ("organization", "permission set policies changed", "permission set Developer"),
        ("organization", "permission set inline policy changed", "permission set DevOps"),
        ("organization", "permission set session changed", "permission set Administrator"),
        ("organization", "permission set not in config", "permission set Contractor"),
    }


ORGANIZATION_CHANGES = {
    "policies, OUs and accounts": [
        _hand_made_scp_on_an_ou,
        _scp_content_edited,
        _scp_detached_from_the_root,
        _account_moved_to_the_root,
        _account_created_by_hand,
        _ou_added,
    ],
    "tag policy, services and the trail": [
        _tag_policy_detached,
        _trusted_services_changed,
        _another_delegated_administrator,
        _trail_stopped,
        _trail_narrowed_to_writes,
    ],
    "permission sets": [_permission_sets_widened],
}


@pytest.mark.parametrize("changes", ORGANIZATION_CHANGES.values(), ids=ORGANIZATION_CHANGES)
@pytest.mark.usefixtures("aws_env", "put_back_afterwards")
def test_each_change_to_the_organization_is_exactly_its_drift(healthy, changes):
    zone = LandingZone.load(healthy)
    expected = set().union(*(change(zone) for change in changes))
    assert found(healthy, [], organization=True) == expected


def _developers_on_prod(zone):
    caller = Aws.from_environment()
    sso = caller.client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    store = caller.client("identitystore")
    groups = store.list_groups(IdentityStoreId=instance["IdentityStoreId"])["Groups"]
    developers = next(g["GroupId"] for g in groups if g["DisplayName"] == "Developers")
    sets = sso.list_permission_sets(InstanceArn=instance["InstanceArn"])["PermissionSets"]
    names = {
        sso.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=a)[
            "PermissionSet"
        ]["Name"]: a
        for a in sets
    }
    sso.create_account_assignment(
        InstanceArn=instance["InstanceArn"], TargetId=zone.account_ids["prod"],
        TargetType="AWS_ACCOUNT", PermissionSetArn=names["Developer"], PrincipalType="GROUP",
        PrincipalId=developers,
    )  # fmt: skip
    return "prod", {("prod", "assignment not in the access matrix", "Developers -> Developer")}


def _member(zone, name):
    return Aws.from_environment().assume(zone.account_ids[name])


def _iam_user_with_a_key(zone):
    iam = _member(zone, "dev").client("iam")
    iam.create_user(UserName="break-glass")
    iam.create_access_key(UserName="break-glass")
    iam.create_login_profile(UserName="break-glass", Password="Correct-Horse-9")
    return "dev", {("dev", "IAM user", "user break-glass")}


def _audit_trust_opened(zone):
    iam = _member(zone, "uat").client("iam")
    iam.update_assume_role_policy(
        RoleName=naming.AUDIT_ROLE,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
    )  # fmt: skip
    return "uat", {("uat", "trust policy changed", f"role {naming.AUDIT_ROLE}")}


def _policy_attached_to_the_deploy_role(zone):
    iam = _member(zone, "staging").client("iam")
    arn = iam.create_policy(
        PolicyName="Everything",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )["Policy"]["Arn"]  # fmt: skip
    iam.attach_role_policy(RoleName=naming.CICD_ROLE, PolicyArn=arn)
    return "staging", {("staging", "role policy not in config", f"role {naming.CICD_ROLE}: {arn}")}


def _deploy_policy_rewritten(zone):
    iam = _member(zone, "prod").client("iam")
    iam.put_role_policy(
        RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )  # fmt: skip
    target = f"role {naming.CICD_ROLE}: inline {naming.CICD_POLICY}"
    return "prod", {("prod", "role policy changed", target)}


def _rotation_off(zone):
    kms = _member(zone, "security").client("kms")
    key_id = kms.describe_key(KeyId="alias/diagnyx-security")["KeyMetadata"]["KeyId"]
    kms.disable_key_rotation(KeyId=key_id)
    return "security", {("security", "key rotation off", "key alias/diagnyx-security")}


def _budget_raised(zone):
    # moto has no UpdateBudget: made again with another amount, its alerts as they were.
    aws = _member(zone, "dev")
    account_id = zone.stacks["dev"].account_id
    aws.client("budgets").delete_budget(AccountId=account_id, BudgetName="diagnyx-dev-monthly")
    create_budget(aws, zone, "dev", amount=99999)
    return "dev", {("dev", "budget amount changed", "budget diagnyx-dev-monthly")}


def _state_bucket_opened(zone):
    settings = zone.stacks["shared"]
    bucket = state_bucket_name(settings.account_id, settings.region)
    s3 = _member(zone, "shared").client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )  # fmt: skip
    return "shared", {
        ("shared", "bucket versioning off", f"state bucket {bucket}"),
        ("shared", "public access block changed", f"state bucket {bucket}"),
    }


def _state_bucket_policy_deleted(zone):
    settings = zone.stacks["staging"]
    bucket = state_bucket_name(settings.account_id, settings.region)
    _member(zone, "staging").client("s3").delete_bucket_policy(Bucket=bucket)
    return "staging", {("staging", "bucket policy missing", f"state bucket {bucket}")}


def _audit_archive_loosened(zone):
    """Another account let read the archive, and new logs locked in GOVERNANCE mode (which a
    privileged user can lift) for a day."""
    bucket = naming.audit_bucket_name(zone.account_ids["security"])
    s3 = _member(zone, "security").client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"].append({
        "Sid": "ReadForAFriend", "Effect": "Allow", "Action": "s3:GetObject",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Resource": f"arn:aws:s3:::{bucket}/*",
    })  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                 "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
    )  # fmt: skip
    return "security", {
        ("security", "bucket policy changed", f"audit archive {bucket}"),
        ("security", "object lock retention changed", f"audit archive {bucket}"),
    }


def _cost_role_opened(zone):
    iam = Aws.from_environment().client("iam")
    role = naming.COST_EXPLORER_ROLE
    iam.update_assume_role_policy(
        RoleName=role,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{zone.account_ids['dev']}:root"}}]}),
    )  # fmt: skip
    iam.put_role_policy(
        RoleName=role,
        PolicyName="Extra",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )  # fmt: skip
    return "management", {
        ("management", "trust policy changed", f"role {role}"),
        ("management", "role policy not in config", f"role {role}: inline Extra"),
    }


def _dev_vpc(zone, locked=True):
    """dev's VPC, as the program tags it; ``locked``: its default security group without rules,
    as the program leaves it."""
    ec2 = _member(zone, "dev").client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "diagnyx-dev"}])
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    if locked:
        if group["IpPermissions"]:
            ec2.revoke_security_group_ingress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
            )
        if group["IpPermissionsEgress"]:
            ec2.revoke_security_group_egress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
            )
    return ec2, vpc, group["GroupId"]


def _default_security_group_opened(zone):
    ec2, vpc, group = _dev_vpc(zone)
    ec2.authorize_security_group_ingress(
        GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0"
    )
    return "dev", {("dev", "default security group has rules", f"{group} of {vpc}")}


def _peering_outside_config(zone):
    ec2, vpc, _ = _dev_vpc(zone)
    other = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    connection = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=other)
    connection_id = connection["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    dev = zone.account_ids["dev"]
    target = f"{connection_id} ({vpc} with {other} of {dev})"
    return "dev", {("dev", "peering connection not in config", target)}


ACCOUNT_CHANGES = {
    "access and guardrails": [
        _developers_on_prod,
        _deploy_policy_rewritten,
        _audit_trust_opened,
        _policy_attached_to_the_deploy_role,
        _rotation_off,
        _state_bucket_opened,
    ],
    "a user, the budget, the default security group": [
        _iam_user_with_a_key,
        _budget_raised,
        _default_security_group_opened,
    ],
    "a peering": [_peering_outside_config],
    "bucket policies, the archive's lock and the cost role": [
        _state_bucket_policy_deleted,
        _audit_archive_loosened,
        _cost_role_opened,
    ],
}


@pytest.mark.parametrize("changes", ACCOUNT_CHANGES.values(), ids=ACCOUNT_CHANGES)
@pytest.mark.usefixtures("aws_env", "put_back_afterwards")
def test_each_change_in_an_account_is_exactly_its_drift(healthy, changes):
    """The accounts changed compared, as `drift STACK` does: their Identity Center assignments
    included, the organization's own parts not."""
    zone = LandingZone.load(healthy)
    accounts, expected = set(), set()
    for change in changes:
        account, findings = change(zone)
        accounts.add(account)
        expected |= findings
    assert found(healthy, sorted(accounts), organization=False) == expected


def _identity_center(caller):
    sso = caller.client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    names = {
        sso.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=a)[
            "PermissionSet"
        ]["Name"]: a
        for a in sso.list_permission_sets(InstanceArn=instance["InstanceArn"])["PermissionSets"]
    }
    return sso, instance, names


@pytest.mark.usefixtures("aws_env", "put_back_afterwards")
def test_what_goes_missing_from_the_organization_is_drift(healthy):
    zone = LandingZone.load(healthy)
    organizations = _organizations()
    _, ous = _ou_ids(organizations)
    ou = next(iter(ous))
    organizations.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ous[ou])
    tags = organizations.list_policies(Filter="TAG_POLICY")["Policies"][0]["Id"]
    organizations.update_policy(PolicyId=tags, Content=json.dumps({"tags": {}}))
    security = zone.account_ids["security"]
    organizations.deregister_delegated_administrator(
        AccountId=security, ServicePrincipal="cloudtrail.amazonaws.com"
    )
    assert found(healthy, [], organization=True) == {
        ("organization", "SCP detached", f"SCP FullAWSAccess on {ou}"),
        ("organization", "tag policy content changed", f"tag policy {TAG_POLICY_NAME}"),
        ("organization", "delegated administrator missing",
         f"cloudtrail.amazonaws.com administered by {security}"),
    }  # fmt: skip


@pytest.mark.usefixtures("aws_env", "put_back_afterwards")
def test_every_way_into_an_account_beyond_config_is_drift(healthy):
    """Roles are the way in: a role made by hand, the organization's access role trusting
    another account, the pull-request role's policy widened, the deploy role's external ID
    loosened (one value an attacker knows beside the real one), policies removed or added."""
    zone = LandingZone.load(healthy)
    iam = _member(zone, "uat").client("iam")
    everything = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})  # fmt: skip
    outsider = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
         "Action": "sts:AssumeRole"}]})  # fmt: skip
    iam.create_role(RoleName="support-helper", AssumeRolePolicyDocument=outsider)
    # AWS's own roles' paths, not their names: not taken for AWS's.
    iam.create_role(RoleName="backdoor", Path="/aws-reserved/x/", AssumeRolePolicyDocument=outsider)
    iam.update_assume_role_policy(RoleName=naming.ORG_ACCESS_ROLE, PolicyDocument=outsider)
    iam.put_role_policy(
        RoleName=naming.PREVIEW_ROLE, PolicyName=naming.PREVIEW_STATE_POLICY,
        PolicyDocument=everything,
    )  # fmt: skip
    iam.put_role_policy(RoleName=naming.PREVIEW_ROLE, PolicyName="Extra", PolicyDocument=everything)
    trust = iam.get_role(RoleName=naming.CICD_ROLE)["Role"]["AssumeRolePolicyDocument"]
    for statement in trust["Statement"]:
        condition = statement.get("Condition", {}).get("StringEquals", {})
        if "sts:ExternalId" in condition:
            condition["sts:ExternalId"] = [condition["sts:ExternalId"], "attacker-known"]
    iam.update_assume_role_policy(RoleName=naming.CICD_ROLE, PolicyDocument=json.dumps(trust))
    iam.delete_role_policy(RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY)
    iam.delete_role(RoleName=naming.AUDIT_ROLE)
    assert found(healthy, ["uat"], organization=False) == {
        ("uat", "role not in config", "role support-helper"),
        ("uat", "role not in config", "role backdoor"),
        ("uat", "trust policy changed", f"role {naming.ORG_ACCESS_ROLE}"),
        ("uat", "role policy changed",
         f"role {naming.PREVIEW_ROLE}: inline {naming.PREVIEW_STATE_POLICY}"),
        ("uat", "role policy not in config", f"role {naming.PREVIEW_ROLE}: inline Extra"),
        ("uat", "trust policy changed", f"role {naming.CICD_ROLE}"),
        ("uat", "role policy missing", f"role {naming.CICD_ROLE}: inline {naming.CICD_POLICY}"),
        ("uat", "role missing", f"role {naming.AUDIT_ROLE}"),
    }  # fmt: skip


@pytest.mark.usefixtures("aws_env", "put_back_afterwards")
def test_what_goes_missing_from_an_account_is_drift_not_a_part_unlooked_at(healthy):
    zone = LandingZone.load(healthy)
    caller = Aws.from_environment()
    sso, instance, sets = _identity_center(caller)
    store = caller.client("identitystore")
    groups = store.list_groups(IdentityStoreId=instance["IdentityStoreId"])["Groups"]
    developers = next(g["GroupId"] for g in groups if g["DisplayName"] == "Developers")
    staging = zone.account_ids["staging"]
    common = {"InstanceArn": instance["InstanceArn"], "TargetId": staging,
              "TargetType": "AWS_ACCOUNT"}  # fmt: skip
    sso.delete_account_assignment(
        **common, PermissionSetArn=sets["Developer"], PrincipalType="GROUP",
        PrincipalId=developers,
    )  # fmt: skip
    user = store.create_user(
        IdentityStoreId=instance["IdentityStoreId"], UserName="someone",
        DisplayName="Someone", Name={"GivenName": "Some", "FamilyName": "One"},
    )["UserId"]  # fmt: skip
    sso.create_account_assignment(
        **common, PermissionSetArn=sets["Auditor"], PrincipalType="USER", PrincipalId=user
    )
    aws = _member(zone, "staging")
    settings = zone.stacks["staging"]
    bucket = state_bucket_name(settings.account_id, settings.region)
    s3 = aws.client("s3")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    kms = aws.client("kms")
    kms.disable_key(KeyId=kms.describe_key(KeyId="alias/diagnyx-staging")["KeyMetadata"]["KeyId"])
    budgets = aws.client("budgets")
    (notification, *_) = budgets.describe_notifications_for_budget(
        AccountId=staging, BudgetName="diagnyx-staging-monthly"
    )["Notifications"]
    budgets.delete_notification(
        AccountId=staging, BudgetName="diagnyx-staging-monthly", Notification=notification
    )
    uat = _member(zone, "uat")
    uat_settings = zone.stacks["uat"]
    uat_bucket = state_bucket_name(uat_settings.account_id, uat_settings.region)
    uat.client("s3").delete_bucket_encryption(Bucket=uat_bucket)
    uat.client("kms").delete_alias(AliasName="alias/diagnyx-uat")  # the pull-request role's
    # policy names the key: with it gone, the roles are still compared
    target = f"state bucket {bucket}"
    assert found(healthy, ["staging", "uat"], organization=False) == {
        ("uat", "bucket encryption changed", f"state bucket {uat_bucket}"),
        ("uat", "key missing", "key alias/diagnyx-uat"),
        ("staging", "assignment missing", "Developers -> Developer"),
        ("staging", "assignment not in the access matrix", f"user {user} -> Auditor"),
        ("staging", "public access block changed", target),
        ("staging", "bucket encryption changed", target),
        ("staging", "key not enabled", "key alias/diagnyx-staging"),
        ("staging", "budget alerts changed", "budget diagnyx-staging-monthly"),
    }


@pytest.mark.usefixtures("put_back_afterwards")
def test_one_stack_is_compared_without_the_organization_and_exits_1(aws_env, healthy):
    _account_created_by_hand(LandingZone.load(healthy))  # the organization's: not looked at
    _iam_user_with_a_key(LandingZone.load(healthy))
    code, report, _ = drift(aws_env, healthy, "dev")
    assert code == 1
    assert report["drifted"] is True
    (only,) = report["drifts"]
    assert (only["account"], only["kind"], only["target"]) == (
        "dev",
        "IAM user",
        "user break-glass",
    )
    assert only["expected"].startswith("no IAM users")
    assert only["actual"] == "1 access key, a console password"
    assert "delete-user --user-name break-glass" in only["fix"]
    human = run_diagnyx(aws_env, "drift", "dev", "--project-dir", str(healthy))
    assert human.returncode == 1 and "1 drifted" in human.stdout
    markdown = run_diagnyx(aws_env, "drift", "dev", "--markdown", "--project-dir", str(healthy))
    assert markdown.returncode == 1
    header, rule, row, blank, last = markdown.stdout.splitlines()
    assert header == "| account | kind | target | expected | actual | fix |"
    assert (rule, blank) == ("| --- | --- | --- | --- | --- | --- |", "")
    assert row.startswith("| `dev` | `IAM user` | `user break-glass` | `no IAM users")
    assert last == "**1 drifted, in dev**"


def test_markdown_keeps_each_value_in_its_cell_and_inert():
    """What AWS holds is a compromised account's to choose: in code spans, GitHub makes no link,
    mention, issue reference or HTML of it, a value never leaves its cell, and no control
    character gets through. What could not be looked at comes first: a long report cut to fit
    an issue must not hide it."""
    hostile = "[Fix it](https://evil.example/fix.sh) @octocat #1 <img src=x>"
    report = DriftReport(
        [
            Drift("dev", "role not in config", "role a|b", "absent", "present\n(trusts x)", "f"),
            Drift("staging", "bucket policy changed", "state bucket b", "x", hostile, "f"),
            Drift("prod", "role not in config", "role `x`", "absent", "``y\x1b[2J", "f"),
        ],
        [NotLooked("prod", "key", "access denied:\nno | such", "denied")],
    )
    assert as_markdown(report).splitlines() == [
        "Not looked at:",
        "- `key` (`prod`): `access denied: no | such`",
        "",
        "| account | kind | target | expected | actual | fix |",
        "| --- | --- | --- | --- | --- | --- |",
        "| `dev` | `role not in config` | `role a\\|b` | `absent` | `present (trusts x)` | `f` |",
        f"| `staging` | `bucket policy changed` | `state bucket b` | `x` | `{hostile}` | `f` |",
        "| `prod` | `role not in config` | `` role `x` `` | `absent` | ``` ``y\ufffd[2J ``` "
        "| `f` |",
        "",
        "**3 drifted, in dev, prod and staging**",
    ]
    assert as_markdown(DriftReport()).splitlines() == ["**no drift: AWS matches config**"]
    several = [Drift(a, "k", "t", "e", "x", "f") for a in ("prod", "organization", "dev", "dev")]
    assert summary(DriftReport(several)) == "4 drifted, in organization, dev and prod"


def test_the_table_prints_what_aws_holds_as_text_not_markup():
    sid = "[/x] [link=https://e.example]y[/link] :smile:"
    report = DriftReport(
        [Drift("dev", "bucket policy changed", "b", "x", sid + "\x1b]8;;https://e.example", "f")],
        [NotLooked("prod", "key", "denied :smile: \x1b[2J", "denied")],
    )
    console = Console(file=io.StringIO(), width=300, color_system=None)
    render(report, console)  # rich read "[/x]" as a closing tag, and raised
    printed = console.file.getvalue()
    assert sid + "\ufffd]8;;https://e.example" in printed
    assert "could not look at key (prod): denied :smile: \ufffd[2J" in printed
    assert "\x1b" not in printed


def test_usage_errors_exit_2(aws_env, healthy):
    for args in ((), ("dev", "--all"), ("sandbox",), ("dev", "--json", "--markdown")):
        result = run_diagnyx(aws_env, "drift", *args, "--project-dir", str(healthy))
        assert result.returncode == 2, args
        assert result.stdout == "" and result.stderr.startswith("error: ")


def test_aws_out_of_reach_exits_3_without_a_traceback(aws_env, healthy):
    env = {**aws_env, "AWS_ENDPOINT_URL": DEAD_ENDPOINT}
    result = run_diagnyx(env, "drift", "--all", "--project-dir", str(healthy))
    assert result.returncode == 3
    assert "cannot look at AWS" in result.stderr
