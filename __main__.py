"""Pulumi program entry point: `pulumi up -s <stack>`. Composition lives in diagnyx_infra.stacks."""

from pathlib import Path

from diagnyx_infra.stacks import main

# The project folder: every stack file in it is checked against the management stack's.
main(Path(__file__).resolve().parent)
