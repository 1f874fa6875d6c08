"""Identity Center lookups shared by the operations commands."""

import boto3
import pytest
from botocore.stub import Stubber

from diagnyx_infra.ops.aws import MalformedReply
from diagnyx_infra.ops.identity_center import permission_set_names

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"


def _sso():
    return boto3.client(
        "sso-admin", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


def test_a_permission_set_is_described_once_per_process():
    """Its name cannot change (UpdatePermissionSet takes none): a second listing reuses it."""
    arn = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-once0000000001"
    sso = _sso()
    with Stubber(sso) as stub:
        listing = ({"PermissionSets": [arn]}, {"InstanceArn": INSTANCE})
        stub.add_response("list_permission_sets", *listing)
        stub.add_response(
            "describe_permission_set",
            {"PermissionSet": {"Name": "Developer", "PermissionSetArn": arn}},
            {"InstanceArn": INSTANCE, "PermissionSetArn": arn},
        )
        stub.add_response("list_permission_sets", *listing)
        assert permission_set_names(sso, INSTANCE) == {arn: "Developer"}
        assert permission_set_names(sso, INSTANCE) == {arn: "Developer"}
        stub.assert_no_pending_responses()


def test_a_description_without_a_name_is_not_an_aws_answer():
    arn = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-noname00000001"
    sso = _sso()
    with Stubber(sso) as stub:
        stub.add_response("list_permission_sets", {"PermissionSets": [arn]})
        stub.add_response("describe_permission_set", {"PermissionSet": {}})
        with pytest.raises(MalformedReply, match=r"PermissionSet\.Name"):
            permission_set_names(sso, INSTANCE)
