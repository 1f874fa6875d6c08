"""`diagnyx accounts sync`: real IDs from AWS Organizations into every stack file."""

import json

from ruamel.yaml import YAML

from diagnyx_infra.config.consistency import account_ids_by_file, disagreements
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import record_management, run_diagnyx
from tests.ops.landscape import create_organization

YAML_LOAD = YAML.load


def test_sync_writes_the_organizations_ids_and_check_then_passes(blank_env, blank_project):
    create_organization(Aws.from_environment(), LandingZone.load(blank_project))
    record_management(blank_project)
    before = (blank_project / "Pulumi.dev.yaml").read_text()

    check = run_diagnyx(
        blank_env, "accounts", "sync", "--check", "--project-dir", str(blank_project)
    )
    assert check.returncode == 1
    assert "Pulumi.dev.yaml: dev 444444444444 ->" in check.stdout
    assert (blank_project / "Pulumi.dev.yaml").read_text() == before, "--check writes nothing"

    result = run_diagnyx(
        blank_env, "accounts", "sync", "--json", "--project-dir", str(blank_project)
    )
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert len(changes) == 7 * 7 - 1  # seven files, seven accounts each; management's own known

    organizations = Aws.from_environment().client("organizations")
    real = {a["Email"]: a["Id"] for a in organizations.list_accounts()["Accounts"]}
    ids = account_ids_by_file(blank_project)
    for file_ids in ids.values():
        assert file_ids["dev"] == real["aws+dev@diagnyx.ai"]
        assert file_ids["management"] == "123456789012"  # moto's organization master
    assert disagreements(blank_project) == []

    again = run_diagnyx(
        blank_env, "accounts", "sync", "--check", "--project-dir", str(blank_project)
    )
    assert again.returncode == 0, again.stdout
    assert "every stack file has the organization's account IDs" in again.stdout


def test_sync_keeps_comments_order_and_quotes(blank_env, blank_project):
    create_organization(Aws.from_environment(), LandingZone.load(blank_project))
    record_management(blank_project)
    run_diagnyx(blank_env, "accounts", "sync", "--project-dir", str(blank_project))
    text = (blank_project / "Pulumi.management.yaml").read_text()
    assert "# The guide sets no budget for the management account" in text
    assert text.index("diagnyx:accountIds") < text.index("diagnyx:organization")
    assert 'management: "123456789012"' in text
    assert LandingZone.load(blank_project).account_ids["dev"] != "444444444444"


def test_an_account_missing_from_the_organization_is_a_finding(blank_env, blank_project):
    organizations = Aws.from_environment().client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    record_management(blank_project)
    result = run_diagnyx(blank_env, "accounts", "sync", "--project-dir", str(blank_project))
    assert result.returncode == 1
    assert "dev (aws+dev@diagnyx.ai) is not an account of the organization" in result.stdout


def test_without_credentials_the_command_says_so(blank_env, blank_project):
    env = {
        k: v
        for k, v in blank_env.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(blank_project / "none")
    env["AWS_CONFIG_FILE"] = str(blank_project / "none")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    result = run_diagnyx(env, "accounts", "sync", "--project-dir", str(blank_project))
    assert result.returncode == 2
    assert "no AWS credentials" in result.stderr
    assert "Traceback" not in result.stderr


def test_outside_an_organization_sync_stops_with_one_line_and_exit_2(blank_env, blank_project):
    """Credentials of an account in no organization are the wrong credentials: a usage error
    (exit 2) in one line, not a finding."""
    result = run_diagnyx(blank_env, "accounts", "sync", "--project-dir", str(blank_project))
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        "error: the credentials' account is in no organization: log in to the organization's "
        "management account"
    ), line


def test_another_organizations_credentials_write_nothing(blank_env, blank_project):
    """The files name management 111111111111; the caller's organization is another one:
    refused before any file is written (it wrote that organization's IDs into every file)."""
    create_organization(Aws.from_environment(), LandingZone.load(blank_project))
    before = {p.name: p.read_text() for p in blank_project.glob("Pulumi.*.yaml")}
    for check in ([], ["--check"]):
        result = run_diagnyx(
            blank_env, "accounts", "sync", *check, "--project-dir", str(blank_project)
        )
        assert result.returncode == 2, result.stdout + result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "the organization's management account is 123456789012" in line
        assert "names 111111111111" in line and "nothing written" in line
    assert {p.name: p.read_text() for p in blank_project.glob("Pulumi.*.yaml")} == before


def test_ids_under_either_spelling_are_synced_and_json_text_is_refused(blank_env, blank_project):
    create_organization(Aws.from_environment(), LandingZone.load(blank_project))
    record_management(blank_project)
    dev = blank_project / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("  diagnyx:accountIds:", "  accountIds:"))
    check = run_diagnyx(
        blank_env, "accounts", "sync", "--check", "--project-dir", str(blank_project)
    )
    assert check.returncode == 1
    assert "Pulumi.dev.yaml: dev 444444444444 ->" in check.stdout  # the unqualified key too
    staging = blank_project / "Pulumi.staging.yaml"
    ids = LandingZone.load(blank_project, check_account_ids=False).account_ids
    text = staging.read_text()
    start = text.index("  diagnyx:accountIds:")
    end = text.index("\n  diagnyx:", start + 1)
    staging.write_text(text[:start] + f"  diagnyx:accountIds: '{json.dumps(ids)}'" + text[end:])
    before = {p.name: p.read_text() for p in blank_project.glob("Pulumi.*.yaml")}
    result = run_diagnyx(blank_env, "accounts", "sync", "--project-dir", str(blank_project))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Pulumi.staging.yaml: diagnyx:accountIds is not written as a YAML mapping" in (
        result.stderr
    )
    assert {p.name: p.read_text() for p in blank_project.glob("Pulumi.*.yaml")} == before


def test_only_files_that_change_are_read_for_editing(tmp_path, monkeypatch):
    """The round-trip reading that keeps comments is ten times slower than the CLI's: a file
    whose IDs are already the organization's is not read with it, nor written."""
    from diagnyx_infra.engine.runner import PROJECT_DIR
    from diagnyx_infra.ops import accounts_sync

    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    actual = LandingZone.load(tmp_path).account_ids
    staging = tmp_path / "Pulumi.staging.yaml"
    written = staging.read_text().replace(f'uat: "{actual["uat"]}"', 'uat: "999999999999"')
    staging.write_text(written)
    editor = accounts_sync.round_trip_yaml()
    read = []
    monkeypatch.setattr(editor, "load", lambda text: read.append(text) or YAML_LOAD(editor, text))
    monkeypatch.setattr(accounts_sync, "round_trip_yaml", lambda: editor)
    others = {p: p.stat().st_mtime_ns for p in tmp_path.glob("Pulumi.*.yaml") if p != staging}

    changes = accounts_sync.write_account_ids(tmp_path, actual, write=True)

    assert [(c.file, c.account, c.written) for c in changes] == [
        ("Pulumi.staging.yaml", "uat", "999999999999")
    ]
    assert read == [written]
    assert {p: p.stat().st_mtime_ns for p in others} == others
    assert LandingZone.load(tmp_path).account_ids == actual
