"""`diagnyx drift`: what changed in AWS outside the program. Live AWS is compared with what config
says the landing zone is, rendered by the same settings and policy builders the program deploys
from; nothing is written. Control Tower's drift detection covers its own controls (SCPs changed,
attached or detached; accounts moved or removed); this also covers what `pulumi refresh` cannot
see because the program does not manage it: an SCP or an account added by hand, an assignment
outside the access matrix, an IAM user.

Each finding: the account (or "organization"), its kind, the target, what config expects, what
AWS has, and what to run to put it back. Exit 1 when anything drifted; 3 when a part could not be
looked at (and nothing drifted); 0 otherwise.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import naming
from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID, SECURITY_ACCOUNT
from ..delivery import github_deploy_subject, github_drift_subject, github_pull_request_subject
from ..naming import state_bucket_name
from ..policies import cost
from ..policies import iam as iam_policies
from ..policies.audit import (
    forwarding_permissions,
    forwarding_trust_policy,
    trail_arn,
    trail_delivery_statements,
)
from ..policies.baseline import deny_insecure_transport
from ..policies.documents import document, to_json
from ..policies.guardrail_plan import ROOT_TARGET, GuardrailPlan, management_guardrails
from ..policies.identity import (
    PERMISSION_SETS,
    READ_ONLY_ACCESS,
    SECURITY_AUDIT,
    VIEW_ONLY_ACCESS,
)
from ..policies.security_services import (
    AWS_CONFIG,
    CONFIG_AGGREGATOR_POLICY,
    CONFIG_AGGREGATOR_ROLE,
    aggregator_trust_policy,
    archive_delivery_statements,
    config_bucket_name,
    config_bucket_statements,
    delegated_services,
)
from ..policies.tag_policy import TAG_POLICY_NAME
from .aws import Aws, classify, every
from .findings import EXIT_CANNOT_LOOK, EXIT_FINDINGS, EXIT_OK, markdown_code, printable
from .identity_center import permission_set_names
from .isolation import rendered_cicd_policy
from .landing_zone import LandingZone

ORGANIZATION = "organization"
# AWS attaches this SCP to the root, every OU and every account when SCPs are enabled; without
# it (and with no other Allow) nothing below is allowed (Organizations User Guide, "Service
# control policies", "Strategies for using SCPs": FullAWSAccess).
FULL_AWS_ACCESS = "FullAWSAccess"
CLOUDTRAIL = "cloudtrail.amazonaws.com"
# The IAM roles the baseline creates in every account: their managed and inline policies
# (components/access_roles.py; the management account's cost role is not compared yet). A
# policy attached beyond these is drift; an AWS managed one detached is not reported yet (the
# emulators the tests use do not hold AWS's managed policies).
ROLE_MANAGED_POLICIES = {
    naming.CICD_ROLE: frozenset(),
    naming.PREVIEW_ROLE: frozenset({VIEW_ONLY_ACCESS}),
    naming.AUDIT_ROLE: frozenset({READ_ONLY_ACCESS, SECURITY_AUDIT}),
    naming.DRIFT_ROLE: frozenset(),
    naming.COST_EXPLORER_ROLE: frozenset(),
    CONFIG_AGGREGATOR_ROLE: frozenset({CONFIG_AGGREGATOR_POLICY}),
    naming.ALARM_FORWARDING_ROLE: frozenset(),
}
ROLE_INLINE_POLICIES = {
    naming.CICD_ROLE: frozenset({naming.CICD_POLICY}),
    naming.PREVIEW_ROLE: frozenset({naming.PREVIEW_STATE_POLICY}),
    naming.AUDIT_ROLE: frozenset(),
    naming.DRIFT_ROLE: frozenset({naming.DRIFT_POLICY}),
    naming.COST_EXPLORER_ROLE: frozenset({naming.COST_EXPLORER_POLICY}),
    CONFIG_AGGREGATOR_ROLE: frozenset(),
    naming.ALARM_FORWARDING_ROLE: frozenset({naming.ALARM_FORWARDING_POLICY}),
}
_SECRET = "(the stack's ciExternalId)"
PUBLIC_ACCESS_BLOCK = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
# What `diagnyx isolate` removes reads as missing here; putting it back by deploying would undo
# an isolation the record says is meant.
AFTER_ISOLATION = "if the account was isolated, `diagnyx restore RECORD --apply`; otherwise "
# Roles AWS itself makes and manages, by path and name: service-linked roles and Identity
# Center's (IAM User Guide, "Using service-linked roles"; IAM Identity Center User Guide,
# "Referencing permission sets in resource policies": AWSReservedSSO_<set>_<suffix>). A role
# with such a path but another name is not taken for AWS's.
AWS_ROLES = (("/aws-service-role/", "AWSServiceRoleFor"), ("/aws-reserved/", "AWSReservedSSO_"))


@dataclass(frozen=True)
class Drift:
    account: str  # a stack's account, or "organization"
    kind: str
    target: str
    expected: str
    actual: str
    fix: str


@dataclass(frozen=True)
class NotLooked:
    """A part that could not be compared: AWS did not answer, or refused."""

    account: str
    part: str
    reason: str
    cause: str  # an ErrorKind's kind (aws.classify)


@dataclass
class DriftReport:
    drifts: list[Drift] = field(default_factory=list)
    not_looked: list[NotLooked] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.drifts:
            return EXIT_FINDINGS
        return EXIT_CANNOT_LOOK if self.not_looked else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        return {
            "drifted": bool(self.drifts),
            "drifts": [asdict(d) for d in self.drifts],
            "notLooked": [asdict(n) for n in self.not_looked],
        }


def from_json(report: dict[str, Any]) -> DriftReport:
    """The report ``DriftReport.as_json`` wrote."""
    return DriftReport(
        [Drift(**d) for d in report["drifts"]], [NotLooked(**n) for n in report["notLooked"]]
    )


class DriftCheck:
    """Compares the accounts of ``zone`` (and, with ``organization``, the organization itself)
    with live AWS, as ``caller`` (the management account) and ``access_role`` in members."""

    def __init__(self, caller: Aws, zone: LandingZone, access_role: str = naming.ORG_ACCESS_ROLE):
        self.caller = caller
        self.zone = zone
        self.access_role = access_role
        self.report = DriftReport()
        self._keys: dict[str, dict | None] = {}
        self.organization_settings = zone.management.organization
        assert self.organization_settings is not None
        self.plan: GuardrailPlan = management_guardrails(zone.management)

    def run(self, accounts: list[str], organization: bool) -> DriftReport:
        if organization:
            self._look(ORGANIZATION, "organization", self._organization)
            self._look(ORGANIZATION, "permission sets", self._permission_sets)
        # An account's assignments are its access: compared whenever the account is.
        if accounts:
            self._look(ORGANIZATION, "Identity Center", lambda: self._identity_center(accounts))
        for name in accounts:
            if self.zone.account_ids[name] == PENDING_ID:
                continue  # not created yet: nothing to compare (the checklist says so)
            self._account(name)
        return self.report

    def _look(self, account: str, part: str, check: Callable[[], None]) -> None:
        try:
            check()
        except Exception as error:
            problem = classify(error)
            self.report.not_looked.append(NotLooked(account, part, problem.message, problem.kind))

    def _drift(self, account: str, kind: str, target: str, expected: str, actual: str, fix: str):
        self.report.drifts.append(Drift(account, kind, target, expected, actual, fix))

    # --- the organization ---------------------------------------------------------------------

    def _organization(self) -> None:
        organizations = self.caller.client("organizations")
        root = organizations.list_roots()["Roots"][0]["Id"]
        ous = {
            ou["Name"]: ou["Id"]
            for ou in every(
                organizations,
                "list_organizational_units_for_parent",
                "OrganizationalUnits",
                ParentId=root,
            )
        }
        self._organizational_units(ous)
        accounts = self._accounts(organizations, root, ous)
        # Each part on its own: one AWS refuses leaves the others compared.
        self._look(
            ORGANIZATION,
            "service control policies",
            lambda: self._service_control_policies(organizations, root, ous, accounts),
        )
        self._look(ORGANIZATION, "tag policy", lambda: self._tag_policy(organizations, root))
        self._look(ORGANIZATION, "trusted services", lambda: self._trusted_services(organizations))
        self._look(
            ORGANIZATION,
            "delegated administrators",
            lambda: self._delegated_administrators(organizations),
        )
        self._look(ORGANIZATION, "organization trail", self._organization_trail)

    def _organizational_units(self, live: dict[str, str]) -> None:
        wanted = [ou.name for ou in self.organization_settings.organizational_units]
        for name in sorted(set(live) - set(wanted)):
            self._drift(
                ORGANIZATION,
                "OU not in config",
                f"OU {name}",
                "absent",
                f"present ({live[name]})",
                "move its accounts out and delete it, or add it to diagnyx:organization in "
                "Pulumi.management.yaml",
            )
        for name in wanted:
            if name not in live:
                self._drift(
                    ORGANIZATION,
                    "OU missing",
                    f"OU {name}",
                    "present",
                    "absent",
                    "run `pulumi up -s management`",
                )

    def _accounts(self, organizations, root: str, ous: dict[str, str]) -> dict[str, str]:
        """Config's accounts found in the organization: name -> ID."""
        live = {a["Id"]: a for a in every(organizations, "list_accounts", "Accounts")}
        configured = {i: n for n, i in self.zone.account_ids.items() if i != PENDING_ID}
        for account_id in sorted(set(live) - set(configured)):
            account = live[account_id]
            self._drift(
                ORGANIZATION,
                "account not in config",
                f"account {account_id} ({account.get('Name')}, {account.get('Email')})",
                "absent",
                f"in the organization ({account.get('Status')})",
                "add it to diagnyx:organization.accounts in Pulumi.management.yaml, or remove it "
                "from the organization",
            )
        found = {}
        ou_names = {ou_id: name for name, ou_id in ous.items()}
        for account_id, name in configured.items():
            if account_id not in live:
                self._drift(
                    ORGANIZATION,
                    "account missing",
                    f"account {name} ({account_id})",
                    "in the organization",
                    "absent",
                    "check accountIds in Pulumi.management.yaml (`diagnyx accounts sync`)",
                )
                continue
            found[name] = account_id
            expected = self.zone.expected_ou(name)
            if expected is None:  # the management account sits in the root
                continue
            (parent,) = organizations.list_parents(ChildId=account_id)["Parents"]
            actual = (
                "the root" if parent["Id"] == root else ou_names.get(parent["Id"], parent["Id"])
            )
            if actual != expected:
                self._drift(
                    ORGANIZATION,
                    "account in another OU",
                    f"account {name} ({account_id})",
                    f"OU {expected}",
                    actual,
                    f"`aws organizations move-account --account-id {account_id} "
                    f"--source-parent-id {parent['Id']} --destination-parent-id "
                    f"{ous.get(expected, '<OU ' + expected + '>')}`",
                )
        return found

    def _service_control_policies(
        self, organizations, root: str, ous: dict[str, str], accounts: dict[str, str]
    ) -> None:
        live = {
            p["Name"]: p
            for p in every(
                organizations, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY"
            )
        }
        rendered = {p.name: p for p in self.plan.policies.values()}
        for name in sorted(set(live) - set(rendered) - {FULL_AWS_ACCESS}):
            self._drift(
                ORGANIZATION,
                "SCP not in config",
                f"SCP {name}",
                "absent",
                "present",
                "delete it, or add it to the guardrail catalogue (policies/scp.py)",
            )
        for name, policy in rendered.items():
            if name not in live:
                self._drift(
                    ORGANIZATION,
                    "SCP missing",
                    f"SCP {name}",
                    "present",
                    "absent",
                    "run `pulumi up -s management`",
                )
                continue
            described = organizations.describe_policy(PolicyId=live[name]["Id"])["Policy"]
            actual = json.loads(described["Content"])
            if actual != json.loads(to_json(policy.document)):
                self._drift(
                    ORGANIZATION,
                    "SCP content changed",
                    f"SCP {name}",
                    "the document the program renders",
                    _statement_changes(json.loads(to_json(policy.document)), actual),
                    "run `pulumi up -s management`",
                )
        names = {key: policy.name for key, policy in self.plan.policies.items()}
        targets = {ROOT_TARGET: root, **{ou: ous[ou] for ou in self.plan.attachments if ou in ous}}
        wanted = {
            t: {names[k] for k in keys} | {FULL_AWS_ACCESS}
            for t, keys in self.plan.attachments.items()
        }
        for name, account_id in accounts.items():
            if self.zone.expected_ou(name) is not None:
                targets[f"account {name}"] = account_id
                wanted[f"account {name}"] = {FULL_AWS_ACCESS}
        for target, target_id in targets.items():
            attached = {
                p["Name"]
                for p in every(
                    organizations,
                    "list_policies_for_target",
                    "Policies",
                    TargetId=target_id,
                    Filter="SERVICE_CONTROL_POLICY",
                )
            }
            for name in sorted(attached - wanted[target]):
                self._drift(
                    ORGANIZATION,
                    "SCP attached outside config",
                    f"SCP {name} on {target}",
                    "not attached",
                    "attached",
                    f"`aws organizations detach-policy --policy-id {live[name]['Id']} "
                    f"--target-id {target_id}`",
                )
            for name in sorted(wanted[target] - attached):
                self._drift(
                    ORGANIZATION,
                    "SCP detached",
                    f"SCP {name} on {target}",
                    "attached",
                    "not attached",
                    "run `pulumi up -s management`",
                )

    def _tag_policy(self, organizations, root: str) -> None:
        live = {
            p["Name"]: p
            for p in every(organizations, "list_policies", "Policies", Filter="TAG_POLICY")
        }
        if TAG_POLICY_NAME not in live:
            self._drift(
                ORGANIZATION,
                "tag policy missing",
                f"tag policy {TAG_POLICY_NAME}",
                "present",
                "absent",
                "run `pulumi up -s management`",
            )
            return
        policy_id = live[TAG_POLICY_NAME]["Id"]
        content = organizations.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
        if json.loads(content) != json.loads(to_json(self.plan.tag_policy)):
            self._drift(
                ORGANIZATION,
                "tag policy content changed",
                f"tag policy {TAG_POLICY_NAME}",
                "the document the program renders",
                "another document",
                "run `pulumi up -s management`",
            )
        attached = every(
            organizations,
            "list_policies_for_target",
            "Policies",
            TargetId=root,
            Filter="TAG_POLICY",
        )
        if TAG_POLICY_NAME not in {p["Name"] for p in attached}:
            self._drift(
                ORGANIZATION,
                "tag policy detached",
                f"tag policy {TAG_POLICY_NAME} on Root",
                "attached",
                "not attached",
                "run `pulumi up -s management`",
            )

    def _trusted_services(self, organizations) -> None:
        live = {
            s["ServicePrincipal"]
            for s in every(
                organizations,
                "list_aws_service_access_for_organization",
                "EnabledServicePrincipals",
            )
        }
        wanted = set(self.organization_settings.trusted_service_principals())
        for service in sorted(live - wanted):
            self._drift(
                ORGANIZATION,
                "trusted service not in config",
                f"trusted access for {service}",
                "disabled",
                "enabled",
                "add it to diagnyx:organization.trustedServices, or `pulumi up -s management` "
                "disables it",
            )
        for service in sorted(wanted - live):
            self._drift(
                ORGANIZATION,
                "trusted service disabled",
                f"trusted access for {service}",
                "enabled",
                "disabled",
                "run `pulumi up -s management`",
            )

    def _delegated_administrators(self, organizations) -> None:
        security = self.zone.account_ids[SECURITY_ACCOUNT]
        organization = self.organization_settings
        services = delegated_services(organization.security_services.enabled())
        wanted = (
            {(security, s) for s in (CLOUDTRAIL, *services)} if security != PENDING_ID else set()
        )
        live = set()
        for admin in every(
            organizations, "list_delegated_administrators", "DelegatedAdministrators"
        ):
            for service in every(
                organizations,
                "list_delegated_services_for_account",
                "DelegatedServices",
                AccountId=admin["Id"],
            ):
                live.add((admin["Id"], service["ServicePrincipal"]))
        for account_id, service in sorted(live - wanted):
            self._drift(
                ORGANIZATION,
                "delegated administrator not in config",
                f"{service} administered by {account_id}",
                "not delegated",
                "delegated",
                f"`aws organizations deregister-delegated-administrator --account-id {account_id} "
                f"--service-principal {service}`",
            )
        for account_id, service in sorted(wanted - live):
            self._drift(
                ORGANIZATION,
                "delegated administrator missing",
                f"{service} administered by {account_id}",
                "delegated",
                "not delegated",
                "run `pulumi up -s management`",
            )

    def _organization_trail(self) -> None:
        """The organization trail the security stack creates (as CloudTrail's delegated
        administrator; the management account owns it): logging, organization-wide, in every
        region, validated, with global events, and recording every management event (no event
        selectors set, or selectors that keep all of them)."""
        region = self.zone.stacks[SECURITY_ACCOUNT].region
        arn = trail_arn(region, self.zone.account_ids[MANAGEMENT_ACCOUNT])
        cloudtrail = self.caller.client("cloudtrail")
        target = f"trail {naming.ORGANIZATION_TRAIL}"
        fix = "run `pulumi up -s security`"
        try:
            trail = cloudtrail.get_trail(Name=arn)["Trail"]
        except Exception as error:
            if classify(error).kind != "missing":
                raise
            self._drift(ORGANIZATION, "trail missing", target, "present", "absent", fix)
            return
        if not cloudtrail.get_trail_status(Name=arn).get("IsLogging"):
            self._drift(
                ORGANIZATION,
                "trail not logging",
                target,
                "logging",
                "stopped",
                f"`aws cloudtrail start-logging --name {arn}`",
            )
        off = [
            setting
            for setting in (
                "IsOrganizationTrail",
                "IsMultiRegionTrail",
                "LogFileValidationEnabled",
                "IncludeGlobalServiceEvents",
            )
            if not trail.get(setting)
        ]
        if off:
            self._drift(
                ORGANIZATION,
                "trail settings changed",
                target,
                "all on",
                f"off: {', '.join(off)}",
                fix,
            )
        selectors = cloudtrail.get_event_selectors(TrailName=arn)
        narrowed = [
            selector
            for selector in selectors.get("EventSelectors") or []
            if selector.get("ReadWriteType", "All") != "All"
            or not selector.get("IncludeManagementEvents", True)
            or selector.get("ExcludeManagementEventSources")
        ]
        if narrowed or selectors.get("AdvancedEventSelectors"):
            self._drift(
                ORGANIZATION,
                "trail event selectors changed",
                target,
                "every management event, read and write",
                "advanced selectors" if not narrowed else json.dumps(narrowed, sort_keys=True),
                fix,
            )

    # --- Identity Center ----------------------------------------------------------------------

    def _permission_sets(self) -> None:
        """Each permission set of the access matrix (policies/identity.py) as the program makes
        it: session length, AWS managed policies, inline policy, no customer managed policy;
        and none beyond them."""
        sso = self.caller.client("sso-admin")
        instance_arn = sso.list_instances()["Instances"][0]["InstanceArn"]
        by_name = {name: arn for arn, name in permission_set_names(sso, instance_arn).items()}
        fix = "run `pulumi up -s management`"
        for extra in sorted(set(by_name) - set(PERMISSION_SETS)):
            self._drift(
                ORGANIZATION,
                "permission set not in config",
                f"permission set {extra}",
                "absent",
                "present",
                "delete it in Identity Center (after its assignments), or add it to "
                "policies/identity.py",
            )
        for name, spec in PERMISSION_SETS.items():
            target = f"permission set {name}"
            arn = by_name.get(name)
            if arn is None:
                self._drift(
                    ORGANIZATION, "permission set missing", target, "present", "absent", fix
                )
                continue
            which = {"InstanceArn": instance_arn, "PermissionSetArn": arn}
            described = sso.describe_permission_set(**which)["PermissionSet"]
            if described.get("SessionDuration") != spec.session_duration:
                self._drift(
                    ORGANIZATION,
                    "permission set session changed",
                    target,
                    spec.session_duration,
                    str(described.get("SessionDuration")),
                    fix,
                )
            managed = {
                p["Arn"]
                for p in every(sso, "list_managed_policies_in_permission_set",
                               "AttachedManagedPolicies", **which)
            }  # fmt: skip
            customer = every(
                sso,
                "list_customer_managed_policy_references_in_permission_set",
                "CustomerManagedPolicyReferences",
                **which,
            )
            if managed != set(spec.managed_policies) or customer:
                actual = sorted(managed) + [f"customer managed {c['Name']}" for c in customer]
                self._drift(
                    ORGANIZATION,
                    "permission set policies changed",
                    target,
                    ", ".join(sorted(spec.managed_policies)) or "none",
                    ", ".join(actual) or "none",
                    fix,
                )
            text = sso.get_inline_policy_for_permission_set(**which).get("InlinePolicy") or ""
            actual_inline = json.loads(text) if text else None
            wanted = json.loads(to_json(spec.inline_policy)) if spec.inline_policy else None
            if actual_inline != wanted:
                self._drift(
                    ORGANIZATION,
                    "permission set inline policy changed",
                    target,
                    "the document the program renders" if wanted else "none",
                    _statement_changes(wanted or {}, actual_inline) if actual_inline else "none",
                    fix,
                )

    def _identity_center(self, accounts: list[str]) -> None:
        sso = self.caller.client("sso-admin")
        instance = sso.list_instances()["Instances"][0]
        instance_arn = instance["InstanceArn"]
        store = self.caller.client("identitystore")
        group_names = {
            g["GroupId"]: g["DisplayName"]
            for g in every(
                store, "list_groups", "Groups", IdentityStoreId=instance["IdentityStoreId"]
            )
        }
        set_names = permission_set_names(sso, instance_arn)
        for name in accounts:
            account_id = self.zone.account_ids[name]
            if account_id == PENDING_ID:
                continue
            wanted = {(row.group, row.permission_set) for row in self.zone.assignments_for(name)}
            live = set()
            # Every permission set of the instance, not only those AWS lists as provisioned to
            # the account: an assignment is what grants access.
            for set_arn in set_names:
                for assignment in every(
                    sso,
                    "list_account_assignments",
                    "AccountAssignments",
                    InstanceArn=instance_arn,
                    AccountId=account_id,
                    PermissionSetArn=set_arn,
                ):
                    principal = assignment["PrincipalId"]
                    who = (
                        group_names.get(principal, f"group {principal}")
                        if assignment["PrincipalType"] == "GROUP"
                        else f"user {principal}"
                    )
                    live.add((who, set_names.get(set_arn, set_arn)))
            for group, permission_set in sorted(live - wanted):
                self._drift(
                    name,
                    "assignment not in the access matrix",
                    f"{group} -> {permission_set}",
                    "no access",
                    "assigned",
                    "`diagnyx isolate` removes access; or delete the assignment in Identity "
                    "Center; or add it to diagnyx:accessMatrix",
                )
            for group, permission_set in sorted(wanted - live):
                self._drift(
                    name,
                    "assignment missing",
                    f"{group} -> {permission_set}",
                    "assigned",
                    "no access",
                    AFTER_ISOLATION + "run `pulumi up -s management`",
                )

    # --- each account ---------------------------------------------------------------------------

    def _account(self, name: str) -> None:
        """Each part on its own: one that cannot be looked at leaves the others compared."""
        account_id = self.zone.account_ids[name]
        management = account_id == self.zone.account_ids[MANAGEMENT_ACCOUNT]
        try:
            aws = self.caller if management else self.caller.assume(account_id, self.access_role)
        except Exception as error:
            problem = classify(error)
            reason = f"cannot assume {self.access_role} in {account_id}: {problem.message}"
            self.report.not_looked.append(NotLooked(name, "account", reason, problem.kind))
            return
        self._look(name, "IAM", lambda: self._iam(name, aws))
        self._look(name, "state bucket", lambda: self._state_bucket(name, aws))
        self._look(name, "audit archive", lambda: self._audit_archive(name, aws))
        self._look(name, "config bucket", lambda: self._config_bucket(name, aws))
        self._look(name, "key", lambda: self._key(name, aws))
        self._look(name, "budget", lambda: self._budget(name, aws))
        self._look(name, "network", lambda: self._network(name, aws))

    def _iam(self, name: str, aws: Aws) -> None:
        """Users and roles from one snapshot of the account's IAM: GetAccountAuthorizationDetails
        returns every user and every role with its trust policy, attached managed policies and
        inline policy documents (IAM API Reference), where listing them took a dozen calls."""
        iam = aws.client("iam")
        users, roles = _authorization_details(iam)
        self._users(name, iam, users)
        settings = self.zone.stacks.get(name)
        if settings is None:
            return
        trusts = self._trusts(name)  # the roles the program renders for the account
        self._unknown_roles(name, roles, trusts)
        self._organization_access_role(name, roles.get(naming.ORG_ACCESS_ROLE))
        self._preview_state_policy(name, roles.get(naming.PREVIEW_ROLE), aws)
        self._baseline_roles(name, roles, trusts)
        cicd = rendered_cicd_policy(settings)
        self._inline_policy(name, roles.get(naming.CICD_ROLE), naming.CICD_POLICY, cicd)
        if naming.DRIFT_ROLE in trusts:
            reads = iam_policies.drift_reads(
                settings.is_management,
                settings.known_member_account_ids() if settings.is_management else (),
            )
            policy = json.loads(to_json(reads))
            self._inline_policy(name, roles.get(naming.DRIFT_ROLE), naming.DRIFT_POLICY, policy)
        if naming.COST_EXPLORER_ROLE in trusts:
            reads = json.loads(to_json(cost.cost_explorer_permissions()))
            role = roles.get(naming.COST_EXPLORER_ROLE)
            self._inline_policy(name, role, naming.COST_EXPLORER_POLICY, reads)
        if naming.ALARM_FORWARDING_ROLE in trusts:
            forwards = json.loads(
                to_json(forwarding_permissions(settings.region, settings.account_id))
            )
            role = roles.get(naming.ALARM_FORWARDING_ROLE)
            self._inline_policy(name, role, naming.ALARM_FORWARDING_POLICY, forwards)

    def _users(self, name: str, iam, users: list[dict]) -> None:
        for user in users:
            user_name = user["UserName"]
            keys = every(iam, "list_access_keys", "AccessKeyMetadata", UserName=user_name)
            try:
                iam.get_login_profile(UserName=user_name)
                password = True
            except Exception as error:
                if classify(error).kind != "missing":
                    raise
                password = False
            held = [f"{len(keys)} access key{'s' * (len(keys) != 1)}"]
            held += ["a console password"] if password else []
            self._drift(
                name,
                "IAM user",
                f"user {user_name}",
                "no IAM users (people sign in through Identity Center)",
                ", ".join(held),
                f"`aws iam delete-login-profile`, `delete-access-key` for each key, then "
                f"`aws iam delete-user --user-name {user_name}`",
            )

    def _baseline_roles(self, name: str, roles: dict[str, dict], trusts: dict[str, dict]) -> None:
        fix = f"run `pulumi up -s {name}`"
        for role, trust in trusts.items():
            live = roles.get(role)
            if live is None:
                self._drift(name, "role missing", f"role {role}", "present", "absent", fix)
                continue
            if _without_external_ids(_document(live["AssumeRolePolicyDocument"])) != trust:
                self._drift(
                    name,
                    "trust policy changed",
                    f"role {role}",
                    "the trust policy the program renders",
                    "another trust policy",
                    fix,
                )
            managed = {p["PolicyArn"] for p in live.get("AttachedManagedPolicies", [])}
            for extra in sorted(managed - ROLE_MANAGED_POLICIES[role]):
                self._drift(
                    name,
                    "role policy not in config",
                    f"role {role}: {extra}",
                    "not attached",
                    "attached",
                    f"`aws iam detach-role-policy --role-name {role} --policy-arn {extra}`",
                )
            for extra in sorted(set(_inline_policies(live)) - ROLE_INLINE_POLICIES[role]):
                self._drift(
                    name,
                    "role policy not in config",
                    f"role {role}: inline {extra}",
                    "absent",
                    "present",
                    f"`aws iam delete-role-policy --role-name {role} --policy-name {extra}`",
                )

    def _unknown_roles(self, name: str, roles: dict[str, dict], trusts: dict[str, dict]) -> None:
        """Every role beyond the program's and AWS's own (service-linked roles, Identity
        Center's reserved ones): a role made by hand is a way in nobody reviewed."""
        # The roles the program renders for the account, and the one AWS makes with a member.
        expected = set(trusts) | ({naming.ORG_ACCESS_ROLE} if name != MANAGEMENT_ACCOUNT else set())
        for role_name, role in roles.items():
            path = role.get("Path", "/")
            if role_name in expected or any(
                path.startswith(prefix) and role_name.startswith(name_start)
                for prefix, name_start in AWS_ROLES
            ):
                continue
            self._drift(
                name,
                "role not in config",
                f"role {role_name}",
                "absent",
                f"present (trusts {_principals(_document(role['AssumeRolePolicyDocument']))})",
                f"delete it (`aws iam delete-role --role-name {role_name}`, after its "
                "policies), or have the program manage it",
            )

    def _organization_access_role(self, name: str, live: dict | None) -> None:
        """The role AWS makes in every member for the management account, and only for it."""
        if name == MANAGEMENT_ACCOUNT or live is None:
            return  # an account invited rather than created has none: nothing to compare
        management = self.zone.account_ids[MANAGEMENT_ACCOUNT]
        wanted = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
            "Action": "sts:AssumeRole",
        }
        statements = _document(live["AssumeRolePolicyDocument"]).get("Statement")
        statements = [statements] if isinstance(statements, dict) else statements
        if [{k: v for k, v in st.items() if k != "Sid"} for st in statements or []] != [wanted]:
            self._drift(
                name,
                "trust policy changed",
                f"role {naming.ORG_ACCESS_ROLE}",
                f"the management account {management} only",
                f"trusts {_principals(_document(live['AssumeRolePolicyDocument']))}",
                f"restore its trust to arn:aws:iam::{management}:root "
                f"(`aws iam update-assume-role-policy --role-name {naming.ORG_ACCESS_ROLE}`)",
            )

    def _preview_state_policy(self, name: str, role: dict | None, aws: Aws) -> None:
        """The pull-request role's inline policy: what any pull request's job may read."""
        actual = _inline_policies(role or {}).get(naming.PREVIEW_STATE_POLICY)
        if actual is None:
            return  # missing: preview fails, it opens nothing
        key = self._key_metadata(name, aws)
        if key is None:
            return  # the key part reports it missing; the policy names no key to compare
        settings = self.zone.stacks[name]
        key_arn = key["Arn"]
        bucket = state_bucket_name(settings.account_id, settings.region)
        wanted = json.loads(
            to_json(iam_policies.preview_state_access(f"arn:aws:s3:::{bucket}", key_arn))
        )
        if actual != wanted:
            self._drift(
                name,
                "role policy changed",
                f"role {naming.PREVIEW_ROLE}: inline {naming.PREVIEW_STATE_POLICY}",
                "the document the program renders",
                _statement_changes(wanted, actual),
                f"run `pulumi up -s {name}`",
            )

    def _trusts(self, name: str) -> dict[str, dict]:
        """Each baseline role's trust policy as the program renders it (external IDs aside: they
        are secrets config holds encrypted)."""
        settings = self.zone.stacks[name]
        ids = self.zone.account_ids
        oidc = f"arn:aws:iam::{settings.account_id}:oidc-provider/{iam_policies.GITHUB_OIDC_HOST}"
        prefix = settings.effective_github_subject_prefix
        shared = ids["shared"] if ids["shared"] != PENDING_ID else None
        trusts = {
            naming.CICD_ROLE: iam_policies.cicd_trust_policy(
                shared,
                _SECRET if settings.is_workload else None,
                oidc,
                github_deploy_subject(prefix, name),
            ),
            naming.PREVIEW_ROLE: iam_policies.preview_trust_policy(
                oidc, github_pull_request_subject(prefix)
            ),
        }
        if ids[SECURITY_ACCOUNT] != PENDING_ID:
            trusts[naming.AUDIT_ROLE] = iam_policies.audit_trust_policy(ids[SECURITY_ACCOUNT])
        if settings.is_management:
            drift_subject = github_drift_subject(prefix)
            trusts[naming.DRIFT_ROLE] = iam_policies.drift_trust_policy(oidc, drift_subject)
        elif ids[MANAGEMENT_ACCOUNT] != PENDING_ID:
            management = ids[MANAGEMENT_ACCOUNT]
            trusts[naming.DRIFT_ROLE] = iam_policies.drift_member_trust_policy(management)
        if principals := settings.known_cost_explorer_principals():
            trusts[naming.COST_EXPLORER_ROLE] = cost.cost_explorer_trust(principals)
        if any(r != settings.region for r in settings.allowed_regions):
            trusts[naming.ALARM_FORWARDING_ROLE] = forwarding_trust_policy(settings.account_id)
        enabled = self.organization_settings.security_services.enabled()
        if settings.audit_archive is not None and AWS_CONFIG in enabled:
            trusts[CONFIG_AGGREGATOR_ROLE] = aggregator_trust_policy(settings.account_id)
        return {role: _without_external_ids(json.loads(to_json(t))) for role, t in trusts.items()}

    def _inline_policy(
        self, name: str, role: dict | None, policy_name: str, wanted: dict[str, Any]
    ) -> None:
        """A baseline role's inline policy against the document the program renders."""
        if role is None:
            return  # the role itself missing is reported once, as such
        target = f"role {role['RoleName']}: inline {policy_name}"
        fix = f"run `pulumi up -s {name}`"
        actual = _inline_policies(role).get(policy_name)
        if actual is None:
            isolated = AFTER_ISOLATION if policy_name == naming.CICD_POLICY else ""
            self._drift(name, "role policy missing", target, "present", "absent", isolated + fix)
            return
        if actual != wanted:
            self._drift(
                name,
                "role policy changed",
                target,
                "the document the program renders",
                _statement_changes(wanted, actual),
                fix,
            )

    def _state_bucket(self, name: str, aws: Aws) -> None:
        settings = self.zone.stacks.get(name)
        if settings is None:
            return
        bucket = state_bucket_name(settings.account_id, settings.region)
        policy = document(deny_insecure_transport(f"arn:aws:s3:::{bucket}"))
        self._bucket(name, aws, "state bucket", bucket, policy)

    def _audit_archive(self, name: str, aws: Aws) -> None:
        """The organization trail's archive (the security account): its policy admits the
        management account's trail only, and Object Lock keeps what config says, as long."""
        settings = self.zone.stacks.get(name)
        if settings is None or settings.audit_archive is None:
            return
        bucket = naming.audit_bucket_name(settings.account_id)
        arn = f"arn:aws:s3:::{bucket}"
        trail = trail_arn(settings.region, self.zone.account_ids[MANAGEMENT_ACCOUNT])
        policy = document(
            *trail_delivery_statements(arn, trail),
            *archive_delivery_statements(arn, settings.account_id),
            deny_insecure_transport(arn),
        )
        archive = settings.audit_archive
        lock = (archive.object_lock_mode, archive.retention_days)
        self._bucket(name, aws, "audit archive", bucket, policy, lock)

    def _config_bucket(self, name: str, aws: Aws) -> None:
        """AWS Config's bucket beside the archive: it admits the recorders of every account
        config knows (policies/security_services.py)."""
        settings = self.zone.stacks.get(name)
        if settings is None or settings.audit_archive is None:
            return
        bucket = config_bucket_name(settings.account_id)
        arn = f"arn:aws:s3:::{bucket}"
        known = [i for i in self.zone.account_ids.values() if i != PENDING_ID]
        policy = document(*config_bucket_statements(arn, known), deny_insecure_transport(arn))
        self._bucket(name, aws, "config bucket", bucket, policy)

    def _bucket(
        self,
        name: str,
        aws: Aws,
        label: str,
        bucket: str,
        policy: dict,
        lock: tuple[str, int] | None = None,
    ) -> None:
        """Versioning, the public access block, KMS encryption and the policy, as SecureBucket
        makes them (components/secure_bucket.py); with ``lock``, Object Lock's default
        retention (mode, days)."""
        s3 = aws.client("s3")
        target = f"{label} {bucket}"
        fix = f"run `pulumi up -s {name}`"
        try:
            versioning = s3.get_bucket_versioning(Bucket=bucket)
        except Exception as error:
            if classify(error).kind != "missing":
                raise
            self._drift(name, f"{label} missing", target, "present", "absent", fix)
            return
        if versioning.get("Status") != "Enabled":
            self._drift(name, "bucket versioning off", target, "Enabled", "not enabled", fix)
        block = _setting_or_none(
            lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        )
        off = sorted(setting for setting in PUBLIC_ACCESS_BLOCK if not (block or {}).get(setting))
        if off:
            self._drift(
                name,
                "public access block changed",
                target,
                "all four settings on",
                f"off: {', '.join(off)}",
                fix,
            )
        rules = _setting_or_none(
            lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
        )
        rules = rules or []
        algorithms = sorted(
            {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
        )
        if algorithms != ["aws:kms"]:
            self._drift(
                name, "bucket encryption changed", target, "aws:kms", ", ".join(algorithms), fix
            )
        text = _setting_or_none(lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"])
        wanted = json.loads(to_json(policy))
        if text is None:
            self._drift(name, "bucket policy missing", target, "present", "absent", fix)
        elif (actual := json.loads(text)) != wanted:
            changes = _statement_changes(wanted, actual)
            self._drift(name, "bucket policy changed", target, "the policy the program renders",
                        changes, fix)  # fmt: skip
        if lock is not None:
            configuration = _setting_or_none(
                lambda: s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
            )
            retention = ((configuration or {}).get("Rule") or {}).get("DefaultRetention") or {}
            actual_lock = (retention.get("Mode"), retention.get("Days"))
            if actual_lock != lock:
                self._drift(
                    name,
                    "object lock retention changed",
                    target,
                    f"{lock[0]} for {lock[1]} days",
                    "none" if actual_lock == (None, None) else
                    f"{actual_lock[0]} for {actual_lock[1]} days",
                    fix,
                )  # fmt: skip

    def _key(self, name: str, aws: Aws) -> None:
        kms = aws.client("kms")
        target = f"key alias/diagnyx-{name}"
        metadata = self._key_metadata(name, aws)
        if metadata is None:
            self._drift(
                name, "key missing", target, "present", "absent", f"run `pulumi up -s {name}`"
            )
            return
        if metadata.get("KeyState") != "Enabled":
            self._drift(
                name,
                "key not enabled",
                target,
                "Enabled",
                str(metadata.get("KeyState")),
                f"`aws kms enable-key --key-id {metadata['KeyId']}` (or cancel its deletion)",
            )
        elif not kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"]:
            self._drift(
                name,
                "key rotation off",
                target,
                "rotation on",
                "rotation off",
                f"run `pulumi up -s {name}`",
            )

    def _key_metadata(self, name: str, aws: Aws) -> dict | None:
        """The account key's metadata (None when the alias or key is gone), described once: the
        pull-request role's policy names the key too."""
        if name not in self._keys:
            kms = aws.client("kms")
            self._keys[name] = _setting_or_none(
                lambda: kms.describe_key(KeyId=f"alias/diagnyx-{name}")["KeyMetadata"]
            )
        return self._keys[name]

    def _network(self, name: str, aws: Aws) -> None:
        """A workload VPC (tag Name `diagnyx-<stack>`): its default security group without any
        rule, and no peering connection beyond network.peerings."""
        settings = self.zone.stacks.get(name)
        if settings is None or settings.network is None:
            return
        ec2 = aws.client("ec2")
        vpcs = every(
            ec2,
            "describe_vpcs",
            "Vpcs",
            Filters=[{"Name": "tag:Name", "Values": [f"diagnyx-{name}"]}],
        )
        fix = f"run `pulumi up -s {name}`"
        for vpc in vpcs:
            vpc_id = vpc["VpcId"]
            groups = every(
                ec2,
                "describe_security_groups",
                "SecurityGroups",
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "group-name", "Values": ["default"]},
                ],
            )
            for group in groups:
                rules = len(group.get("IpPermissions") or [])
                rules += len(group.get("IpPermissionsEgress") or [])
                if rules:
                    self._drift(
                        name,
                        "default security group has rules",
                        f"{group['GroupId']} of {vpc_id}",
                        "no rules",
                        f"{rules} rules",
                        fix,
                    )
            self._peerings(name, ec2, vpc_id)

    def _peerings(self, name: str, ec2, vpc_id: str) -> None:
        allowed = _peers(self.zone, name)
        connections = []
        for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
            connections += every(
                ec2,
                "describe_vpc_peering_connections",
                "VpcPeeringConnections",
                Filters=[{"Name": side, "Values": [vpc_id]}],
            )
        seen = set()
        for connection in connections:
            status = (connection.get("Status") or {}).get("Code")
            connection_id = connection["VpcPeeringConnectionId"]
            if connection_id in seen or status in ("deleted", "rejected", "failed", "expired"):
                continue
            seen.add(connection_id)
            sides = (
                connection.get("RequesterVpcInfo") or {},
                connection.get("AccepterVpcInfo") or {},
            )
            other = next((s for s in sides if s.get("VpcId") != vpc_id), {})
            peer = f"{other.get('VpcId')} of {other.get('OwnerId')}"
            if other.get("OwnerId") not in allowed:
                self._drift(
                    name,
                    "peering connection not in config",
                    f"{connection_id} ({vpc_id} with {peer})",
                    "no such peering",
                    str(status),
                    f"`aws ec2 delete-vpc-peering-connection --vpc-peering-connection-id "
                    f"{connection_id}`, or add the pair to diagnyx:network.peerings",
                )

    def _budget(self, name: str, aws: Aws) -> None:
        settings = self.zone.stacks.get(name)
        if settings is None:
            return
        budget_name = f"diagnyx-{name}-monthly"
        budgets = aws.client("budgets")
        target = f"budget {budget_name}"
        fix = f"run `pulumi up -s {name}`"
        try:
            budget = budgets.describe_budget(AccountId=settings.account_id, BudgetName=budget_name)[
                "Budget"
            ]
        except Exception as error:
            if classify(error).kind != "missing":
                raise
            self._drift(name, "budget missing", target, "present", "absent", fix)
            return
        amount = float(budget["BudgetLimit"]["Amount"])
        if amount != settings.budget.monthly_limit_usd:
            self._drift(
                name,
                "budget amount changed",
                target,
                f"${settings.budget.monthly_limit_usd:g}/month",
                f"${amount:g}/month",
                fix,
            )
        notifications = budgets.describe_notifications_for_budget(
            AccountId=settings.account_id, BudgetName=budget_name
        )["Notifications"]
        actual = {(n["NotificationType"], float(n["Threshold"])) for n in notifications}
        wanted = set(settings.budget.thresholds())
        if actual != wanted:
            self._drift(
                name, "budget alerts changed", target, _alerts(wanted), _alerts(actual), fix
            )


def _authorization_details(iam) -> tuple[list[dict], dict[str, dict]]:
    """The account's users, and its roles by name, from every page of the snapshot."""
    users: list[dict] = []
    roles: dict[str, dict] = {}
    pages = iam.get_paginator("get_account_authorization_details").paginate(Filter=["User", "Role"])
    for page in pages:
        users += page.get("UserDetailList", [])
        roles |= {role["RoleName"]: role for role in page.get("RoleDetailList", [])}
    return users, roles


def _inline_policies(role: dict) -> dict[str, Any]:
    """A role's inline policies by name, each document decoded."""
    return {p["PolicyName"]: _document(p["PolicyDocument"]) for p in role.get("RolePolicyList", [])}


def _peers(zone: LandingZone, name: str) -> set[str]:
    """The account IDs ``name``'s VPC may be peered with (network.peerings)."""
    settings = zone.stacks[name]
    pairs = settings.network.peerings if settings.network else []
    return {zone.account_ids[b if a == name else a] for a, b in pairs if name in (a, b)}


def _setting_or_none(read: Callable[[], Any]) -> Any:
    """What ``read`` returns, or None when AWS says it is not there (a setting deleted)."""
    try:
        return read()
    except Exception as error:
        if classify(error).kind == "missing" or _error_code(error).startswith("NoSuch"):
            return None
        raise


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code if isinstance(code, str) else ""


def _alerts(alerts: set[tuple[str, float]]) -> str:
    return ", ".join(f"{kind.lower()} {percent:g}%" for kind, percent in sorted(alerts)) or "none"


def _document(value: Any) -> Any:
    """A policy document as IAM returns it: boto3 decodes it into a dict, an emulator may hand
    back the (URL-decoded) JSON text."""
    return json.loads(value) if isinstance(value, str) else value


def _without_external_ids(document: Any) -> Any:
    """``document`` with every sts:ExternalId value replaced by one placeholder: config holds
    the external ID encrypted, so its value is not compared, only where it is required. Only a
    single non-empty value is replaced: a list of several (one an attacker knows) or an empty
    one stays as written, and differs from the rendered policy."""
    if isinstance(document, dict):
        return {
            key: (
                {k: _SECRET for k in value}
                if key == "StringEquals" and _external(value)
                else _without_external_ids(value)
            )
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [_without_external_ids(item) for item in document]
    return document


def _external(condition: Any) -> bool:
    if not isinstance(condition, dict) or set(condition) != {"sts:ExternalId"}:
        return False
    value = condition["sts:ExternalId"]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return isinstance(value, str) and value != ""


def _principals(document: Any) -> str:
    """Who a trust policy admits, in one line."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    statements = [statements] if isinstance(statements, dict) else statements
    found = []
    for statement in statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        if isinstance(principal, dict):
            for values in principal.values():
                found += [values] if isinstance(values, str) else list(values)
        elif principal is not None:
            found.append(str(principal))
    return ", ".join(found) or "nobody"


def _statement_changes(wanted: dict, actual: dict) -> str:
    """What differs between two policy documents, by statement Sid."""

    def by_sid(document: dict) -> dict[str, Any]:
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        statements = [statements] if isinstance(statements, dict) else statements
        return {str(s.get("Sid", i)): s for i, s in enumerate(statements) if isinstance(s, dict)}

    wanted_sids, actual_sids = by_sid(wanted), by_sid(actual)
    parts = []
    if added := sorted(set(actual_sids) - set(wanted_sids)):
        parts.append(f"statements added: {', '.join(added)}")
    if removed := sorted(set(wanted_sids) - set(actual_sids)):
        parts.append(f"statements removed: {', '.join(removed)}")
    changed = sorted(
        sid for sid in set(wanted_sids) & set(actual_sids) if wanted_sids[sid] != actual_sids[sid]
    )
    if changed:
        parts.append(f"statements changed: {', '.join(changed)}")
    return "; ".join(parts) or "another document"


def summary(report: DriftReport) -> str:
    """The report's last line: what drifted, or that nothing did (and whether all was seen)."""
    if report.drifts:
        where = sorted({d.account for d in report.drifts}, key=lambda a: (a != ORGANIZATION, a))
        places = ", ".join(where[:-1]) + f" and {where[-1]}" if len(where) > 1 else where[0]
        return f"{len(report.drifts)} drifted, in {places}"
    if report.not_looked:
        return "no drift where AWS could be looked at; not everything was (exit 3)"
    return "no drift: AWS matches config"


def as_markdown(report: DriftReport) -> str:
    """The report as GitHub Markdown (the scheduled check's issue): the parts not looked at
    first (a long table cut to fit an issue must not hide them), a table of what drifted, the
    summary line. Whatever came from AWS (names, policy Sids, error messages: a compromised
    account chooses them) sits in code spans, where GitHub makes no link, mention, reference or
    HTML of it."""
    lines = []
    if report.not_looked:
        lines.append("Not looked at:")
        lines += [
            f"- {markdown_code(n.part, False)} ({markdown_code(n.account, False)}): "
            f"{markdown_code(n.reason, False)}"
            for n in report.not_looked
        ]
        lines.append("")
    if report.drifts:
        lines += [
            "| account | kind | target | expected | actual | fix |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for d in report.drifts:
            cells = (d.account, d.kind, d.target, d.expected, d.actual, d.fix)
            lines.append("| " + " | ".join(markdown_code(c) for c in cells) + " |")
        lines.append("")
    lines.append(f"**{summary(report)}**")
    return "\n".join(lines) + "\n"


def render(report: DriftReport, console: Console) -> None:
    """A table of what drifted, the parts not looked at, and one line of summary."""
    if report.drifts:
        table = Table(title="Drift: AWS against config")
        for column in ("account", "kind", "target", "expected", "actual", "fix"):
            table.add_column(column, overflow="fold")
        for d in report.drifts:  # text from AWS, never markup (a name may hold "[link=...]")
            cells = (d.account, d.kind, d.target, d.expected, d.actual, d.fix)
            table.add_row(*(Text(printable(cell)) for cell in cells))
        console.print(table)
    for n in report.not_looked:
        console.print(
            printable(f"could not look at {n.part} ({n.account}): {n.reason}"),
            markup=False,
            highlight=False,
            emoji=False,
        )
    console.print(summary(report), markup=False, highlight=False, emoji=False)
