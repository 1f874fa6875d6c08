"""`diagnyx maintenance weekly`: the guide's "Maintenance Tasks", answered with live data,
read-only. Each item is a definition with its metadata (its cadence, the guide's task it
answers, where it applies) and a check of one account; a check needs action (the checklist's
"fail"), finds nothing to do ("pass"), or could not look ("cannot check", with why). Outputs and
exit codes are the checklist's (ops/findings.py), plus Markdown fit to paste into an issue.

Built so far: weekly, the unused resources that cost money, backup health and cost anomalies;
monthly, budget against actual, unused access and Identity Center group memberships;
quarterly, SCPs with their targets and the organization's drift, cross-account roles and who
may assume them, reservation and Savings Plans coverage, and open Security Hub findings. The
scheduled workflow and the rehearsal's run of the reports follow.
"""

import datetime
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID, StackSettings
from ..naming import LOCK_TABLE_NAME, state_bucket_name
from ..prices import price_table
from .aws import Aws, classify, every, reply_field
from .cost_report import last_full_month
from .cost_report import report as cost_report
from .drift import DriftCheck
from .findings import (
    NOT_BLOCKING,
    PENDING,
    UNCONFIGURED,
    Finding,
    Status,
    cause_text,
    markdown_code,
    run_check,
)
from .landing_zone import LandingZone

STOPPED_FOR_DAYS = 30
SNAPSHOT_OLDER_THAN_DAYS = 90
BACKUP_WINDOW_DAYS = 7
# "User initiated (2026-10-01 12:00:00 GMT)": when EC2 stopped the instance.
_STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


@dataclass(frozen=True)
class Account:
    name: str
    aws: Aws
    settings: StackSettings
    now: datetime.datetime
    zone: LandingZone

    @property
    def regions(self) -> list[str]:
        return list(self.settings.allowed_regions)


@dataclass(frozen=True)
class MaintenanceItem:
    id: str
    cadence: str
    item: str  # the report's line
    task: str  # the guide's task it answers
    check: Callable[[Account], tuple[bool, str]]
    hint: str = ""


@dataclass
class Report:
    cadence: str
    findings: list[Finding] = field(default_factory=list)
    period: str = ""  # the week, month or quarter it was made in (period())


# --- weekly: unused resources that cost money --------------------------------------------


def _idle_prices() -> dict:
    return price_table()["idle"]


def unused_resources(account: Account) -> tuple[bool, str]:
    """Unattached volumes, unassociated Elastic IPs, instances stopped for over 30 days (their
    volumes still bill), snapshots older than 90 days and load balancers without targets, each
    with its monthly price from the price table."""
    prices = _idle_prices()
    found: list[tuple[str, float]] = []
    for region in account.regions:
        ec2 = account.aws.client("ec2", region)
        for volume in every(
            ec2,
            "describe_volumes",
            "Volumes",
            Filters=[{"Name": "status", "Values": ["available"]}],
        ):
            size = int(reply_field(volume, "Size", operation="ec2:DescribeVolumes"))
            found.append(
                (
                    f"{region}: volume {volume['VolumeId']} ({size} GB) attached to nothing",
                    size * prices["ebsVolumePerGbMonth"],
                )
            )
        for address in ec2.describe_addresses()["Addresses"]:
            if not address.get("AssociationId"):
                found.append(
                    (
                        f"{region}: Elastic IP {address.get('PublicIp')} associated with nothing",
                        prices["publicIpv4Monthly"],
                    )
                )
        found += _long_stopped(account, ec2, region, prices)
        for snapshot in every(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
            started = reply_field(snapshot, "StartTime", operation="ec2:DescribeSnapshots")
            if account.now - started > datetime.timedelta(days=SNAPSHOT_OLDER_THAN_DAYS):
                size = int(snapshot.get("VolumeSize") or 0)
                found.append(
                    (
                        f"{region}: snapshot {snapshot['SnapshotId']} ({size} GB) from "
                        f"{started:%Y-%m-%d}, over {SNAPSHOT_OLDER_THAN_DAYS} days old",
                        size * prices["ebsSnapshotPerGbMonth"],
                    )
                )
        found += _idle_load_balancers(account, region, prices)
    if not found:
        return True, "nothing unused that costs money"
    total = sum(price for _, price in found)
    lines = "; ".join(f"{what} (${price:.2f}/month)" for what, price in found)
    return False, f"${total:.2f} a month: {lines}"


def _long_stopped(account: Account, ec2, region: str, prices: dict) -> list[tuple[str, float]]:
    found = []
    stopped = every(
        ec2,
        "describe_instances",
        "Reservations",
        Filters=[{"Name": "instance-state-name", "Values": ["stopped"]}],
    )
    for reservation in stopped:
        for instance in reservation.get("Instances", []):
            when = _STOPPED_AT.search(instance.get("StateTransitionReason") or "")
            since = None
            if when is not None:
                since = datetime.datetime.strptime(when.group(1), "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=datetime.UTC
                )
                if account.now - since <= datetime.timedelta(days=STOPPED_FOR_DAYS):
                    continue
            # EC2 may leave the reason empty: a stopped instance whose date is unknown is listed.
            volumes = [
                m["Ebs"]["VolumeId"] for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m
            ]
            size = sum(
                int(v.get("Size") or 0)
                for v in (ec2.describe_volumes(VolumeIds=volumes)["Volumes"] if volumes else [])
            )
            found.append(
                (
                    f"{region}: instance {instance['InstanceId']} stopped "
                    + (f"since {since:%Y-%m-%d}" if since else "(since when, EC2 does not say)")
                    + f" ({size} GB of volumes still billed)",
                    size * prices["ebsVolumePerGbMonth"],
                )
            )
    return found


def _idle_load_balancers(account: Account, region: str, prices: dict) -> list[tuple[str, float]]:
    elb = account.aws.client("elbv2", region)
    found = []
    for balancer in every(elb, "describe_load_balancers", "LoadBalancers"):
        arn = balancer["LoadBalancerArn"]
        try:
            groups = every(elb, "describe_target_groups", "TargetGroups", LoadBalancerArn=arn)
        except ClientError as error:
            # A balancer without target groups: some endpoints answer so rather than with none.
            if error.response.get("Error", {}).get("Code") != "TargetGroupNotFound":
                raise
            groups = []
        targets = sum(
            len(
                elb.describe_target_health(TargetGroupArn=g["TargetGroupArn"])[
                    "TargetHealthDescriptions"
                ]
            )
            for g in groups
        )
        if not targets:
            found.append(
                (
                    f"{region}: load balancer {balancer.get('LoadBalancerName')} with no targets",
                    prices["loadBalancerMonthly"],
                )
            )
    return found


# --- weekly: backup health ----------------------------------------------------------------


def backup_health(account: Account) -> tuple[bool, str]:
    """The state bucket versioned, the lock table's point-in-time recovery on, and no AWS Backup
    job failed in the last 7 days (where AWS Backup answers)."""
    problems, notes = [], []
    settings = account.settings
    bucket = state_bucket_name(settings.account_id, settings.region)
    s3 = account.aws.client("s3", settings.region)
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        problems.append(f"state bucket {bucket}: versioning is not enabled")
    dynamodb = account.aws.client("dynamodb", settings.region)
    backups = dynamodb.describe_continuous_backups(TableName=LOCK_TABLE_NAME)
    recovery = reply_field(
        backups,
        "ContinuousBackupsDescription",
        "PointInTimeRecoveryDescription",
        "PointInTimeRecoveryStatus",
        operation="dynamodb:DescribeContinuousBackups",
    )
    if recovery != "ENABLED":
        problems.append(f"lock table {LOCK_TABLE_NAME}: point-in-time recovery is {recovery}")
    since = account.now - datetime.timedelta(days=BACKUP_WINDOW_DAYS)
    try:
        failed = every(
            account.aws.client("backup", settings.region),
            "list_backup_jobs",
            "BackupJobs",
            ByState="FAILED",
            ByCreatedAfter=since,
        )
    except Exception as error:
        if classify(error).kind != "unavailable":  # only an endpoint without AWS Backup
            raise
        notes.append(f"AWS Backup jobs not looked at ({classify(error).message})")
    else:
        if failed:
            problems.append(f"{len(failed)} AWS Backup job(s) failed in the last week")
    if problems:
        return False, "; ".join(problems + notes)
    done = "state bucket versioned, lock table recoverable to any point of the last 35 days"
    return True, "; ".join([done, *notes])


# --- weekly: cost anomalies (management account) -----------------------------------------


def cost_anomalies(account: Account) -> tuple[bool, str]:
    """Cost Anomaly Detection's anomalies of the last 7 days, with their root causes (service,
    account, region, usage type) and total impact. Cost Explorer answers in the management
    account only, for the whole organization."""
    if account.name != MANAGEMENT_ACCOUNT:
        return True, "not applicable: Cost Explorer answers in the management account"
    ce = account.aws.client("ce", "us-east-1")
    start = (account.now - datetime.timedelta(days=7)).date().isoformat()
    anomalies = every(ce, "get_anomalies", "Anomalies", DateInterval={"StartDate": start})
    if not anomalies:
        return True, "no cost anomaly in the last 7 days"
    found = []
    for anomaly in anomalies:
        impact = reply_field(anomaly, "Impact", operation="ce:GetAnomalies")
        causes = [
            ", ".join(
                f"{key} {cause[key]}"
                for key in ("Service", "LinkedAccount", "Region", "UsageType")
                if cause.get(key)
            )
            for cause in anomaly.get("RootCauses") or []
        ]
        amount = impact.get("TotalImpact", impact.get("MaxImpact", 0))  # TotalImpact is optional
        found.append(
            f"{anomaly.get('AnomalyStartDate', '?')}: ${float(amount):.2f}"
            + (f" ({'; '.join(causes)})" if causes else "")
        )
    return False, f"{len(found)} anomal{'y' if len(found) == 1 else 'ies'}: " + "; ".join(found)


# --- monthly: budget against actual (management account) ----------------------------------


def budgets(account: Account) -> tuple[bool, str]:
    """Last month's spend of every account against its budget (`diagnyx cost report`): an
    account at 80% or more of its budget, or spend of an account config does not know, needs a
    look."""
    if account.name != MANAGEMENT_ACCOUNT:
        return True, "not applicable: Cost Explorer answers in the management account"
    month = last_full_month(account.now.date())
    costs = cost_report(account.aws, account.zone, month)
    over = [r for r in costs.rows if r.over_alert or (r.budget_usd is None and r.spend_usd > 0)]
    shown = "; ".join(
        f"{r.account} ${r.spend_usd:,.2f}"
        + (f" of ${r.budget_usd:,.2f} ({r.percent:.0f}%)" if r.budget_usd else " (no budget)")
        for r in costs.rows
        if r.spend_usd or r.budget_usd
    )
    summary = f"{month}: ${costs.total_usd:,.2f} of ${costs.organization_budget_usd:,.2f}"
    if over:
        names = ", ".join(r.account for r in over)
        return False, f"{summary}; at 80% of its budget or more, or unknown: {names}; {shown}"
    return True, f"{summary}; {shown}"


# --- monthly: who has not used their access ----------------------------------------------

UNUSED_FOR_DAYS = 90
PROGRAM_ROLE_PREFIXES = ("Diagnyx", "OrganizationAccountAccessRole")


def unused_access(account: Account) -> tuple[bool, str]:
    """IAM roles and users not used in 90 days and access keys older than 90 days (the
    service-linked roles, which AWS manages, left out)."""
    iam = account.aws.client("iam")
    cutoff = account.now - datetime.timedelta(days=UNUSED_FOR_DAYS)
    found = []
    for role in every(iam, "list_roles", "Roles"):
        if str(role.get("Path", "/")).startswith(("/aws-service-role/", "/aws-reserved/")):
            continue  # AWS's own: service-linked roles, Identity Center's permission sets
        name = reply_field(role, "RoleName", operation="iam:ListRoles")
        if str(name).startswith(PROGRAM_ROLE_PREFIXES):
            continue  # the program's own, there by config (drift compares them)
        used = (iam.get_role(RoleName=name)["Role"].get("RoleLastUsed") or {}).get("LastUsedDate")
        created = reply_field(role, "CreateDate", operation="iam:ListRoles")
        if (used or created) < cutoff:
            found.append(f"role {name} " + (f"last used {used:%Y-%m-%d}" if used else "never used"))
    for user in every(iam, "list_users", "Users"):
        name = reply_field(user, "UserName", operation="iam:ListUsers")
        created = reply_field(user, "CreateDate", operation="iam:ListUsers")
        used = user.get("PasswordLastUsed")
        for key in every(iam, "list_access_keys", "AccessKeyMetadata", UserName=name):
            key_id = reply_field(key, "AccessKeyId", operation="iam:ListAccessKeys")
            made = reply_field(key, "CreateDate", operation="iam:ListAccessKeys")
            if made < cutoff:
                found.append(f"user {name}'s access key {key_id} from {made:%Y-%m-%d}")
            last = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
            if last.get("LastUsedDate") and (used is None or last["LastUsedDate"] > used):
                used = last["LastUsedDate"]
        if (used or created) < cutoff:
            found.append(f"user {name} " + (f"last active {used:%Y-%m-%d}" if used else "never"))
    if not found:
        return True, f"every role and user used within {UNUSED_FOR_DAYS} days, no older key"
    return False, "; ".join(found)


# --- monthly: Identity Center group memberships (management account) ---------------------


def group_memberships(account: Account) -> tuple[bool, str]:
    """Who is in each Identity Center group, for the monthly review the guide asks for (a
    person judges it: the line lists, it does not fail)."""
    if account.name != MANAGEMENT_ACCOUNT:
        return True, "not applicable: Identity Center lives in the management account"
    sso = account.aws.client("sso-admin", account.settings.region)
    instances = every(sso, "list_instances", "Instances")
    if not instances:
        return True, "Identity Center is not enabled"
    store = reply_field(instances[0], "IdentityStoreId", operation="sso:ListInstances")
    identities = account.aws.client("identitystore", account.settings.region)
    listed = []
    for group in every(identities, "list_groups", "Groups", IdentityStoreId=store):
        group_id = reply_field(group, "GroupId", operation="identitystore:ListGroups")
        members = every(
            identities,
            "list_group_memberships",
            "GroupMemberships",
            IdentityStoreId=store,
            GroupId=group_id,
        )
        names = []
        for membership in members:
            user_id = (membership.get("MemberId") or {}).get("UserId")
            if user_id:
                try:
                    user = identities.describe_user(IdentityStoreId=store, UserId=user_id)
                except ClientError as error:
                    if classify(error).kind != "missing":
                        raise
                    continue  # deleted while this ran
                names.append(str(user.get("UserName") or user_id))
        listed.append(f"{group.get('DisplayName', group_id)}: {', '.join(sorted(names)) or 'none'}")
    return True, "; ".join(listed) or "no groups"


# --- quarterly: who can assume what -------------------------------------------------------


def cross_account_roles(account: Account) -> tuple[bool, str]:
    """Every role another account, an identity provider or anyone may assume, and who (the
    service-linked roles aside). A trust outside the organization's accounts needs a look."""
    iam = account.aws.client("iam")
    own = account.settings.account_id
    known = {i for i in account.zone.account_ids.values() if i}
    listed, outside = [], []
    for role in every(iam, "list_roles", "Roles"):
        # Service-linked roles, and Identity Center's (IAM lets no one else make roles there).
        if str(role.get("Path", "/")).startswith(("/aws-service-role/", "/aws-reserved/")):
            continue
        name = reply_field(role, "RoleName", operation="iam:ListRoles")
        trust = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(trust, str):
            trust = json.loads(urllib.parse.unquote(trust))
        who = sorted(_trusted(trust) - {f"account {own}"})
        if not who:
            continue
        listed.append(f"{name}: {', '.join(who)}")
        strangers = [w for w in who if w.startswith("account ") and w.split()[1] not in known]
        strangers += [w for w in who if w.startswith("anyone")]
        if strangers:
            outside.append(f"{name} ({', '.join(strangers)})")
    if outside:
        return False, "trusted outside the organization: " + "; ".join(outside)
    return True, "; ".join(sorted(listed)) or "no role trusts another account"


def _trusted(trust: dict) -> set[str]:
    """Who a trust policy's Allow statements admit: accounts, identity providers, services."""
    found = set()
    statements = trust.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            found.add("anyone")  # Allow with NotPrincipal admits everyone else
            continue
        principal = statement.get("Principal")
        if principal == "*":
            found.add("anyone")
            continue
        for kind, values in (principal or {}).items():
            for value in values if isinstance(values, list) else [values]:
                if kind == "AWS":
                    found.add(_aws_principal(str(value)))
                elif kind == "Federated":
                    found.add(_federated(str(value), statement.get("Condition") or {}))
    return found


def _federated(provider_arn: str, condition: dict) -> str:
    """Who a trust of an identity provider admits. A SAML provider's own assertions say who
    may take the role; an OIDC provider issues tokens to anyone it serves (any GitHub
    repository, say), so its trust admits only the subjects a condition names."""
    provider = provider_arn.rsplit("/", 1)[-1]
    is_saml = provider_arn.split(":", 5)[-1].startswith("saml-provider/")  # the ARN's resource
    if is_saml or _names_subjects(condition):
        return f"identity provider {provider}"
    return f"anyone of identity provider {provider}"


def _names_subjects(condition: dict) -> bool:
    """A StringEquals or StringLike condition on the token's `sub` whose every value names its
    owner whole before any wildcard (repo:org/app:..., repo:org/*; never *, repo:*, repo:org*,
    or EKS's system:serviceaccount:*). A negated, Null or IfExists condition restricts no one
    (IAM condition operators), nor does a policy variable (the token compared with itself)."""
    for operator in ("StringEquals", "StringLike"):
        block = condition.get(operator) if isinstance(condition, dict) else None
        for key, values in (block if isinstance(block, dict) else {}).items():
            if not str(key).lower().endswith(":sub"):
                continue
            listed = values if isinstance(values, list) else [values]
            if listed and all(_specific(str(v), operator == "StringLike") for v in listed):
                return True
    return False


def _specific(subject: str, has_wildcards: bool) -> bool:
    if "${" in subject:
        return False
    # The parts before any wildcard that end before it ("repo:org*" has only "repo" whole).
    fixed = re.split(r"[*?]", subject, maxsplit=1)[0] if has_wildcards else subject + ":"
    whole = [part for part in re.split(r"[:/]", fixed)[:-1] if part]
    needed = 3 if whole[:2] == ["system", "serviceaccount"] else 2  # EKS: its namespace too
    return len(whole) >= needed


def _aws_principal(value: str) -> str:
    """ "anyone" for "*", else the account of an ARN or of a bare account ID."""
    if value == "*":
        return "anyone"
    parts = value.split(":")
    is_arn = value.startswith("arn:") and len(parts) > 4
    return f"account {parts[4] if is_arn else value}"


# --- quarterly: SCPs, their targets and drift (management account) ------------------------


def guardrails(account: Account) -> tuple[bool, str]:
    """Every SCP with its targets, and the organization's drift from config (`diagnyx drift`'s
    organization checks: SCPs, OUs, accounts, trusted access, delegated administrators)."""
    if account.name != MANAGEMENT_ACCOUNT:
        return True, "not applicable: the organization is read in the management account"
    organizations = account.aws.client("organizations")
    listed = []
    scps = every(organizations, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY")
    for policy in scps:
        policy_id = reply_field(policy, "Id", operation="organizations:ListPolicies")
        targets = every(organizations, "list_targets_for_policy", "Targets", PolicyId=policy_id)
        names = sorted(str(t.get("Name") or t.get("TargetId")) for t in targets)
        listed.append(f"{policy.get('Name', policy_id)} on {', '.join(names) or 'nothing'}")
    drift = DriftCheck(account.aws, account.zone).run([], organization=True)
    if drift.not_looked:
        first = drift.not_looked[0]
        raise CannotLook(f"drift could not look at {first.part}: {first.reason}")
    shown = "; ".join(sorted(listed))
    if drift.drifts:
        found = "; ".join(f"{d.kind}: {d.target}" for d in drift.drifts)
        return False, f"drifted from config: {found}; SCPs: {shown}"
    return True, f"no drift; SCPs: {shown}"


class CannotLook(Exception):
    """An item read what it could, but not all it needs (could not look: exit 3)."""


# --- quarterly: reservations and savings plans (management account) ----------------------


def commitments(account: Account) -> tuple[bool, str]:
    """Reserved Instance and Savings Plans coverage and utilization of the last quarter, as
    Cost Explorer reports them for the organization (read, not judged: buying is a decision)."""
    if account.name != MANAGEMENT_ACCOUNT:
        return True, "not applicable: Cost Explorer answers in the management account"
    ce = account.aws.client("ce", "us-east-1")
    # The last three whole months; End before today (GetSavingsPlansCoverage).
    end = min(account.now.date().replace(day=1), account.now.date() - datetime.timedelta(days=1))
    start = (end.replace(day=1) - datetime.timedelta(days=62)).replace(day=1)
    period = {"Start": start.isoformat(), "End": end.isoformat()}
    coverage = ce.get_reservation_coverage(TimePeriod=period)["Total"]
    reserved = coverage.get("CoverageHours", {}).get("CoverageHoursPercentage", "0")
    utilization = ce.get_reservation_utilization(TimePeriod=period)["Total"]
    used = utilization.get("UtilizationPercentage", "0")
    plans = every(
        ce,
        "get_savings_plans_coverage",
        "SavingsPlansCoverages",
        TimePeriod=period,
        Granularity="MONTHLY",
    )
    shares = [float(p["Coverage"].get("CoveragePercentage") or 0) for p in plans]
    plan_share = f"{sum(shares) / len(shares):.1f}" if shares else "0"
    return True, (
        f"{period['Start']} to {period['End']}: Reserved Instances cover {reserved}% of hours, "
        f"used {used}%; Savings Plans cover {plan_share}% of spend"
    )


# --- quarterly: open Security Hub findings ------------------------------------------------


def open_findings(account: Account) -> tuple[bool, str]:
    """Security Hub's active findings by severity where it is on (securityServices.securityHub);
    critical or high ones need action."""
    if "securityHub" not in account.zone.management.organization.security_services.enabled():
        return True, "off: organization.securityServices.securityHub is not true; not read"
    hub = account.aws.client("securityhub", account.settings.region)
    active = {
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        "WorkflowStatus": [
            {"Value": "SUPPRESSED", "Comparison": "NOT_EQUALS"},
            {"Value": "RESOLVED", "Comparison": "NOT_EQUALS"},
        ],
    }
    counts: dict[str, int] = {}
    for finding in every(hub, "get_findings", "Findings", Filters=active):
        label = str((finding.get("Severity") or {}).get("Label", "INFORMATIONAL"))
        counts[label] = counts.get(label, 0) + 1
    order = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
    shown = ", ".join(f"{counts[s]} {s.lower()}" for s in order if counts.get(s))
    urgent = counts.get("CRITICAL", 0) + counts.get("HIGH", 0)
    return not urgent, shown or "no open finding"


ITEMS: tuple[MaintenanceItem, ...] = (
    MaintenanceItem(
        "unused-resources",
        "weekly",
        "Unused resources",
        "Weekly: check for unused resources",
        unused_resources,
        "delete what is not needed (each line's price is what it costs a month)",
    ),
    MaintenanceItem(
        "backup-health",
        "weekly",
        "Backup health",
        "Weekly: verify backup completion",
        backup_health,
        "run `pulumi up -s <stack>` (the baseline keeps versioning and recovery on)",
    ),
    MaintenanceItem(
        "cost-anomalies",
        "weekly",
        "Cost anomalies",
        "Weekly: review cost anomalies",
        cost_anomalies,
        "look into each root cause (`diagnyx cost report` for the month)",
    ),
    MaintenanceItem(
        "budgets",
        "monthly",
        "Budget against actual",
        "Monthly: review budget vs. actual spending",
        budgets,
        "see `diagnyx cost report`; raise the budget in config, or find the spend",
    ),
    MaintenanceItem(
        "unused-access",
        "monthly",
        "Unused access",
        "Monthly: review IAM roles and users; rotate access keys",
        unused_access,
        "delete what nobody uses; rotate or delete old keys (people use Identity Center)",
    ),
    MaintenanceItem(
        "group-memberships",
        "monthly",
        "Identity Center groups",
        "Monthly: review SSO group memberships",
        group_memberships,
    ),
    MaintenanceItem(
        "guardrails",
        "quarterly",
        "SCPs and drift",
        "Quarterly: review SCPs and policies",
        guardrails,
        "`diagnyx drift --all` says each drift and its fix",
    ),
    MaintenanceItem(
        "cross-account-roles",
        "quarterly",
        "Cross-account roles",
        "Quarterly: audit cross-account roles",
        cross_account_roles,
        "remove the trust, or add the account to the organization; `diagnyx access` proves the "
        "program's own roles",
    ),
    MaintenanceItem(
        "commitments",
        "quarterly",
        "Reservations and Savings Plans",
        "Quarterly: update Reserved Instance coverage",
        commitments,
    ),
    MaintenanceItem(
        "open-findings",
        "quarterly",
        "Security Hub findings",
        "Quarterly: security assessment",
        open_findings,
        "triage them in the security account's Security Hub",
    ),
)
CADENCES = ("weekly", "monthly", "quarterly")


def accounts_to_read(zone: LandingZone) -> tuple[list[str], list[str]]:
    """Every account config names, management first: those created, and those whose ID is
    still pending (vended by `accounts add`, not created yet: the report leaves them out, as
    `drift` does, rather than fail on them every week until `accounts sync`)."""
    names = zone.account_names()
    pending = [n for n in names if zone.account_ids.get(n) == PENDING_ID]
    return [n for n in names if n not in pending], pending


def report(
    caller: Aws,
    zone: LandingZone,
    cadence: str,
    names: list[str],
    access_role: str,
    now: datetime.datetime | None = None,
) -> Report:
    """Each item of ``cadence`` for each account of ``names``, read through ``access_role``."""
    now = now or datetime.datetime.now(datetime.UTC)
    result = Report(cadence, period=period(cadence, now))
    items = [item for item in ITEMS if item.cadence == cadence]
    for name in names:
        settings = zone.stacks.get(name)
        if settings is None:  # its region and allowed regions are unknown: never a silent pass
            detail = f"no Pulumi.{name}.yaml: the account's region and allowed regions are unknown"
            result.findings += [
                Finding(name, item.item, Status.CANNOT, detail, item.hint, UNCONFIGURED)
                for item in items
            ]
            continue
        if zone.account_ids.get(name) == PENDING_ID:
            detail = "the account is not created yet: its ID is pending in config"
            result.findings += [
                Finding(name, item.item, Status.CANNOT, detail, item.hint, PENDING)
                for item in items
            ]
            continue

        # Assumed inside each check: a role the account refuses is that item's "cannot check",
        # never a traceback or a stop of the other accounts' report.
        def account(name=name, settings=settings) -> Account:
            aws = (
                caller
                if name == MANAGEMENT_ACCOUNT
                else caller.assume(settings.account_id, access_role)
            )
            return Account(name, aws, settings, now, zone)

        for item in items:
            check = item.check
            result.findings.append(
                run_check(name, item.item, lambda c=check, a=account: c(a()), item.hint)
            )
    return result


# GitHub refuses an issue body over 65,536 characters; a cell is cut well below.
MAX_CELL = 2000


def markdown(result: Report) -> str:
    """The report as Markdown, fit to archive or paste into an issue: every text from AWS as a
    code span on one line (no markup, mention, link or control character gets through), each
    cell cut to MAX_CELL characters."""
    title = f"# {result.cadence.capitalize()} maintenance report"
    lines = [f"{title}, {result.period}" if result.period else title, ""]
    for item in [i for i in ITEMS if i.cadence == result.cadence]:
        lines += [f"## {item.item}", "", f"Answers the guide's task: {item.task}.", ""]
        lines += ["| account | status | detail | what to do |", "|---|---|---|---|"]
        for finding in result.findings:
            if finding.item == item.item:
                detail = finding.detail
                if len(detail) > MAX_CELL:
                    detail = detail[:MAX_CELL] + f"... ({len(finding.detail)} characters)"
                cells = (finding.account, str(finding.status), detail, _to_do(finding))
                lines.append("| " + " | ".join(markdown_code(c) for c in cells) + " |")
        lines.append("")
    lines.append(verdict(result.findings))
    return "\n".join(lines)


def _to_do(finding: Finding) -> str:
    """The fix for an item that needs action; why one could not be looked at; else nothing."""
    if finding.status == Status.FAIL:
        return finding.hint
    if finding.status == Status.CANNOT:
        return f"could not look: {cause_text(finding.cause or 'failed')}"
    return ""


def verdict(findings: list[Finding]) -> str:
    """The report's last line, in bold, agreeing with its exit code (the scheduled workflow
    files a report only when its last line is one of these)."""
    failed = [f for f in findings if f.status == Status.FAIL]
    blocked = [f for f in findings if f.status == Status.CANNOT and f.cause not in NOT_BLOCKING]
    if failed:
        accounts = len({f.account for f in failed})
        line = f"**{len(failed)} item(s) need action, in {accounts} account(s)"
        return line + (f"; {len(blocked)} could not be looked at**" if blocked else "**")
    if blocked:
        return f"**nothing needs action where it could be looked at; {len(blocked)} could not**"
    return "**nothing needs action**"


def period(cadence: str, now: datetime.datetime) -> str:
    """The period a report of ``cadence`` made at ``now`` is filed under, as the scheduled
    workflow names its issue: the ISO week (2026-W49), month (2026-12) or quarter (2026-Q4) it
    was made in (a monthly report's budget figures are the month before's)."""
    if cadence == "weekly":
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    if cadence == "monthly":
        return f"{now:%Y-%m}"
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"
