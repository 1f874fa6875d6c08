"""How each resource type the program registers is carried out against the emulated AWS API.

A handler gets the resource's real inputs (engine names, camelCase) and the account session of
the resource's provider, calls boto3, and returns the physical ID and the outputs the program
reads (ARNs, IDs, name servers, ...). Types without a handler are reported as not emulated.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..ops.aws import Aws, account_controls
from ..policies import aws_managed
from ..policies.evaluation import CannotEvaluate, denying_statement, principal_arn

Outputs = dict[str, Any]


class NotEmulated(Exception):
    """The emulator lacks this API or this case of it; the resource is reported, not failed."""


@dataclass
class Context:
    aws: Aws
    name: str  # the resource's logical name
    world: Any = None  # the rehearsal's World: what moto does not hold (see world.py)

    def client(self, service: str, region: str | None = None):
        """A client of the resource's account; of ``region`` when given (pulumi-aws v7 resources
        carry a `region` input: the provider calls that region's endpoint)."""
        return self.aws.client(service, region)

    def regional(self, service: str, i: dict):
        """A client of the region the resource's inputs name, else of its provider's region."""
        return self.client(service, i.get("region") or None)


Handler = Callable[[Context, dict[str, Any]], tuple[str, Outputs]]
ENCRYPTION_CONFIGURATION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


def pascal(value: Any) -> Any:
    """Engine-style nested inputs to AWS API shapes: `noncurrentDays` -> `NoncurrentDays`."""
    if isinstance(value, dict):
        return {_pascal_key(k): pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's numbers are floats; day counts are integers to AWS
    return value


def _pascal_key(key: str) -> str:
    return "ID" if key == "id" else key[:1].upper() + key[1:]


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# --- Organizations ---------------------------------------------------------------------------


def organization(ctx: Context, i: dict) -> tuple[str, Outputs]:
    org = ctx.client("organizations")
    created = org.create_organization(FeatureSet=i.get("featureSet", "ALL"))["Organization"]
    root = org.list_roots()["Roots"][0]
    for policy_type in i.get("enabledPolicyTypes", []):
        org.enable_policy_type(RootId=root["Id"], PolicyType=policy_type)
    for principal in i.get("awsServiceAccessPrincipals", []):
        org.enable_aws_service_access(ServicePrincipal=principal)
    return created["Id"], {
        "arn": created["Arn"],
        "roots": [{"id": root["Id"], "arn": root["Arn"], "name": root["Name"]}],
        "masterAccountId": created["MasterAccountId"],
    }


def organizational_unit(ctx: Context, i: dict) -> tuple[str, Outputs]:
    unit = ctx.client("organizations").create_organizational_unit(
        ParentId=i["parentId"], Name=i["name"]
    )["OrganizationalUnit"]
    return unit["Id"], {"arn": unit["Arn"]}


def account(ctx: Context, i: dict) -> tuple[str, Outputs]:
    org = ctx.client("organizations")
    status = org.create_account(
        Email=i["email"],
        AccountName=i["name"],
        RoleName=i.get("roleName", "OrganizationAccountAccessRole"),
        IamUserAccessToBilling=i.get("iamUserAccessToBilling", "ALLOW"),
    )["CreateAccountStatus"]
    account_id = status["AccountId"]
    root = org.list_roots()["Roots"][0]["Id"]
    if i.get("parentId") and i["parentId"] != root:
        org.move_account(
            AccountId=account_id, SourceParentId=root, DestinationParentId=i["parentId"]
        )
    described = org.describe_account(AccountId=account_id)["Account"]
    return account_id, {"arn": described["Arn"], "status": "ACTIVE"}


def org_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    summary = ctx.client("organizations").create_policy(
        Content=i["content"],
        Description=i.get("description", ""),
        Name=i["name"],
        Type=i.get("type", "SERVICE_CONTROL_POLICY"),
    )["Policy"]["PolicySummary"]
    return summary["Id"], {"arn": summary["Arn"]}


def policy_attachment(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("organizations").attach_policy(PolicyId=i["policyId"], TargetId=i["targetId"])
    return f"{i['targetId']}:{i['policyId']}", {}


def identity_group(ctx: Context, i: dict) -> tuple[str, Outputs]:
    group_id = ctx.client("identitystore").create_group(
        IdentityStoreId=i["identityStoreId"],
        DisplayName=i["displayName"],
        Description=i.get("description", ""),
    )["GroupId"]
    return f"{i['identityStoreId']}/{group_id}", {"groupId": group_id}


def permission_set(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("sso-admin").create_permission_set(
        InstanceArn=i["instanceArn"],
        Name=i["name"],
        Description=i.get("description", ""),
        SessionDuration=i.get("sessionDuration", "PT1H"),
    )["PermissionSet"]
    return f"{created['PermissionSetArn']},{i['instanceArn']}", {"arn": created["PermissionSetArn"]}


def managed_policy_attachment(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("sso-admin").attach_managed_policy_to_permission_set(
        InstanceArn=i["instanceArn"],
        PermissionSetArn=i["permissionSetArn"],
        ManagedPolicyArn=i["managedPolicyArn"],
    )
    return f"{i['managedPolicyArn']},{i['permissionSetArn']}", {}


def inline_policy_of_set(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("sso-admin").put_inline_policy_to_permission_set(
        InstanceArn=i["instanceArn"],
        PermissionSetArn=i["permissionSetArn"],
        InlinePolicy=_json(i["inlinePolicy"]),
    )
    return i["permissionSetArn"], {}


def account_assignment(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("sso-admin").create_account_assignment(
        InstanceArn=i["instanceArn"],
        TargetId=i["targetId"],
        TargetType=i.get("targetType", "AWS_ACCOUNT"),
        PermissionSetArn=i["permissionSetArn"],
        PrincipalType=i["principalType"],
        PrincipalId=i["principalId"],
    )
    return f"{i['principalId']},{i['targetId']},{i['permissionSetArn']}", {}


# --- KMS, S3, DynamoDB, SNS ------------------------------------------------------------------


def kms_key(ctx: Context, i: dict) -> tuple[str, Outputs]:
    kms = ctx.client("kms")
    metadata = kms.create_key(Description=i.get("description", ""), Policy=_json(i["policy"]))[
        "KeyMetadata"
    ]
    if i.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return metadata["KeyId"], {"arn": metadata["Arn"], "keyId": metadata["KeyId"]}


def kms_alias(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("kms").create_alias(AliasName=i["name"], TargetKeyId=i["targetKeyId"])
    return i["name"], {}


def bucket(ctx: Context, i: dict) -> tuple[str, Outputs]:
    name = i["bucket"]
    params: dict[str, Any] = {"Bucket": name}
    if i.get("objectLockEnabled"):
        params["ObjectLockEnabledForBucket"] = True
    region = ctx.aws.session.region_name
    if region and region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    ctx.client("s3").create_bucket(**params)
    return name, {"arn": f"arn:aws:s3:::{name}", "bucket": name}


def bucket_versioning(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("s3").put_bucket_versioning(
        Bucket=i["bucket"], VersioningConfiguration=pascal(i["versioningConfiguration"])
    )
    return i["bucket"], {}


def bucket_encryption(ctx: Context, i: dict) -> tuple[str, Outputs]:
    rules = []
    for rule in i["rules"]:
        default = rule.get("applyServerSideEncryptionByDefault", {})
        rules.append(
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": default["sseAlgorithm"],
                    "KMSMasterKeyID": default.get("kmsMasterKeyId"),
                },
                "BucketKeyEnabled": bool(rule.get("bucketKeyEnabled")),
            }
        )
    ctx.client("s3").put_bucket_encryption(
        Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules}
    )
    return i["bucket"], {}


def public_access_block(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("s3").put_public_access_block(
        Bucket=i["bucket"],
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(i.get("blockPublicAcls")),
            "BlockPublicPolicy": bool(i.get("blockPublicPolicy")),
            "IgnorePublicAcls": bool(i.get("ignorePublicAcls")),
            "RestrictPublicBuckets": bool(i.get("restrictPublicBuckets")),
        },
    )
    return i["bucket"], {}


def ownership_controls(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("s3").put_bucket_ownership_controls(
        Bucket=i["bucket"], OwnershipControls={"Rules": [pascal(i["rule"])]}
    )
    return i["bucket"], {}


def bucket_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("s3").put_bucket_policy(Bucket=i["bucket"], Policy=_json(i["policy"]))
    return i["bucket"], {}


def bucket_lifecycle(ctx: Context, i: dict) -> tuple[str, Outputs]:
    rules = []
    for rule in pascal(i["rules"]):
        if rule.get("Filter") == {}:
            rule["Filter"] = {"Prefix": ""}
        rules.append(rule)
    ctx.client("s3").put_bucket_lifecycle_configuration(
        Bucket=i["bucket"], LifecycleConfiguration={"Rules": rules}
    )
    return i["bucket"], {}


def object_lock(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("s3").put_object_lock_configuration(
        Bucket=i["bucket"],
        ObjectLockConfiguration={
            "ObjectLockEnabled": i.get("objectLockEnabled", "Enabled"),
            "Rule": pascal(i["rule"]),
        },
    )
    return i["bucket"], {}


def dynamodb_table(ctx: Context, i: dict) -> tuple[str, Outputs]:
    dynamodb = ctx.client("dynamodb")
    sse = i.get("serverSideEncryption") or {}
    table = dynamodb.create_table(
        TableName=i["name"],
        BillingMode=i.get("billingMode", "PAY_PER_REQUEST"),
        AttributeDefinitions=[
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in i["attributes"]
        ],
        KeySchema=[{"AttributeName": i["hashKey"], "KeyType": "HASH"}],
        SSESpecification={
            "Enabled": bool(sse.get("enabled")),
            "SSEType": "KMS",
            **({"KMSMasterKeyId": sse["kmsKeyArn"]} if sse.get("kmsKeyArn") else {}),
        },
        DeletionProtectionEnabled=bool(i.get("deletionProtectionEnabled")),
    )["TableDescription"]
    if (i.get("pointInTimeRecovery") or {}).get("enabled"):
        dynamodb.update_continuous_backups(
            TableName=i["name"],
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return i["name"], {"arn": table["TableArn"]}


def sns_topic(ctx: Context, i: dict) -> tuple[str, Outputs]:
    attributes = {}
    if i.get("kmsMasterKeyId"):
        attributes["KmsMasterKeyId"] = i["kmsMasterKeyId"]
    arn = ctx.client("sns").create_topic(Name=i["name"], Attributes=attributes)["TopicArn"]
    return arn, {"arn": arn}


def topic_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("sns").set_topic_attributes(
        TopicArn=i["arn"], AttributeName="Policy", AttributeValue=_json(i["policy"])
    )
    return i["arn"], {}


def topic_subscription(ctx: Context, i: dict) -> tuple[str, Outputs]:
    arn = ctx.client("sns").subscribe(
        TopicArn=i["topic"], Protocol=i["protocol"], Endpoint=i["endpoint"]
    )["SubscriptionArn"]
    return arn, {"arn": arn}


# --- Budgets, EventBridge, ECR, IAM, CloudTrail ----------------------------------------------


def budget(ctx: Context, i: dict) -> tuple[str, Outputs]:
    account_id = ctx.aws.account_id
    definition: dict[str, Any] = {
        "BudgetName": i["name"],
        "BudgetLimit": {"Amount": i["limitAmount"], "Unit": i.get("limitUnit", "USD")},
        "TimeUnit": i["timeUnit"],
        "BudgetType": i["budgetType"],
    }
    filters = i.get("costFilters") or []
    if filters:
        definition["CostFilters"] = {f["name"]: f["values"] for f in filters}
    notifications = []
    for n in i.get("notifications", []):
        subscribers = [
            {"SubscriptionType": "EMAIL", "Address": a}
            for a in n.get("subscriberEmailAddresses", [])
        ]
        subscribers += [
            {"SubscriptionType": "SNS", "Address": a} for a in n.get("subscriberSnsTopicArns", [])
        ]
        notifications.append(
            {
                "Notification": {
                    "NotificationType": n["notificationType"],
                    "ComparisonOperator": n["comparisonOperator"],
                    "Threshold": float(n["threshold"]),
                    "ThresholdType": n.get("thresholdType", "PERCENTAGE"),
                },
                "Subscribers": subscribers,
            }
        )
    ctx.client("budgets").create_budget(
        AccountId=account_id, Budget=definition, NotificationsWithSubscribers=notifications
    )
    return f"{account_id}:{i['name']}", {"arn": f"arn:aws:budgets::{account_id}:budget/{i['name']}"}


def event_rule(ctx: Context, i: dict) -> tuple[str, Outputs]:
    arn = ctx.regional("events", i).put_rule(
        Name=i["name"], EventPattern=_json(i["eventPattern"]), Description=i.get("description", "")
    )["RuleArn"]
    return i["name"], {"arn": arn}


def event_target(ctx: Context, i: dict) -> tuple[str, Outputs]:
    target_id = i.get("targetId") or "diagnyx-target"
    target = {"Id": target_id, "Arn": i["arn"]}
    if i.get("roleArn"):
        target["RoleArn"] = i["roleArn"]
    ctx.regional("events", i).put_targets(Rule=i["rule"], Targets=[target])
    return f"{i['rule']}-{target_id}", {"targetId": target_id}


def ecr_repository(ctx: Context, i: dict) -> tuple[str, Outputs]:
    settings = (i.get("encryptionConfigurations") or [{}])[0]
    encryption = {"encryptionType": settings.get("encryptionType", "AES256")}
    if settings.get("kmsKey"):
        encryption["kmsKey"] = settings["kmsKey"]
    repository = ctx.client("ecr").create_repository(
        repositoryName=i["name"],
        imageTagMutability=i.get("imageTagMutability", "MUTABLE"),
        imageScanningConfiguration=i.get("imageScanningConfiguration", {}),
        encryptionConfiguration=encryption,
    )["repository"]
    return i["name"], {
        "arn": repository["repositoryArn"],
        "repositoryUrl": repository["repositoryUri"],
    }


def ecr_lifecycle_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("ecr").put_lifecycle_policy(
        repositoryName=i["repository"], lifecyclePolicyText=_json(i["policy"])
    )
    return i["repository"], {}


def ecr_repository_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    policy_text = _json(i["policy"])
    # ECR API reference, SetRepositoryPolicy, `force`: "If the policy you specify will prevent
    # the caller from making future calls to SetRepositoryPolicy, you must set force to true".
    # The AWS provider never sets force, and moto does not check the rule, so it is checked here.
    caller = ctx.client("sts").get_caller_identity()["Arn"]
    try:
        denied_by = denying_statement(policy_text, "ecr:SetRepositoryPolicy", caller)
    except CannotEvaluate as unknown:
        raise NotEmulated(f"cannot evaluate the repository policy's {unknown}") from None
    if denied_by is not None:
        raise ValueError(
            f"InvalidParameterException: statement {denied_by} denies ecr:SetRepositoryPolicy "
            f"to the caller {principal_arn(caller)}: the policy would lock the caller out of "
            "changing it again (ECR accepts that only with force, which the provider never sets)"
        )
    ctx.client("ecr").set_repository_policy(repositoryName=i["repository"], policyText=policy_text)
    return i["repository"], {}


def oidc_provider(ctx: Context, i: dict) -> tuple[str, Outputs]:
    arn = ctx.client("iam").create_open_id_connect_provider(
        Url=i["url"],
        ClientIDList=i.get("clientIdLists", []),
        ThumbprintList=i.get("thumbprintLists", []),
    )["OpenIDConnectProviderArn"]
    return arn, {"arn": arn}


def iam_role(ctx: Context, i: dict) -> tuple[str, Outputs]:
    params: dict[str, Any] = {}
    if i.get("permissionsBoundary"):
        params["PermissionsBoundary"] = i["permissionsBoundary"]
    role = ctx.client("iam").create_role(
        RoleName=i["name"],
        AssumeRolePolicyDocument=_json(i["assumeRolePolicy"]),
        Description=i.get("description", ""),
        MaxSessionDuration=int(i.get("maxSessionDuration", 3600)),
        **params,
    )["Role"]
    return i["name"], {"arn": role["Arn"], "name": i["name"], "uniqueId": role["RoleId"]}


def iam_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("iam").create_policy(
        PolicyName=i["name"],
        PolicyDocument=_json(i["policy"]),
        Description=i.get("description", ""),
    )["Policy"]
    return created["Arn"], {"arn": created["Arn"], "policyId": created["PolicyId"]}


def iam_role_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ctx.client("iam").put_role_policy(
        RoleName=i["role"], PolicyName=i["name"], PolicyDocument=_json(i["policy"])
    )
    return f"{i['role']}:{i['name']}", {}


def iam_role_policy_attachment(ctx: Context, i: dict) -> tuple[str, Outputs]:
    arn = i["policyArn"]
    role_id = f"{i['role']}-{arn}"
    if arn.startswith(aws_managed.PREFIX):
        if aws_managed.find(arn) is None:  # name and path must both match
            raise ValueError(f"NoSuchEntity: AWS has no managed policy {arn}")
        ctx.client("iam").get_role(RoleName=i["role"])  # the role must exist
        return role_id, {}
    ctx.client("iam").attach_role_policy(RoleName=i["role"], PolicyArn=arn)
    return role_id, {}


def dns_record(ctx: Context, i: dict) -> tuple[str, Outputs]:
    name = i["name"].rstrip(".")
    ctx.client("route53").change_resource_record_sets(
        HostedZoneId=i["zoneId"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT" if i.get("allowOverwrite") else "CREATE",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": i["type"],
                        "TTL": int(i.get("ttl", 300)),
                        "ResourceRecords": [{"Value": v} for v in i.get("records", [])],
                    },
                }
            ]
        },
    )
    return f"{i['zoneId']}_{name}_{i['type']}", {"fqdn": name}


def certificate(ctx: Context, i: dict) -> tuple[str, Outputs]:
    acm = ctx.client("acm")
    arn = acm.request_certificate(
        DomainName=i["domainName"],
        SubjectAlternativeNames=i.get("subjectAlternativeNames", []),
        ValidationMethod=i.get("validationMethod", "DNS"),
    )["CertificateArn"]
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    return arn, {
        "arn": arn,
        "domainValidationOptions": [
            {
                "domainName": o["DomainName"],
                "resourceRecordName": o["ResourceRecord"]["Name"],
                "resourceRecordType": o["ResourceRecord"]["Type"],
                "resourceRecordValue": o["ResourceRecord"]["Value"],
            }
            for o in sorted(options, key=lambda o: o["DomainName"].startswith("*"))
        ],
    }


def certificate_validation(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """ACM in the emulator never issues; check instead what DNS validation needs: a record of
    the certificate's name and value in a zone of this account."""
    acm = ctx.client("acm")
    options = acm.describe_certificate(CertificateArn=i["certificateArn"])["Certificate"][
        "DomainValidationOptions"
    ]
    wanted = {o["ResourceRecord"]["Name"].rstrip(".") for o in options}
    fqdns = {f.rstrip(".") for f in i.get("validationRecordFqdns", [])}
    missing = wanted - fqdns
    if missing:
        raise ValueError(f"validation records missing for {', '.join(sorted(missing))}")
    route53 = ctx.client("route53")
    found = set()
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])[
            "ResourceRecordSets"
        ]:
            found.add(record["Name"].rstrip("."))
    if wanted - found:
        raise ValueError(
            f"no DNS record {', '.join(sorted(wanted - found))} in this account's zones"
        )
    return i["certificateArn"], {"certificateArn": i["certificateArn"]}


# --- EC2 -------------------------------------------------------------------------------------


def _tags(i: dict) -> list[dict[str, Any]]:
    tags = i.get("tags") or {}
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _tag_spec(kind: str, i: dict) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": _tags(i)}] if i.get("tags") else []


def vpc(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    created = ec2.create_vpc(CidrBlock=i["cidrBlock"], TagSpecifications=_tag_spec("vpc", i))["Vpc"]
    vpc_id = created["VpcId"]
    ec2.modify_vpc_attribute(
        VpcId=vpc_id, EnableDnsSupport={"Value": bool(i.get("enableDnsSupport", True))}
    )
    ec2.modify_vpc_attribute(
        VpcId=vpc_id, EnableDnsHostnames={"Value": bool(i.get("enableDnsHostnames"))}
    )
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return vpc_id, {
        "arn": f"arn:aws:ec2:::vpc/{vpc_id}",
        "defaultSecurityGroupId": groups[0]["GroupId"],
    }


def default_security_group(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """Adopting the default group with no rules revokes every rule it has."""
    ec2 = ctx.client("ec2")
    (group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [i["vpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
        )
    if group.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
        )
    return group["GroupId"], {}


def subnet(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("ec2").create_subnet(
        VpcId=i["vpcId"],
        CidrBlock=i["cidrBlock"],
        AvailabilityZone=i["availabilityZone"],
        TagSpecifications=_tag_spec("subnet", i),
    )["Subnet"]
    return created["SubnetId"], {"arn": created.get("SubnetArn", "")}


def internet_gateway(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=i["vpcId"])
    return gateway, {}


def route_table(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    table = ec2.create_route_table(VpcId=i["vpcId"], TagSpecifications=_tag_spec("route-table", i))[
        "RouteTable"
    ]["RouteTableId"]
    for route in i.get("routes") or []:
        ec2.create_route(
            RouteTableId=table,
            DestinationCidrBlock=route["cidrBlock"],
            **({"GatewayId": route["gatewayId"]} if route.get("gatewayId") else {}),
        )
    return table, {}


def route_table_association(ctx: Context, i: dict) -> tuple[str, Outputs]:
    association = ctx.client("ec2").associate_route_table(
        RouteTableId=i["routeTableId"], SubnetId=i["subnetId"]
    )["AssociationId"]
    return association, {}


def route(ctx: Context, i: dict) -> tuple[str, Outputs]:
    target = {
        key: i[prop]
        for prop, key in (
            ("natGatewayId", "NatGatewayId"),
            ("gatewayId", "GatewayId"),
            ("vpcPeeringConnectionId", "VpcPeeringConnectionId"),
        )
        if i.get(prop)
    }
    ctx.client("ec2").create_route(
        RouteTableId=i["routeTableId"], DestinationCidrBlock=i["destinationCidrBlock"], **target
    )
    return f"r-{i['routeTableId']}{i['destinationCidrBlock']}", {}


def elastic_ip(ctx: Context, i: dict) -> tuple[str, Outputs]:
    allocation = ctx.client("ec2").allocate_address(Domain=i.get("domain", "vpc"))
    return allocation["AllocationId"], {"publicIp": allocation["PublicIp"]}


def nat_gateway(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("ec2").create_nat_gateway(
        SubnetId=i["subnetId"], AllocationId=i["allocationId"]
    )
    return created["NatGateway"]["NatGatewayId"], {}


def flow_log(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("ec2").create_flow_logs(
        ResourceIds=[i["vpcId"]],
        ResourceType="VPC",
        TrafficType=i.get("trafficType", "ALL"),
        LogDestinationType=i.get("logDestinationType", "s3"),
        LogDestination=i["logDestination"],
    )
    if created.get("Unsuccessful"):
        raise ValueError(str(created["Unsuccessful"]))
    return created["FlowLogIds"][0], {}


def peering_connection(ctx: Context, i: dict) -> tuple[str, Outputs]:
    created = ctx.client("ec2").create_vpc_peering_connection(
        VpcId=i["vpcId"],
        PeerVpcId=i["peerVpcId"],
        PeerOwnerId=i.get("peerOwnerId"),
        PeerRegion=i.get("peerRegion"),
    )["VpcPeeringConnection"]
    return created["VpcPeeringConnectionId"], {}


def peering_accepter(ctx: Context, i: dict) -> tuple[str, Outputs]:
    # EC2 API reference, AcceptVpcPeeringConnection: only a request in the pending-acceptance
    # state can be accepted, and only by the owner of the accepter VPC. Checked here so the
    # refusal names the connection and its status (deleted and rejected connections stay
    # visible; moto describes an unknown ID as nothing).
    ec2 = ctx.client("ec2")
    connection_id = i["vpcPeeringConnectionId"]
    try:
        found = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[connection_id])
    except ClientError as error:
        if "NotFound" not in error.response.get("Error", {}).get("Code", ""):
            raise
        found = {"VpcPeeringConnections": []}
    if not found["VpcPeeringConnections"]:
        raise ValueError(f"VPC peering connection {connection_id} does not exist")
    connection = found["VpcPeeringConnections"][0]
    status = connection.get("Status", {}).get("Code")
    if status != "pending-acceptance":
        raise ValueError(
            f"VPC peering connection {connection_id} is {status}: only a pending-acceptance "
            "request can be accepted"
        )
    owner = connection.get("AccepterVpcInfo", {}).get("OwnerId")
    if owner != ctx.aws.account_id:
        raise ValueError(
            f"VPC peering connection {connection_id} (status {status}) is addressed to account "
            f"{owner}, not {ctx.aws.account_id}"
        )
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=connection_id)
    return connection_id, {}


# --- Security services: account protections, AWS Config, GuardDuty, Security Hub --------------
# (what needs an organization's trusted access, a delegated administrator or a bucket policy is
# in aws_rules.py)


def account_public_access_block(ctx: Context, i: dict) -> tuple[str, Outputs]:
    account_id = i.get("accountId") or ctx.aws.account_id
    account_controls(ctx.aws).put_public_access_block(
        AccountId=account_id,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(i.get("blockPublicAcls")),
            "BlockPublicPolicy": bool(i.get("blockPublicPolicy")),
            "IgnorePublicAcls": bool(i.get("ignorePublicAcls")),
            "RestrictPublicBuckets": bool(i.get("restrictPublicBuckets")),
        },
    )
    return account_id, {"accountId": account_id}


def ebs_encryption_by_default(ctx: Context, i: dict) -> tuple[str, Outputs]:
    ec2 = ctx.regional("ec2", i)
    if i.get("enabled", True):
        ec2.enable_ebs_encryption_by_default()
    else:
        ec2.disable_ebs_encryption_by_default()
    return ec2.meta.region_name, {}


def account_password_policy(ctx: Context, i: dict) -> tuple[str, Outputs]:
    params: dict[str, Any] = {
        key: bool(i[prop])
        for prop, key in (
            ("requireLowercaseCharacters", "RequireLowercaseCharacters"),
            ("requireUppercaseCharacters", "RequireUppercaseCharacters"),
            ("requireNumbers", "RequireNumbers"),
            ("requireSymbols", "RequireSymbols"),
            ("allowUsersToChangePassword", "AllowUsersToChangePassword"),
            ("hardExpiry", "HardExpiry"),
        )
        if prop in i
    }
    for prop, key in (
        ("minimumPasswordLength", "MinimumPasswordLength"),
        ("passwordReusePrevention", "PasswordReusePrevention"),
        ("maxPasswordAge", "MaxPasswordAge"),
    ):
        if i.get(prop) is not None:
            params[key] = int(i[prop])
    iam = ctx.client("iam")
    iam.update_account_password_policy(**params)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    return "iam-account-password-policy", {"expirePasswords": policy.get("ExpirePasswords", False)}


def service_linked_role(ctx: Context, i: dict) -> tuple[str, Outputs]:
    params = {"AWSServiceName": i["awsServiceName"]}
    if i.get("description"):
        params["Description"] = i["description"]
    if i.get("customSuffix"):
        params["CustomSuffix"] = i["customSuffix"]
    role = ctx.client("iam").create_service_linked_role(**params)["Role"]
    return role["Arn"], {
        "arn": role["Arn"],
        "name": role["RoleName"],
        "path": role["Path"],
        "uniqueId": role["RoleId"],
    }


def _one(value: Any) -> Any:
    """A nested block the provider's schema lists (at most one item) as the object it is."""
    return value[0] if isinstance(value, list) else value


def _many(value: Any) -> list:
    """A nested block the provider's schema has as one object as the list AWS takes."""
    return value if isinstance(value, list) else [value]


def config_recorder(ctx: Context, i: dict) -> tuple[str, Outputs]:
    # The API's shapes are camelCase like the engine's; the provider names some blocks apart
    # from the API (recordingStrategies for recordingStrategy, recordingModeOverride for the
    # list recordingModeOverrides).
    recorder: dict[str, Any] = {"name": i["name"], "roleARN": i["roleArn"]}
    group = dict(i.get("recordingGroup") or {})
    if group.get("recordingStrategies"):
        group["recordingStrategy"] = _one(group.pop("recordingStrategies"))
    if group.get("exclusionByResourceTypes"):
        group["exclusionByResourceTypes"] = _one(group["exclusionByResourceTypes"])
    if group:
        recorder["recordingGroup"] = group
    mode = dict(i.get("recordingMode") or {})
    if mode.get("recordingModeOverride"):
        mode["recordingModeOverrides"] = _many(mode.pop("recordingModeOverride"))
    if mode:
        recorder["recordingMode"] = mode
    ctx.regional("config", i).put_configuration_recorder(ConfigurationRecorder=recorder)
    return i["name"], {}


def config_recorder_status(ctx: Context, i: dict) -> tuple[str, Outputs]:
    config = ctx.regional("config", i)
    if i.get("isEnabled"):
        # StartConfigurationRecorder needs a delivery channel (NoAvailableDeliveryChannel).
        config.start_configuration_recorder(ConfigurationRecorderName=i["name"])
    else:
        config.stop_configuration_recorder(ConfigurationRecorderName=i["name"])
    return i["name"], {}


def guardduty_detector(ctx: Context, i: dict) -> tuple[str, Outputs]:
    guardduty = ctx.regional("guardduty", i)
    params: dict[str, Any] = {"Enable": bool(i.get("enable", True))}
    if i.get("findingPublishingFrequency"):
        params["FindingPublishingFrequency"] = i["findingPublishingFrequency"]
    detector_id = guardduty.create_detector(**params)["DetectorId"]
    region, account = guardduty.meta.region_name, ctx.aws.account_id
    return detector_id, {
        "accountId": account,
        "arn": f"arn:aws:guardduty:{region}:{account}:detector/{detector_id}",
    }


def guardduty_detector_feature(ctx: Context, i: dict) -> tuple[str, Outputs]:
    """A detector's feature, set through UpdateDetector as the provider sets it."""
    feature = {"Name": i["name"], "Status": i["status"]}
    ctx.regional("guardduty", i).update_detector(DetectorId=i["detectorId"], Features=[feature])
    return f"{i['detectorId']}/{i['name']}", {}


def security_hub_account(ctx: Context, i: dict) -> tuple[str, Outputs]:
    securityhub = ctx.regional("securityhub", i)
    securityhub.enable_security_hub(
        EnableDefaultStandards=bool(i.get("enableDefaultStandards", True))
    )
    return ctx.aws.account_id, {"arn": securityhub.describe_hub()["HubArn"]}


HANDLERS: dict[str, Handler] = {
    "aws:organizations/organization:Organization": organization,
    "aws:organizations/organizationalUnit:OrganizationalUnit": organizational_unit,
    "aws:organizations/account:Account": account,
    "aws:organizations/policy:Policy": org_policy,
    "aws:organizations/policyAttachment:PolicyAttachment": policy_attachment,
    "aws:identitystore/group:Group": identity_group,
    "aws:ssoadmin/permissionSet:PermissionSet": permission_set,
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": managed_policy_attachment,
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": inline_policy_of_set,
    "aws:ssoadmin/accountAssignment:AccountAssignment": account_assignment,
    "aws:kms/key:Key": kms_key,
    "aws:kms/alias:Alias": kms_alias,
    "aws:s3/bucket:Bucket": bucket,
    "aws:s3/bucketVersioning:BucketVersioning": bucket_versioning,
    ENCRYPTION_CONFIGURATION: bucket_encryption,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": public_access_block,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ownership_controls,
    "aws:s3/bucketPolicy:BucketPolicy": bucket_policy,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": bucket_lifecycle,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": object_lock,
    "aws:dynamodb/table:Table": dynamodb_table,
    "aws:sns/topic:Topic": sns_topic,
    "aws:sns/topicPolicy:TopicPolicy": topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": topic_subscription,
    "aws:budgets/budget:Budget": budget,
    "aws:cloudwatch/eventRule:EventRule": event_rule,
    "aws:cloudwatch/eventTarget:EventTarget": event_target,
    "aws:ecr/repository:Repository": ecr_repository,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ecr_lifecycle_policy,
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ecr_repository_policy,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": oidc_provider,
    "aws:iam/role:Role": iam_role,
    "aws:iam/policy:Policy": iam_policy,
    "aws:iam/rolePolicy:RolePolicy": iam_role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": iam_role_policy_attachment,
    "aws:route53/record:Record": dns_record,
    "aws:acm/certificate:Certificate": certificate,
    "aws:ec2/vpc:Vpc": vpc,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": default_security_group,
    "aws:ec2/subnet:Subnet": subnet,
    "aws:ec2/internetGateway:InternetGateway": internet_gateway,
    "aws:ec2/routeTable:RouteTable": route_table,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": route_table_association,
    "aws:ec2/route:Route": route,
    "aws:ec2/eip:Eip": elastic_ip,
    "aws:ec2/natGateway:NatGateway": nat_gateway,
    "aws:ec2/flowLog:FlowLog": flow_log,
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": peering_connection,
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": peering_accepter,
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": account_public_access_block,
    "aws:ebs/encryptionByDefault:EncryptionByDefault": ebs_encryption_by_default,
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": account_password_policy,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": service_linked_role,
    "aws:cfg/recorder:Recorder": config_recorder,
    "aws:cfg/recorderStatus:RecorderStatus": config_recorder_status,
    "aws:guardduty/detector:Detector": guardduty_detector,
    "aws:guardduty/detectorFeature:DetectorFeature": guardduty_detector_feature,
    "aws:securityhub/account:Account": security_hub_account,
}

# What the emulator lacks: reported by name as "not emulated", never silently skipped. Each of
# these types still has a handler (aws_rules.py) that checks what AWS would check first (the
# caller, trusted access, a delegated administrator, a bucket policy) and then raises
# NotEmulated with this reason. Checked against moto 5.2.
NOT_EMULATED: dict[str, str] = {
    "aws:accessanalyzer/analyzer:Analyzer": (
        "moto does not implement access-analyzer:CreateAnalyzer"
    ),
    "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature": (
        "moto does not implement guardduty:UpdateOrganizationConfiguration"
    ),
    "aws:guardduty/publishingDestination:PublishingDestination": (
        "moto does not implement guardduty:CreatePublishingDestination"
    ),
    "aws:securityhub/findingAggregator:FindingAggregator": (
        "moto does not implement securityhub:CreateFindingAggregator"
    ),
    "aws:securityhub/configurationPolicy:ConfigurationPolicy": (
        "moto does not implement securityhub:CreateConfigurationPolicy"
    ),
}


def not_emulated(type_: str) -> NotEmulated:
    """The gap of ``type_``, to raise once AWS's checks of the call have passed."""
    return NotEmulated(NOT_EMULATED[type_])
