"""A catalogue of malformed or dangerous stack files. Each is refused with its own clear message
naming the setting, no traceback, and nothing registered; and random configs either validate or
are refused with a config error, never anything else."""

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnyx_infra.config.loading import settings_from_config
from diagnyx_infra.config.stack_files import load_stack_config
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from diagnyx_infra.errors import ConfigError
from diagnyx_infra.stacks import plan_stack
from tests.helpers import dump_yaml, load_yaml, spy_registrations

Edit = Callable[[dict], None]


def data_edit(edit: Edit) -> Callable[[str], str]:
    """Change the parsed stack file, write it back as YAML."""

    def apply(text: str) -> str:
        data = load_yaml(text)
        edit(data["config"])
        return dump_yaml(data, sort_keys=False)

    return apply


def org(config):
    return config["diagnyx:organization"]


def assignment(config, group):
    return next(a for a in config["diagnyx:identityCenter"]["assignments"] if a["group"] == group)


def _set(path: str, value):
    def edit(config):
        *parents, last = path.split(".")
        target = config
        for part in parents:
            target = target[part]
        target[last] = value

    return data_edit(edit)


def _delete(key: str):
    return data_edit(lambda config: config.pop(key))


def _rename(key: str, new: str):
    return data_edit(lambda config: config.__setitem__(new, config.pop(key)))


# (stack, change to the file's text, expected message)
CATALOGUE = {
    "a secret that is not ciphertext": (
        "dev",
        _set("diagnyx:ciExternalId", {"secure": [1, 2]}),
        "diagnyx:ciExternalId: secure: must be the ciphertext string `pulumi config set --secret` "
        "writes (got list [1, 2])",
    ),
    "an empty secret": (
        "prod",
        _set("diagnyx:ciExternalId", {"secure": ""}),
        "diagnyx:ciExternalId: secure: must be the ciphertext string `pulumi config set --secret` "
        "writes (got str '')",
    ),
    "budget of the wrong type": (
        "dev",
        _set("diagnyx:budget.monthlyLimitUsd", "lots"),
        "diagnyx:budget.monthlyLimitUsd: Input should be a valid number",
    ),
    "account IDs as a list": (
        "dev",
        _set("diagnyx:accountIds", ["444444444444"]),
        "diagnyx:accountIds: must be a mapping, got list",
    ),
    "missing environment": (
        "dev",
        _delete("diagnyx:environment"),
        "diagnyx:environment: is required but not set",
    ),
    "typo of a key": (
        "dev",
        _rename("diagnyx:budget", "diagnyx:budgett"),
        "diagnyx:budgett: unknown setting; did you mean 'budget'?",
    ),
    "typo of a nested key": (
        "dev",
        data_edit(
            lambda c: c["diagnyx:budget"].__setitem__(
                "monthlyLimitUSD", c["diagnyx:budget"].pop("monthlyLimitUsd")
            )
        ),
        "diagnyx:budget.monthlyLimitUSD: unknown setting; did you mean 'monthlyLimitUsd'?",
    ),
    "duplicate e-mails": (
        "management",
        data_edit(lambda c: org(c)["accounts"]["prod"].__setitem__("email", "aws+dev@diagnyx.ai")),
        "accounts.prod.email: 'aws+dev@diagnyx.ai' is already the e-mail of account 'dev'",
    ),
    "account ID of 11 digits": (
        "uat",
        _set("diagnyx:accountIds.prod", "77777777777"),
        "diagnyx:accountIds.prod: '77777777777' is not an AWS account ID",
    ),
    "account ID of 13 digits": (
        "uat",
        _set("diagnyx:accountIds.prod", "7777777777777"),
        "diagnyx:accountIds.prod: '7777777777777' is not an AWS account ID",
    ),
    "unquoted account ID": (
        "uat",
        _set("diagnyx:accountIds.prod", 777777777777),
        "diagnyx:accountIds.prod: must be a quoted string of 12 digits",
    ),
    "overlapping CIDRs": (
        "prod",
        _set("diagnyx:networks.uat.cidr", "10.40.0.0/17"),
        "diagnyx:networks: the VPCs of prod (10.40.0.0/16) and uat (10.40.0.0/17) overlap",
    ),
    "production peering": (
        "prod",
        _set("diagnyx:network.peerings", [["dev", "prod"]]),
        "diagnyx:network.peerings[0]: dev (development) may not peer with prod (production)",
    ),
    "peering with itself": (
        "dev",
        _set("diagnyx:network.peerings", [["dev", "dev"]]),
        "diagnyx:network.peerings[0]: 'dev' cannot peer with itself",
    ),
    "developers on production": (
        "management",
        data_edit(lambda c: assignment(c, "Developers")["targets"].append("prod")),
        "Developers get no production access (prod)",
    ),
    "finance outside management": (
        "management",
        data_edit(lambda c: assignment(c, "Finance")["targets"].append("ou:Production")),
        "Finance has access only in the management account (not prod)",
    ),
    "zero budget": (
        "staging",
        _set("diagnyx:budget.monthlyLimitUsd", 0),
        "diagnyx:budget.monthlyLimitUsd: Input should be greater than 0 (got 0)",
    ),
    "negative budget": (
        "staging",
        _set("diagnyx:budget.monthlyLimitUsd", -400),
        "diagnyx:budget.monthlyLimitUsd: Input should be greater than 0 (got -400)",
    ),
    "alert threshold above 1000%": (
        "staging",
        _set("diagnyx:budget.actualAlertPercents", [50, 80, 5000]),
        "diagnyx:budget.actualAlertPercents[2]: Input should be less than or equal to 1000",
    ),
    "alert threshold of 0%": (
        "staging",
        _set("diagnyx:budget.forecastAlertPercent", 0),
        "diagnyx:budget.forecastAlertPercent: Input should be greater than 0 (got 0)",
    ),
    "unknown region": (
        "shared",
        _set("aws:region", "mars-north-1"),
        "aws:region: 'mars-north-1' is not an AWS region",
    ),
    "region outside the allow-list": (
        "shared",
        _set("aws:region", "ap-south-1"),
        "aws:region: 'ap-south-1' is outside the allowed regions",
    ),
    "YAML that is not a mapping": (
        "dev",
        lambda text: "- just\n- a list\n",
        "Pulumi.dev.yaml: must be a YAML mapping, got list",
    ),
    "empty file": ("dev", lambda text: "", "Pulumi.dev.yaml: is empty"),
    "not YAML at all": (
        "dev",
        lambda text: "config: {diagnyx:budget: [\n",
        "Pulumi.dev.yaml: is not valid YAML (line",
    ),
    "config that is not a mapping": (
        "dev",
        lambda text: "config: 42\n",
        "Pulumi.dev.yaml: 'config' must be a mapping, got int",
    ),
    "secret in plain text": (
        "prod",
        _set("diagnyx:ciExternalId", "plain-text-external-id"),
        "diagnyx:ciExternalId: must be a secret",
    ),
    "the guide's published external ID": ("prod", lambda text: text, None),  # replaced below
    "unknown organizational unit": (
        "management",
        data_edit(lambda c: org(c)["accounts"]["uat"].__setitem__("ou", "Sandbox")),
        "diagnyx:organization.accounts.uat.ou: unknown organizational unit 'Sandbox'",
    ),
    "audit archive shortened below its transition": (
        "security",
        _set("diagnyx:auditArchive.retentionDays", 30),
        "diagnyx:auditArchive.transitionDays: 90 is not before the end of retention (30 days)",
    ),
    # --- malformed files: read as the Pulumi CLI reads them, refused in one message ---
    "bytes that are not UTF-8": (
        "dev",
        lambda text: text.encode() + b"  diagnyx:owner: \xff\xfe\n",
        "Pulumi.dev.yaml: is not UTF-8 text (byte 0xff",
    ),
    "a stack file that is a directory": (
        "dev",
        lambda text: None,
        "Pulumi.dev.yaml: is a directory, not a file",
    ),
    "a timestamp where an account ID belongs": (
        "dev",
        lambda text: text.replace('staging: "555555555555"', "staging: 2024-01-01"),
        "diagnyx:accountIds.staging: '2024-01-01' is not an AWS account ID",
    ),
    "a !!binary value": (
        "dev",
        lambda text: text + "  diagnyx:owner: !!binary aGVsbG8=\n",
        "Pulumi.dev.yaml: the explicit YAML tag !!binary (line",
    ),
    "nesting 20,000 levels deep": (
        "dev",
        lambda text: text + "  diagnyx:owner: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "Pulumi.dev.yaml: nests deeper than 32 levels",
    ),
    "an alias bomb": (
        "dev",
        lambda text: (
            text
            + "  diagnyx:bomb0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"  diagnyx:bomb{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n"
                for i in range(1, 9)
            )
        ),
        "Pulumi.dev.yaml: holds more than 200,000 values or 4,194,304 characters (aliases",
    ),
    "a 250,000-entry list": (
        "dev",
        lambda text: text + "  diagnyx:ecrRepositories: [" + ", ".join(["a"] * 250_000) + "]\n",
        "Pulumi.dev.yaml: holds more than 200,000 values",
    ),
    "a duplicate key": (
        "dev",
        lambda text: text + "  diagnyx:environment: production\n",
        "Pulumi.dev.yaml: mapping key 'diagnyx:environment' (line",
    ),
    "two merge keys in one mapping (go-yaml refuses the second)": (
        "dev",
        lambda text: text.replace(
            "  diagnyx:budget:\n",
            "  diagnyx:budget:\n    <<: {monthlyLimitUsd: 200}\n    <<: {monthlyLimitUsd: 900}\n",
        ),
        "Pulumi.dev.yaml: mapping key '<<' (line",
    ),
    "an unquoted account ID (YAML 1.2 reads a number)": (
        "dev",
        lambda text: text.replace('staging: "555555555555"', "staging: 012345678901"),
        "the Pulumi CLI reads YAML 1.2, where an unquoted 012345678901 is the number",
    ),
    "infinity as a budget": (
        "dev",
        lambda text: text.replace("monthlyLimitUsd: 200", "monthlyLimitUsd: .inf"),
        "Pulumi.dev.yaml: .inf (line",
    ),
    # --- keys outside the namespace ---
    "a misspelt aws key": (
        "dev",
        data_edit(lambda c: c.__setitem__("aws:regoin", "us-west-2")),
        "aws:regoin: unknown setting; did you mean 'aws:region'?",
    ),
    "a misspelt namespace": (
        "dev",
        data_edit(lambda c: c.__setitem__("diagnix:accountTrail", True)),
        "diagnix:accountTrail: unknown setting; did you mean 'diagnyx:accountTrail'?",
    ),
    "an aws key the explicit provider ignores": (
        "dev",
        data_edit(lambda c: c.__setitem__("aws:profile", "prod-admin")),
        "aws:profile: not read: every stack deploys through an explicit provider",
    ),
    # --- values that would collide, repeat or mean nothing ---
    "two repositories with one resource name": (
        "shared",
        _set("diagnyx:sharedServices.repositories", ["diagnyx/api", "diagnyx-api"]),
        "'diagnyx/api' and 'diagnyx-api' would have the same resource name 'diagnyx-api'",
    ),
    "a repository listed twice": (
        "dev",
        _set("diagnyx:ecrRepositories", ["api", "api"]),
        "diagnyx:ecrRepositories: a repository is listed twice",
    ),
    "peerings with one resource name": (
        "dev",
        data_edit(
            lambda c: (
                c["diagnyx:networks"].update(
                    {
                        "ab-cd": {"cidr": "10.50.0.0/16", "environment": "development"},
                        "ab": {"cidr": "10.51.0.0/16", "environment": "development"},
                        "cd-ef": {"cidr": "10.52.0.0/16", "environment": "development"},
                        "ef": {"cidr": "10.53.0.0/16", "environment": "development"},
                    }
                ),
                c["diagnyx:accountIds"].update(
                    {"ab-cd": "910000000001", "ab": "910000000002"}
                    | {"cd-ef": "910000000003", "ef": "910000000004"}
                ),
                c["diagnyx:network"].update(peerings=[["ab-cd", "ef"], ["ab", "cd-ef"]]),
            )
        ),
        "would have the same resource name 'ab-cd-ef'",
    ),
    "a budget of true": (
        "dev",
        _set("diagnyx:budget.monthlyLimitUsd", True),
        "diagnyx:budget.monthlyLimitUsd: Input should be a valid number (got True)",
    ),
    "a budget below a cent": (
        "dev",
        _set("diagnyx:budget.monthlyLimitUsd", 0.004),
        "diagnyx:budget.monthlyLimitUsd: 0.004 is not a whole number of cents",
    ),
    "a China region": (
        "shared",
        _set("diagnyx:allowedRegions", ["us-east-1", "cn-north-1"]),
        "'cn-north-1' is in the aws-cn partition; this landing zone writes arn:aws: ARNs",
    ),
    "an account name longer than AWS allows": (
        "management",
        data_edit(lambda c: org(c)["accounts"]["uat"].__setitem__("displayName", "U" * 120)),
        "diagnyx:organization.accounts.uat.displayName: String should match pattern",
    ),
    "a domain longer than DNS allows": (
        "shared",
        _set("diagnyx:sharedServices.domain", ("a" * 60 + ".") * 5 + "ai"),
        "diagnyx:sharedServices.domain: String should have at most 253 characters",
    ),
    "a zone too long for its certificate": (
        "shared",
        _set("diagnyx:sharedServices.domain", "a" * 60 + ".ai"),
        "environmentZones: the zone dev." + "a" * 60 + ".ai is 67 characters",
    ),
    "every instance type allowed": (
        "management",
        data_edit(
            lambda c: org(c)["guardrails"].__setitem__("nonProductionInstanceTypes", ["*.*"])
        ),
        "nonProductionInstanceTypes[0]: String should match pattern",
    ),
    "cost explorer trusted to every role": (
        "management",
        data_edit(
            lambda c: c["diagnyx:costGovernance"].__setitem__(
                "costExplorerAccess", [{"account": "management", "role": "*"}]
            )
        ),
        "costExplorerAccess[0].role: '*' is neither a role's exact path and name",
    ),
    "core guardrails removed without a waiver": (
        "management",
        data_edit(lambda c: org(c)["guardrails"].__setitem__("rootPolicies", [])),
        "guardrails.rootPolicies: leaves out deny-leave-organization",
    ),
    # --- found by the adversarial review ---
    "one setting written with and without its namespace": (
        "dev",
        data_edit(lambda c: c.__setitem__("budget", {"monthlyLimitUsd": 5000})),
        "Pulumi.dev.yaml: 'diagnyx:budget' and 'budget' name the same setting diagnyx:budget",
    ),
    "an ESC environment import": (
        "dev",
        lambda text: text + "environment:\n  imports: [prod-secrets]\n",
        "Pulumi.dev.yaml: 'environment' is not read here",
    ),
    "a VPC of an account without an ID": (
        "dev",
        data_edit(
            lambda c: c["diagnyx:networks"].update(
                ghost={"cidr": "10.99.0.0/16", "environment": "development"}
            )
        ),
        "diagnyx:networks.ghost: no ID for account 'ghost' in accountIds",
    ),
    "an account ID in full-width digits": (
        "dev",
        _set("diagnyx:accountIds.staging", "\uff15" * 12),
        "diagnyx:accountIds.staging: '" + "\uff15" * 12 + "' is not an AWS account ID",
    ),
    "an invisible character in a tag value": (
        "dev",
        data_edit(lambda c: c.__setitem__("diagnyx:owner", "platform\u200bteam")),
        "diagnyx:owner: 'platform\\u200bteam' has characters AWS does not allow in a tag value",
    ),
    "a repository named '..'": (
        "dev",
        data_edit(lambda c: c.__setitem__("diagnyx:githubRepository", "diagnyx/..")),
        "diagnyx:githubRepository: 'diagnyx/..' is not a GitHub repository",
    ),
    "a deployment role name in another script": (
        "dev",
        data_edit(lambda c: c.__setitem__("diagnyx:deployment", {"roleName": "Rôle"})),
        "diagnyx:deployment.roleName: String should match pattern",
    ),
    # --- files that would block, never end, or grow without bound once read ---
    "a stack file that is a fifo": (
        "dev",
        lambda text: lambda target: os.mkfifo(target),
        "Pulumi.dev.yaml: is not a regular file (a fifo, socket or device)",
    ),
    "a stack file linked to a device that never ends": (
        "dev",
        lambda text: lambda target: target.symlink_to("/dev/zero"),
        "Pulumi.dev.yaml: is not a regular file",
    ),
    "an alias bomb of one large scalar": (
        "dev",
        lambda text: (
            text
            + f'  diagnyx:owner: &x "{"a" * 100_000}"\n'
            + "  diagnyx:ecrRepositories: ["
            + ", ".join(["*x"] * 100)
            + "]\n"
        ),
        "characters (aliases counted as expanded)",
    ),
    # --- structured values written as JSON text: read as strictly as YAML ---
    "JSON text nested 100,000 levels": (
        "dev",
        lambda text: text + "  diagnyx:retention: '" + "[" * 100_000 + "]" * 100_000 + "'\n",
        "diagnyx:retention: is not a structured value (expected a mapping or a list): it nests",
    ),
    "JSON text with a duplicate key": (
        "dev",
        lambda text: text.replace(
            "  diagnyx:budget:\n",
            """  diagnyx:budget: '{"monthlyLimitUsd": 200, "monthlyLimitUsd": 5000}'\n""",
        ).replace("    monthlyLimitUsd: 200\n", ""),
        "it key 'monthlyLimitUsd' appears twice in one object",
    ),
    "JSON text with a 5,001-digit number": (
        "dev",
        lambda text: (
            text + """  diagnyx:retention: '{"ecrUntaggedImageDays": 1""" + "0" * 5000 + "}'\n"
        ),
        "has more than 30 digits",
    ),
    # --- keys that validation would fold into another ---
    "an account key with a trailing space": (
        "dev",
        lambda text: text.replace(
            '    prod: "777777777777"\n', '    prod: "777777777777"\n    "prod ": "999999999999"\n'
        ),
        "diagnyx:accountIds: the key 'prod ' has spaces around it",
    ),
    "an assignment target given twice, once with a space": (
        "management",
        data_edit(
            lambda c: assignment(c, "Developers")["targets"].append(
                " " + assignment(c, "Developers")["targets"][0]
            )
        ),
        "is listed twice",
    ),
    "an account key with a no-break space": (
        "management",
        lambda text: text.replace(
            '    prod: "777777777777"\n',
            '    prod: "777777777777"\n    "\u00a0prod": "999999999999"\n',
        ),
        "diagnyx:accountIds: the key '\\xa0prod' has spaces around it",
    ),
}
del CATALOGUE["the guide's published external ID"]  # a secure: value cannot be written offline


def write_case(tmp_path: Path, stack: str, change: Callable[[str], object]) -> Path:
    """The project with one stack file changed: to text, to bytes, (None) to a directory, or
    made by a function of its path."""
    for path in [*PROJECT_DIR.glob("Pulumi*.yaml"), PROJECT_DIR / "__main__.py"]:
        shutil.copy(path, tmp_path)
    target = tmp_path / f"Pulumi.{stack}.yaml"
    changed = change(target.read_text())
    if changed is None:
        target.unlink()
        target.mkdir()
    elif callable(changed):  # makes the file itself (a fifo, a link)
        target.unlink()
        changed(target)
    elif isinstance(changed, bytes):
        target.write_bytes(changed)
    else:
        target.write_text(changed)
    return tmp_path


def test_the_catalogue_has_at_least_twenty_cases():
    assert len(CATALOGUE) >= 20
    messages = [expected for _, _, expected in CATALOGUE.values()]
    assert len(set(messages)) == len(messages), "each case has its own message"


def test_the_readme_counts_the_catalogue():
    readme = (PROJECT_DIR / "README.md").read_text()
    (count,) = re.findall(r"holds a catalogue of (\d+) malformed", readme)
    assert int(count) == len(CATALOGUE)


@pytest.mark.parametrize("case", CATALOGUE, ids=list(CATALOGUE))
def test_hostile_config_is_refused_clearly(case, tmp_path, monkeypatch):
    stack, change, expected = CATALOGUE[case]
    project = write_case(tmp_path, stack, change)
    registered = spy_registrations(monkeypatch)
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, project)
    assert len(raised.value.problems) == 1, raised.value.problems
    assert expected in raised.value.problems[0]
    assert [t for t in registered if t != "pulumi:pulumi:Stack"] == []


# --- property-based: random configs validate or are refused, never crash ---------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**13), 10**13)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["444444444444", "10.0.0.0/16", "us-east-1", "ou:Production"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)


def _real(stack: str) -> tuple[dict, frozenset]:
    config = load_stack_config(PROJECT_DIR, stack)
    decoded = {}
    for key, value in config.values.items():
        try:
            decoded[key] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            decoded[key] = value
    return decoded, config.secret_keys


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _mutate(config: dict, path: tuple, value, delete: bool) -> dict:
    config = json.loads(json.dumps(config))
    if not path:
        return config
    target = config
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return config


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), stack=st.sampled_from(["management", "security", "shared", "prod"]))
def test_random_configs_validate_or_are_refused_with_a_config_error(data, stack):
    config, secret_keys = _real(stack)
    paths = [p for p in _paths(config) if p]
    path = data.draw(st.sampled_from(paths))
    delete = data.draw(st.booleans())
    value = data.draw(JSON_VALUES)
    mutated = _mutate(config, path, value, delete)
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in mutated.items()}
    try:
        plan_stack(settings_from_config(stack, encoded, secret_keys))
    except ConfigError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


# --- property-based, at the file level: any edit of a real stack file is read and validated or
# refused with config errors, never a traceback ------------------------------------------------

YAML_TOKENS = st.sampled_from(
    [
        "yes",
        "no",
        "on",
        "~",
        "null",
        "012345678901",
        "0o17",
        "0x1F",
        "1_000",
        ".inf",
        "-.nan",
        "2024-01-01",
        "2024-01-01T00:00:00Z",
        "!!binary aGVsbG8=",
        "!custom x",
        "&anchor x",
        "*anchor",
        "<<: *anchor",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "- ",
        "'",
        '"',
        "|",
        ">",
        "#",
        "\t",
        "\x00",
        "\ufeff",
        "é",
        "1e400",
        "-1",
        "true",
        "TRUE",
        "[1, [2, [3]]]",
        "{a: {b: c}}",
        "secure: v1:x",
        "diagnyx:budget:",
        "aws:region: mars-1",
        "---",
        "...",
        "%YAML 1.2",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    stack=st.sampled_from(["management", "shared", "dev", "security"]),
)
def test_any_edit_of_a_real_stack_file_is_read_or_refused_as_config(data, stack):
    import tempfile

    from diagnyx_infra.config.consistency import load_project

    text = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()
    position = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 40))
    inserted = data.draw(st.lists(YAML_TOKENS | st.text(max_size=6), max_size=4))
    edited = text[:position] + " ".join(inserted) + text[position + cut :]
    raw = edited.encode("utf-8", "surrogatepass")
    if data.draw(st.booleans()):
        raw = raw.replace(b"e", bytes([data.draw(st.integers(0, 255))]), 1)
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        for path in [*PROJECT_DIR.glob("Pulumi*.yaml")]:
            shutil.copy(path, project)
        (project / f"Pulumi.{stack}.yaml").write_bytes(raw)
        try:
            load_project(project)
        except ConfigError as error:
            assert error.problems and all(isinstance(p, str) and p for p in error.problems)
