"""Helpers shared by the tests."""

import json
from collections.abc import Callable, Collection
from typing import Any

from diagnyx_infra.cli import STACK_ORDER
from diagnyx_infra.config.stack_files import StackConfig, load_stack_config
from diagnyx_infra.engine.runner import PROJECT_DIR

ALL_STACKS = STACK_ORDER
MEMBER_STACKS = tuple(s for s in ALL_STACKS if s != "management")


def edited_config(
    stack: str, edit: Callable[[dict[str, Any]], None], plain_text: Collection[str] = ()
) -> StackConfig:
    """The stack's real config, decoded to Python values, changed by ``edit``, re-encoded.
    Keys in ``plain_text`` lose their secret marking, as if written without ``--secret``."""
    real = load_stack_config(PROJECT_DIR, stack)
    decoded: dict[str, Any] = {}
    for key, value in real.values.items():
        try:
            decoded[key] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            decoded[key] = value
    edit(decoded)
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
    return StackConfig(stack, real.project, encoded, real.secret_keys - set(plain_text))
