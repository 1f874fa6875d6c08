"""Pure policy builders: plain dicts, no Pulumi. Components and tests both use them."""
