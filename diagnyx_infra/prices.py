"""The price table (diagnyx_infra/data/prices.yaml), read once: `cost estimate` (costs.py) and
the maintenance reports (ops/maintenance.py) price from it. No Pulumi here."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

PRICES = Path(__file__).parent / "data" / "prices.yaml"


@cache
def price_table() -> dict[str, Any]:
    return yaml.safe_load(PRICES.read_text())
