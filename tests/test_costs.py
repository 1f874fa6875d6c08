"""`diagnyx cost estimate`: fixed monthly cost from the recorded resources and the price table."""

import json

import pytest

from diagnyx_infra import costs
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from tests.helpers import ALL_STACKS, edited_config
from tests.test_cli import invoke

HAND_CALCULATION = 9.50  # README: 7 KMS keys x $1.00 + 5 hosted zones x $0.50


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
    assert set(options) == {
        "AWS Config recorder",
        "Amazon GuardDuty",
        "AWS Security Hub",
        "NAT gateway (natGateway: true)",
    }
    for name in ("AWS Config recorder", "Amazon GuardDuty", "AWS Security Hub"):
        assert options[name]["per"] == "account" and options[name]["count"] == len(ALL_STACKS)
        assert options[name]["monthlyUsd"] is None  # priced by use
    nat = options["NAT gateway (natGateway: true)"]
    assert nat["per"] == "VPC" and nat["stacks"] == ["dev", "staging", "uat", "prod"]
    assert nat["unitMonthlyUsd"] == 36.50 and nat["monthlyUsd"] == 4 * 36.50
    assert report["totalMonthlyUsd"] == HAND_CALCULATION  # options are not in the total


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
        "AWS Config recorder",
        "Amazon GuardDuty",
        "AWS Security Hub",
        "NAT gateway (natGateway: true)",
        "+$36.50",
        "Assumptions: us-east-1 on-demand list prices",
        "a month is 730 hours",
    ):
        assert expected in shown, expected
    assert "audit" not in shown.lower()  # dev has no audit log archive
