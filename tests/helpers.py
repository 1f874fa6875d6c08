"""Helpers shared by the tests."""

import json
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import yaml

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


def edited_project(
    tmp_path: Path, edit: Callable[[str, dict[str, Any]], None], stacks: Collection[str] = ()
) -> Path:
    """A copy of the project (program and stack files) with ``edit(stack, config)`` applied to
    every stack file's config, or only to ``stacks`` when given. Files that must agree (account
    IDs, budgets, networks) are edited together, as `accounts sync` or a reviewer would."""
    for path in (PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / "__main__.py"):
        shutil.copy(path, tmp_path)
    for path in PROJECT_DIR.glob("Pulumi.*.yaml"):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if stacks and stack not in stacks:
            shutil.copy(path, tmp_path)
            continue
        data = load_yaml(path.read_text())
        edit(stack, data["config"])
        (tmp_path / path.name).write_text(dump_yaml(data, sort_keys=False))
    return tmp_path


# PyYAML's safe loading and dumping with its C parser and emitter, as the program reads stack
# files: the tests edit them hundreds of times, and the pure-Python ones take ten times longer.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def dump_yaml(data: Any, **options: Any) -> str:
    return yaml.dump(data, Dumper=_DUMPER, **options)


def spy_registrations(monkeypatch) -> list[str]:
    """The types of the resources the program registers from now on, in order."""
    from diagnyx_infra.engine import recording

    registered: list[str] = []
    original = recording.RecordingMonitor.RegisterResource

    def spy(self, request):
        registered.append(request.type)
        return original(self, request)

    monkeypatch.setattr(recording.RecordingMonitor, "RegisterResource", spy)
    return registered


def table_rows(text: str) -> list[list[str]]:
    """The rows of the rich tables in ``text``, cell by cell (rows of one line each)."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in text.splitlines()
        if line.startswith("│ ")
    ]
