"""Pulumi program entry point: `pulumi up -s <stack>`. Composition lives in diagnyx_infra.stacks."""

from diagnyx_infra.stacks import main

main()
