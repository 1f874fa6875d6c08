"""The rehearsal's resource-policy evaluator, on the cases that decide CloudTrail's delivery."""

import pytest

from diagnyx_infra.policies.evaluation import CannotEvaluate, Request, decision

TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/diagnyx-organization-trail"
BUCKET = "arn:aws:s3:::diagnyx-audit-logs-333333333333"
OBJECT = f"{BUCKET}/AWSLogs/111111111111/CloudTrail/us-east-1/log.json.gz"
CONTEXT = {
    "aws:sourcearn": TRAIL,
    "aws:sourceaccount": "111111111111",
    "aws:securetransport": "true",
    "s3:x-amz-acl": "bucket-owner-full-control",
}
PUT = Request("s3:PutObject", OBJECT, "cloudtrail.amazonaws.com", context=CONTEXT)


def _allow(**extra):
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{BUCKET}/AWSLogs/*",
        **extra,
    }


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET, f"{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (_policy(_allow(Condition={"StringEquals": {"aws:SourceArn": TRAIL}})), "Allow"),
        (_policy(_allow(Condition={"StringEquals": {"aws:SourceArn": "arn:other"}})), "None"),
        # A further condition CloudTrail's request does not meet withholds the grant.
        (
            _policy(_allow(Condition={"StringEquals": {"aws:SourceAccount": "000000000000"}})),
            "None",
        ),
        (_policy(_allow(Condition={"StringEquals": {"s3:x-amz-acl": "private"}})), "None"),
        (_policy(_allow(Action="S3:putobject")), "Allow"),  # actions are case-insensitive
        (_policy(_allow(Resource=f"{BUCKET}/other/*")), "None"),
        (_policy(_allow(), TLS_ONLY), "Allow"),  # the TLS deny does not apply over TLS
        (_policy(_allow(), {**TLS_ONLY, "Condition": {}}), "Deny"),  # an explicit deny wins
        (_policy({**_allow(), "Principal": "*"}), "Allow"),
        (
            _policy(
                {k: v for k, v in _allow().items() if k != "Resource"} | {"NotResource": BUCKET}
            ),
            "Allow",
        ),
        # A key absent from the request: false, except negated operators and ...IfExists.
        (_policy(_allow(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})), "None"),
        (_policy(_allow(Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}})), "Allow"),
        (
            _policy(_allow(Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}})),
            "Allow",
        ),
        (_policy(_allow(Condition={"Null": {"aws:PrincipalOrgID": "true"}})), "Allow"),
    ],
)
def test_cloudtrail_delivery_decisions(policy, expected):
    assert decision(policy, PUT) == expected


def test_elements_it_does_not_know_are_not_guessed():
    with pytest.raises(CannotEvaluate):
        decision(_policy({**_allow(), "NotPrincipal": {"AWS": "x"}}), PUT)
    with pytest.raises(CannotEvaluate):
        decision(_policy(_allow(Condition={"ForAnyValue:StringLike": {"aws:TagKeys": "*"}})), PUT)


@pytest.mark.parametrize(
    ("resource", "pattern", "expected"),
    [
        (BUCKET, "arn:aws:s3:::diagnyx-*", "Allow"),
        (BUCKET, "arn:aws:s3:::diagnyx-audit-logs-33333333333?", "Allow"),
        (BUCKET, "arn:aws:s3:::diagnyx-audit-logs-3333333333?", "None"),  # ? is one character
        # Only * and ? are wildcards in IAM: brackets and dots stand for themselves.
        ("arn:aws:s3:::b1", "arn:aws:s3:::b[0-9]", "None"),
        ("arn:aws:s3:::b[0-9]", "arn:aws:s3:::b[0-9]", "Allow"),
        ("arn:aws:s3:::bXcket", "arn:aws:s3:::b.cket", "None"),
        ("arn:aws:s3:::line\nbreak", "arn:aws:s3:::line*", "Allow"),
    ],
)
def test_wildcards_are_iams_own(resource, pattern, expected):
    statement = {**_allow(Resource=pattern), "Principal": "*"}
    assert decision(_policy(statement), Request("s3:PutObject", resource, "x")) == expected


def test_an_empty_list_matches_nothing_and_case_folds_only_actions():
    assert decision(_policy(_allow(Action=[])), PUT) == "None"
    assert decision(_policy(_allow(Resource=f"{BUCKET.upper()}/AWSLogs/*")), PUT) == "None"
    assert decision(_policy(_allow(Action=["iam:*", "S3:PUT*"])), PUT) == "Allow"
