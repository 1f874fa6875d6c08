"""`diagnyx checklist`: the guide's "Account Bootstrap Checklist", verified against live AWS by
assuming a role into each account. One finding per item per account: the guide's items, then
the security services' (security_checks: one definition per item, with its metadata)."""

from collections.abc import Callable
from typing import Any, TypeVar

from .. import naming
from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID, REQUIRED_TAG_KEYS
from ..naming import LOCK_TABLE_NAME, state_bucket_name
from ..policies.audit import security_event_patterns, trail_arn
from ..policies.scp import ALARM_RULE_PREFIX
from .aws import Aws, classify, every
from .findings import PENDING, Finding, Status, run_check
from .identity_center import permission_set_names
from .landing_zone import LandingZone
from .security_checks import SECURITY_ITEMS, SecurityItem
from .security_checks import Account as SecurityAccount

ITEMS = (
    "in organization and OU",
    "SCPs attached",
    "state bucket",
    "lock table",
    "organization trail",
    "budget",
    "cross-account roles",
    "SSO assignments",
    "ECR repositories",
    "KMS key rotation",
    "cost allocation tags",
    "security alarms",
    *(item.item for item in SECURITY_ITEMS),
)
BASELINE_ROLES = (naming.CICD_ROLE, naming.PREVIEW_ROLE, naming.AUDIT_ROLE)
T = TypeVar("T")


class Checklist:
    def __init__(self, caller: Aws, zone: LandingZone, access_role: str = naming.ORG_ACCESS_ROLE):
        self.caller = caller  # credentials of the management account
        self.zone = zone
        self.access_role = access_role
        self._shared: dict[str, Any] = {}

    def run(self, accounts: list[str]) -> list[Finding]:
        findings = []
        for account in accounts:
            findings.extend(self.account(account))
        return findings

    def account(self, name: str) -> list[Finding]:
        account_id = self.zone.account_ids[name]
        if account_id == PENDING_ID:
            reason = "the account's ID is pending in config: not created or not synced yet"
            hint = "deploy the management stack, then `diagnyx accounts sync`"
            return [Finding(name, item, Status.CANNOT, reason, hint, PENDING) for item in ITEMS]
        try:
            aws = self._session_for(account_id)
        except Exception as error:
            problem = classify(error)
            reason = f"cannot assume {self.access_role} in {account_id}: {problem.message}"
            hint = "check that the account exists and that its trust policy allows this caller"
            return [
                Finding(name, item, Status.CANNOT, reason, hint, problem.kind) for item in ITEMS
            ]

        checks: list[tuple[str, Callable[[], tuple[bool, str]], str]] = [
            (
                "in organization and OU",
                lambda: self._placement(name, account_id),
                "move the account with `organizations move-account`",
            ),
            (
                "SCPs attached",
                lambda: self._scps(name, account_id),
                "run `pulumi up -s management`",
            ),
            ("state bucket", lambda: self._state_bucket(aws, name), f"run `pulumi up -s {name}`"),
            ("lock table", lambda: self._lock_table(aws), f"run `pulumi up -s {name}`"),
            (
                "organization trail",
                self._organization_trail,
                "run `pulumi up -s security`; `aws cloudtrail start-logging`",
            ),
            ("budget", lambda: self._budget(aws, name), f"run `pulumi up -s {name}`"),
            (
                "cross-account roles",
                lambda: self._roles(aws),
                f"run `pulumi up -s {name}`; after an isolation, `diagnyx restore`",
            ),
            (
                "SSO assignments",
                lambda: self._sso(name, account_id),
                "run `pulumi up -s management`",
            ),
            (
                "ECR repositories",
                lambda: self._repositories(aws, name),
                f"run `pulumi up -s {name}`",
            ),
            ("KMS key rotation", lambda: self._key(aws, name), f"run `pulumi up -s {name}`"),
            (
                "cost allocation tags",
                self._cost_tags,
                "activate them in Billing > Cost allocation tags",
            ),
            (
                "security alarms",
                lambda: self._alarms(aws),
                "confirm the subscription e-mail; run `pulumi up`",
            ),
        ]
        findings = [run_check(name, item, check, hint) for item, check, hint in checks]
        return findings + [self._security(name, aws, item) for item in SECURITY_ITEMS]

    def _security(self, name: str, aws: Aws, item: SecurityItem) -> Finding:
        """One item of security_checks: passing without a look where it does not apply (a
        service switched off, an account it does not concern), as the items above pass
        where nothing is configured."""
        organization = self.zone.management.organization
        enabled = organization.security_services.enabled() if organization else ()
        if (reason := item.not_checked(name, enabled)) is not None:
            return Finding(name, item.item, Status.PASS, reason)
        account = SecurityAccount(name, aws, self.zone)
        return run_check(name, item.item, lambda: item.check(account), item.fix(name))

    def _session_for(self, account_id: str) -> Aws:
        if account_id == self.zone.account_ids[MANAGEMENT_ACCOUNT]:
            return self.caller
        return self.caller.assume(account_id, self.access_role)

    def _once(self, key: str, check: Callable[[], T]) -> T:
        """Organization-wide facts are read once, not once per account."""
        if key not in self._shared:
            try:
                self._shared[key] = check()
            except Exception as error:
                self._shared[key] = error
        result = self._shared[key]
        if isinstance(result, Exception):
            raise result
        return result

    # --- the items -------------------------------------------------------------------------

    def _placement(self, name: str, account_id: str) -> tuple[bool, str]:
        organizations = self.caller.client("organizations")
        account = organizations.describe_account(AccountId=account_id)["Account"]
        state = account.get("State") or account.get("Status")
        if state != "ACTIVE":
            return False, f"account state is {state}"
        expected = self.zone.expected_ou(name)
        if expected is None:
            master = organizations.describe_organization()["Organization"]["MasterAccountId"]
            return master == account_id, "the organization's management account"
        (parent,) = organizations.list_parents(ChildId=account_id)["Parents"]
        if parent["Type"] != "ORGANIZATIONAL_UNIT":
            return False, f"in the root, expected OU {expected}"
        ou = organizations.describe_organizational_unit(OrganizationalUnitId=parent["Id"])
        actual = ou["OrganizationalUnit"]["Name"]
        return actual == expected, f"OU {actual}" + (
            "" if actual == expected else f", expected {expected}"
        )

    def _scps(self, name: str, account_id: str) -> tuple[bool, str]:
        if self.zone.expected_ou(name) is None:
            return True, "SCPs do not apply to the management account"
        organizations = self.caller.client("organizations")
        targets = [organizations.list_roots()["Roots"][0]["Id"]]
        targets += [p["Id"] for p in organizations.list_parents(ChildId=account_id)["Parents"]]
        attached = set()
        for target in targets:
            policies = every(
                organizations,
                "list_policies_for_target",
                "Policies",
                TargetId=target,
                Filter="SERVICE_CONTROL_POLICY",
            )
            attached |= {p["Name"] for p in policies}
        missing = self.zone.expected_scps(name) - attached
        return (
            not missing,
            f"missing {', '.join(sorted(missing))}" if missing else f"{len(attached)} attached",
        )

    def _state_bucket(self, aws: Aws, name: str) -> tuple[bool, str]:
        settings = self.zone.stacks[name]
        bucket = state_bucket_name(settings.account_id, settings.region)
        s3 = aws.client("s3")
        problems = []
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            problems.append("versioning not enabled")
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        algorithms = {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
        if algorithms != {"aws:kms"}:
            problems.append(f"encryption {', '.join(sorted(algorithms))}, expected aws:kms")
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if not all(block.values()):
            problems.append("public access not fully blocked")
        return not problems, "; ".join(problems) or f"{bucket}: versioned, SSE-KMS, private"

    def _lock_table(self, aws: Aws) -> tuple[bool, str]:
        table = aws.client("dynamodb").describe_table(TableName=LOCK_TABLE_NAME)["Table"]
        problems = []
        if [k["AttributeName"] for k in table["KeySchema"]] != ["LockID"]:
            problems.append("key is not LockID")
        if not table.get("DeletionProtectionEnabled"):
            problems.append("deletion protection off")
        return not problems, "; ".join(problems) or f"{LOCK_TABLE_NAME}: LockID, protected"

    def _organization_trail(self) -> tuple[bool, str]:
        def check() -> tuple[bool, str]:
            # The security account creates the trail as CloudTrail's delegated administrator,
            # but the management account owns it; GetTrail by bare name from the administrator
            # may not find it, so it is looked up by its management-owned ARN.
            region = self.zone.stacks[self.zone.trail_owner].region
            arn = trail_arn(region, self.zone.account_ids[MANAGEMENT_ACCOUNT])
            cloudtrail = self.caller.client("cloudtrail")
            trail = cloudtrail.get_trail(Name=arn)["Trail"]
            problems = []
            if not trail.get("IsOrganizationTrail"):
                problems.append("not an organization trail")
            if not trail.get("IsMultiRegionTrail"):
                problems.append("not multi-region")
            if not trail.get("LogFileValidationEnabled"):
                problems.append("log file validation off")
            if not cloudtrail.get_trail_status(Name=arn).get("IsLogging"):
                problems.append("not logging")
            return not problems, "; ".join(problems) or "covered by the logging organization trail"

        return self._once("trail", check)

    def _budget(self, aws: Aws, name: str) -> tuple[bool, str]:
        settings = self.zone.stacks[name]
        budget_name = f"diagnyx-{name}-monthly"
        budgets = aws.client("budgets")
        budget = budgets.describe_budget(AccountId=settings.account_id, BudgetName=budget_name)[
            "Budget"
        ]
        amount = float(budget["BudgetLimit"]["Amount"])
        notifications = budgets.describe_notifications_for_budget(
            AccountId=settings.account_id, BudgetName=budget_name
        )["Notifications"]
        actual = {(n["NotificationType"], float(n["Threshold"])) for n in notifications}
        expected = set(settings.budget.thresholds())
        problems = []
        if amount != settings.budget.monthly_limit_usd:
            problems.append(
                f"limit ${amount:g}, config says ${settings.budget.monthly_limit_usd:g}"
            )
        if actual != expected:
            missing = sorted(f"{kind} {percent:g}%" for kind, percent in expected - actual)
            problems.append(f"thresholds missing: {', '.join(missing)}")
        return not problems, "; ".join(problems) or f"${amount:g}/month, 50/80/100% + forecast"

    def _roles(self, aws: Aws) -> tuple[bool, str]:
        iam = aws.client("iam")
        missing = []
        for role in BASELINE_ROLES:
            try:
                iam.get_role(RoleName=role)
            except Exception as error:
                if classify(error).kind != "missing":
                    raise
                missing.append(role)
        if naming.CICD_ROLE not in missing:
            try:
                iam.get_role_policy(RoleName=naming.CICD_ROLE, PolicyName=naming.CICD_POLICY)
            except Exception as error:
                if classify(error).kind != "missing":
                    raise
                missing.append(f"{naming.CICD_ROLE}/{naming.CICD_POLICY}")
        return not missing, f"missing {', '.join(missing)}" if missing else ", ".join(
            BASELINE_ROLES
        )

    def _sso(self, name: str, account_id: str) -> tuple[bool, str]:
        expected = self.zone.assignments_for(name)
        if not expected:
            return True, "no assignments configured"
        instance, groups, sets = self._once("identity center", self._identity_center)
        sso = self.caller.client("sso-admin")
        missing = []
        for row in expected:
            arn = sets.get(row.permission_set)
            group_id = groups.get(row.group)
            present = False
            if arn and group_id:
                assignments = every(
                    sso,
                    "list_account_assignments",
                    "AccountAssignments",
                    InstanceArn=instance["InstanceArn"],
                    AccountId=account_id,
                    PermissionSetArn=arn,
                )
                present = any(a["PrincipalId"] == group_id for a in assignments)
            if not present:
                missing.append(f"{row.group}/{row.permission_set}")
        return (
            not missing,
            f"missing {', '.join(missing)}" if missing else f"{len(expected)} assignments",
        )

    def _identity_center(self) -> tuple[dict, dict[str, str], dict[str, str]]:
        """The instance, its groups by name and its permission sets by name: the same for every
        account (read once; Identity Center's APIs allow a few calls a second)."""
        sso = self.caller.client("sso-admin")
        instance = sso.list_instances()["Instances"][0]
        store = self.caller.client("identitystore")
        groups = {
            g["DisplayName"]: g["GroupId"]
            for g in every(
                store, "list_groups", "Groups", IdentityStoreId=instance["IdentityStoreId"]
            )
        }
        names = permission_set_names(sso, instance["InstanceArn"])
        return instance, groups, {name: arn for arn, name in names.items()}

    def _repositories(self, aws: Aws, name: str) -> tuple[bool, str]:
        expected = self.zone.expected_repositories(name)
        if not expected:
            return True, "none configured"
        ecr = aws.client("ecr")
        found = {
            r["repositoryName"]: r for r in every(ecr, "describe_repositories", "repositories")
        }
        problems = []
        for repository in expected:
            repo = found.get(repository)
            if repo is None:
                problems.append(f"{repository} missing")
            elif repo.get("imageTagMutability") != "IMMUTABLE" or not repo.get(
                "imageScanningConfiguration", {}
            ).get("scanOnPush"):
                problems.append(f"{repository} not immutable with scan on push")
        return not problems, "; ".join(problems) or f"{len(expected)} repositories"

    def _key(self, aws: Aws, name: str) -> tuple[bool, str]:
        kms = aws.client("kms")
        key_id = kms.describe_key(KeyId=f"alias/diagnyx-{name}")["KeyMetadata"]["KeyId"]
        rotating = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
        return rotating, "rotation on" if rotating else "rotation off"

    def _cost_tags(self) -> tuple[bool, str]:
        def check() -> tuple[bool, str]:
            ce = self.caller.client("ce")
            tags = ce.list_cost_allocation_tags(TagKeys=list(REQUIRED_TAG_KEYS))[
                "CostAllocationTags"
            ]
            active = {t["TagKey"] for t in tags if t.get("Status") == "Active"}
            missing = sorted(set(REQUIRED_TAG_KEYS) - active)
            return (
                not missing,
                f"inactive: {', '.join(missing)}" if missing else "all required tags active",
            )

        return self._once("cost-tags", check)

    def _alarms(self, aws: Aws) -> tuple[bool, str]:
        events = aws.client("events")
        sns = aws.client("sns")
        topic = next(
            (
                t["TopicArn"]
                for t in every(sns, "list_topics", "Topics")
                if t["TopicArn"].endswith(":diagnyx-alarms")
            ),
            None,
        )
        if topic is None:
            return False, "alarm topic diagnyx-alarms missing"
        problems = []
        # Two listings for every rule of ours: the rules, and those that notify the topic
        # (asking each rule for its targets would cost a call per rule).
        listed = every(events, "list_rules", "Rules", NamePrefix=ALARM_RULE_PREFIX)
        rules = {r["Name"] for r in listed}
        notifying = set(every(events, "list_rule_names_by_target", "RuleNames", TargetArn=topic))
        for alarm in security_event_patterns():
            rule = f"{ALARM_RULE_PREFIX}{alarm}"
            if rule not in rules:
                problems.append(f"rule {rule} missing")
            elif rule not in notifying:
                problems.append(f"rule {rule} does not notify the alarm topic")
        subscriptions = every(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic)
        confirmed = [
            s
            for s in subscriptions
            if s["SubscriptionArn"] not in ("PendingConfirmation", "Deleted")
        ]
        if not confirmed:
            problems.append("no confirmed subscription on the alarm topic")
        return not problems, "; ".join(
            problems
        ) or f"{len(security_event_patterns())} rules, topic subscribed"
