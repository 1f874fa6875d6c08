"""`doctor`'s DNS delegation line: the registrar's answer against the zone's name servers."""

from types import SimpleNamespace

import pytest

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.doctor import delegation, route53_domains
from diagnyx_infra.ops.findings import Status, run_check
from diagnyx_infra.rehearsal.rehearse import emulated_aws

DOMAIN = "diagnyx-example.com"
CONTACT = {
    "FirstName": "Platform",
    "LastName": "Team",
    "ContactType": "COMPANY",
    "OrganizationName": "Diagnyx",
    "AddressLine1": "1 Example Street",
    "City": "Seattle",
    "State": "WA",
    "CountryCode": "US",
    "ZipCode": "98101",
    "PhoneNumber": "+1.2065550100",
    "Email": "domains@example.com",
}


@pytest.fixture
def world():
    with emulated_aws():
        caller = Aws.from_environment("us-east-1")
        organizations = caller.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        shared_id = organizations.create_account(Email="aws+shared@example.com", AccountName="s")[
            "CreateAccountStatus"
        ]["AccountId"]
        route53 = caller.assume(shared_id).client("route53")
        delegation_set = route53.create_reusable_delegation_set(CallerReference="d")
        set_id = delegation_set["DelegationSet"]["Id"].rsplit("/", 1)[-1]
        route53.create_hosted_zone(Name=DOMAIN, CallerReference="z", DelegationSetId=set_id)
        domains = caller.session.client("route53domains", region_name="us-east-1")
        domains.register_domain(
            DomainName=DOMAIN,
            DurationInYears=2,
            AdminContact=CONTACT,
            RegistrantContact=CONTACT,
            TechContact=CONTACT,
        )
        zone = SimpleNamespace(account_ids={"shared": shared_id})
        yield caller, zone, domains, delegation_set["DelegationSet"]["NameServers"]


def test_a_parked_domain_fails_and_names_both_sets_of_name_servers(world):
    caller, zone, domains, _ = world
    domains.update_domain_nameservers(
        DomainName=DOMAIN, Nameservers=[{"Name": "ns1.parking.example"}]
    )
    ok, detail = delegation(caller, zone, DOMAIN, route53_domains(caller))
    assert not ok
    assert "ns1.parking.example" in detail and "awsdns" in detail


def test_a_domain_delegated_to_the_delegation_set_passes(world):
    caller, zone, domains, name_servers = world
    domains.update_domain_nameservers(
        DomainName=DOMAIN, Nameservers=[{"Name": n} for n in name_servers]
    )
    ok, detail = delegation(caller, zone, DOMAIN, route53_domains(caller))
    assert ok, detail


def test_another_registrar_cannot_be_checked_and_says_how_to(world):
    caller, zone, _, _ = world
    finding = run_check(
        "shared", "DNS delegation", lambda: delegation(caller, zone, DOMAIN, lambda domain: None)
    )
    assert finding.status == Status.CANNOT
    assert f"dig +short NS {DOMAIN}" in finding.detail


def test_checklist_of_a_pending_account_says_so_on_every_line():
    from diagnyx_infra.ops.checklist import ITEMS, Checklist

    zone = SimpleNamespace(account_ids={"dev": "pending"})
    findings = Checklist(caller=None, zone=zone).account("dev")
    assert [f.item for f in findings] == list(ITEMS)
    assert {f.status for f in findings} == {Status.CANNOT}
    assert all("pending" in f.detail and "accounts sync" in f.hint for f in findings)
