"""Pulumi component resources, one per concept."""
