"""Read a stack file's YAML the way the Pulumi CLI does, and refuse what it would refuse.

The CLI parses stack files with go-yaml v3 into untyped values (pulumi/pulumi
sdk/go/common/resource/config/object.go `unmarshalObject`). That is YAML 1.2's core schema with
go-yaml's number rules, not PyYAML's YAML 1.1:

- only `true`/`false` (any case form YAML 1.2 lists) are booleans; `yes`, `no`, `on`, `off` stay
  strings;
- an unquoted number is parsed by Go's `strconv.ParseInt(text, 0, 64)`: `0x1F`, `0o17`, `0b101`
  and a leading zero (`0777`, octal) are integers; what fails as an integer but looks like a
  decimal becomes a float. So an unquoted `012345678901` is the float 12345678901 (an 8 or 9
  makes it not octal) and `012345670123` is an octal integer: the account ID is lost either way;
- timestamps, decoded into an untyped value, stay the text that was written;
- a key repeated in one mapping is an error (`mapping key "x" already defined`);
- `.inf` and `.nan` cannot become JSON, so the CLI cannot hand them to a program.

Beyond the CLI, input is bounded before it is built: nesting depth, the number of values (aliases
counted as expanded, so an alias bomb is refused in milliseconds) and the file size, all far
above what AWS's own limits let a landing zone need. Explicit tags (`!!binary`, `!custom`) are
refused: stack files hold plain values.
"""

import json
import math
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32
# 1,000 accounts (AWS Organizations' quota can be raised to a few thousand) take ~20,000 values.
MAX_VALUES = 200_000
# What the values may add up to once aliases are expanded: a file's worth, twice over.
MAX_EXPANDED_CHARACTERS = 2 * MAX_FILE_BYTES

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOLEANS = {"true": True, "True": True, "TRUE": True}
_BOOLEANS |= {"false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = re.compile(r"^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def parse_yaml_text(name: str, text: str) -> Any:
    """The single document of file ``name``'s ``text``, as go-yaml v3 reads it; any problem is
    one ConfigError that names the file."""
    _check_shape(name, text)
    try:
        return yaml.load(text, Loader=_PulumiYamlLoader)
    except _RefusedValue as refused:
        raise ConfigError([f"{name}: {refused}"]) from None
    except yaml.YAMLError as error:
        raise _invalid(name, error) from None


def read_bounded_text(path: Path, what: str | None = None) -> str:
    """A regular file's UTF-8 text, at most MAX_FILE_BYTES; anything else (a folder, a fifo or
    a device that would block or never end, a file too large, bytes that are not UTF-8) is one
    ConfigError naming ``what`` (the file's name by default)."""
    name = what or path.name
    try:
        mode = path.stat().st_mode  # follows a symlink: its target is what would be read
        if stat.S_ISDIR(mode):
            raise ConfigError([f"{name}: is a directory, not a file"])
        if not stat.S_ISREG(mode):
            raise ConfigError([f"{name}: is not a regular file (a fifo, socket or device)"])
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{name}: file not found"]) from None
    except OSError as error:
        raise ConfigError([f"{name}: cannot be read ({error.strerror or error})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([f"{name}: is larger than {MAX_FILE_BYTES:,} bytes, the most allowed"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise ConfigError(
            [f"{name}: is not UTF-8 text (byte 0x{byte:02x} at offset {error.start})"]
        ) from None


def parse_json_value(text: str) -> Any:
    """JSON as strictly as the YAML above: no duplicate keys, no NaN or infinity, integers of
    at most 30 digits, nesting and size bounded like a stack file. Raises ValueError with a
    one-line reason."""
    if len(text) > MAX_FILE_BYTES:
        raise ValueError(f"is longer than {MAX_FILE_BYTES:,} characters")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"is not JSON ({error.msg}, line {error.lineno})") from None
    _check_built(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"key {key!r} appears twice in one object")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 30:
        raise ValueError(f"the number {text[:20]}... has more than 30 digits")
    return int(text)


def _check_built(value: Any) -> None:
    """Depth and number of values of a parsed JSON value, within the stack-file bounds."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ValueError(f"holds more than {MAX_VALUES:,} values")
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _check_shape(name: str, text: str) -> None:
    """Depth, size (aliases expanded: values and the characters of their scalars) and tags,
    from the event stream: nothing is built yet."""
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, characters) under it
    open_counts: list[list[Any]] = []  # [values, characters, anchor] per open collection
    try:
        for event in yaml.parse(text, Loader=_BASE):
            added = (0, 0)
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in sizes:
                    raise ConfigError([f"{name}: alias *{event.anchor} has no anchor"])
                added = sizes[event.anchor]
            elif isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
                _refuse_explicit_tag(name, event)
                if isinstance(event, yaml.ScalarEvent):
                    added = (1, len(event.value))
                    if event.anchor:
                        sizes[event.anchor] = added
                else:
                    open_counts.append([1, 0, event.anchor])
                    if len(open_counts) > MAX_DEPTH:
                        raise ConfigError(
                            [f"{name}: nests deeper than {MAX_DEPTH} levels{_line(event)}"]
                        )
                    continue
            elif isinstance(event, yaml.CollectionEndEvent):
                values, characters, anchor = open_counts.pop()
                added = (values, characters)
                if anchor:
                    sizes[anchor] = added
            else:
                continue
            if not open_counts:
                continue
            open_counts[-1][0] += added[0]
            open_counts[-1][1] += added[1]
            if open_counts[-1][0] > MAX_VALUES or open_counts[-1][1] > MAX_EXPANDED_CHARACTERS:
                raise ConfigError(
                    [
                        f"{name}: holds more than {MAX_VALUES:,} values or "
                        f"{MAX_EXPANDED_CHARACTERS:,} characters (aliases counted as expanded); "
                        "no landing zone within AWS's limits needs that much"
                    ]
                )
    except yaml.YAMLError as error:
        raise _invalid(name, error) from None


def _invalid(name: str, error: yaml.YAMLError) -> ConfigError:
    return ConfigError([f"{name}: is not valid YAML{_where(error)}: {_problem(error)}"])


def _refuse_explicit_tag(name: str, event: Any) -> None:
    tag = event.tag
    if tag is None or tag == "!":
        return
    if isinstance(event, yaml.ScalarEvent) and event.implicit[0]:
        return  # the resolver's own tag, not one written in the file
    if isinstance(event, yaml.CollectionStartEvent) and event.implicit:
        return
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    raise ConfigError(
        [f"{name}: the explicit YAML tag {shown}{_line(event)} is not allowed; write plain values"]
    )


def _line(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f" (line {mark.line + 1})" if mark else ""


def _where(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""


def _problem(error: yaml.YAMLError) -> str:
    return getattr(error, "problem", None) or "invalid YAML"


class _RefusedValue(Exception):
    pass


class _PulumiYamlLoader(_BASE):
    """Every plain scalar is resolved here by go-yaml v3's rules (see the module docstring)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            # go-yaml compares every key's text, `<<` included: a second merge key in one
            # mapping is refused like any repeated key (decode.go, decoder.mapping).
            merge = key_node.tag == _MERGE_TAG
            key = "<<" if merge else self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _RefusedValue(
                        f"mapping key {key!r} (line {key_node.start_mark.line + 1}) is already "
                        f"defined at line {seen[key]}"
                    )
                seen[key] = key_node.start_mark.line + 1
            except TypeError:
                pass  # an unhashable key: the base constructor reports it
        return super().construct_mapping(node, deep=deep)


def _construct_scalar(loader: _PulumiYamlLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if node.style not in (None, ""):  # quoted or block: always a string (libyaml says "")
        return text
    return resolve_plain_scalar(text, node.start_mark.line + 1)


def resolve_plain_scalar(text: str, line: int = 0) -> Any:
    """An unquoted scalar as go-yaml v3 decodes it into an untyped value."""
    if text in _NULLS:
        return None
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if _SPECIAL_FLOATS.match(text):
        where = f" (line {line})" if line else ""
        raise _RefusedValue(
            f"{text}{where}: infinity and NaN cannot be passed to a program (the Pulumi CLI "
            "encodes config as JSON)"
        )
    if not text or text[0] not in "+-.0123456789":
        return text
    plain = text.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None:
        return number
    if _GO_FLOAT.match(plain):
        value = float(plain)
        return value if math.isfinite(value) else text
    return text


def _go_parse_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, 64), falling back to ParseUint as go-yaml does."""
    sign, digits = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    base = 10
    lowered = digits.lower()
    for prefix, prefix_base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if lowered.startswith(prefix):
            digits, base = digits[2:], prefix_base
            break
    else:
        if len(digits) > 1 and digits[0] == "0":
            digits, base = digits[1:], 8
    if not digits:
        return None
    try:
        value = int(digits, base)
    except ValueError:
        return None
    value = -value if sign == "-" else value
    if -(2**63) <= value < 2**64 and not (sign == "-" and value >= 2**63):
        return value
    return None


# Every plain scalar arrives as a string and is resolved by the rules above; merge keys stay.
_PulumiYamlLoader.yaml_implicit_resolvers = {}
_PulumiYamlLoader.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])
_PulumiYamlLoader.add_constructor("tag:yaml.org,2002:str", _construct_scalar)
