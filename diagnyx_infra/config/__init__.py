"""Typed configuration: models, loading from Pulumi config, and reading the stack files."""

from .loading import settings_from_config
from .models import StackSettings

__all__ = ["StackSettings", "settings_from_config"]
