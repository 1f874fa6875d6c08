"""`diagnyx cost estimate`: fixed monthly cost from the recorded resources and the price table."""

import json

import pytest

from diagnyx_infra import costs
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from tests.helpers import ALL_STACKS, edited_config
from tests.test_cli import diagnyx

HAND_CALCULATION = 9.50  # README: 7 KMS keys x $1.00 + 5 hosted zones x $0.50


def test_every_price_names_its_source_and_date():
    table = costs.price_table()
    for entry in table["fixed"]:
        assert entry["monthly"] > 0
        assert entry["source"].startswith("https://aws.amazon.com/")
        assert entry["checked"]
    assert table["usage"] and table["options"]


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


def test_compare_reports_the_change_against_a_base(recordings, tmp_path):
    base = costs.as_json([costs.estimate(recordings[s]) for s in ALL_STACKS])
    base["stacks"]["shared"]["monthlyUsd"] = 3.00  # as if main had one zone less
    (tmp_path / "base.json").write_text(json.dumps(base))
    result = diagnyx(
        "cost", "estimate", "--all", "--json", "--compare", str(tmp_path / "base.json")
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totalMonthlyUsd"] == HAND_CALCULATION
    assert report["changes"] == [{"stack": "shared", "beforeUsd": 3.0, "afterUsd": 3.5}]
    assert costs.changes(base, base) == []
