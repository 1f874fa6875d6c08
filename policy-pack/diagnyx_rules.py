"""The landing zone's guardrails as small rules over a resource's properties.

The rules are plain Python: `__main__.py` wraps them into a Pulumi policy pack for
`pulumi preview --policy-pack policy-pack`, and the tests run the same rules offline over every
stack recorded under mocks. Property names are the engine's (camelCase).
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REQUIRED_TAGS = ("Environment", "Project", "CostCenter", "Owner", "ManagedBy")
AUDIT_BUCKET_PREFIX = "diagnyx-audit-logs-"
# The audit archive itself: the prefix and the security account's ID. AWS Config's bucket
# (diagnyx-audit-logs-config-<id>) shares the prefix but cannot have Object Lock.
AUDIT_ARCHIVE = re.compile(re.escape(AUDIT_BUCKET_PREFIX) + r"[0-9]{12}")
SECURITY_STACK = "security"
# CIS AWS Foundations Benchmark v3.0.0 1.8 and 1.9; AWS Foundational Security Best Practices
# IAM.7 (every character class). The landing zone's policy (policies/security_services.py
# PASSWORD_POLICY) meets them; a test checks that it does.
CIS_MIN_PASSWORD_LENGTH = 14
CIS_PASSWORD_REUSE = 24
PASSWORD_CLASSES = (
    "requireLowercaseCharacters",
    "requireUppercaseCharacters",
    "requireNumbers",
    "requireSymbols",
)
ACCOUNT_BLOCK_KEYS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
ADMINISTRATOR_PERMISSION_SET = "Administrator"
# Condition keys that tie a trust statement to a known caller.
# The landing zone's roles and the managed policy each carries as its permissions boundary.
ROLE_PREFIX = "Diagnyx"
PERMISSIONS_BOUNDARY = "DiagnyxPermissionsBoundary"
TRUST_CONSTRAINTS = (
    "sts:ExternalId",
    ":sub",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:SourceArn",
)
ROLE_INLINE_POLICY_MAX = 10_240
PERMISSION_SET_INLINE_MAX = 32_768

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
KEY = "aws:kms/key:Key"
KEY_ALIAS = "aws:kms/alias:Alias"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
TABLE = "aws:dynamodb/table:Table"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REPOSITORY_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY = "aws:iam/policy:Policy"
PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
GROUP = "aws:identitystore/group:Group"
PERMISSION_SET_INLINE = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
MANAGED_ATTACHMENT = "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"
TRAIL = "aws:cloudtrail/trail:Trail"
ORG_POLICY = "aws:organizations/policy:Policy"
ORG_ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
ACCOUNT = "aws:organizations/account:Account"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
EBS_ENCRYPTION_BY_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
PASSWORD_POLICY = "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"

ZONE = "aws:route53/zone:Zone"
DELEGATION_SET = "aws:route53/delegationSet:DelegationSet"
# Zones and the delegation set: replacing either changes the name servers delegations name.
# Identity Center groups: their members live only in AWS. Permission sets: assignments made
# outside the program hang on them.
STATEFUL = (
    ACCOUNT,
    KEY,
    BUCKET,
    TABLE,
    REPOSITORY,
    TRAIL,
    ZONE,
    DELEGATION_SET,
    GROUP,
    PERMISSION_SET,
    # The account protections: a destroy must leave the account protected.
    ACCOUNT_PUBLIC_ACCESS_BLOCK,
    EBS_ENCRYPTION_BY_DEFAULT,
    PASSWORD_POLICY,
)
# A separate resource holding a setting of a store -> (the property naming the store, its type).
# `pulumi destroy --exclude-protected` destroys every unprotected resource, so each must be
# protected with its store or the store survives bare (public, unencrypted, unlocked, ...).
STORE_SETTINGS: dict[str, tuple[str, str]] = {
    BUCKET_POLICY: ("bucket", BUCKET),
    PUBLIC_ACCESS_BLOCK: ("bucket", BUCKET),
    ENCRYPTION: ("bucket", BUCKET),
    VERSIONING: ("bucket", BUCKET),
    OWNERSHIP: ("bucket", BUCKET),
    LIFECYCLE: ("bucket", BUCKET),
    OBJECT_LOCK: ("bucket", BUCKET),
    LOGGING: ("bucket", BUCKET),
    KEY_POLICY: ("keyId", KEY),
    KEY_ALIAS: ("targetKeyId", KEY),
    REPOSITORY_POLICY: ("repository", REPOSITORY),
    REPOSITORY_LIFECYCLE: ("repository", REPOSITORY),
}
# Types that are not AWS resources or carry no tags.
UNTAGGABLE_PREFIXES = ("pulumi:", "diagnyx:")
UNTAGGABLE = {
    PUBLIC_ACCESS_BLOCK,
    ENCRYPTION,
    VERSIONING,
    BUCKET_POLICY,
    OWNERSHIP,
    TOPIC_POLICY,
    REPOSITORY_POLICY,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    PERMISSION_SET_INLINE,
    MANAGED_ATTACHMENT,
    ORG_ATTACHMENT,
    LIFECYCLE,
    OBJECT_LOCK,
    LOGGING,
    KEY_ALIAS,
    KEY_POLICY,
    "aws:sns/topicSubscription:TopicSubscription",
    REPOSITORY_LIFECYCLE,
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:organizations/organization:Organization",
    "aws:organizations/delegatedAdministrator:DelegatedAdministrator",
    "aws:ssoadmin/accountAssignment:AccountAssignment",
    GROUP,
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:route53/record:Record",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/route:Route",
    "aws:costexplorer/costAllocationTag:CostAllocationTag",
    "aws:costexplorer/anomalySubscription:AnomalySubscription",
}

DEFAULTS = {"maxScpChars": 5120, "maxScpsPerTarget": 5, "allowNatGateway": False}
# Facts of the stack being checked, not policy settings (no schema, no defaults): the stack's
# name ("stack") and its diagnyx:allowedRegions ("allowedRegions"). The pack reads them from the
# stack's own config (pack.stack_facts); the offline tests pass them. A rule that needs one and
# is not given it falls back to what the resources show (see each rule).
STACK_FACTS = ("stack", "allowedRegions")


@dataclass(frozen=True)
class Subject:
    """A resource as a rule sees it."""

    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    provider_props: Mapping[str, Any] = field(default_factory=dict)
    # property name -> the resources its value came from (when the engine knows)
    dependencies: Mapping[str, Sequence["Subject"]] = field(default_factory=dict)


Check = Callable[[Subject, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Sequence[Subject], Mapping[str, Any]], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    types: tuple[str, ...]  # empty: every resource
    check: Check
    config: tuple[str, ...] = ()

    def applies_to(self, subject: Subject) -> bool:
        return not self.types or subject.type in self.types


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck
    config: tuple[str, ...] = ()


# --- helpers --------------------------------------------------------------------------------


def document(value: Any) -> dict[str, Any]:
    """A policy document from a property (JSON text or already parsed); {} when unknown."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return {}
    return {}


def statements(value: Any) -> list[dict[str, Any]]:
    found = document(value).get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def unconditioned_public_allows(value: Any) -> list[str]:
    return [
        s.get("Sid", "?")
        for s in statements(value)
        if s.get("Effect") == "Allow" and is_everyone(s.get("Principal")) and not s.get("Condition")
    ]


def _fail(condition: bool, message: str) -> list[str]:
    return [message] if condition else []


# --- resource rules -------------------------------------------------------------------------


def _public_access_block(s: Subject, _: Mapping) -> list[str]:
    keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    missing = [k for k in keys if s.props.get(k) is not True]
    return _fail(bool(missing), f"public access block incomplete: {', '.join(missing)} not true")


def _encryption_rules(s: Subject) -> list[dict[str, Any]]:
    return [r for r in as_list(s.props.get("rules")) if isinstance(r, dict)]


def _sse_kms(s: Subject, _: Mapping) -> list[str]:
    defaults = [r.get("applyServerSideEncryptionByDefault") or {} for r in _encryption_rules(s)]
    ok = defaults and all(
        d.get("sseAlgorithm") == "aws:kms" and d.get("kmsMasterKeyId") for d in defaults
    )
    return _fail(not ok, "buckets are encrypted with SSE-KMS and a customer-managed key")


def _bucket_key(s: Subject, _: Mapping) -> list[str]:
    ok = all(r.get("bucketKeyEnabled") is True for r in _encryption_rules(s))
    return _fail(not ok, "S3 bucket keys keep KMS request costs down; enable them")


def _versioning(s: Subject, _: Mapping) -> list[str]:
    status = (s.props.get("versioningConfiguration") or {}).get("status")
    return _fail(status != "Enabled", f"versioning is {status}, not Enabled")


def _tls_only(s: Subject, _: Mapping) -> list[str]:
    for statement in statements(s.props.get("policy")):
        condition = statement.get("Condition") or {}
        if (
            statement.get("Effect") == "Deny"
            and (condition.get("Bool") or {}).get("aws:SecureTransport") == "false"
        ):
            return []
    return ["the bucket policy does not deny requests without TLS (aws:SecureTransport)"]


def _no_public_bucket_policy(s: Subject, _: Mapping) -> list[str]:
    public = unconditioned_public_allows(s.props.get("policy"))
    return _fail(bool(public), f"statements {', '.join(public)} allow everyone")


def _owner_enforced(s: Subject, _: Mapping) -> list[str]:
    ownership = (s.props.get("rule") or {}).get("objectOwnership")
    return _fail(ownership != "BucketOwnerEnforced", f"object ownership is {ownership}")


def _audit_object_lock(s: Subject, _: Mapping) -> list[str]:
    name = str(s.props.get("bucket") or "")
    needed = AUDIT_ARCHIVE.fullmatch(name) is not None
    return _fail(
        needed and s.props.get("objectLockEnabled") is not True,
        "the audit archive must be created with S3 Object Lock",
    )


def _key_rotation(s: Subject, _: Mapping) -> list[str]:
    return _fail(s.props.get("enableKeyRotation") is not True, "key rotation is off")


def _key_window(s: Subject, _: Mapping) -> list[str]:
    days = s.props.get("deletionWindowInDays") or 30  # AWS's default is 30
    return _fail(days < 30, f"a deletion window of {days} days is under 30")


def _key_policy_principals(s: Subject, _: Mapping) -> list[str]:
    public = unconditioned_public_allows(s.props.get("policy"))
    return _fail(bool(public), f"key policy statements {', '.join(public)} allow anyone")


def _table_pitr(s: Subject, _: Mapping) -> list[str]:
    return _fail(
        (s.props.get("pointInTimeRecovery") or {}).get("enabled") is not True,
        "point-in-time recovery is off",
    )


def _table_deletion_protection(s: Subject, _: Mapping) -> list[str]:
    return _fail(s.props.get("deletionProtectionEnabled") is not True, "deletion protection is off")


def _table_kms(s: Subject, _: Mapping) -> list[str]:
    sse = s.props.get("serverSideEncryption") or {}
    return _fail(
        not (sse.get("enabled") and sse.get("kmsKeyArn")),
        "the table is not encrypted with the account's KMS key",
    )


def _topic_encrypted(s: Subject, _: Mapping) -> list[str]:
    key = s.props.get("kmsMasterKeyId")
    if not key:
        return ["the topic is not encrypted"]
    return _fail(
        str(key).endswith("alias/aws/sns"),
        "alias/aws/sns cannot be used by Budgets or CloudWatch; use the account's key",
    )


def _topic_publishers(s: Subject, _: Mapping) -> list[str]:
    problems = [
        f"statement {sid} lets everyone in"
        for sid in unconditioned_public_allows(s.props.get("policy"))
    ]
    for statement in statements(s.props.get("policy")):
        services = (
            as_list((statement.get("Principal") or {}).get("Service"))
            if isinstance(statement.get("Principal"), dict)
            else []
        )
        condition = json.dumps(statement.get("Condition") or {})
        if statement.get("Effect") == "Allow" and services and "aws:Source" not in condition:
            problems.append(
                f"statement {statement.get('Sid', '?')}: services publish without "
                "aws:SourceAccount or aws:SourceArn"
            )
    return problems


def _scan_on_push(s: Subject, _: Mapping) -> list[str]:
    return _fail(
        (s.props.get("imageScanningConfiguration") or {}).get("scanOnPush") is not True,
        "scan on push is off",
    )


def _immutable_tags(s: Subject, _: Mapping) -> list[str]:
    return _fail(s.props.get("imageTagMutability") != "IMMUTABLE", "image tags are mutable")


def _repository_kms(s: Subject, _: Mapping) -> list[str]:
    kinds = [c.get("encryptionType") for c in as_list(s.props.get("encryptionConfigurations"))]
    return _fail(kinds != ["KMS"], "the repository is not encrypted with KMS")


def _no_public_pull(s: Subject, _: Mapping) -> list[str]:
    public = unconditioned_public_allows(s.props.get("policy"))
    return _fail(bool(public), f"statements {', '.join(public)} let anyone pull or push")


def _no_wildcard_admin(s: Subject, _: Mapping) -> list[str]:
    if s.type == IAM_POLICY and s.props.get("name") == PERMISSIONS_BOUNDARY:
        # A permissions boundary grants nothing: its Allow * is the ceiling its Denies cut down
        # (every Diagnyx role carries it; `iam-role-bounded` checks that).
        return []
    if s.type == ROLE_POLICY_ATTACHMENT:
        return _fail(
            s.props.get("policyArn") == ADMINISTRATOR_ACCESS,
            "AdministratorAccess on a role; only the Administrator permission set has it",
        )
    field_name = "inlinePolicy" if s.type == PERMISSION_SET_INLINE else "policy"
    for statement in statements(s.props.get(field_name)):
        actions = as_list(statement.get("Action"))
        if statement.get("Effect") == "Allow" and ("*" in actions or "*:*" in actions):
            return [f"statement {statement.get('Sid', '?')} allows every action"]
    return []


def _role_bounded(s: Subject, _: Mapping) -> list[str]:
    name = str(s.props.get("name", ""))
    return _fail(
        name.startswith(ROLE_PREFIX) and not s.props.get("permissionsBoundary"),
        f"role {name} carries no permissions boundary",
    )


def _trust_constrained(s: Subject, _: Mapping) -> list[str]:
    problems = []
    for statement in statements(s.props.get("assumeRolePolicy")):
        if statement.get("Effect") != "Allow":
            continue
        condition = json.dumps(statement.get("Condition") or {})
        if not any(key in condition for key in TRUST_CONSTRAINTS):
            problems.append(
                f"trust statement {statement.get('Sid', '?')} has no external ID, OIDC subject, "
                "organization or account condition"
            )
    return problems


def _inline_size(s: Subject, _: Mapping) -> list[str]:
    if s.type == PERMISSION_SET_INLINE:
        text, limit = s.props.get("inlinePolicy"), PERMISSION_SET_INLINE_MAX
    else:
        text, limit = s.props.get("policy"), ROLE_INLINE_POLICY_MAX
    size = len(json.dumps(document(text), separators=(",", ":"))) if text else 0
    return _fail(size > limit, f"inline policy is {size} characters, over {limit}")


def _trail_multi_region(s: Subject, _: Mapping) -> list[str]:
    return _fail(s.props.get("isMultiRegionTrail") is not True, "the trail is single-region")


def _trail_validation(s: Subject, _: Mapping) -> list[str]:
    return _fail(s.props.get("enableLogFileValidation") is not True, "log file validation is off")


def _trail_kms(s: Subject, _: Mapping) -> list[str]:
    return _fail(not s.props.get("kmsKeyId"), "the trail's logs are not encrypted with KMS")


def _trail_global_events(s: Subject, _: Mapping) -> list[str]:
    return _fail(
        s.props.get("includeGlobalServiceEvents") is False, "global service events are excluded"
    )


def _scp_size(s: Subject, config: Mapping) -> list[str]:
    if s.props.get("type", "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY":
        return []
    content = s.props.get("content") or ""
    size = len(json.dumps(document(content), separators=(",", ":"))) if content else 0
    limit = int(config.get("maxScpChars", DEFAULTS["maxScpChars"]))
    return _fail(size > limit, f"SCP is {size} characters, over the limit of {limit}")


def _account_kept(s: Subject, _: Mapping) -> list[str]:
    return _fail(
        s.props.get("closeOnDeletion") is not False,
        "closeOnDeletion must be false: deleting the resource must never close the account",
    )


def _no_nat_gateway(s: Subject, config: Mapping) -> list[str]:
    allowed = bool(config.get("allowNatGateway", DEFAULTS["allowNatGateway"]))
    return _fail(
        not allowed,
        "NAT gateways cost about $36.50 a month each with their IPv4 address; the stack's config "
        "does not allow one",
    )


def _default_sg_empty(s: Subject, _: Mapping) -> list[str]:
    rules = as_list(s.props.get("ingress")) + as_list(s.props.get("egress"))
    return _fail(bool(rules), "the default security group must have no rules")


def _provider_tags(s: Subject) -> dict[str, Any]:
    tags = s.provider_props.get("defaultTags")
    if isinstance(tags, str):
        tags = document(tags)
    tags = (tags or {}).get("tags") if isinstance(tags, dict) else None
    return tags if isinstance(tags, dict) else {}


def _required_tags(s: Subject, _: Mapping) -> list[str]:
    if s.type.startswith(UNTAGGABLE_PREFIXES) or s.type in UNTAGGABLE:
        return []
    tags = {**_provider_tags(s), **(s.props.get("tags") or {})}
    missing = [k for k in REQUIRED_TAGS if not tags.get(k)]
    return _fail(bool(missing), f"missing required tags: {', '.join(missing)}")


def _protected(s: Subject, _: Mapping) -> list[str]:
    return _fail(not s.protect, "stateful resources are protected against deletion")


RULES: tuple[Rule, ...] = (
    Rule(
        "s3-public-access-block-complete",
        "All four S3 public access blocks are on",
        (PUBLIC_ACCESS_BLOCK,),
        _public_access_block,
    ),
    Rule("s3-sse-kms", "Buckets use SSE-KMS with a customer-managed key", (ENCRYPTION,), _sse_kms),
    Rule("s3-bucket-keys", "S3 bucket keys are enabled", (ENCRYPTION,), _bucket_key),
    Rule("s3-versioning", "State and log buckets are versioned", (VERSIONING,), _versioning),
    Rule("s3-tls-only", "Bucket policies deny non-TLS access", (BUCKET_POLICY,), _tls_only),
    Rule(
        "s3-no-public-policy",
        "No bucket policy allows everyone",
        (BUCKET_POLICY,),
        _no_public_bucket_policy,
    ),
    Rule(
        "s3-owner-enforced",
        "Object ownership is BucketOwnerEnforced (no ACLs)",
        (OWNERSHIP,),
        _owner_enforced,
    ),
    Rule(
        "s3-audit-archive-object-lock",
        "The audit archive has S3 Object Lock",
        (BUCKET,),
        _audit_object_lock,
    ),
    Rule("kms-rotation", "KMS keys rotate", (KEY,), _key_rotation),
    Rule("kms-deletion-window", "KMS keys wait 30 days before deletion", (KEY,), _key_window),
    Rule(
        "kms-no-open-principal",
        "No key policy grants a wildcard principal without conditions",
        (KEY,),
        _key_policy_principals,
    ),
    Rule("dynamodb-pitr", "Tables have point-in-time recovery", (TABLE,), _table_pitr),
    Rule(
        "dynamodb-deletion-protection",
        "Tables have deletion protection",
        (TABLE,),
        _table_deletion_protection,
    ),
    Rule("dynamodb-kms", "Tables are encrypted with the account's key", (TABLE,), _table_kms),
    Rule(
        "sns-encrypted",
        "Topics are encrypted with a customer-managed key",
        (TOPIC,),
        _topic_encrypted,
    ),
    Rule(
        "sns-no-public-publish",
        "Only named services of this account publish",
        (TOPIC_POLICY,),
        _topic_publishers,
    ),
    Rule("ecr-scan-on-push", "Images are scanned on push", (REPOSITORY,), _scan_on_push),
    Rule("ecr-immutable-tags", "Image tags are immutable", (REPOSITORY,), _immutable_tags),
    Rule("ecr-kms", "Repositories are encrypted with KMS", (REPOSITORY,), _repository_kms),
    Rule(
        "ecr-no-public-pull",
        "No repository policy allows everyone",
        (REPOSITORY_POLICY,),
        _no_public_pull,
    ),
    Rule(
        "iam-no-wildcard-admin",
        "No *:* allow outside the Administrator permission set",
        (ROLE_POLICY, IAM_POLICY, PERMISSION_SET_INLINE, ROLE_POLICY_ATTACHMENT),
        _no_wildcard_admin,
    ),
    Rule(
        "iam-role-bounded",
        "Every Diagnyx role carries the permissions boundary",
        (ROLE,),
        _role_bounded,
    ),
    Rule(
        "iam-trust-constrained",
        "Every trust statement names an external ID, OIDC subject, organization or account",
        (ROLE,),
        _trust_constrained,
    ),
    Rule(
        "iam-inline-policy-size",
        "Inline policies fit AWS's size limits",
        (ROLE_POLICY, PERMISSION_SET_INLINE),
        _inline_size,
    ),
    Rule("cloudtrail-multi-region", "Trails are multi-region", (TRAIL,), _trail_multi_region),
    Rule("cloudtrail-log-validation", "Trails validate log files", (TRAIL,), _trail_validation),
    Rule("cloudtrail-kms", "Trails encrypt logs with KMS", (TRAIL,), _trail_kms),
    Rule(
        "cloudtrail-global-events",
        "Trails include global service events",
        (TRAIL,),
        _trail_global_events,
    ),
    Rule(
        "organizations-scp-size",
        "SCPs fit the configured size limit",
        (ORG_POLICY,),
        _scp_size,
        ("maxScpChars",),
    ),
    Rule(
        "organizations-account-never-closed",
        "Accounts are never closed on deletion",
        (ACCOUNT,),
        _account_kept,
    ),
    Rule(
        "ec2-no-nat-gateway",
        "No NAT gateway unless the stack's config allows one",
        (NAT_GATEWAY,),
        _no_nat_gateway,
        ("allowNatGateway",),
    ),
    Rule(
        "ec2-default-security-group-empty",
        "The default security group has no rules",
        (DEFAULT_SECURITY_GROUP,),
        _default_sg_empty,
    ),
    Rule("required-tags", "Every taggable resource carries the required tags", (), _required_tags),
    Rule(
        "stateful-resources-protected",
        "Accounts, keys, buckets, tables, repositories, trails, zones, delegation sets, "
        "Identity Center groups and permission sets, and the account protections are protected",
        STATEFUL,
        _protected,
    ),
)


# --- stack rules ----------------------------------------------------------------------------


def _referenced(subjects: Sequence[Subject], subject: Subject, prop: str) -> Subject | None:
    """The resource a property points at: through the engine's dependencies, or by ARN/ID."""
    for dependency in subject.dependencies.get(prop, ()):
        return dependency
    value = subject.props.get(prop)
    return next(
        (s for s in subjects if value and value in (s.props.get("arn"), s.props.get("id"))), None
    )


# How a store's settings name it: a bucket by name (its ID), a key by ID or ARN, a repository by
# name.
STORE_IDENTIFIERS = ("id", "arn", "bucket", "keyId", "name")


def _store_of(subjects: Sequence[Subject], setting: Subject) -> Subject | None:
    """The store a settings resource belongs to: through the engine's dependencies (the only way
    while the store's name or ID is still unknown in a first preview), or by name, ID or ARN."""
    prop, store_type = STORE_SETTINGS[setting.type]
    for dependency in setting.dependencies.get(prop, ()):
        if dependency.type == store_type:
            return dependency
    value = setting.props.get(prop)
    if not isinstance(value, str) or not value:
        return None
    return next(
        (
            s
            for s in subjects
            if s.type == store_type and value in (s.props.get(k) for k in STORE_IDENTIFIERS)
        ),
        None,
    )


def _store_settings_protected(subjects: Sequence[Subject], _: Mapping) -> list[str]:
    problems = []
    for setting in subjects:
        if setting.type not in STORE_SETTINGS or setting.protect:
            continue
        store = _store_of(subjects, setting)
        if store is not None and store.protect:
            kind = setting.type.rsplit(":", 1)[-1]
            problems.append(
                f"{kind} {setting.name} of the protected {store.name} is not protected: "
                f"`pulumi destroy --exclude-protected` would delete it and leave {store.name} "
                "without it"
            )
    return problems


def _scps_per_target(subjects: Sequence[Subject], config: Mapping) -> list[str]:
    limit = int(config.get("maxScpsPerTarget", DEFAULTS["maxScpsPerTarget"])) - 1  # FullAWSAccess
    counts: dict[str, int] = {}
    for attachment in (s for s in subjects if s.type == ORG_ATTACHMENT):
        policy = _referenced(subjects, attachment, "policyId")
        if (
            policy is not None
            and policy.props.get("type", "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY"
        ):
            continue
        target = str(attachment.props.get("targetId"))
        counts[target] = counts.get(target, 0) + 1
    return [
        f"target {target} has {n} SCPs plus FullAWSAccess, over the limit of {limit + 1}"
        for target, n in counts.items()
        if n > limit
    ]


def _admin_only_in_administrator_set(subjects: Sequence[Subject], _: Mapping) -> list[str]:
    problems = []
    for attachment in (s for s in subjects if s.type == MANAGED_ATTACHMENT):
        if attachment.props.get("managedPolicyArn") != ADMINISTRATOR_ACCESS:
            continue
        permission_set = _referenced(subjects, attachment, "permissionSetArn")
        name = permission_set.props.get("name") if permission_set else None
        if name != ADMINISTRATOR_PERMISSION_SET:
            problems.append(f"AdministratorAccess attached to permission set {name or 'unknown'}")
    return problems


def _region_of(subject: Subject) -> str | None:
    """A resource's region: its own `region` (provider 7's per-resource region), else its
    provider's."""
    region = subject.props.get("region") or subject.provider_props.get("region")
    return region if isinstance(region, str) and region else None


def _allowed_regions(subjects: Sequence[Subject], config: Mapping) -> list[str]:
    """The stack's allowed regions; not given, the regions of its providers (the stack's home
    region at least)."""
    given = config.get("allowedRegions")
    if isinstance(given, list | tuple) and given:
        return [str(r) for r in given]
    regions = {s.provider_props.get("region") for s in subjects}
    return sorted(r for r in regions if isinstance(r, str) and r)


def _account_stack(subjects: Sequence[Subject]) -> bool:
    """A stack deployed into an account through the landing zone's account provider (it names
    its account: allowedAccountIds), which carries the account-level settings. Resources checked
    on their own, without it, are no such stack."""
    return any("allowedAccountIds" in s.provider_props for s in subjects)


def _number(value: Any) -> float | None:
    """A number of a property (the engine hands integers over as floats: 14.0)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _shown(number: float | None) -> str:
    return "none" if number is None else f"{number:g}"


def _is_security_stack(subjects: Sequence[Subject], config: Mapping) -> bool:
    """The security stack: by its name when given, else as the stack holding the audit archive."""
    if config.get("stack"):
        return str(config["stack"]).rsplit("/", 1)[-1] == SECURITY_STACK
    return any(
        s.type == BUCKET and AUDIT_ARCHIVE.fullmatch(str(s.props.get("bucket") or ""))
        for s in subjects
    )


def _account_public_access_blocked(subjects: Sequence[Subject], _: Mapping) -> list[str]:
    blocks = [s for s in subjects if s.type == ACCOUNT_PUBLIC_ACCESS_BLOCK]
    if not blocks and _account_stack(subjects):
        return [
            "no account-level S3 Block Public Access (AccountPublicAccessBlock): every account "
            "blocks public access for all its buckets"
        ]
    problems = []
    for block in blocks:
        off = [k for k in ACCOUNT_BLOCK_KEYS if block.props.get(k) is not True]
        if off:
            problems.append(f"{block.name}: {', '.join(off)} not true")
    return problems


def _ebs_encrypted_by_default(subjects: Sequence[Subject], config: Mapping) -> list[str]:
    settings = [s for s in subjects if s.type == EBS_ENCRYPTION_BY_DEFAULT]
    # The provider's default for `enabled` is true.
    problems = [
        f"{s.name}: EBS encryption by default is disabled"
        for s in settings
        if s.props.get("enabled", True) is not True
    ]
    enabled = {_region_of(s) for s in settings if s.props.get("enabled", True) is True}
    missing = [r for r in _allowed_regions(subjects, config) if r not in enabled]
    if missing and _account_stack(subjects):
        problems.append(
            f"EBS encryption by default is not enabled in {', '.join(missing)}: every allowed "
            "region needs an EncryptionByDefault with enabled true"
        )
    return problems


def _password_policy_cis(subjects: Sequence[Subject], _: Mapping) -> list[str]:
    policies = [s for s in subjects if s.type == PASSWORD_POLICY]
    if not policies and _account_stack(subjects):
        return ["no account password policy (AccountPasswordPolicy): CIS 1.8 and 1.9 need one"]
    problems = []
    for policy in policies:
        props = policy.props
        length = _number(props.get("minimumPasswordLength"))
        reuse = _number(props.get("passwordReusePrevention"))
        if length is None or length < CIS_MIN_PASSWORD_LENGTH:
            problems.append(
                f"{policy.name}: minimum length {_shown(length)}, CIS needs "
                f"{CIS_MIN_PASSWORD_LENGTH}"
            )
        if reuse is None or reuse < CIS_PASSWORD_REUSE:
            problems.append(
                f"{policy.name}: prevents reuse of the last {_shown(reuse)} passwords, CIS "
                f"needs {CIS_PASSWORD_REUSE}"
            )
        classes = [c for c in PASSWORD_CLASSES if props.get(c) is not True]
        if classes:
            problems.append(f"{policy.name}: {', '.join(classes)} not true")
    return problems


def _organization_analyzer(subjects: Sequence[Subject], config: Mapping) -> list[str]:
    if not _is_security_stack(subjects, config):
        return []
    regions = {
        _region_of(s)
        for s in subjects
        if s.type == ANALYZER and s.props.get("type") == "ORGANIZATION"
    }
    if not regions:
        return ["the security stack has no IAM Access Analyzer analyzer of type ORGANIZATION"]
    missing = [r for r in _allowed_regions(subjects, config) if r not in regions]
    return _fail(
        bool(missing),
        f"no organization analyzer in {', '.join(missing)}: analyzers are regional, one in "
        "every allowed region",
    )


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "organizations-scps-per-target",
        "No target exceeds the SCPs-per-target limit",
        _scps_per_target,
        ("maxScpsPerTarget",),
    ),
    StackRule(
        "iam-admin-only-in-administrator-set",
        "AdministratorAccess only in the Administrator permission set",
        _admin_only_in_administrator_set,
    ),
    StackRule(
        "store-settings-protected",
        "The policy, public access block, encryption, versioning, ownership, lifecycle and lock "
        "of a protected bucket, a protected key's alias and policy, and a protected "
        "repository's policies are protected too",
        _store_settings_protected,
    ),
    StackRule(
        "s3-account-public-access-blocked",
        "Every account has account-level S3 Block Public Access with all four settings on",
        _account_public_access_blocked,
    ),
    StackRule(
        "ebs-encryption-by-default",
        "EBS encryption by default is enabled in every allowed region",
        _ebs_encrypted_by_default,
    ),
    StackRule(
        "iam-password-policy-cis",
        "Every account has a password policy meeting CIS (length 14, no reuse of the last 24, "
        "every character class)",
        _password_policy_cis,
    ),
    StackRule(
        "access-analyzer-organization",
        "The security stack has IAM Access Analyzer's organization analyzer in every allowed "
        "region",
        _organization_analyzer,
    ),
)


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str
    message: str


def evaluate(
    subjects: Sequence[Subject], config: Mapping[str, Any] | None = None
) -> list[Violation]:
    """Every violation of every rule: what `pulumi preview --policy-pack` would report."""
    settings = {**DEFAULTS, **(config or {})}
    found = [
        Violation(rule.name, subject.name, message)
        for subject in subjects
        for rule in RULES
        if rule.applies_to(subject)
        for message in rule.check(subject, settings)
    ]
    found += [
        Violation(rule.name, "(stack)", message)
        for rule in STACK_RULES
        for message in rule.check(subjects, settings)
    ]
    return found
