"""Trust and permission documents of the baseline's roles: plain dicts, no Pulumi.

Who can assume each role, and what it can do, is least privilege by construction (the access
analysis, diagnyx_infra/access_analysis.py, proves there is no chain from a foothold to the
organization or the audit trail):
- the deploy role trusts GitHub OIDC for the job that deploys its stack, and in workload accounts
  also the shared services account's own deploy role (a named role, never the account root) with
  an external ID per account; management and security trust no other account;
- it has no `iam:*` or `kms:*` on `*`: IAM writes only on the landing zone's own `Diagnyx*` roles,
  each of which must carry the permissions boundary, which it can neither change nor remove;
- IAM users, access keys and login profiles are denied to CI outright.
"""

from collections.abc import Sequence

from .. import naming
from .documents import PolicyDocument, document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"

# Services the deployment role manages in full (none of them can grant access to itself).
MEMBER_DEPLOY_SERVICES = (
    "acm",
    "budgets",
    "cloudtrail",
    "ecr",
    "events",
    "route53",
    "sns",
)
# S3 and DynamoDB: configuration of buckets and tables, not their data. Objects only in the
# state bucket (the Pulumi backend); no items at all.
STORAGE_CONFIGURATION = (
    "dynamodb:*ContinuousBackups*",
    "dynamodb:*ResourcePolicy*",
    "dynamodb:*Table*",
    "dynamodb:*TimeToLive*",
    "dynamodb:Describe*",
    "dynamodb:List*",
    "dynamodb:TagResource",
    "dynamodb:UntagResource",
    "s3:*AccountPublicAccessBlock",
    "s3:*Bucket*",
    "s3:*Configuration",
    "s3:ListAllMyBuckets",
)
STATE_OBJECTS = ("s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject")
# EC2: the workload network only. No instance, launch template or instance-attribute actions,
# which would let the role run code as an instance's role (cloudsplaining's
# ModifyEC2InstanceUserDataThenRestart / ModifyExistingEC2LaunchTemplate).
NETWORK_ACTIONS = (
    "ec2:*Address*",
    "ec2:*FlowLogs*",
    "ec2:*InternetGateway*",
    "ec2:*NatGateway*",
    "ec2:*Route*",
    "ec2:*SecurityGroup*",
    "ec2:*Subnet*",
    "ec2:*Tags",
    "ec2:*Vpc*",
    "ec2:Describe*",
)
MANAGEMENT_DEPLOY_SERVICES = ("ce", "identitystore", "organizations", "sso")
# The security services (components/account_protections.py, security_services.py), what each
# account's stack manages and nothing more: no `config:*` (Config remediation runs SSM automation
# as a role the caller names, a way to act as a role it could not pass itself), no finding
# filters, suppression rules, trusted IP lists or archive rules (each hides findings).
# Every account: its protections and its AWS Config recorder.
SECURITY_SERVICE_ACTIONS = (
    "config:*ConfigurationRecorder*",
    "config:*DeliveryChannel*",
    "config:Describe*",
    "config:ListTagsForResource",
    "config:TagResource",
    "config:UntagResource",
    "ec2:*EbsEncryptionByDefault",
    "iam:*AccountPasswordPolicy",
)
# The management account: its own detector and hub, and naming their administrator.
MANAGEMENT_SECURITY_SERVICE_ACTIONS = (
    "guardduty:*Detector",  # its features are set through UpdateDetector
    "guardduty:*OrganizationAdminAccount*",
    "guardduty:ListDetectors",
    "guardduty:ListTagsForResource",
    "guardduty:TagResource",
    "guardduty:UntagResource",
    "securityhub:*OrganizationAdminAccount*",
    "securityhub:*SecurityHub",
    "securityhub:DescribeHub",
    "securityhub:GetEnabledStandards",
    "securityhub:ListTagsForResource",
    "securityhub:TagResource",
    "securityhub:UntagResource",
    "securityhub:UpdateSecurityHubConfiguration",
)
# The security account, their administrator: the organization-wide settings.
ADMINISTRATOR_SECURITY_SERVICE_ACTIONS = (
    "access-analyzer:*Analyzer",
    "access-analyzer:ListAnalyzers",
    "access-analyzer:ListTagsForResource",
    "access-analyzer:TagResource",
    "access-analyzer:UntagResource",
    "config:*ConfigurationAggregator*",
    "guardduty:*OrganizationConfiguration*",
    "guardduty:*PublishingDestination*",
    "guardduty:GetDetector",
    "guardduty:ListDetectors",
    "guardduty:ListTagsForResource",
    "guardduty:TagResource",
    "guardduty:UntagResource",
    "guardduty:UpdateDetector",  # the detector designation made: its features
    "securityhub:*ConfigurationPolicy*",
    "securityhub:*FindingAggregator*",
    "securityhub:*OrganizationConfiguration",
    "securityhub:DescribeHub",
    "securityhub:DescribeStandards",
    "securityhub:GetEnabledStandards",
    "securityhub:ListTagsForResource",
    "securityhub:TagResource",
    "securityhub:UntagResource",
)
# The one role a deploy role may pass: the Config aggregator's, to AWS Config only (PassRole is
# otherwise denied by the boundary). What it can do: list the organization's accounts.
CONFIG_AGGREGATOR_ROLE = f"{naming.ROLE_PREFIX}ConfigAggregator"
PASS_TO_CONFIG = {"StringEquals": {"iam:PassedToService": "config.amazonaws.com"}}
# The only roles a deploy role may pass, each to its one service (PassRole is otherwise denied
# by the boundary): the Config aggregator's (it lists the organization's accounts) and the alarm
# forwarding role (it puts events on this account's home bus). Neither can do anything else.
# AWS Config's own service-linked role is passed to AWS Config by PutConfigurationRecorder (its
# ARN is the recorder's roleARN); passing it gives Config nothing it does not have.
CONFIG_SERVICE_LINKED_ROLE = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
PASSABLE_ROLES = {
    CONFIG_AGGREGATOR_ROLE: "config.amazonaws.com",
    CONFIG_SERVICE_LINKED_ROLE: "config.amazonaws.com",
    naming.ALARM_FORWARDING_ROLE: "events.amazonaws.com",
}
# Role writes that carry the iam:PermissionsBoundary condition key (the boundary of the role
# created or changed; Service Authorization Reference, IAM actions table): allowed only on roles
# that carry the landing zone's boundary.
BOUNDED_ROLE_WRITES = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
# Other writes on the landing zone's own roles (the key above is absent from these requests).
OWN_ROLE_WRITES = (
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
# Long-lived credentials and other principals' permissions: never from CI, never through a role
# the landing zone creates.
IAM_USER_WRITES = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateGroup",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:PutGroupPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:UpdateAccessKey",
    "iam:UpdateLoginProfile",
    "iam:UploadSSHPublicKey",
    "iam:UploadSigningCertificate",
)
# What a role under the boundary could use to become more than its policies say, even after
# writing itself a new policy: passing roles to services, assuming roles other than the deploy
# roles (the shared CI's path to the workloads), rewriting other roles' trust, new policy
# versions (of any customer policy), and its own policies and trust.
ESCALATION_ACTIONS = (
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
SELF_WRITES = (
    "iam:AttachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
)
# An alias action names both the alias and its key (Service Authorization Reference, AWS KMS).
ALIAS_ADMINISTRATION = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")
KEY_ADMINISTRATION = (
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
KEY_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")


def boundary_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{naming.PERMISSIONS_BOUNDARY}"


def role_arn(account_id: str, role: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{role}"


def _github_statement(sid: str, oidc_provider_arn: str, subject: str) -> dict:
    """Trust in one GitHub Actions OIDC subject of this repository (and the STS audience)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": _github_condition(subject),
    }


def _github_condition(subject: str) -> dict:
    return {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": subject,
        }
    }


def cicd_trust_policy(
    shared_account_id: str | None,
    external_id: str | None,
    oidc_provider_arn: str,
    deploy_subject: str,
) -> PolicyDocument:
    """GitHub OIDC for the job that deploys this stack; in workload accounts (those given an
    ``external_id``) also the shared services account's deploy role (named, never the root)
    presenting this account's external ID: the guide's shared-account CI. The accounts that hold
    the organization and its audit trail get no external ID and trust no other account.
    ``shared_account_id`` is None while config marks the shared account pending: nothing trusts
    an account whose ID is not known to be ours."""
    statements = []
    if external_id is not None and shared_account_id is not None:
        statements.append(
            {
                "Sid": "SharedServicesDeployRole",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn(shared_account_id, naming.CICD_ROLE)},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        )
    statements.append(
        _github_statement("GitHubActionsDeployRef", oidc_provider_arn, deploy_subject)
    )
    return document(*statements)


def preview_trust_policy(oidc_provider_arn: str, pull_request_subject: str) -> PolicyDocument:
    return document(
        _github_statement("GitHubActionsPullRequests", oidc_provider_arn, pull_request_subject)
    )


# An Identity Center seat's role: `aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_<set>_*`
# (the region segment appears when Identity Center lives outside us-east-1).
def seat_role_pattern(account_id: str, permission_set: str) -> str:
    return (
        f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/"
        f"*AWSReservedSSO_{permission_set}_*"
    )


AUDITOR_SEAT = "Auditor"


def audit_trust_policy(security_account_id: str) -> PolicyDocument:
    """The Auditor seat of the security account, by its role name: an `aws:PrincipalAccount`
    condition equal to the trusted root's account would add nothing."""
    return document(
        {
            "Sid": "SecurityAccountAuditorSeat",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{security_account_id}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {
                    "aws:PrincipalArn": seat_role_pattern(security_account_id, AUDITOR_SEAT)
                }
            },
        }
    )


# Whoever creates or updates an organization trail needs these Organizations reads (CloudTrail
# User Guide, "Prepare for creating a trail for your organization"); iam:GetRole and
# iam:CreateServiceLinkedRole come with the iam service above.
ORGANIZATION_TRAIL_READS = (
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListAccounts",
    # The security services' administration reads the root to attach Security Hub's policy.
    "organizations:ListDelegatedAdministrators",
    "organizations:ListRoots",
)


def cicd_permissions(
    account_id: str,
    is_management: bool,
    manages_organization_trail: bool = False,
    deploys_accounts: Sequence[str] = (),
) -> PolicyDocument:
    """What the deploy role may do in ``account_id``: the landing zone's services, IAM only on
    its own bounded roles, KMS only on this account's keys, no IAM users or keys."""
    services = MEMBER_DEPLOY_SERVICES + (MANAGEMENT_DEPLOY_SERVICES if is_management else ())
    own_roles = role_arn(account_id, f"{naming.ROLE_PREFIX}*")
    keys = f"arn:aws:kms:*:{account_id}:key/*"
    statements = [
        {
            "Sid": "DeployLandingZoneServices",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in sorted(services)],
            "Resource": "*",
        },
        {
            "Sid": "SecurityServices",
            "Effect": "Allow",
            "Action": [
                *SECURITY_SERVICE_ACTIONS,
                *(MANAGEMENT_SECURITY_SERVICE_ACTIONS if is_management else ()),
                *(
                    ADMINISTRATOR_SECURITY_SERVICE_ACTIONS
                    if manages_organization_trail and not is_management
                    else ()
                ),
            ],
            "Resource": "*",
        },
        {
            "Sid": "WorkloadNetwork",
            "Effect": "Allow",
            "Action": list(NETWORK_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "StorageConfiguration",
            "Effect": "Allow",
            "Action": list(STORAGE_CONFIGURATION),
            "Resource": "*",
        },
        {
            "Sid": "PulumiState",
            "Effect": "Allow",
            "Action": list(STATE_OBJECTS),
            "Resource": f"arn:aws:s3:::{naming.state_bucket_name(account_id, '*')}/*",
        },
        {
            "Sid": "ReadIam",
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*", "sts:GetCallerIdentity"],
            "Resource": "*",
        },
        {
            # IAM User Guide, "Permissions boundaries for IAM entities", delegating role
            # management: role writes only with the boundary in place.
            "Sid": "OwnRolesOnlyWithTheBoundary",
            "Effect": "Allow",
            "Action": list(BOUNDED_ROLE_WRITES),
            "Resource": own_roles,
            "Condition": {"ArnEquals": {"iam:PermissionsBoundary": boundary_arn(account_id)}},
        },
        {
            "Sid": "OwnRoles",
            "Effect": "Allow",
            "Action": list(OWN_ROLE_WRITES),
            "Resource": own_roles,
        },
        {
            # Tags only: the boundary itself changes with OrganizationAccountAccessRole (SCP).
            "Sid": "TagTheBoundary",
            "Effect": "Allow",
            "Action": ["iam:TagPolicy", "iam:UntagPolicy"],
            "Resource": boundary_arn(account_id),
        },
        {
            # VPC flow logs to S3 create a log delivery (Amazon VPC User Guide, flow log IAM
            # permissions for S3 destinations).
            "Sid": "FlowLogDelivery",
            "Effect": "Allow",
            "Action": ["logs:CreateLogDelivery", "logs:DeleteLogDelivery"],
            "Resource": "*",
        },
        {
            "Sid": "GitHubOidcProvider",
            "Effect": "Allow",
            "Action": [
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:CreateOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UntagOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
            ],
            "Resource": f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}",
        },
        {
            # CloudTrail's organization trail needs its service-linked role.
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:aws:iam::{account_id}:role/aws-service-role/*",
        },
        {
            # The provider tags the role it creates (the default tags) right after creating it
            # (terraform-provider-aws, service_linked_role.go), and switching AWS Config off
            # deletes it.
            "Sid": "ConfigServiceLinkedRole",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteServiceLinkedRole",
                "iam:GetServiceLinkedRoleDeletionStatus",
                "iam:TagRole",
                "iam:UntagRole",
            ],
            "Resource": role_arn(account_id, CONFIG_SERVICE_LINKED_ROLE),
        },
        {
            "Sid": "PassConfigItsServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role_arn(account_id, CONFIG_SERVICE_LINKED_ROLE),
            "Condition": PASS_TO_CONFIG,
        },
        {
            "Sid": "KeysOfThisAccount",
            "Effect": "Allow",
            "Action": [*KEY_ADMINISTRATION, *KEY_USE],
            "Resource": keys,
        },
        {
            "Sid": "AliasesOfThisAccountsKeys",
            "Effect": "Allow",
            "Action": list(ALIAS_ADMINISTRATION),
            "Resource": [keys, f"arn:aws:kms:*:{account_id}:alias/diagnyx-*"],
        },
        {
            "Sid": "CreateKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:ListAliases", "kms:ListKeys"],
            "Resource": "*",
        },
        {
            "Sid": "NoLongLivedCredentials",
            "Effect": "Deny",
            "Action": list(IAM_USER_WRITES),
            "Resource": "*",
        },
        {
            # Nothing the landing zone deploys needs these; each would open data or locked logs.
            "Sid": "NoRetentionBypassOrAccessGrants",
            "Effect": "Deny",
            "Action": ["s3:BypassGovernanceRetention", "s3:*AccessGrant*"],
            "Resource": "*",
        },
    ]
    if deploys_accounts:
        # The shared services deploy role: the guide's shared-account CI reaches the workload
        # accounts' deploy roles (which admit it only with their own external ID).
        statements.append(
            {
                "Sid": "DeployWorkloadAccounts",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [role_arn(a, naming.CICD_ROLE) for a in sorted(deploys_accounts)],
            }
        )
    if manages_organization_trail and not is_management:
        statements.append(
            {
                "Sid": "OrganizationTrailReads",
                "Effect": "Allow",
                "Action": list(ORGANIZATION_TRAIL_READS),
                "Resource": "*",
            }
        )
        statements.append(
            {
                "Sid": "PassConfigAggregatorRoleToConfig",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role_arn(account_id, CONFIG_AGGREGATOR_ROLE),
                "Condition": PASS_TO_CONFIG,
            }
        )
    statements.append(
        {
            # The alarm forwarding rules of the other allowed regions (security_alarms.py).
            "Sid": "PassAlarmForwardingRoleToEvents",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role_arn(account_id, naming.ALARM_FORWARDING_ROLE),
            "Condition": {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}},
        }
    )
    return document(*statements)


def permissions_boundary(account_id: str) -> PolicyDocument:
    """The boundary every `Diagnyx*` role carries (a managed policy in each account). Whatever its
    own policies say, a role under it cannot create IAM users, groups or keys; create or change a
    role without this boundary; remove or rewrite the boundary or any policy version; touch
    OrganizationAccountAccessRole; pass roles; rewrite trust outside `Diagnyx*` roles; assume
    anything but a deploy role; and the deploy role cannot write its own policies or trust."""
    boundary = boundary_arn(account_id)
    return document(
        {"Sid": "CeilingIsEverythingElse", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Sid": "NoLongLivedCredentials",
            "Effect": "Deny",
            "Action": list(IAM_USER_WRITES),
            "Resource": "*",
        },
        {
            "Sid": "RolesOnlyWithThisBoundary",
            "Effect": "Deny",
            "Action": list(BOUNDED_ROLE_WRITES),
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"iam:PermissionsBoundary": boundary}},
        },
        {
            "Sid": "BoundaryStays",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:DeleteRolePermissionsBoundary",
                "iam:SetDefaultPolicyVersion",
            ],
            "Resource": [boundary, role_arn(account_id, "*")],
        },
        {
            "Sid": "BreakGlassRoleStays",
            "Effect": "Deny",
            "Action": "iam:*",
            "Resource": role_arn(account_id, naming.ORG_ACCESS_ROLE),
        },
        {
            # A deploy role writing itself a wider policy or trust would lift its own ceiling to
            # this boundary's; its policy and trust change with OrganizationAccountAccessRole.
            "Sid": "DeployRoleCannotWriteItself",
            "Effect": "Deny",
            "Action": list(SELF_WRITES),
            "Resource": role_arn(account_id, naming.CICD_ROLE),
        },
        {
            "Sid": "NoPolicyVersions",
            "Effect": "Deny",
            "Action": list(ESCALATION_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "NoPassRole",
            "Effect": "Deny",
            "Action": "iam:PassRole",
            "NotResource": [role_arn(account_id, role) for role in PASSABLE_ROLES],
        },
        *(
            {
                "Sid": f"Pass{role.rsplit('/', 1)[-1].removeprefix(naming.ROLE_PREFIX)}Only"
                f"{service.split('.')[0]}",
                "Effect": "Deny",
                "Action": "iam:PassRole",
                "Resource": role_arn(account_id, role),
                "Condition": {"StringNotEquals": {"iam:PassedToService": service}},
            }
            for role, service in PASSABLE_ROLES.items()
        ),
        {
            "Sid": "NoTrustChangesOutsideTheLandingZone",
            "Effect": "Deny",
            "Action": "iam:UpdateAssumeRolePolicy",
            "NotResource": role_arn(account_id, f"{naming.ROLE_PREFIX}*"),
        },
        {
            # The deploy roles (the shared CI's path to the workloads) and the drift roles
            # (the management account's drift check reading the members).
            "Sid": "AssumeOnlyDeployRoles",
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "NotResource": [
                "arn:aws:iam::*:role/" + naming.CICD_ROLE,
                "arn:aws:iam::*:role/" + naming.DRIFT_ROLE,
            ],
        },
    )


# What `diagnyx drift` reads (ops/drift.py), as IAM actions (Service Authorization Reference: S3's
# GetPublicAccessBlock, GetBucketEncryption and GetObjectLockConfiguration are authorized as
# s3:GetBucketPublicAccessBlock, s3:GetEncryptionConfiguration and
# s3:GetBucketObjectLockConfiguration, Budgets' DescribeBudget and DescribeNotificationsForBudget
# as budgets:ViewBudget). Configuration only: no object, item, secret or log can be read. A test
# runs drift and checks each of its calls against these.
DRIFT_ACCOUNT_READS = (
    "budgets:ViewBudget",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeVpcs",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetLoginProfile",
    "iam:ListAccessKeys",
    "kms:DescribeKey",
    "kms:GetKeyRotationStatus",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
)
DRIFT_ORGANIZATION_READS = (
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "identitystore:ListGroups",
    "organizations:DescribePolicy",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListAccounts",
    "organizations:ListDelegatedAdministrators",
    "organizations:ListDelegatedServicesForAccount",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListParents",
    "organizations:ListPolicies",
    "organizations:ListPoliciesForTarget",
    "organizations:ListRoots",
    "sso:DescribePermissionSet",
    "sso:GetInlinePolicyForPermissionSet",
    "sso:ListAccountAssignments",
    "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
    "sso:ListInstances",
    "sso:ListManagedPoliciesInPermissionSet",
    "sso:ListPermissionSets",
)


# What `diagnyx maintenance` reads (ops/maintenance.py) beyond drift's reads, for the scheduled
# maintenance workflow, which reads through the same role: resources that cost money, backup
# health, when roles, users and keys were last used, Security Hub's findings (where it is on);
# in the management account, Cost Explorer's costs, anomalies and commitments, Identity
# Center's group members and each SCP's targets. Still no object, item, secret or log. A test
# runs the three reports and checks each call against these (Service Authorization Reference:
# elbv2's calls are authorized as elasticloadbalancing:*, sso-admin's as sso:*).
MAINTENANCE_ACCOUNT_READS = (
    "backup:ListBackupJobs",
    "dynamodb:DescribeContinuousBackups",
    "ec2:DescribeAddresses",
    "ec2:DescribeInstances",
    "ec2:DescribeSnapshots",
    "ec2:DescribeVolumes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "iam:GetAccessKeyLastUsed",
    "iam:GetRole",
    "iam:ListRoles",
    "iam:ListUsers",
    "securityhub:GetFindings",
)
MAINTENANCE_ORGANIZATION_READS = (
    "ce:GetAnomalies",
    "ce:GetCostAndUsage",
    "ce:GetReservationCoverage",
    "ce:GetReservationUtilization",
    "ce:GetSavingsPlansCoverage",
    "identitystore:DescribeUser",
    "identitystore:ListGroupMemberships",
    "organizations:ListTargetsForPolicy",
)


def drift_trust_policy(oidc_provider_arn: str, drift_subject: str) -> PolicyDocument:
    """The management account's drift role: the scheduled drift check's job only."""
    return document(_github_statement("GitHubActionsDriftCheck", oidc_provider_arn, drift_subject))


def drift_member_trust_policy(management_account_id: str) -> PolicyDocument:
    """A member's drift role: the management account's drift role, by name (never the root).
    The condition repeats the principal, as every trust statement carries one (the policy pack's
    iam-trust-constrained): a root principal slipped in beside it would still admit no one else."""
    drift_role = role_arn(management_account_id, naming.DRIFT_ROLE)
    return document(
        {
            "Sid": "ManagementDriftCheck",
            "Effect": "Allow",
            "Principal": {"AWS": drift_role},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": drift_role}},
        }
    )


def drift_reads(is_management: bool, member_account_ids: Sequence[str] = ()) -> PolicyDocument:
    """What the drift role may do: read the configuration drift compares and what the
    maintenance reports look at; in the management account also the organization's, and take
    the drift roles of ``member_account_ids`` (the members whose IDs config knows)."""
    statements: list[dict] = [
        {
            "Sid": "ReadAccountConfiguration",
            "Effect": "Allow",
            "Action": list(DRIFT_ACCOUNT_READS),
            "Resource": "*",
        },
        {
            "Sid": "ReadMaintenanceItems",
            "Effect": "Allow",
            "Action": list(MAINTENANCE_ACCOUNT_READS),
            "Resource": "*",
        },
    ]
    if is_management:
        statements += [
            {
                "Sid": "ReadOrganizationConfiguration",
                "Effect": "Allow",
                "Action": list(DRIFT_ORGANIZATION_READS),
                "Resource": "*",
            },
            {
                "Sid": "ReadCostsMembersAndTargets",
                "Effect": "Allow",
                "Action": list(MAINTENANCE_ORGANIZATION_READS),
                "Resource": "*",
            },
        ]
    if is_management and member_account_ids:
        statements += [
            {
                "Sid": "AssumeMemberDriftRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [role_arn(a, naming.DRIFT_ROLE) for a in sorted(member_account_ids)],
            },
        ]
    return document(*statements)


def preview_state_access(bucket_arn: str, key_arn: str) -> PolicyDocument:
    """`pulumi preview` reads state and takes the backend's lock, which ReadOnlyAccess lacks."""
    return document(
        {
            "Sid": "ReadState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
        },
        {
            "Sid": "BackendLocks",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{bucket_arn}/.pulumi/locks/*",
        },
        {
            "Sid": "StateEncryption",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key_arn,
        },
    )
