"""Documents for the workload network: flow log delivery to S3."""

LOG_DELIVERY = "delivery.logs.amazonaws.com"


def flow_log_delivery_statements(bucket_arn: str, account_id: str) -> list[dict]:
    only_this_account = {"StringEquals": {"aws:SourceAccount": account_id}}
    return [
        {
            "Sid": "FlowLogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": only_this_account,
        },
        {
            "Sid": "FlowLogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": account_id,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        },
    ]


def flow_log_key_statement(account_id: str) -> dict:
    return {
        "Sid": "FlowLogDeliveryEncrypts",
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
