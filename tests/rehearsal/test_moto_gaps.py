"""What the emulator adds to moto's model of AWS (rehearsal/moto_gaps.py), each as AWS behaves,
and nothing beyond it."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from diagnyx_infra.rehearsal import moto_gaps

REGION = "us-east-1"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """moto in this process: not a server another test pointed AWS_ENDPOINT_URL at."""
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def sso():
    with mock_aws():
        client = boto3.client(
            "sso-admin", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        instance = client.list_instances()["Instances"][0]["InstanceArn"]
        permission_set = client.create_permission_set(InstanceArn=instance, Name="DevOps")
        which = {
            "InstanceArn": instance,
            "PermissionSetArn": permission_set["PermissionSet"]["PermissionSetArn"],
        }
        yield client, which


def test_an_aws_managed_policy_with_a_path_attaches_to_a_permission_set(sso):
    client, which = sso
    client.attach_managed_policy_to_permission_set(**which, ManagedPolicyArn=VIEW_ONLY)
    attached = client.list_managed_policies_in_permission_set(**which)["AttachedManagedPolicies"]
    assert [(p["Arn"], p["Name"]) for p in attached] == [(VIEW_ONLY, "ViewOnlyAccess")]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/ViewOnlyAccess",  # its path left out
        "arn:aws:iam::aws:policy/job-function/NoSuchPolicy",
        "arn:aws:iam::123456789012:policy/job-function/ViewOnlyAccess",  # not AWS's
    ],
)
def test_a_policy_aws_does_not_have_is_still_refused(sso, arn):
    client, which = sso
    with pytest.raises(ClientError) as refused:
        client.attach_managed_policy_to_permission_set(**which, ManagedPolicyArn=arn)
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_cloudtrail_is_a_delegated_administrator_service():
    with mock_aws():
        organizations = boto3.client(
            "organizations", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        organizations.create_organization(FeatureSet="ALL")
        account = organizations.create_account(AccountName="security", Email="s@example.com")
        account_id = account["CreateAccountStatus"]["AccountId"]
        organizations.register_delegated_administrator(
            AccountId=account_id, ServicePrincipal=moto_gaps.CLOUDTRAIL
        )
        (admin,) = organizations.list_delegated_administrators(
            ServicePrincipal=moto_gaps.CLOUDTRAIL
        )["DelegatedAdministrators"]
        assert admin["Id"] == account_id
