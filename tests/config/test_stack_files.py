"""Stack config is read as the Pulumi CLI hands it to the program."""

import json
import shutil
from pathlib import Path

import pytest

from diagnyx_infra.config.consistency import validated_stack
from diagnyx_infra.config.stack_files import load_stack_config, stack_names
from diagnyx_infra.engine.runner import PROJECT_DIR
from diagnyx_infra.errors import ConfigError
from tests.helpers import ALL_STACKS


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path)
    return tmp_path


def test_every_stack_of_the_design_has_a_file():
    assert set(stack_names(PROJECT_DIR)) == set(ALL_STACKS)


def test_project_defaults_apply_and_stack_values_override(project):
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  diagnyx:owner: dev-team@diagnyx.ai\n  aws:region: us-west-2\n"
    )
    values = load_stack_config(project, "dev").values
    assert values["diagnyx:owner"] == "dev-team@diagnyx.ai"
    assert values["diagnyx:costCenter"] == "platform-engineering"
    assert json.loads(values["diagnyx:allowedRegions"]) == ["us-east-1", "us-west-2"]
    assert values["aws:region"] == "us-west-2"


def test_structured_and_scalar_values_are_encoded_like_the_cli(project):
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  diagnyx:budget:\n    monthlyLimitUsd: 200\n  diagnyx:flag: true\n"
    )
    values = load_stack_config(project, "dev").values
    assert json.loads(values["diagnyx:budget"]) == {"monthlyLimitUsd": 200}
    assert values["diagnyx:flag"] == "true"


def test_secure_values_become_offline_dummies_marked_secret(project):
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  diagnyx:ciExternalId:\n    secure: v1:abc\n"
    )
    config = load_stack_config(project, "dev")
    assert "diagnyx:ciExternalId" in config.secret_keys
    assert config.values["diagnyx:ciExternalId"].startswith("offline-secret-")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "Pulumi.dev.yaml: is empty"),
        ("- a\n- b\n", "Pulumi.dev.yaml: must be a YAML mapping, got list"),
        ("config: [1, 2]\n", "Pulumi.dev.yaml: 'config' must be a mapping, got list"),
        ("config:\n  a: [\n", "Pulumi.dev.yaml: is not valid YAML (line"),
    ],
)
def test_unreadable_stack_files_are_config_errors(project, content, message):
    (project / "Pulumi.dev.yaml").write_text(content)
    with pytest.raises(ConfigError) as raised:
        load_stack_config(project, "dev")
    assert message in str(raised.value)


def test_missing_stack_file_is_a_config_error(project):
    with pytest.raises(ConfigError, match=r"Pulumi.nope.yaml: file not found"):
        load_stack_config(project, "nope")


def test_a_stack_config_dir_elsewhere_is_refused(project):
    """The Pulumi CLI would read stack files from that folder; every check reads them here."""
    (project / "Pulumi.yaml").write_text(
        (PROJECT_DIR / "Pulumi.yaml").read_text() + "stackConfigDir: stacks\n"
    )
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(ConfigError, match="stackConfigDir is not supported"):
        load_stack_config(project, "dev")
    # With the stack files moved to that folder, the reason is still Pulumi.yaml's setting, not
    # a stack file that is missing here: the project file is read and checked first.
    (project / "Pulumi.dev.yaml").unlink()
    for read in (load_stack_config, validated_stack):
        with pytest.raises(ConfigError, match="stackConfigDir is not supported"):
            read(project, "dev")


def test_a_project_dir_without_the_program_is_a_config_error(tmp_path):
    from diagnyx_infra.engine.runner import run_stack

    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path)
    with pytest.raises(ConfigError, match=r"no __main__\.py here"):
        run_stack("dev", tmp_path)


def test_account_ids_set_for_the_whole_project_are_refused(tmp_path):
    """`accounts sync` and `bootstrap start` edit the stack files: account IDs in Pulumi.yaml
    would go unseen by them."""
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path)
    project = tmp_path / "Pulumi.yaml"
    project.write_text(
        project.read_text().replace(
            "config:\n", "config:\n  accountIds:\n    value: {management: '111111111111'}\n", 1
        )
    )
    with pytest.raises(ConfigError) as raised:
        load_stack_config(tmp_path, "dev")
    assert raised.value.problems == [
        "Pulumi.yaml: accountIds is set for the whole project; it belongs in each stack file, "
        "where `accounts sync` and `bootstrap start` keep it and every check compares it"
    ]


def test_merge_keys_read_as_go_yaml_reads_them():
    """go-yaml v3 (decode.go, decoder.mapping and merge): a mapping's own keys win over merged
    ones wherever the `<<` is written, the first map of a merged list wins over later ones, and a
    second `<<` in one mapping is a repeated key."""
    from diagnyx_infra.config.yaml_reader import parse_yaml_text

    text = "base: &base {k: 1, j: 2}\nafter:\n  k: 3\n  <<: *base\nbefore:\n  <<: *base\n  k: 3\n"
    parsed = parse_yaml_text("x.yaml", text)
    assert parsed["after"] == parsed["before"] == {"k": 3, "j": 2}
    listed = parse_yaml_text("x.yaml", "m:\n  <<: [{k: 1, j: 1}, {j: 2, n: 2}]\n")
    assert listed["m"] == {"k": 1, "j": 1, "n": 2}
    with pytest.raises(ConfigError, match=r"mapping key '<<' \(line 3\) is already defined"):
        parse_yaml_text("x.yaml", "m:\n  <<: {k: 1}\n  <<: {j: 2}\n")
