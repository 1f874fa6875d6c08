"""Who can assume each role the landing zone creates, what it can do, and whether any chain leads
from a foothold to control of the organization or its audit trail.

It reads the stacks as the program registers them (offline, under mocks), so it proves the
program's documents, not a live account's (`diagnyx drift` compares with AWS). The attacker may
hold any principal in a shared or workload account, a pull request's or the scheduled drift
check's OIDC token, or a Developer, DevOps, Finance or Auditor seat; external IDs are assumed known
(they are confused-deputy protection, not passwords); a foothold can also take any role name
outside AWS's reserved paths.
A principal that can rewrite a role's trust reaches that role; one that can write a role's
policies (its own included) reaches that role with everything its permissions boundary allows
(its ceiling); one that can create unbounded roles or IAM users administers its account.
Resource policies of the audit key and archive count for principals of other accounts. SCPs are
not counted: the proof must hold without them.
"""

import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import naming
from .access_matrix import expand
from .config.models import MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, StackSettings
from .delivery import DRIFT_ENVIRONMENT, github_drift_subject, github_pull_request_subject
from .engine.runner import StackRecording
from .policies import aws_managed
from .policies.audit import trail_arn
from .policies.evaluation import Request, allows, decision
from .policies.iam import GITHUB_OIDC_HOST, role_arn
from .policies.identity import PERMISSION_SETS

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
ATTACKER_ACCOUNTS = ("shared", "dev", "staging", "uat", "prod")
ATTACKER_SEATS = ("Developer", "DevOps", "Finance", "Auditor")

ADMIN = "administrator"
ORGANIZATION_WRITE = "organization write"
TRAIL_WRITE = "trail write"
ARCHIVE_WRITE = "archive write"
KEY_WRITE = "key write"
DATA_READ = "data read"


@dataclass
class Principal:
    """A node: a role, an Identity Center seat, an attacker's foothold, or an OIDC token."""

    key: str
    kind: str  # role | seat | foothold | oidc
    account: str  # account name ("" for an OIDC token)
    arn: str = ""
    trust: dict | None = None
    policies: list[dict] = field(default_factory=list)
    boundary: dict | None = None
    subject: str = ""  # an OIDC token's `sub`
    capabilities: set[str] = field(default_factory=set)
    trusted_by: list[str] = field(default_factory=list)  # readable trust summary


@dataclass
class Analysis:
    principals: dict[str, Principal]
    account_ids: dict[str, str]
    edges: dict[str, set[str]]
    attackers: list[str]
    chains: list[list[str]]  # attacker ... -> a principal with a forbidden capability

    def roles(self) -> list[Principal]:
        return [p for p in self.principals.values() if p.kind == "role"]


def _managed_document(arn: str, customer: Mapping[str, dict]) -> dict:
    if arn.startswith(AWS_MANAGED_PREFIX):
        return aws_managed.catalogue()[arn.rsplit("/", 1)[-1]].document
    return customer[arn]


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


def _roles_of(recording: StackRecording, settings: StackSettings) -> list[Principal]:
    account = settings.stack
    customer = {}  # a managed policy by its ARN, as the engine and as AWS write it
    for policy in recording.of_type(MANAGED_POLICY):
        document = _json(policy.inputs["policy"])
        customer[policy.state.get("arn", "")] = document
        customer[f"arn:aws:iam::{settings.account_id}:policy/{policy.inputs['name']}"] = document
    found = []
    # By name: a real engine registers in no fixed order, so the report does not follow it.
    for role in sorted(recording.of_type(ROLE), key=lambda r: r.inputs["name"]):
        name = role.inputs["name"]
        policies = [
            _json(p.inputs["policy"])
            for p in recording.of_type(ROLE_POLICY)
            if p.inputs["role"] in (role.id, name)
        ]
        policies += [
            _managed_document(a.inputs["policyArn"], customer)
            for a in recording.of_type(ATTACHMENT)
            if a.inputs["role"] in (role.id, name)
        ]
        boundary_ref = role.inputs.get("permissionsBoundary")
        boundary = customer.get(boundary_ref) if boundary_ref else None
        found.append(
            Principal(
                key=f"role:{account}:{name}",
                kind="role",
                account=account,
                arn=role_arn(settings.account_id, name),
                trust=_json(role.inputs["assumeRolePolicy"]),
                policies=policies,
                boundary=boundary,
            )
        )
    return found


def _break_glass_role(account: str, account_ids: Mapping[str, str]) -> Principal:
    """OrganizationAccountAccessRole, which AWS creates in every member account: administrator,
    trusted by the management account."""
    management_root = f"arn:aws:iam::{account_ids[MANAGEMENT_ACCOUNT]}:root"
    return Principal(
        key=f"role:{account}:{naming.ORG_ACCESS_ROLE}",
        kind="role",
        account=account,
        arn=role_arn(account_ids[account], naming.ORG_ACCESS_ROLE),
        trust={
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": management_root},
                    "Action": "sts:AssumeRole",
                }
            ]
        },
        policies=[aws_managed.catalogue()["AdministratorAccess"].document],
    )


def _seats(management: StackSettings, account_ids: Mapping[str, str]) -> list[Principal]:
    seats = {}
    for row in expand(management.access_assignments(), management.account_ous()):
        spec = PERMISSION_SETS[row.permission_set]
        policies = [_managed_document(arn, {}) for arn in spec.managed_policies]
        if spec.inline_policy is not None:
            policies.append(spec.inline_policy)
        key = f"seat:{row.permission_set}@{row.account}"
        seats[key] = Principal(
            key=key,
            kind="seat",
            account=row.account,
            arn=role_arn(
                account_ids[row.account],
                f"aws-reserved/sso.amazonaws.com/AWSReservedSSO_{row.permission_set}_0a1b2c3d4e5f",
            ),
            policies=policies,
        )
    return list(seats.values())


def _footholds(account_ids: Mapping[str, str]) -> list[Principal]:
    return [
        Principal(
            key=f"foothold:{account}",
            kind="foothold",
            account=account,
            arn=role_arn(account_ids[account], "attacker"),
            policies=[{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
        )
        for account in ATTACKER_ACCOUNTS
        if account in account_ids
    ]


def _without_external_ids(trust: dict) -> dict:
    """An external ID guards against a confused deputy, not an insider: assume it is known."""
    statements = []
    for statement in trust.get("Statement", []):
        condition = {
            operator: {k: v for k, v in keys.items() if k.lower() != "sts:externalid"}
            for operator, keys in (statement.get("Condition") or {}).items()
        }
        statements.append({**statement, "Condition": {o: k for o, k in condition.items() if k}})
    return {**trust, "Statement": statements}


def _effective(principal: Principal, request: Request) -> bool:
    if not allows(principal.policies, request):
        return False
    return principal.boundary is None or allows([principal.boundary], request)


RESERVED_PATHS = ("aws-reserved/", "aws-service-role/")  # IAM refuses roles created there


def _candidate_arns(role: Principal, principal: Principal) -> list[str]:
    """The ARNs a principal may present: its own; a foothold also any role name it can create
    in its account, so every `aws:PrincipalArn` pattern of the trust is tried."""
    arns = [principal.arn]
    if principal.kind != "foothold":
        return arns
    account_id = principal.arn.split(":")[4]
    for statement in (role.trust or {}).get("Statement", []):
        for keys in (statement.get("Condition") or {}).values():
            for key, values in keys.items():
                if key.lower() != "aws:principalarn":
                    continue
                for pattern in _as_list(values):
                    name = pattern.split(":role/", 1)[-1]
                    if pattern.split(":")[4] == account_id and not name.startswith(RESERVED_PATHS):
                        arns.append(pattern.replace("*", "x").replace("?", "x"))
    return arns


def _admits(role: Principal, principal: Principal) -> bool:
    trust = _without_external_ids(role.trust or {})
    if principal.kind == "oidc":
        context = {
            f"{GITHUB_OIDC_HOST}:sub": principal.subject,
            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
        }
        providers = {
            f
            for s in trust.get("Statement", [])
            for f in _as_list((s.get("Principal") or {}).get("Federated"))
        }
        return any(
            decision(
                trust,
                Request(
                    "sts:AssumeRoleWithWebIdentity",
                    role.arn,
                    federated=provider,
                    context={k.lower(): v for k, v in context.items()},
                ),
            )
            == "Allow"
            for provider in providers
        )
    for arn in _candidate_arns(role, principal):
        request = Request(
            "sts:AssumeRole",
            role.arn,
            principal_arn=arn,
            context={"aws:principalarn": arn, "aws:principalaccount": arn.split(":")[4]},
        )
        if decision(trust, request) == "Allow" and _effective(principal, request):
            return True
    return False


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class AuditResources:
    """The security account's audit key and archive: their ARNs and resource policies."""

    key_arn: str
    key_policy: dict
    bucket_arn: str
    bucket_policy: dict


def _audit_resources(recording: StackRecording, settings: StackSettings) -> AuditResources:
    bucket = naming.audit_bucket_name(settings.account_id)
    (key,) = recording.of_type("aws:kms/key:Key")
    policies = [
        _json(p.inputs["policy"])
        for p in recording.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if p.inputs["bucket"] == bucket
    ]
    return AuditResources(
        key_arn=f"arn:aws:kms:{settings.region}:{settings.account_id}:key/audit",
        key_policy=_json(key.inputs["policy"]),
        bucket_arn=f"arn:aws:s3:::{bucket}",
        bucket_policy=policies[0] if policies else {"Statement": []},
    )


ORGANIZATION_WRITES = (
    "identitystore:CreateGroupMembership",
    "organizations:AttachPolicy",
    "organizations:CreateAccount",
    "organizations:DetachPolicy",
    "organizations:DisableAWSServiceAccess",
    "organizations:DisablePolicyType",
    "organizations:MoveAccount",
    "organizations:RegisterDelegatedAdministrator",
    "organizations:UpdatePolicy",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:CreateAccountAssignment",
    "sso:PutInlinePolicyToPermissionSet",
)
TRAIL_WRITES = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
KEY_WRITES = ("DisableKey", "PutKeyPolicy", "ScheduleKeyDeletion", "CreateGrant")
ARCHIVE_WRITES = ("PutBucketPolicy", "DeleteBucketPolicy", "PutLifecycleConfiguration")
FORBIDDEN = (
    f"{ADMIN} of {MANAGEMENT_ACCOUNT}",
    f"{ADMIN} of {SECURITY_ACCOUNT}",
    ORGANIZATION_WRITE,
    TRAIL_WRITE,
    ARCHIVE_WRITE,
    KEY_WRITE,
)


def forbidden(capabilities: set[str]) -> set[str]:
    """What no foothold may reach: control of the organization or of its audit trail."""
    return capabilities & set(FORBIDDEN)


def _capabilities(
    principal: Principal, account_ids: Mapping[str, str], region: str, audit: AuditResources
) -> set[str]:
    account_id = account_ids.get(principal.account, "000000000000")
    arn = principal.arn or role_arn(account_id, "x")

    def can(action: str, resource: str, context: dict | None = None) -> bool:
        request = Request(action, resource, principal_arn=arn, context=context or {})
        return _effective(principal, request)

    def granted(policy: dict, action: str, resource: str) -> bool:
        """Across accounts: the resource policy must name the principal and its own allow it."""
        request = Request(action, resource, principal_arn=arn, context={"aws:principalarn": arn})
        return decision(policy, request) == "Allow" and _effective(principal, request)

    found = set()
    unbounded = {"iam:permissionsboundary": "none"}
    if (
        can("iam:CreateUser", f"arn:aws:iam::{account_id}:user/attacker")
        or can("iam:CreateRole", role_arn(account_id, "Attacker"), unbounded)
        or can("iam:UpdateAssumeRolePolicy", role_arn(account_id, naming.ORG_ACCESS_ROLE))
        or can("iam:PutRolePolicy", role_arn(account_id, "Attacker"), unbounded)
    ):
        found.add(f"{ADMIN} of {principal.account}")
    if principal.account == MANAGEMENT_ACCOUNT and any(
        can(action, "*") for action in ORGANIZATION_WRITES
    ):
        found.add(ORGANIZATION_WRITE)
    # The management account owns the organization trail; the security account administers it.
    trail = trail_arn(region, account_ids[MANAGEMENT_ACCOUNT])
    if principal.account in (MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT) and any(
        can(f"cloudtrail:{a}", trail) for a in TRAIL_WRITES
    ):
        found.add(TRAIL_WRITE)
    own = principal.account == SECURITY_ACCOUNT
    key_requests = [(f"kms:{a}", audit.key_arn, audit.key_policy) for a in KEY_WRITES]
    archive_requests = [
        *((f"s3:{a}", audit.bucket_arn, audit.bucket_policy) for a in ARCHIVE_WRITES),
        ("s3:DeleteObject", f"{audit.bucket_arn}/AWSLogs/x", audit.bucket_policy),
    ]
    for capability, requests in ((KEY_WRITE, key_requests), (ARCHIVE_WRITE, archive_requests)):
        if any(
            can(action, resource) if own else granted(policy, action, resource)
            for action, resource, policy in requests
        ):
            found.add(capability)
    if (
        can("s3:GetObject", "arn:aws:s3:::any-bucket/any-object")
        or can("dynamodb:GetItem", f"arn:aws:dynamodb:{region}:{account_id}:table/any")
        or can(
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{region}:{account_id}:secret:x",
        )
    ):
        found.add(DATA_READ)
    return found


def _trust_summary(role: Principal, names: Mapping[str, str]) -> list[str]:
    summary = []
    for statement in (role.trust or {}).get("Statement", []):
        principal = statement.get("Principal") or {}
        condition = json.dumps(statement.get("Condition") or {})
        for arn in _as_list(principal.get("AWS")):
            account = names.get(arn.split(":")[4], arn.split(":")[4])
            who = (
                f"{account} root" if arn.endswith(":root") else f"{account} {arn.split(':', 5)[5]}"
            )
            if "aws:PrincipalArn" in condition:
                who += (
                    " (named roles: "
                    + ", ".join(
                        v.rsplit("/", 1)[-1]
                        for v in _as_list(
                            statement["Condition"].get("ArnLike", {}).get("aws:PrincipalArn")
                        )
                    )
                    + ")"
                )
            if "sts:ExternalId" in condition:
                who += " with external ID"
            summary.append(who)
        for _provider in _as_list(principal.get("Federated")):
            subject = (
                statement.get("Condition", {})
                .get("StringEquals", {})
                .get(f"{GITHUB_OIDC_HOST}:sub", "?")
            )
            summary.append(f"GitHub OIDC {subject}")
        summary += [f"service {s}" for s in _as_list(principal.get("Service"))]
    return summary


def analyse(
    recordings: Mapping[str, StackRecording], settings: Mapping[str, StackSettings]
) -> Analysis:
    management = settings[MANAGEMENT_ACCOUNT]
    account_ids = dict(management.account_ids)
    region = management.region
    audit = _audit_resources(recordings[SECURITY_ACCOUNT], settings[SECURITY_ACCOUNT])
    principals: dict[str, Principal] = {}
    for stack in account_ids:  # the organization's order: management first
        if stack in recordings:
            for role in _roles_of(recordings[stack], settings[stack]):
                principals[role.key] = role
        if stack != MANAGEMENT_ACCOUNT:
            role = _break_glass_role(stack, account_ids)
            principals[role.key] = role
    for role in [p for p in principals.values() if p.kind == "role"]:
        ceiling = _ceiling(role)
        principals[ceiling.key] = ceiling
    for principal in (*_seats(management, account_ids), *_footholds(account_ids)):
        principals[principal.key] = principal
    prefix = management.effective_github_subject_prefix
    # The OIDC tokens a job of the repository can hold without a deploy environment's approval:
    # any pull request's, and the scheduled drift check's (its environment has no reviewers).
    for name, subject in (
        ("pull_request", github_pull_request_subject(prefix)),
        (DRIFT_ENVIRONMENT, github_drift_subject(prefix)),
    ):
        token = Principal(key=f"oidc:{name}", kind="oidc", account="", subject=subject)
        principals[token.key] = token

    names = {v: k for k, v in account_ids.items()}
    for principal in principals.values():
        if principal.kind != "oidc":
            principal.capabilities = _capabilities(principal, account_ids, region, audit)
        if principal.kind == "role":
            principal.trusted_by = _trust_summary(principal, names)

    edges = _edges(principals)
    attackers = [
        p.key
        for p in principals.values()
        if p.kind in ("foothold", "oidc")
        or (p.kind == "seat" and p.key.split(":")[1].split("@")[0] in ATTACKER_SEATS)
    ]
    return Analysis(
        principals, account_ids, edges, attackers, _chains(principals, edges, attackers)
    )


def _ceiling(role: Principal) -> Principal:
    """The role after someone wrote it a new policy: everything its boundary allows."""
    return Principal(
        key=f"{role.key}+ceiling",
        kind="ceiling",
        account=role.account,
        arn=role.arn,
        trust=role.trust,
        policies=[{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
        boundary=role.boundary,
    )


def _boundary_of(role: Principal) -> str:
    """The boundary ARN a request to change ``role`` carries (`none` without one)."""
    if role.boundary is None:
        return "none"
    return f"arn:aws:iam::{role.arn.split(':')[4]}:policy/{naming.PERMISSIONS_BOUNDARY}"


def _edges(principals: Mapping[str, Principal]) -> dict[str, set[str]]:
    roles = [p for p in principals.values() if p.kind == "role"]
    edges: dict[str, set[str]] = {key: set() for key in principals}
    for principal in principals.values():
        for role in roles:
            if role.arn != principal.arn and _admits(role, principal):
                edges[principal.key].add(role.key)
        if principal.kind == "oidc":
            continue
        if f"{ADMIN} of {principal.account}" in principal.capabilities:
            # An administrator of an account can become any principal there.
            edges[principal.key] |= {
                p.key
                for p in principals.values()
                if p.account == principal.account and p.kind in ("role", "ceiling", "foothold")
            }
        for role in roles:
            if role.account != principal.account:
                continue
            if role.arn != principal.arn and _effective(
                principal,
                Request("iam:UpdateAssumeRolePolicy", role.arn, principal_arn=principal.arn),
            ):
                edges[principal.key].add(role.key)  # rewriting its trust takes it over
            context = {"iam:permissionsboundary": _boundary_of(role)}
            if any(
                _effective(
                    principal,
                    Request(action, role.arn, principal_arn=principal.arn, context=context),
                )
                for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy")
            ):
                edges[principal.key].add(f"{role.key}+ceiling")  # its policies, itself included
    return {key: {t for t in targets if t in principals} for key, targets in edges.items()}


def _chains(
    principals: Mapping[str, Principal], edges: Mapping[str, set[str]], attackers: Iterable[str]
) -> list[list[str]]:
    chains = []
    for start in attackers:
        came_from: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if forbidden(principals[current].capabilities):
                path = [current]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])
                chains.append(list(reversed(path)))
                continue
            for target in sorted(edges.get(current, ())):
                if target not in came_from:
                    came_from[target] = current
                    queue.append(target)
    return chains


def analyse_project(project_dir, stacks: Iterable[str]) -> Analysis:
    """Every stack evaluated offline (under mocks), then analysed together."""
    from .config.loading import settings_from_config, with_organization_ids
    from .config.stack_files import organization_account_ids
    from .engine.runner import run_stack

    recordings = {stack: run_stack(stack, project_dir) for stack in stacks}
    organization_ids = organization_account_ids(Path(project_dir))
    settings = {
        stack: settings_from_config(
            stack,
            with_organization_ids(stack, r.config.values, organization_ids),
            r.config.secret_keys,
        )
        for stack, r in recordings.items()
    }
    return analyse(recordings, settings)


def as_json(analysis: Analysis) -> dict:
    return {
        "roles": [
            {
                "account": p.account,
                "accountId": analysis.account_ids.get(p.account, ""),
                "role": p.arn.split(":role/", 1)[-1],
                "trustedBy": p.trusted_by,
                "capabilities": sorted(p.capabilities),
                "canAssume": sorted(k for k in analysis.edges[p.key] if k.startswith("role:")),
            }
            for p in analysis.roles()
        ],
        "seats": [
            {
                "seat": p.key.removeprefix("seat:"),
                "capabilities": sorted(p.capabilities),
                "canAssume": sorted(k for k in analysis.edges[p.key] if k.startswith("role:")),
            }
            for p in analysis.principals.values()
            if p.kind == "seat"
        ],
        "attackers": analysis.attackers,
        "forbidden": list(FORBIDDEN),
        "chains": analysis.chains,
    }
