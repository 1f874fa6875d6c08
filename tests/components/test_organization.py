"""The management stack's organization, as the real program registers it under mocks."""

import json

from diagnyx_infra.components.organization import ACCOUNT_IGNORED_FIELDS
from diagnyx_infra.config.models import DEFAULT_TRUSTED_SERVICES

ORG = "aws:organizations/organization:Organization"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
ACCOUNT = "aws:organizations/account:Account"

EXPECTED_PLACEMENT = {
    "security": "Security",
    "shared": "SharedServices",
    "dev": "NonProduction",
    "staging": "NonProduction",
    "uat": "NonProduction",
    "prod": "Production",
}


def short_name(account):
    return account.name.removeprefix("organization-account-")


def test_one_organization_with_all_features_and_policy_types(management):
    (org,) = management.of_type(ORG)
    assert org.inputs["featureSet"] == "ALL"
    assert org.inputs["enabledPolicyTypes"] == ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]
    # Config's list plus the organization analyzer's (free, always on); the paid services add
    # theirs when switched on (tests/components/test_security_services.py).
    assert org.inputs["awsServiceAccessPrincipals"] == sorted(
        [*DEFAULT_TRUSTED_SERVICES, "access-analyzer.amazonaws.com"]
    )
    assert org.protect


def test_four_ous_under_the_root(management):
    ous = management.of_type(OU)
    assert sorted(o.inputs["name"] for o in ous) == [
        "NonProduction",
        "Production",
        "Security",
        "SharedServices",
    ]
    assert {o.inputs["parentId"] for o in ous} == {"r-mock"}
    assert all(o.protect for o in ous)


def test_six_accounts_each_in_its_ou(management):
    ou_id_by_name = {o.inputs["name"]: o.id for o in management.of_type(OU)}
    accounts = {short_name(a): a for a in management.of_type(ACCOUNT)}
    assert set(accounts) == set(EXPECTED_PLACEMENT)
    for name, ou in EXPECTED_PLACEMENT.items():
        assert accounts[name].inputs["parentId"] == ou_id_by_name[ou], name


def test_accounts_survive_destroy_and_config_edits(management):
    for account in management.of_type(ACCOUNT):
        assert account.protect, account.name
        assert account.inputs["closeOnDeletion"] is False
        assert account.inputs["roleName"] == "OrganizationAccountAccessRole"
        assert set(account.ignore_changes) == {
            "roleName",
            "iamUserAccessToBilling",
            "email",
        }
    assert len(ACCOUNT_IGNORED_FIELDS) == 3


def test_account_emails_come_from_config(management):
    emails = sorted(a.inputs["email"] for a in management.of_type(ACCOUNT))
    assert emails == sorted(f"aws+{name}@diagnyx.ai" for name in EXPECTED_PLACEMENT)


def test_outputs_give_organization_root_ous_and_account_ids(management):
    outputs = management.outputs
    assert outputs["rootId"] == "r-mock"
    assert outputs["organizationId"]
    assert set(outputs["organizationalUnitIds"]) == set(EXPECTED_PLACEMENT.values())
    accounts = {short_name(a): a.id for a in management.of_type(ACCOUNT)}
    assert outputs["accountIds"] == accounts
    json.dumps(outputs)  # plain values, printable by `pulumi stack output --json`
