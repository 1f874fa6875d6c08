"""A healthy landing zone built with boto3 in the moto server, as `pulumi up` of every stack would
leave it (the rehearsal of issue 8 will build it through the program itself)."""

import json

from diagnyx_infra import naming
from diagnyx_infra.access_matrix import expand
from diagnyx_infra.config.models import MANAGEMENT_ACCOUNT
from diagnyx_infra.delivery import (
    github_deploy_subject,
    github_drift_subject,
    github_pull_request_subject,
)
from diagnyx_infra.naming import LOCK_TABLE_NAME, state_bucket_name
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.isolation import rendered_cicd_policy
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.ops.security_checks import BLOCK_PUBLIC_ACCESS, account_controls
from diagnyx_infra.policies import cost
from diagnyx_infra.policies import security_services as services
from diagnyx_infra.policies.audit import (
    forwarding_permissions,
    forwarding_trust_policy,
    security_event_patterns,
    trail_arn,
    trail_delivery_statements,
)
from diagnyx_infra.policies.baseline import deny_insecure_transport
from diagnyx_infra.policies.documents import document, to_json
from diagnyx_infra.policies.guardrail_plan import ROOT_TARGET, management_guardrails
from diagnyx_infra.policies.iam import (
    GITHUB_OIDC_HOST,
    audit_trust_policy,
    cicd_trust_policy,
    drift_member_trust_policy,
    drift_reads,
    drift_trust_policy,
    preview_state_access,
    preview_trust_policy,
)
from diagnyx_infra.policies.identity import GROUPS, PERMISSION_SETS
from diagnyx_infra.policies.security_services import (
    archive_delivery_statements,
    config_bucket_name,
    config_bucket_statements,
    delegated_services,
)
from diagnyx_infra.policies.tag_policy import TAG_POLICY_NAME

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def create_organization(caller: Aws, zone: LandingZone) -> None:
    """The organization, its OUs and the member accounts, e-mails as in the management stack."""
    organizations = caller.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    organization = zone.management.organization
    ou_ids = {}
    for ou in organization.organizational_units:
        unit = organizations.create_organizational_unit(ParentId=root, Name=ou.name)
        ou_ids[ou.name] = unit["OrganizationalUnit"]["Id"]
    for name, account in organization.accounts.items():
        created = organizations.create_account(Email=account.email, AccountName=f"diagnyx-{name}")
        account_id = created["CreateAccountStatus"]["AccountId"]
        organizations.move_account(
            AccountId=account_id, SourceParentId=root, DestinationParentId=ou_ids[account.ou]
        )


def build_healthy(caller: Aws, zone: LandingZone) -> None:
    """Everything the checklist verifies, for every account of ``zone`` (IDs already synced)."""
    _guardrails(caller, zone)
    _identity_center(caller, zone)
    for name in zone.account_names():
        account_id = zone.account_ids[name]
        aws = caller if name == MANAGEMENT_ACCOUNT else caller.assume(account_id)
        _baseline(aws, zone, name)
        account_protections(aws, zone, name)
        security_services(aws, zone, name)
        if zone.stacks[name].network is not None:
            # moto makes an account's EC2 (its default VPC and the rest) on the first EC2 call,
            # a third of a second: made here once, every copy of the landing zone has it.
            aws.client("ec2").describe_vpcs()
    _organization_trail(caller, caller.assume(zone.account_ids["security"]), zone)
    _cost_explorer_role(caller, zone)
    _public_zone(caller.assume(zone.account_ids["shared"]), zone)


def _guardrails(caller: Aws, zone: LandingZone) -> None:
    organizations = caller.client("organizations")
    plan = management_guardrails(zone.management)
    root = organizations.list_roots()["Roots"][0]["Id"]
    targets = {ROOT_TARGET: root}
    for ou in organizations.list_organizational_units_for_parent(ParentId=root)[
        "OrganizationalUnits"
    ]:
        targets[ou["Name"]] = ou["Id"]
    policy_ids = {}
    for key, policy in plan.policies.items():
        created = organizations.create_policy(
            Name=policy.name,
            Description=policy.description,
            Type="SERVICE_CONTROL_POLICY",
            Content=to_json(policy.document),
        )
        policy_ids[key] = created["Policy"]["PolicySummary"]["Id"]
    for target, keys in plan.attachments.items():
        for key in keys:
            organizations.attach_policy(PolicyId=policy_ids[key], TargetId=targets[target])
    organizations.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")
    tags = organizations.create_policy(
        Name=TAG_POLICY_NAME,
        Description="Required tag keys and allowed Environment values",
        Type="TAG_POLICY",
        Content=to_json(plan.tag_policy),
    )
    organizations.attach_policy(PolicyId=tags["Policy"]["PolicySummary"]["Id"], TargetId=root)
    for service in zone.management.organization.trusted_service_principals():
        organizations.enable_aws_service_access(ServicePrincipal=service)
    enabled = zone.management.organization.security_services.enabled()
    for service in ("cloudtrail.amazonaws.com", *delegated_services(enabled)):
        organizations.register_delegated_administrator(
            AccountId=zone.account_ids["security"], ServicePrincipal=service
        )


def _identity_center(caller: Aws, zone: LandingZone) -> None:
    sso = caller.client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    store = caller.client("identitystore")
    groups = {
        name: store.create_group(IdentityStoreId=instance["IdentityStoreId"], DisplayName=name)[
            "GroupId"
        ]
        for name in GROUPS
    }
    sets = {
        name: sso.create_permission_set(
            InstanceArn=instance["InstanceArn"], Name=name, SessionDuration=spec.session_duration
        )["PermissionSet"]["PermissionSetArn"]
        for name, spec in PERMISSION_SETS.items()
    }
    for name, spec in PERMISSION_SETS.items():
        which = {"InstanceArn": instance["InstanceArn"], "PermissionSetArn": sets[name]}
        for policy_arn in spec.managed_policies:
            sso.attach_managed_policy_to_permission_set(**which, ManagedPolicyArn=policy_arn)
        if spec.inline_policy is not None:
            sso.put_inline_policy_to_permission_set(
                **which, InlinePolicy=to_json(spec.inline_policy)
            )
    for row in expand(zone.management.access_assignments(), zone.management.account_ous()):
        sso.create_account_assignment(
            InstanceArn=instance["InstanceArn"],
            TargetId=zone.account_ids[row.account],
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=sets[row.permission_set],
            PrincipalType="GROUP",
            PrincipalId=groups[row.group],
        )


def _baseline(aws: Aws, zone: LandingZone, name: str) -> None:
    settings = zone.stacks[name]
    kms = aws.client("kms")
    key_id = kms.create_key(Description=f"diagnyx {name}")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/diagnyx-{name}", TargetKeyId=key_id)
    kms.enable_key_rotation(KeyId=key_id)

    s3 = aws.client("s3")
    bucket = state_bucket_name(settings.account_id, settings.region)
    s3.create_bucket(Bucket=bucket)
    _secure(s3, bucket, key_id, document(deny_insecure_transport(f"arn:aws:s3:::{bucket}")))
    aws.client("dynamodb").create_table(
        TableName=LOCK_TABLE_NAME,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        DeletionProtectionEnabled=True,
    )
    aws.client("dynamodb").update_continuous_backups(  # as the bootstrap's table (issue 18)
        TableName=LOCK_TABLE_NAME,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )

    sns = aws.client("sns")
    topic = sns.create_topic(Name="diagnyx-alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=settings.alarm_email)
    events = aws.client("events")
    for alarm, pattern in security_event_patterns().items():
        rule = f"diagnyx-security-{alarm}"
        events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=rule, Targets=[{"Id": "alarm-topic", "Arn": topic}])

    create_budget(aws, zone, name)

    iam = aws.client("iam")
    oidc = iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB_OIDC_HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[]
    )["OpenIDConnectProviderArn"]
    prefix = settings.effective_github_subject_prefix
    trusts = {
        naming.CICD_ROLE: cicd_trust_policy(
            zone.account_ids["shared"],
            "a-secret-id" if settings.is_workload else None,
            oidc,
            github_deploy_subject(prefix, name),
        ),
        naming.PREVIEW_ROLE: preview_trust_policy(oidc, github_pull_request_subject(prefix)),
        naming.AUDIT_ROLE: audit_trust_policy(zone.account_ids["security"]),
        naming.DRIFT_ROLE: (
            drift_trust_policy(oidc, github_drift_subject(prefix))
            if settings.is_management
            else drift_member_trust_policy(zone.account_ids[MANAGEMENT_ACCOUNT])
        ),
    }
    if any(region != settings.region for region in settings.allowed_regions):
        trusts[naming.ALARM_FORWARDING_ROLE] = forwarding_trust_policy(settings.account_id)
    for role, trust in trusts.items():
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=to_json(trust))
    if naming.ALARM_FORWARDING_ROLE in trusts:
        iam.put_role_policy(
            RoleName=naming.ALARM_FORWARDING_ROLE,
            PolicyName=naming.ALARM_FORWARDING_POLICY,
            PolicyDocument=to_json(forwarding_permissions(settings.region, settings.account_id)),
        )
    iam.put_role_policy(
        RoleName=naming.CICD_ROLE,
        PolicyName=naming.CICD_POLICY,
        PolicyDocument=to_json(rendered_cicd_policy(settings)),
    )
    members = settings.known_member_account_ids() if settings.is_management else ()
    iam.put_role_policy(
        RoleName=naming.DRIFT_ROLE,
        PolicyName=naming.DRIFT_POLICY,
        PolicyDocument=to_json(drift_reads(settings.is_management, members)),
    )
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    iam.put_role_policy(
        RoleName=naming.PREVIEW_ROLE,
        PolicyName=naming.PREVIEW_STATE_POLICY,
        PolicyDocument=to_json(preview_state_access(f"arn:aws:s3:::{bucket}", key_arn)),
    )
    ecr = aws.client("ecr")
    for repository in zone.expected_repositories(name):
        ecr.create_repository(
            repositoryName=repository,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        )


def _secure(s3, bucket: str, key_id: str, policy: dict) -> None:
    """Versioning, KMS encryption, the public access block and the policy, as SecureBucket
    makes them."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_id,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=to_json(policy))


def create_budget(aws: Aws, zone: LandingZone, name: str, amount: float | None = None) -> None:
    """The account's monthly budget with its alerts, for ``amount`` (config's by default)."""
    settings = zone.stacks[name]
    limit = settings.budget.monthly_limit_usd if amount is None else amount
    aws.client("budgets").create_budget(
        AccountId=settings.account_id,
        Budget={
            "BudgetName": f"diagnyx-{name}-monthly",
            "BudgetLimit": {"Amount": str(limit), "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "NotificationType": kind,
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": percent,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [
                    {"SubscriptionType": "EMAIL", "Address": settings.budget_alert_email}
                ],
            }
            for kind, percent in settings.budget.thresholds()
        ],
    )


def _organization_trail(management: Aws, security: Aws, zone: LandingZone) -> None:
    """The security account creates it as CloudTrail's delegated administrator; the management
    account owns it (its ARN carries the management account's ID). Its archive is locked."""
    bucket = naming.audit_bucket_name(security.account_id)
    s3 = security.client("s3")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    arn = f"arn:aws:s3:::{bucket}"
    region = zone.stacks["security"].region
    statements = [
        *trail_delivery_statements(arn, trail_arn(region, management.account_id)),
        *archive_delivery_statements(arn, security.account_id),
    ]
    key_id = security.client("kms").describe_key(KeyId="alias/diagnyx-security")["KeyMetadata"]
    _secure(s3, bucket, key_id["KeyId"], document(*statements, deny_insecure_transport(arn)))
    config_bucket = config_bucket_name(security.account_id)
    s3.create_bucket(Bucket=config_bucket)
    config_arn = f"arn:aws:s3:::{config_bucket}"
    config_statements = config_bucket_statements(config_arn, list(zone.account_ids.values()))
    _secure(
        s3,
        config_bucket,
        key_id["KeyId"],
        document(*config_statements, deny_insecure_transport(config_arn)),
    )
    archive = zone.stacks["security"].audit_archive
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {
                "DefaultRetention": {
                    "Mode": archive.object_lock_mode,
                    "Days": archive.retention_days,
                }
            },
        },
    )
    cloudtrail = management.client("cloudtrail")
    created = cloudtrail.create_trail(
        Name=naming.ORGANIZATION_TRAIL,
        S3BucketName=bucket,
        IsOrganizationTrail=True,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    cloudtrail.start_logging(Name=created["TrailARN"])


def _cost_explorer_role(management: Aws, zone: LandingZone) -> None:
    """The management account's Cost Explorer role, for the costExplorerAccess principals."""
    principals = zone.management.known_cost_explorer_principals()
    iam = management.client("iam")
    iam.create_role(
        RoleName=naming.COST_EXPLORER_ROLE,
        AssumeRolePolicyDocument=to_json(cost.cost_explorer_trust(principals)),
    )
    iam.put_role_policy(
        RoleName=naming.COST_EXPLORER_ROLE,
        PolicyName=naming.COST_EXPLORER_POLICY,
        PolicyDocument=to_json(cost.cost_explorer_permissions()),
    )


def _public_zone(shared: Aws, zone: LandingZone) -> None:
    """The parent zone on its reusable delegation set, as the shared stack creates it."""
    settings = zone.stacks["shared"].shared_services
    route53 = shared.client("route53")
    delegation_set = route53.create_reusable_delegation_set(CallerReference="landscape")
    route53.create_hosted_zone(
        Name=settings.domain,
        CallerReference="landscape-zone",
        DelegationSetId=delegation_set["DelegationSet"]["Id"].rsplit("/", 1)[-1],
    )


def account_protections(aws: Aws, zone: LandingZone, name: str) -> None:
    """The free protections AccountProtections gives every account: account-level S3 Block Public
    Access, EBS encryption by default in each allowed region, the CIS password policy. (The
    organization's IAM Access Analyzer is not built: moto has no Access Analyzer.)"""
    account_controls(aws).put_public_access_block(
        AccountId=zone.account_ids[name],
        PublicAccessBlockConfiguration=dict.fromkeys(BLOCK_PUBLIC_ACCESS, True),
    )
    for region in zone.stacks[name].allowed_regions:
        aws.client("ec2", region).enable_ebs_encryption_by_default()
    policy = {
        "".join(word.capitalize() for word in key.split("_")): value
        for key, value in services.PASSWORD_POLICY.items()
    }
    aws.client("iam").update_account_password_policy(**policy)


def security_services(aws: Aws, zone: LandingZone, name: str) -> None:
    """The paid services switched on in ``zone`` (organization.securityServices), in account
    ``name`` as the stacks leave them: a GuardDuty detector and Security Hub in every allowed
    region, AWS Config's recorder recording and delivering to the security account's Config
    bucket, and in the security account the organization aggregator."""
    enabled = zone.management.organization.security_services.enabled()
    regions = zone.stacks[name].allowed_regions
    for region in regions:
        if services.GUARD_DUTY in enabled:
            aws.client("guardduty", region).create_detector(Enable=True)
        if services.SECURITY_HUB in enabled:
            aws.client("securityhub", region).enable_security_hub(EnableDefaultStandards=False)
        if services.AWS_CONFIG in enabled:
            config = aws.client("config", region)
            role = (
                f"arn:aws:iam::{zone.account_ids[name]}:role/{services.CONFIG_SERVICE_LINKED_ROLE}"
            )
            config.put_configuration_recorder(
                ConfigurationRecorder={
                    "name": services.CONFIG_RECORDER,
                    "roleARN": role,
                    "recordingGroup": {"allSupported": True},
                }
            )
            config.put_delivery_channel(
                DeliveryChannel={
                    "name": services.CONFIG_RECORDER,
                    "s3BucketName": services.config_bucket_name(zone.account_ids["security"]),
                    "s3KeyPrefix": services.CONFIG_PREFIX,
                }
            )
            config.start_configuration_recorder(ConfigurationRecorderName=services.CONFIG_RECORDER)
    if services.AWS_CONFIG in enabled and name == "security":
        aws.client("config", zone.stacks[name].region).put_configuration_aggregator(
            ConfigurationAggregatorName=services.CONFIG_AGGREGATOR,
            OrganizationAggregationSource={
                "RoleArn": f"arn:aws:iam::{zone.account_ids[name]}:role/"
                f"{services.CONFIG_AGGREGATOR_ROLE}",
                "AwsRegions": list(regions),
                "AllAwsRegions": False,
            },
        )
