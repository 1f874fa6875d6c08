"""`diagnyx cost estimate`: fixed monthly cost from the recorded resources and the price table,
and the security services as usage-based estimates."""

import json
import re

import pytest

from diagnyx_infra import costs
from diagnyx_infra.engine.runner import PROJECT_DIR, StackRecording, run_stack
from tests.helpers import ALL_STACKS, edited_config, edited_project
from tests.test_cli import invoke

HAND_CALCULATION = 9.50  # README: 7 KMS keys x $1.00 + 5 hosted zones x $0.50
ACCOUNT_REGIONS = 14  # README: 7 accounts x the 2 default allowed regions
SERVICES = ("awsConfig", "guardDuty", "securityHub")


def test_every_price_names_its_source_and_date():
    table = costs.price_table()
    for entry in table["fixed"]:
        assert entry["monthly"] > 0
        assert entry["source"].startswith("https://aws.amazon.com/")
        assert entry["checked"]
    for entry in table["options"]:
        assert entry["source"].startswith("https://aws.amazon.com/")
        assert entry["per"] in ("account", "VPC")
    assert table["usage"] and table["options"] and table["assumptions"]
    assert [entry["key"] for entry in table["securityServices"]] == list(SERVICES)
    for entry in table["securityServices"]:
        assert entry["source"].startswith("https://aws.amazon.com/")
        assert entry["checked"] and len(entry["assumption"]) > 100, entry["key"]
        for line in entry["lines"]:
            sizes = [size for size, _ in line["tiers"]]
            assert sizes[-1] is None and None not in sizes[:-1], line["item"]  # the rest last
            assert all(price >= 0 for _, price in line["tiers"]), line["item"]


def test_all_stacks_match_the_readme_hand_calculation(recordings):
    estimates = [costs.estimate(recordings[s]) for s in ALL_STACKS]
    assert costs.total(estimates) == HAND_CALCULATION
    by_stack = {e.stack: e.monthly for e in estimates}
    assert by_stack["shared"] == 3.50 and by_stack["prod"] == 1.00
    readme = (PROJECT_DIR / "README.md").read_text()
    assert f"**${HAND_CALCULATION:.2f}**" in readme


def test_the_organization_trail_is_free_and_usage_items_are_listed_apart(recordings):
    security = costs.estimate(recordings["security"])
    assert [line.type for line in security.free if "Trail" in line.type] == [
        "aws:cloudtrail/trail:Trail"
    ]
    assert not [line for line in security.usage if "Trail" in line.type]
    assert {line.type for line in security.usage} >= {
        "aws:s3/bucket:Bucket",
        "aws:dynamodb/table:Table",
    }


def test_turning_on_a_nat_gateway_adds_its_price():
    def nat_on(config):
        config["diagnyx:network"]["natGateway"] = True

    estimate = costs.estimate(run_stack("dev", config=edited_config("dev", nat_on)))
    assert estimate.monthly == pytest.approx(1.00 + 32.85 + 3.65)


def test_an_account_trail_is_priced_by_usage():
    def account_trail(config):
        config["diagnyx:accountTrail"] = "true"

    estimate = costs.estimate(run_stack("dev", config=edited_config("dev", account_trail)))
    assert any(line.type == "aws:cloudtrail/trail:Trail" for line in estimate.usage)


def test_compare_reports_the_change_against_a_base(recordings, tmp_path, monkeypatch):
    base = costs.as_json([costs.estimate(recordings[s]) for s in ALL_STACKS])
    base["stacks"]["shared"]["monthlyUsd"] = 3.00  # as if main had one zone less
    (tmp_path / "base.json").write_text(json.dumps(base))
    monkeypatch.chdir(tmp_path)
    result = invoke("cost", "estimate", "--all", "--json", "--compare", "base.json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totalMonthlyUsd"] == HAND_CALCULATION
    assert report["comparedWith"] == "base.json"
    assert report["changes"] == [{"stack": "shared", "beforeUsd": 3.0, "afterUsd": 3.5}]
    assert report["totalChangeUsd"] == 0.5 and report["comparedStacks"] == list(sorted(ALL_STACKS))
    assert costs.changes(base, base) == []
    table = invoke("cost", "estimate", "shared", "--compare", "base.json")
    assert (
        "Change against base.json (shared compared):\n  shared: $3.00 -> $3.50 (+0.50)\n"
        "  total: +0.50 a month" in table.stdout
    )


def test_compare_with_no_change_says_so(recordings, tmp_path, monkeypatch):
    # A base of every stack: one stack estimated is compared on that stack only.
    base = costs.as_json([costs.estimate(recordings[s]) for s in ALL_STACKS])
    (tmp_path / "base.json").write_text(json.dumps(base))
    monkeypatch.chdir(tmp_path)
    table = invoke("cost", "estimate", "dev", "--compare", "base.json")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[-1] == "no change against base.json (dev compared)"
    shown = json.loads(invoke("cost", "estimate", "dev", "--compare", "base.json", "--json").stdout)
    assert shown["changes"] == [] and shown["comparedWith"] == "base.json"
    assert shown["comparedStacks"] == ["dev"] and shown["totalChangeUsd"] == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "not a `cost estimate --json` output"),
        ('{"stacks": {"dev": {"monthlyUsd": "1.00"}}}', "stack 'dev' has no numeric"),
        (
            '{"stacks": {"dev": {"monthlyUsd": 1, "securityServicesUsd": null}}}',
            "stack 'dev' has a \"securityServicesUsd\" that is not a number",
        ),
        ("{", "not usable JSON: it is not JSON"),
    ],
)
def test_compare_refuses_what_is_not_an_estimate(tmp_path, monkeypatch, content, problem):
    (tmp_path / "base.json").write_text(content)
    monkeypatch.chdir(tmp_path)
    result = invoke("cost", "estimate", "dev", "--compare", "base.json", "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: --compare base.json: {problem}")
    assert result.stderr.count("\n") == 1


def test_the_audit_archive_is_priced_only_where_there_is_one(recordings):
    security = costs.estimate(recordings["security"])
    assert "S3 audit log archive" in [line.item for line in security.usage]
    for stack in ALL_STACKS:
        if stack != "security":
            usage = costs.estimate(recordings[stack]).usage
            assert not [line for line in usage if "audit" in f"{line.item} {line.note}"], stack


def test_json_has_free_items_usage_options_and_assumptions(recordings):
    report = costs.as_json([costs.estimate(recordings[s]) for s in ALL_STACKS])
    assert report["assumptions"] == costs.price_table()["assumptions"]
    assert "a month is 730 hours" in report["assumptions"]
    free = {s: {line["item"] for line in report["stacks"][s]["free"]} for s in ALL_STACKS}
    assert "organization trail" in free["security"]
    assert "ACM public certificate" in free["shared"]
    assert all("budget" in items for items in free.values())
    kms = report["stacks"]["dev"]["fixed"][0]
    assert kms == {
        "item": "KMS customer-managed key",
        "type": "aws:kms/key:Key",
        "count": 1,
        "unitMonthlyUsd": 1.0,
        "monthlyUsd": 1.0,
        "note": "",
    }
    options = {o["item"]: o for o in report["options"]}
    assert set(options) == {"NAT gateway (natGateway: true)"}
    nat = options["NAT gateway (natGateway: true)"]
    assert nat["per"] == "VPC" and nat["stacks"] == ["dev", "staging", "uat", "prod"]
    assert nat["unitMonthlyUsd"] == 36.50 and nat["monthlyUsd"] == 4 * 36.50
    assert report["totalMonthlyUsd"] == HAND_CALCULATION  # options are not in the total
    # The security services are off by default: shown with what each would add, not in the total.
    services = report["securityServices"]
    assert services["usageBased"] is True and services["accounts"] == len(ALL_STACKS)
    assert services["accountRegions"] == ACCOUNT_REGIONS
    assert services["switches"] == "Pulumi.management.yaml diagnyx:organization.securityServices"
    by_key = {s["key"]: s for s in services["services"]}
    assert list(by_key) == list(SERVICES)
    assert {(k, s["on"], s["inTotal"]) for k, s in by_key.items()} == {
        (k, False, False) for k in SERVICES
    }
    assert by_key["awsConfig"]["perAccountRegionUsd"] == 3.00
    assert by_key["awsConfig"]["monthlyUsd"] == ACCOUNT_REGIONS * 3.00
    assert by_key["guardDuty"]["lines"][0]["shown"] == (
        "100,000 events x $4.00 per 1,000,000 = $0.40"
    )
    assert report["fixedMonthlyUsd"] == HAND_CALCULATION
    assert report["securityServicesMonthlyUsd"] == 0.0
    assert {s["securityServicesUsd"] for s in report["stacks"].values()} == {0.0}


def test_a_nat_gateway_turned_on_is_no_longer_an_option():
    def nat_on(config):
        config["diagnyx:network"]["natGateway"] = True

    dev = costs.estimate(run_stack("dev", config=edited_config("dev", nat_on)))
    (option,) = [o for o in costs.options([dev]) if o.per == "VPC"]
    assert option.count == 0 and option.monthly == 0.0


def test_the_table_shows_what_the_readme_promises():
    result = invoke("cost", "estimate", "dev")
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    for expected in (
        "KMS customer-managed key",
        "budget",  # free, in the table
        "free",
        "Priced by use (not in the total)",
        "S3 bucket",
        "Options the program does not turn on (not in the total)",
        "NAT gateway (natGateway: true)",
        "+$36.50",
        "Security services (organization.securityServices in Pulumi.management.yaml)",
        "AWS Config recorder",
        "Amazon GuardDuty",
        "AWS Security Hub CSPM",
        "off: turning it on adds",
        "+$6.00",  # AWS Config: dev's 2 regions x $3.00
        "1,000 configuration items x $0.003 = $3.00",
        "Accounts x allowed regions: 1 account, 2 account-regions.",
        "= $1.00 a month",
        "AWS Config recorder assumes: 1,000 configuration items",
        "Assumptions: us-east-1 on-demand list prices",
        "a month is 730 hours",
    ):
        assert expected in shown, expected
    assert "audit" not in shown.lower()  # dev has no audit log archive


def _readme_cost_section() -> str:
    readme = (PROJECT_DIR / "README.md").read_text()
    start = readme.index("## Cost estimate (`diagnyx cost estimate")
    return readme[start : readme.index("\n## ", start)]


def _amounts(text: str) -> set[float]:
    return {float(a.replace(",", "")) for a in re.findall(r"\$(\d[\d,]*(?:\.\d+)?)", text)}


def test_the_readme_security_services_table_is_what_the_estimate_computes(recordings):
    """The README's table and hand calculation against `cost estimate --all` from prices.yaml:
    unit prices, usage, the figure per account and region and over 7 accounts x 2 regions."""
    estimates = [costs.estimate(recordings[s]) for s in ALL_STACKS]
    services = costs.security_services(estimates)
    assert [s.key for s in services] == list(SERVICES)
    assert {s.account_regions for s in services} == {ACCOUNT_REGIONS}
    section = _readme_cost_section()
    rows = {
        switch.group(1): [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if (switch := re.match(r"\| [^|]*\(`(\w+)`", line))
    }
    assert set(rows) == set(SERVICES)
    for service in services:
        _, prices, usage, per_account_region, organization = rows[service.key]
        assert per_account_region == f"${service.per_account_region:.2f}", service.key
        assert organization == f"${service.monthly:.2f}", service.key
        for line in service.lines:
            _, price = line.tiers[0]
            if price:
                assert price in _amounts(prices), (service.key, line.item)
            if line.per != 1:
                assert f"per {line.per:,}" in prices, (service.key, line.item)
            for number in [line.quantity, *(v for _, v in line.factors)]:
                assert f"{number:,.0f}" in usage, (service.key, line.item)
    every = round(sum(s.per_account_region for s in services), 2)
    all_on = round(sum(s.monthly for s in services), 2)
    assert f"| **all three** | | | **${every:.2f}** | **${all_on:.2f}** |" in section
    hand = section[section.index("Hand calculation, per account and region") :]
    for service in services:
        assert {service.per_account_region, service.monthly} <= _amounts(hand), service.key
    assert f"**${all_on:.2f}** for all three" in hand
    assert f"**${HAND_CALCULATION + all_on:.2f}** a month" in hand


def _management_with(on: tuple[str, ...], recordings) -> StackRecording:
    """The management stack's recording with ``on`` switched on in its config (the switches
    change only what the estimate reads from that config, not its fixed items)."""

    def switches(config):
        config["diagnyx:organization"]["securityServices"] = {key: True for key in on}

    management = recordings["management"]
    config = edited_config("management", switches)
    # Every stack exports the switches it followed; the estimate reads them there.
    outputs = {**management.outputs, "securityServices": list(on)}
    return StackRecording("management", config, management.resources, outputs)


@pytest.mark.parametrize(
    ("before", "switched"),
    [((), "awsConfig"), ((), "guardDuty"), (("awsConfig",), "securityHub")],
)
def test_each_switch_adds_exactly_its_figure_to_the_total(recordings, before, switched):
    members = [costs.estimate(recordings[s]) for s in ALL_STACKS if s != "management"]

    def estimates(on):
        return [costs.estimate(_management_with(on, recordings)), *members]

    base, head = estimates(before), estimates((*before, switched))
    (figure,) = [s.monthly for s in costs.security_services(head) if s.key == switched]
    assert figure > 0
    assert costs.total(head) == pytest.approx(costs.total(base) + figure)
    assert costs.fixed_total(head) == costs.fixed_total(base) == HAND_CALCULATION
    shown = {s.key: (s.on, s.monthly) for s in costs.security_services(head)}
    assert shown[switched] == (True, figure)


def test_switching_guard_duty_on_in_the_project_adds_its_figure(recordings, tmp_path, monkeypatch):
    """End to end, in a copy of the project: `cost estimate --all --project-dir` with GuardDuty
    switched on in Pulumi.management.yaml puts exactly its figure in the total, and --compare
    against the default shows that change."""

    def guard_duty_on(stack, config):
        config["diagnyx:organization"]["securityServices"] = {"guardDuty": True}

    project = tmp_path / "project"
    project.mkdir()
    edited_project(project, guard_duty_on, stacks=["management"])
    defaults = [costs.estimate(recordings[s]) for s in ALL_STACKS]
    (guard_duty,) = [s for s in costs.security_services(defaults) if s.key == "guardDuty"]
    assert guard_duty.monthly == 19.60  # README: 14 account-regions x $1.40
    (tmp_path / "base.json").write_text(json.dumps(costs.as_json(defaults)))
    monkeypatch.chdir(tmp_path)
    args = ("cost", "estimate", "--all", "--compare", "base.json", "--project-dir", "project")
    result = invoke(*args, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["fixedMonthlyUsd"] == HAND_CALCULATION
    assert report["securityServicesMonthlyUsd"] == guard_duty.monthly
    assert report["totalMonthlyUsd"] == round(HAND_CALCULATION + guard_duty.monthly, 2)
    shown = {s["key"]: s for s in report["securityServices"]["services"]}
    assert [k for k, s in shown.items() if s["on"] and s["inTotal"]] == ["guardDuty"]
    assert shown["guardDuty"]["monthlyUsd"] == guard_duty.monthly
    assert {s["securityServicesUsd"] for s in report["stacks"].values()} == {2.80}
    assert report["changes"] == []  # no stack's fixed cost changed
    assert report["securityServicesChange"] == {"beforeUsd": 0.0, "afterUsd": guard_duty.monthly}
    assert report["totalChangeUsd"] == guard_duty.monthly
    table = invoke(*args)
    assert table.returncode == 0, table.stderr
    assert "on: in the total" in table.stdout
    assert (
        f"security services (usage-based estimate): $0.00 -> ${guard_duty.monthly:.2f} "
        f"(+{guard_duty.monthly:.2f})\n  total: +{guard_duty.monthly:.2f} a month" in table.stdout
    )
    # One member stack, evaluated in that project, carries the management file's switches.
    dev = costs.estimate(run_stack("dev", project))
    assert costs.switched_on([dev]) == ("guardDuty",)
    assert costs.total([dev]) == 3.80  # $1.00 fixed + 2 regions x $1.40
