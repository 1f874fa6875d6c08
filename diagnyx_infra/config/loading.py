"""Turn a stack's raw Pulumi config (``{"namespace:key": "string"}``) into ``StackSettings``.

Pulumi hands a program every config value as a string; structured values (objects, lists) arrive
JSON-encoded. All problems are collected and reported together as one ``ConfigError`` whose lines
each name the setting and what is wrong.
"""

import difflib
import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import CONFIG_NAMESPACE
from ..errors import ConfigError
from .models import MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, SHARED_SERVICES_ACCOUNT, StackSettings
from .yaml_reader import parse_json_value

# Settings whose values are structured (JSON objects or lists) rather than plain strings.
_STRUCTURED_KEYS = {
    "accountIds",
    "budget",
    "deployment",
    "allowedRegions",
    "organization",
    "ecrRepositories",
    "retention",
    "auditArchive",
    "networks",
    "network",
    "sharedServices",
    "identityCenter",
    "costGovernance",
}
# Settings that must arrive encrypted (`pulumi config set --secret`), never as plain text.
_SECRET_SETTINGS = ("ciExternalId",)
# Model fields that do not come from a diagnyx:* key.
_FIELD_KEYS = {"stack": "stack name", "region": "aws:region"}
# The only keys outside our namespace the program reads. Every stack deploys through an explicit
# provider configured from these settings, so any other `aws:` key would be silently ignored.
_OTHER_KEYS = ("aws:region",)
_QUALIFIED_PREFIX = re.compile(r"^([A-Za-z0-9_.:\[\]-]+): (.*)$", re.DOTALL)


def known_keys() -> list[str]:
    fields = StackSettings.model_fields
    return [f.alias or name for name, f in fields.items() if name not in _FIELD_KEYS]


def with_organization_ids(
    stack: str, config: Mapping[str, Any], organization_ids: str | None
) -> Mapping[str, Any]:
    """A member stack's config with the organization's account IDs (the management file's) for
    the accounts it uses that its own file does not list: a member file need list none, so
    adding an account does not mean editing every stack file. A stack uses its own account, the
    management, shared services and security accounts, and the accounts its config names (VPCs
    in ``networks``, ``sharedServices.pullAccounts``); the security stack, whose buckets admit
    every account's deliveries, uses them all. Only those are given, so that validating N
    stacks stays linear in N. IDs a member file does list stay, and are checked against the
    management file's (config/consistency.py)."""
    key = f"{CONFIG_NAMESPACE}:accountIds"
    if stack == MANAGEMENT_ACCOUNT or organization_ids is None:
        return config
    try:
        organization = parse_json_value(organization_ids)
        listed = parse_json_value(config[key]) if key in config else {}
    except ValueError:
        return config  # its own file's problem, reported as such
    if not isinstance(organization, dict) or not isinstance(listed, dict):
        return config
    used = _accounts_used(stack, config)
    given = {n: i for n, i in organization.items() if used is None or n in used}
    return {**config, key: json.dumps({**given, **listed})}


def _accounts_used(stack: str, config: Mapping[str, Any]) -> set[str] | None:
    """The accounts whose IDs ``stack`` uses (None: every account's)."""
    if stack == SECURITY_ACCOUNT:
        return None
    used = {stack, MANAGEMENT_ACCOUNT, SHARED_SERVICES_ACCOUNT, SECURITY_ACCOUNT}
    for setting, read in (
        ("networks", lambda value: value),
        ("sharedServices", lambda value: value.get("pullAccounts") or []),
    ):
        raw = config.get(f"{CONFIG_NAMESPACE}:{setting}")
        try:
            value = parse_json_value(raw) if isinstance(raw, str) else raw
            names = read(value) if isinstance(value, dict) else []
        except (ValueError, AttributeError):
            continue  # its own problem, reported by validation
        used.update(str(name) for name in names if isinstance(name, str))
    return used


def settings_from_config(
    stack: str, config: Mapping[str, Any], secret_keys: Collection[str] = ()
) -> StackSettings:
    """Validate a stack's whole config. Raises ``ConfigError`` listing every problem."""
    problems = [_foreign_key(key) for key in config if _is_foreign(key)]
    for name in _SECRET_SETTINGS:
        key = f"{CONFIG_NAMESPACE}:{name}"
        if key in config and key not in secret_keys:
            problems.append(
                f"{key}: must be a secret; set it with `pulumi config set --secret {key} <value>`"
            )
    data: dict[str, Any] = {"stack": stack}
    if "aws:region" in config:
        data["region"] = config["aws:region"]
    prefix = f"{CONFIG_NAMESPACE}:"
    unread: set[str] = set()  # settings whose text could not be read as a structured value
    for key, raw in config.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if name in _STRUCTURED_KEYS and isinstance(raw, str):
            try:
                data[name] = parse_json_value(raw)
            except ValueError as error:
                problems.append(
                    f"{key}: is not a structured value (expected a mapping or a list): it {error}"
                )
                unread.add(name)
                continue
            problems.extend(_keys_with_surrounding_space(key, data[name]))
        else:
            data[name] = raw
    try:
        settings = StackSettings.model_validate(data)
    except ValidationError as error:
        # A value that could not be read is said once, not again as "required but not set".
        problems.extend(p for p in describe_validation_error(error) if _setting_of(p) not in unread)
    if problems:
        raise ConfigError(problems)
    return settings


def _setting_of(problem: str) -> str:
    """'diagnyx:budget.monthlyLimitUsd: ...' -> 'budget'."""
    key = problem.split(": ", 1)[0]
    return re.split(r"[.\[]", key.removeprefix(f"{CONFIG_NAMESPACE}:"), maxsplit=1)[0]


def _keys_with_surrounding_space(setting: str, value: Any, path: str = "") -> list[str]:
    """Mapping keys with leading or trailing whitespace: validation strips strings, so `"prod "`
    would silently become a second `prod` and replace the real one."""
    problems = []
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if not isinstance(item, dict | list):
            continue
        for key, child in item.items() if isinstance(item, dict) else enumerate(item):
            if isinstance(key, str) and key != key.strip():
                problems.append(
                    f"{setting}{where}: the key {key!r} has spaces around it; it would be read as "
                    f"{key.strip()!r} and replace that entry"
                )
            pending.append((child, f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]"))
    return sorted(problems)


def _is_foreign(key: str) -> bool:
    return not key.startswith(f"{CONFIG_NAMESPACE}:") and key not in _OTHER_KEYS


def _foreign_key(key: str) -> str:
    """A key outside what the program reads: a typo of a known key, or a setting it ignores."""
    known = [*_OTHER_KEYS, *(f"{CONFIG_NAMESPACE}:{k}" for k in known_keys())]
    matches = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    if matches:
        return f"{key}: unknown setting; did you mean '{matches[0]}'?"
    namespace = key.partition(":")[0]
    if namespace == "aws":
        return (
            f"{key}: not read: every stack deploys through an explicit provider that takes only "
            "aws:region from the aws namespace (credentials come from the environment, the role "
            f"from {CONFIG_NAMESPACE}:deployment); remove it"
        )
    return (
        f"{key}: unknown setting; this program reads only {CONFIG_NAMESPACE}:* keys and "
        f"{', '.join(_OTHER_KEYS)}"
    )


def describe_validation_error(error: ValidationError) -> list[str]:
    details = error.errors(include_url=False)
    # A misspelt key also leaves the real one missing; the typo message alone says it all.
    misspelt = {
        (*detail["loc"][:-1], suggestion)
        for detail in details
        if detail["type"] == "extra_forbidden"
        and (suggestion := _suggestion(tuple(detail["loc"]))) is not None
    }
    return [
        _describe(detail)
        for detail in details
        if not (detail["type"] == "missing" and tuple(detail["loc"]) in misspelt)
    ]


def _setting_name(loc: tuple[Any, ...]) -> str:
    if not loc:
        return ""
    head, *rest = loc
    key = _FIELD_KEYS.get(str(head), f"{CONFIG_NAMESPACE}:{head}")
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _describe(detail: Mapping[str, Any]) -> str:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return _unknown_setting(loc)
    if kind == "missing":
        return f"{_setting_name(loc)}: is required but not set"
    if kind == "string_type" and "accountIds" in loc:
        return (
            f"{_setting_name(loc)}: must be a quoted string of 12 digits (got "
            f"{detail['input']!r}: the Pulumi CLI reads YAML 1.2, where an unquoted "
            "012345678901 is the number 12345678901 and 012345670123 an octal number)"
        )
    if kind in {"dict_type", "model_type"}:
        return f"{_setting_name(loc)}: must be a mapping, got {type(detail['input']).__name__}"
    if kind == "list_type":
        return f"{_setting_name(loc)}: must be a list, got {type(detail['input']).__name__}"
    if kind == "enum":
        return f"{_setting_name(loc)}: {detail['input']!r} is not allowed; {message.lower()}"
    qualified = _QUALIFIED_PREFIX.match(message)
    if qualified and kind == "value_error":
        # A cross-field check names the setting it is about, relative to where it ran.
        inner, rest = qualified.groups()
        if ":" in inner:
            return f"{inner}: {rest}"
        base = _setting_name(loc)
        return f"{base}.{inner}: {rest}" if base else f"{CONFIG_NAMESPACE}:{inner}: {rest}"
    setting = _setting_name(loc)
    given = detail.get("input")
    if isinstance(given, str | int | float | bool) and kind != "value_error":
        message += f" (got {given!r})"  # pydantic's own messages do not say what was given
    return f"{setting}: {message}" if setting else message


def _unknown_setting(loc: tuple[Any, ...]) -> str:
    suggestion = _suggestion(loc)
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    return f"{_setting_name(loc)}: unknown setting{hint}"


def _suggestion(loc: tuple[Any, ...]) -> str | None:
    candidates = known_keys() if len(loc) == 1 else _sibling_fields(loc)
    matches = difflib.get_close_matches(str(loc[-1]), candidates, n=1)
    return matches[0] if matches else None


def _sibling_fields(loc: tuple[Any, ...]) -> list[str]:
    """The camelCase field names of the model that holds ``loc[-1]``."""
    model: Any = StackSettings
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = _find_field(model, str(part))
        if field is not None:  # otherwise ``part`` is a key of a mapping of models
            model = _model_of(field.annotation)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _find_field(model: Any, name: str) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            return field
    return None


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def settings_from_pulumi(project_dir: Path | None = None) -> StackSettings:
    """Validate the config of the stack the Pulumi engine is running (a member stack with the
    organization's account IDs from ``project_dir``'s management file)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    # The engine passes config either in the process environment or through the runtime settings.
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in values if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    stack = pulumi.get_stack()
    if project_dir is not None:
        from .stack_files import organization_account_ids

        values = dict(with_organization_ids(stack, values, organization_account_ids(project_dir)))
    return settings_from_config(stack, values, secret_keys)
