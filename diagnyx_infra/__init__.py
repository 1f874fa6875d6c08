"""diagnyx-infra: Diagnyx's multi-account AWS landing zone as a Pulumi Python program."""

import gc
from pathlib import Path

PROJECT_NAME = "diagnyx"
CONFIG_NAMESPACE = "diagnyx"
# The folder holding Pulumi.yaml, the stack files and __main__.py.
PROJECT_DIR = Path(__file__).resolve().parents[1]

# Python collects its youngest objects every 700 allocations. A command allocates millions of
# short-lived ones (Pulumi outputs, botocore requests and replies), and each collection also
# counts towards the older generations' (which walk every survivor): ten times less often
# makes a rehearsal and the test suite a twentieth faster, for about 5 MB more at the peak.
YOUNG_GENERATION_THRESHOLD = 7000


def collect_young_garbage_less_often() -> None:
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
