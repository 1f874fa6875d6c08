"""GuardDuty, Security Hub and AWS Config switched on (organization.securityServices in a copy of
the project), the documented deploy sequence rehearsed once from an empty management account:
what each service made in which account, and what moto lacks reported by name. The rules these
resources meet are tested one at a time in test_security_services_rules.py."""

import io

import pytest
from rich.console import Console

from diagnyx_infra.config.models import MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT
from diagnyx_infra.ops.findings import Status
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.policies import security_services as services
from diagnyx_infra.rehearsal.aws_rules import ACCESS_ANALYZER, GUARDDUTY, SECURITY_HUB
from diagnyx_infra.rehearsal.emulator import HANDLERS
from diagnyx_infra.rehearsal.handlers import NOT_EMULATED
from diagnyx_infra.rehearsal.moto_gaps import CONFIG
from diagnyx_infra.rehearsal.rehearse import RehearsalResult, rehearse
from diagnyx_infra.rehearsal.report import render
from diagnyx_infra.rehearsal.world import World
from tests.helpers import ALL_STACKS, edited_project

SWITCHES = {"guardDuty": True, "securityHub": True, "awsConfig": True}
# The management account, the administrator and one member: every other member's stack is the
# member's again (a third less CPU than all seven; the organization still has every account).
REHEARSED = (MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, "dev")


def _switch_on(stack: str, config: dict) -> None:
    config["diagnyx:organization"]["securityServices"] = dict(SWITCHES)


def _what_aws_holds(world: World, regions: list[str], home: str) -> dict:
    """The services' state in every account and region, read from the emulated AWS."""
    account_ids = {MANAGEMENT_ACCOUNT: world.management.account_id}
    account_ids.update(world.outputs[MANAGEMENT_ACCOUNT]["accountIds"])
    organizations = world.management.client("organizations")
    seen: dict = {
        "accounts": account_ids,
        "delegated": {
            principal: sorted(
                a["Id"]
                for a in organizations.list_delegated_administrators(ServicePrincipal=principal)[
                    "DelegatedAdministrators"
                ]
            )
            for principal in (ACCESS_ANALYZER, CONFIG, GUARDDUTY, SECURITY_HUB)
        },
        "trusted": {
            p["ServicePrincipal"]
            for p in organizations.list_aws_service_access_for_organization()[
                "EnabledServicePrincipals"
            ]
        },
        "guardduty admins": {
            region: [
                a["AdminAccountId"]
                for a in world.management.client("guardduty", region)
                .list_organization_admin_accounts()
                .get("AdminAccounts", [])
            ]
            for region in regions
        },
        "recording": {},
        "detectors": {},
        "hubs": {},
    }
    for name, account_id in account_ids.items():
        session = (
            world.management
            if account_id == world.management.account_id
            else world.management.assume(account_id)
        )
        for region in regions:
            config = session.client("config", region)
            statuses = config.describe_configuration_recorder_status()
            channels = config.describe_delivery_channels()["DeliveryChannels"]
            seen["recording"][name, region] = (
                [s["name"] for s in statuses["ConfigurationRecordersStatus"] if s["recording"]],
                [c["s3BucketName"] for c in channels],
            )
            seen["detectors"][name, region] = session.client("guardduty", region).list_detectors()[
                "DetectorIds"
            ]
            try:
                session.client("securityhub", region).describe_hub()
                seen["hubs"][name, region] = True
            except Exception:
                seen["hubs"][name, region] = False
        if name == SECURITY_ACCOUNT:
            hub = session.client("securityhub", home)
            seen["central"] = hub.describe_organization_configuration()["OrganizationConfiguration"]
            seen["aggregators"] = session.client(
                "config", home
            ).describe_configuration_aggregators()["ConfigurationAggregators"]
    return seen


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory) -> tuple[RehearsalResult, dict, list[str], str]:
    """One rehearsal of every stack with the switches on; what AWS holds is read just before
    the checklist, while the emulated AWS is still there."""
    project = edited_project(
        tmp_path_factory.mktemp("services-on"), _switch_on, stacks=[MANAGEMENT_ACCOUNT]
    )
    management = LandingZone.load(project).management
    regions, home = list(management.allowed_regions), management.region
    worlds: list[World] = []
    held: dict = {}

    def before_step(step, work, world):
        worlds[:] = [world]

    def on_progress(advance):
        if advance.step == "checklist":
            held.update(_what_aws_holds(worlds[0], regions, home))

    result = rehearse(list(REHEARSED), project, on_progress, before_step=before_step)
    return result, held, regions, home


def test_the_whole_sequence_is_carried_out_with_every_service_on(rehearsed):
    result = rehearsed[0]
    assert result.failure is None, str(result.failure)
    assert result.steps[-1].startswith(f"step {result.total_steps}:")
    for deployed in result.stacks:
        for created in deployed.created:
            assert created.type in HANDLERS, created
            assert created.emulated or created.note == NOT_EMULATED.get(created.type), created
    # The landing zone just deployed has not drifted: drift knows the services' roles, delegated
    # administrators, trusted access and buckets as the switches make them.
    assert result.drift is not None
    assert result.drift.drifts == [], result.drift.drifts
    assert result.drift.not_looked == [], result.drift.not_looked
    # Every checklist line passes but the one moto cannot answer (Access Analyzer's analyzers):
    # `rehearse` exits 0 with every service on.
    failed = [f for f in result.findings if f.status == Status.FAIL]
    assert failed == [], failed
    cannot = {(f.account, f.item) for f in result.findings if f.status == Status.CANNOT}
    assert cannot == {(SECURITY_ACCOUNT, "IAM Access Analyzer")}, cannot


def test_the_security_account_administers_every_service(rehearsed):
    result, held, regions, _ = rehearsed
    assert result.failure is None, str(result.failure)
    security = held["accounts"][SECURITY_ACCOUNT]
    # Registered through Organizations (Access Analyzer, AWS Config) or by the service's own
    # designation (GuardDuty in each region, Security Hub), from the management stack.
    administered = (ACCESS_ANALYZER, CONFIG, GUARDDUTY, SECURITY_HUB)
    assert held["delegated"] == {principal: [security] for principal in administered}
    assert set(administered) <= held["trusted"]
    assert held["guardduty admins"] == {region: [security] for region in regions}


def test_every_account_records_in_every_region_into_the_config_bucket(rehearsed):
    result, held, regions, _ = rehearsed
    assert result.failure is None, str(result.failure)
    bucket = services.config_bucket_name(held["accounts"][SECURITY_ACCOUNT])
    assert set(held["accounts"]) == set(ALL_STACKS)  # the organization has them all
    for account in REHEARSED:
        for region in regions:
            assert held["recording"][account, region] == (
                [services.CONFIG_RECORDER],
                [bucket],
            ), (account, region)
    (aggregator,) = held["aggregators"]
    assert aggregator["ConfigurationAggregatorName"] == services.CONFIG_AGGREGATOR
    assert aggregator["OrganizationAggregationSource"]["AwsRegions"] == regions


def test_guardduty_and_security_hub_run_where_the_program_turns_them_on(rehearsed):
    result, held, regions, _ = rehearsed
    assert result.failure is None, str(result.failure)
    # One detector per account and region: the management account's own, the administrator's
    # from its designation, the members' from the organization configuration (ALL), whose
    # effect the rehearsal emulates; Security Hub in every account and region, from the
    # configuration policy on the root (home and linked Regions): every account of the
    # organization, its own stack rehearsed or not.
    for account in ALL_STACKS:
        for region in regions:
            assert len(held["detectors"][account, region]) == 1, (account, region)
            assert held["hubs"][account, region], (account, region)
    assert held["central"]["ConfigurationType"] == "CENTRAL"


def test_what_moto_lacks_is_reported_by_name(rehearsed):
    result, _, regions, _ = rehearsed
    assert result.failure is None, str(result.failure)
    (security,) = [d for d in result.stacks if d.stack == SECURITY_ACCOUNT]
    gaps: dict[str, list[str]] = {}
    for created in security.not_emulated:
        assert created.note == NOT_EMULATED[created.type], created
        gaps.setdefault(created.type, []).append(created.name)
    # Every gap, and only in the security account (the administrator's calls).
    assert set(gaps) == set(NOT_EMULATED)
    assert all(not d.not_emulated for d in result.stacks if d.stack != SECURITY_ACCOUNT)
    assert len(gaps["aws:accessanalyzer/analyzer:Analyzer"]) == len(regions)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    render(result, console)
    text = console.file.getvalue()
    for type_, names in gaps.items():
        line = f"not emulated: {type_} (security {len(names)}): {NOT_EMULATED[type_]}"
        assert line in text, line
