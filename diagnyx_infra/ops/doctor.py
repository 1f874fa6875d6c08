"""`diagnyx doctor`: the guide's troubleshooting section in one command — who am I, is the
organization healthy, is every account active, does Identity Center hold its permission sets and
assignments, does the registrar delegate the domain, can the management account reach every
member, and does each cross-account role admit exactly whom it should (its live trust is read,
not tried: the deploy role admits GitHub jobs, which a laptop is not)."""

import json
from collections.abc import Callable

from botocore.exceptions import ClientError

from .. import naming
from ..config.models import (
    MANAGEMENT_ACCOUNT,
    PENDING_ID,
    SECURITY_ACCOUNT,
    SHARED_SERVICES_ACCOUNT,
)
from ..delivery import github_deploy_subject
from ..policies.iam import GITHUB_OIDC_HOST, audit_trust_policy, role_arn
from .aws import Aws
from .findings import PENDING, CannotCheck, Finding, Status, run_check
from .identity_center import permission_set_names
from .landing_zone import LandingZone

ORGANIZATION = "organization"


# Who answers "which name servers does the registrar delegate this domain to?": the domain's
# name servers, or None when this registrar does not hold the domain.
Registrar = Callable[[str], list[str] | None]


def route53_domains(caller: Aws) -> Registrar:
    """The registrar when the domain is registered with Route 53 Domains (us-east-1 only)."""

    def name_servers(domain: str) -> list[str] | None:
        # With the tooling's timeouts and retries, like every other call.
        domains = caller.client("route53domains", region="us-east-1")
        try:
            detail = domains.get_domain_detail(DomainName=domain)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("InvalidInput", "UnsupportedTLD"):
                return None
            raise
        return [n["Name"] for n in detail["Nameservers"]]

    return name_servers


def diagnose(caller: Aws, zone: LandingZone, registrar: Registrar | None = None) -> list[Finding]:
    findings = [
        run_check(
            ORGANIZATION,
            "caller identity",
            lambda: _identity(caller, zone),
            "run with credentials of the management account",
        ),
        run_check(
            ORGANIZATION,
            "organization",
            lambda: _organization(caller, zone),
            "`aws organizations describe-organization`; run `pulumi up -s management`",
        ),
        run_check(
            ORGANIZATION,
            "Identity Center",
            lambda: _identity_center(caller),
            "enable IAM Identity Center in the console, then `pulumi up -s management`",
        ),
    ]
    shared = zone.stacks.get(SHARED_SERVICES_ACCOUNT)
    if shared is not None and shared.shared_services is not None:
        domain = shared.shared_services.domain
        findings.append(
            run_check(
                SHARED_SERVICES_ACCOUNT,
                "DNS delegation",
                lambda: delegation(caller, zone, domain, registrar or route53_domains(caller)),
                f"set {domain}'s name servers at its registrar to `pulumi stack output "
                "nameServers -s shared`; certificates wait until this passes",
            )
        )
    for name in zone.account_names():
        account_id = zone.account_ids[name]
        if account_id == PENDING_ID:
            findings.append(
                Finding(
                    name,
                    "account status",
                    Status.CANNOT,
                    "the account's ID is pending in config: not created or not synced yet",
                    "deploy the management stack, then `diagnyx accounts sync`",
                    PENDING,
                )
            )
            continue
        findings.append(
            run_check(
                name,
                "account status",
                lambda a=account_id: _account(caller, a),
                "`aws organizations describe-account`; new accounts take minutes",
            )
        )
        if name != MANAGEMENT_ACCOUNT:
            findings.append(
                run_check(
                    name,
                    f"assume {naming.ORG_ACCESS_ROLE}",
                    lambda a=account_id: _assumes(caller.assume(a)),
                    "its trust policy must allow the management account (AWS creates it so)",
                )
            )
        session = _session_in(caller, zone, account_id)
        findings.append(
            run_check(
                name,
                f"who can assume {naming.CICD_ROLE}",
                lambda n=name, open_=session: _deploy_trust(open_(), zone, n),
                "its trust must name only GitHub OIDC for this stack's job (and, in workload "
                "accounts, the shared services account's deploy role with an external ID); run "
                f"`pulumi up -s {name}`",
            )
        )
        findings.append(
            run_check(
                name,
                f"who can assume {naming.AUDIT_ROLE}",
                lambda open_=session: _audit_trust(open_(), zone),
                f"its trust must name only the security account's Auditor seat; run "
                f"`pulumi up -s {name}`",
            )
        )
    return findings


def _identity(caller: Aws, zone: LandingZone) -> tuple[bool, str]:
    identity = caller.client("sts").get_caller_identity()
    expected = zone.account_ids[MANAGEMENT_ACCOUNT]
    ok = identity["Account"] == expected
    return ok, f"{identity['Arn']}" + ("" if ok else f" (not the management account {expected})")


def _organization(caller: Aws, zone: LandingZone) -> tuple[bool, str]:
    organization = caller.client("organizations").describe_organization()["Organization"]
    problems = []
    if organization["FeatureSet"] != "ALL":
        problems.append(f"feature set {organization['FeatureSet']}, expected ALL")
    if organization["MasterAccountId"] != zone.account_ids[MANAGEMENT_ACCOUNT]:
        problems.append("config's management account ID is not the organization's")
    return not problems, "; ".join(problems) or f"{organization['Id']}, all features"


def _identity_center(caller: Aws) -> tuple[bool, str]:
    sso = caller.client("sso-admin")
    instances = sso.list_instances()["Instances"]
    if not instances:
        return False, "no Identity Center instance"
    instance = instances[0]["InstanceArn"]
    names = list(permission_set_names(sso, instance).values())
    return bool(names), f"{instance}: permission sets {', '.join(sorted(names)) or 'none'}"


def _account(caller: Aws, account_id: str) -> tuple[bool, str]:
    account = caller.client("organizations").describe_account(AccountId=account_id)["Account"]
    state = account.get("State") or account.get("Status")
    return state == "ACTIVE", f"{account['Name']} {state}"


def _assumes(session: Aws) -> tuple[bool, str]:
    identity = session.client("sts").get_caller_identity()
    return True, identity["Arn"]


def _session_in(caller: Aws, zone: LandingZone, account_id: str):
    if account_id == zone.account_ids[MANAGEMENT_ACCOUNT]:
        return lambda: caller
    return lambda: caller.assume(account_id)


def _trust(aws: Aws, role: str) -> dict:
    document = aws.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


def _deploy_trust(aws: Aws, zone: LandingZone, name: str) -> tuple[bool, str]:
    """Who the live trust admits, against who it should: the GitHub job of this stack, and in
    workload accounts the shared services account's deploy role with an external ID."""
    settings = zone.stacks.get(name)
    if settings is None:
        raise CannotCheck(f"no stack file for {name}")
    expected_subject = github_deploy_subject(settings.effective_github_subject_prefix, name)
    shared_role = role_arn(zone.account_ids[SHARED_SERVICES_ACCOUNT], naming.CICD_ROLE)
    problems, admitted = [], []
    for statement in _trust(aws, naming.CICD_ROLE).get("Statement", []):
        principal = statement.get("Principal") or {}
        condition = statement.get("Condition") or {}
        if "Federated" in principal:
            subject = condition.get("StringEquals", {}).get(f"{GITHUB_OIDC_HOST}:sub")
            admitted.append(f"GitHub {subject}")
            if subject != expected_subject:
                problems.append(f"OIDC subject {subject!r}, expected {expected_subject!r}")
        elif principal.get("AWS") == shared_role and settings.is_workload:
            admitted.append("the shared services deploy role")
            if "sts:ExternalId" not in condition.get("StringEquals", {}):
                problems.append("the shared services deploy role without an external ID")
        else:
            problems.append(f"unexpected principal {json.dumps(principal)}")
    return not problems, "; ".join(problems) or "admits " + ", ".join(admitted)


def _audit_trust(aws: Aws, zone: LandingZone) -> tuple[bool, str]:
    expected = audit_trust_policy(zone.account_ids[SECURITY_ACCOUNT])["Statement"]
    found = _trust(aws, naming.AUDIT_ROLE).get("Statement", [])

    def without_sids(statements: list[dict]) -> list[dict]:
        return [{k: v for k, v in s.items() if k != "Sid"} for s in statements]

    if without_sids(found) == without_sids(expected):
        return True, "admits the security account's Auditor seat only"
    return False, f"trust is not the Auditor seat only: {json.dumps(found)}"


def delegation(
    caller: Aws, zone: LandingZone, domain: str, registrar: Registrar
) -> tuple[bool, str]:
    """The registrar's answer against the name servers of the domain's zone in the shared
    account (those of its reusable delegation set). ACM validates DNS only once they agree."""
    route53 = caller.assume(zone.account_ids[SHARED_SERVICES_ACCOUNT]).client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=domain)["HostedZones"]
    hosted = next((z for z in zones if z["Name"].rstrip(".") == domain), None)
    if hosted is None:
        return False, f"no hosted zone {domain} in the shared account: `pulumi up -s shared` first"
    served = _name_servers(route53.get_hosted_zone(Id=hosted["Id"])["DelegationSet"]["NameServers"])
    answered = registrar(domain)
    if answered is None:
        raise CannotCheck(
            f"{domain} is not registered with Route 53 Domains: compare `dig +short NS {domain}` "
            f"with {', '.join(served)}"
        )
    if _name_servers(answered) != served:
        return False, (
            f"the registrar delegates {domain} to {', '.join(_name_servers(answered))}, not to "
            f"{', '.join(served)}"
        )
    return True, f"{domain} delegated to {', '.join(served)}"


def _name_servers(names: list[str]) -> list[str]:
    return sorted(n.rstrip(".").lower() for n in names)
