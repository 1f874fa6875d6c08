"""Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` as the Pulumi CLI hands config to a program:
project-level defaults first, stack values over them, every value a string (structured values
JSON-encoded). Secrets (``secure:``) cannot be decrypted without the CLI; offline they are replaced
by a dummy and reported as secret keys.
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import CONFIG_NAMESPACE
from ..errors import ConfigError
from .yaml_reader import parse_yaml_text, read_bounded_text

PROJECT_FILE = "Pulumi.yaml"
# What a stack file may hold besides `config`: the secrets provider's own fields. An ESC
# `environment:` import would feed the deploy values no offline check sees.
_STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt"}
# Settings the tooling edits in the stack files: a project-level value beside them would go
# unseen by those edits.
_STACK_FILE_ONLY = {f"{CONFIG_NAMESPACE}:accountIds"}
_DECLARATION_KEYS = {"type", "description", "default", "value", "secret", "items"}


@dataclass(frozen=True)
class StackConfig:
    stack: str
    project: str
    values: dict[str, str]
    secret_keys: frozenset[str]


def round_trip_yaml():
    """A YAML reader/writer for editing stack files: comments, order, quotes and the files'
    indentation (lists indented under their key) survive; null is written as `null`."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def mapping_setting(config: Any, name: str, file_name: str) -> Any:
    """The mapping of setting ``name`` in a stack file's round-trip ``config``, under either
    spelling the Pulumi CLI reads (`diagnyx:<name>`, or `<name>` for the project's namespace),
    or None. A ConfigError when it is not written as a YAML mapping (JSON text, say): a command
    that edits it in place cannot."""
    for key in (f"{CONFIG_NAMESPACE}:{name}", name):
        if key in config:
            value = config[key]
            if not isinstance(value, dict):
                raise ConfigError(
                    [
                        f"{file_name}: {key} is not written as a YAML mapping (JSON text?); write "
                        "it as one, a key per line, for this command to edit it; nothing written"
                    ]
                )
            return value
    return None


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def stack_names(project_dir: Path) -> list[str]:
    """Every stack that has a settings file in the project, in file-name order."""
    names = [
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in project_dir.glob("Pulumi.*.yaml")
    ]
    return sorted(names)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping, read as the Pulumi CLI reads it (yaml_reader). Any
    other content is a ConfigError naming the file."""
    return _yaml_mapping(path.name, read_bounded_text(path))


def _yaml_mapping(name: str, text: str) -> dict[str, Any]:
    data = parse_yaml_text(name, text)
    if data is None:
        raise ConfigError([f"{name}: is empty"])
    if not isinstance(data, dict):
        raise ConfigError([f"{name}: must be a YAML mapping, got {type(data).__name__}"])
    return data


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    project = project_defaults(read_bounded_text(project_dir / PROJECT_FILE))
    return stack_config_from_texts(
        stack, project, read_bounded_text(stack_file(project_dir, stack))
    )


ORGANIZATION_IDS_KEY = f"{CONFIG_NAMESPACE}:accountIds"


def organization_account_ids(project_dir: Path) -> str | None:
    """The management stack's accountIds (JSON text, as the engine hands config), which every
    member stack takes for the accounts its own file does not list; None when that file cannot
    be read (its own validation says why)."""
    path = stack_file(project_dir, "management")
    try:
        if not path.is_file():
            return None
        project_text = read_bounded_text(project_dir / PROJECT_FILE)
        return _organization_account_ids(project_text, read_bounded_text(path))
    except (ConfigError, OSError):
        return None


@functools.lru_cache(maxsize=8)
def _organization_account_ids(project_text: str, management_text: str) -> str | None:
    """Read once per text: every member stack of a project asks for the same."""
    project = project_defaults(project_text)
    config = stack_config_from_texts("management", project, management_text)
    return config.values.get(ORGANIZATION_IDS_KEY)


@dataclass(frozen=True)
class ProjectDefaults:
    """What Pulumi.yaml gives every stack: the project's name and its config defaults."""

    name: str
    values: tuple[tuple[str, str], ...]
    secret_keys: frozenset[str]


@functools.lru_cache(maxsize=16)
def project_defaults(project_text: str) -> ProjectDefaults:
    """Pulumi.yaml's text, checked before any stack file is read (its problems, such as
    stackConfigDir, explain a stack file that is missing)."""
    project = _yaml_mapping(PROJECT_FILE, project_text)
    if "stackConfigDir" in project:
        raise ConfigError(
            [
                f"{PROJECT_FILE}: stackConfigDir is not supported: the stack files must sit beside "
                f"{PROJECT_FILE}, where every check reads them"
            ]
        )
    project_name = str(project.get("name", ""))
    values: dict[str, str] = {}
    secrets: set[str] = set()
    for key, entry in (project.get("config") or {}).items():
        full_key = _qualify(str(key), project_name)
        if full_key in _STACK_FILE_ONLY:
            raise ConfigError(
                [
                    f"{PROJECT_FILE}: {key} is set for the whole project; it belongs in each stack "
                    "file, where `accounts sync` and `bootstrap start` keep it and every check "
                    "compares it"
                ]
            )
        if isinstance(entry, dict) and entry and set(entry) <= _DECLARATION_KEYS:
            if "value" in entry:
                entry = entry["value"]
            elif "default" in entry:
                entry = entry["default"]
            else:
                continue
        values[full_key] = _as_config_string(full_key, entry, secrets)
    return ProjectDefaults(project_name, tuple(values.items()), frozenset(secrets))


def stack_config_from_texts(stack: str, project: ProjectDefaults, stack_text: str) -> StackConfig:
    """The stack's config: Pulumi.yaml's defaults (``project_defaults``) under its stack file's
    values (load_stack_config reads both)."""
    project_name = project.name
    values = dict(project.values)
    secrets = set(project.secret_keys)
    name = stack_file(Path(), stack).name
    settings = _yaml_mapping(name, stack_text)
    unknown = sorted(str(k) for k in settings if k not in _STACK_FILE_KEYS)
    if unknown:
        raise ConfigError(
            [
                f"{name}: '{unknown[0]}' is not read here (a stack file holds config and its "
                "secrets provider; ESC environments are not supported: write values in the file)"
            ]
        )
    config = settings.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError([f"{name}: 'config' must be a mapping, got {type(config).__name__}"])
    written: dict[str, str] = {}
    for key, entry in config.items():
        full_key = _qualify(str(key), project_name)
        if full_key in written:
            # The CLI would keep one of the two in Go's random map order.
            raise ConfigError(
                [f"{name}: '{written[full_key]}' and '{key}' name the same setting {full_key}"]
            )
        written[full_key] = str(key)
        if bad := _malformed_secret(entry):
            raise ConfigError([f"{name}: {full_key}: {bad}"])
        values[full_key] = _as_config_string(full_key, entry, secrets)
    return StackConfig(stack, project_name, values, frozenset(secrets))


def _qualify(key: str, project_name: str) -> str:
    return key if ":" in key else f"{project_name}:{key}"


def _as_config_string(key: str, value: Any, secrets: set[str]) -> str:
    if _contains_secret(value):
        secrets.add(key)
        value = _replace_secrets(key, value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))  # Go's JSON writes the float 12345678901 as 12345678901
    return json.dumps(value)


def _contains_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return True
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _malformed_secret(value: Any) -> str:
    """What is wrong with a ``secure:`` value, or "" when nothing is: the Pulumi CLI writes it
    as one non-empty string of ciphertext and refuses any other shape when it decrypts."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secret = value["secure"]
            if not isinstance(secret, str) or not secret.strip():
                return (
                    f"secure: must be the ciphertext string `pulumi config set --secret` writes "
                    f"(got {type(secret).__name__} {secret!r:.40})"
                )
            return ""
        return next((bad for v in value.values() if (bad := _malformed_secret(v))), "")
    if isinstance(value, list):
        return next((bad for v in value if (bad := _malformed_secret(v))), "")
    return ""


def _replace_secrets(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return f"offline-secret-{key.replace(':', '-')}"
        return {k: _replace_secrets(key, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secrets(key, v) for v in value]
    return value
