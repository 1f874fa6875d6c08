"""diagnyx-infra: Diagnyx's multi-account AWS landing zone as a Pulumi Python program."""

from pathlib import Path

PROJECT_NAME = "diagnyx"
CONFIG_NAMESPACE = "diagnyx"
# The folder holding Pulumi.yaml, the stack files and __main__.py.
PROJECT_DIR = Path(__file__).resolve().parents[1]
