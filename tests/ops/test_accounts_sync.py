"""`diagnyx accounts sync`: real IDs from AWS Organizations into every stack file."""

import json

from diagnyx_infra.config.consistency import account_ids_by_file, disagreements
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.landing_zone import LandingZone
from tests.ops.conftest import run_diagnyx
from tests.ops.landscape import create_organization


def test_sync_writes_the_organizations_ids_and_check_then_passes(blank_env, blank_project):
    create_organization(Aws.from_environment(), LandingZone.load(blank_project))
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
    assert len(changes) == 7 * 7  # seven files, seven accounts each

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
    run_diagnyx(blank_env, "accounts", "sync", "--project-dir", str(blank_project))
    text = (blank_project / "Pulumi.management.yaml").read_text()
    assert "# The guide sets no budget for the management account" in text
    assert text.index("diagnyx:accountIds") < text.index("diagnyx:organization")
    assert 'management: "123456789012"' in text
    assert LandingZone.load(blank_project).account_ids["dev"] != "444444444444"


def test_an_account_missing_from_the_organization_is_a_finding(blank_env, blank_project):
    organizations = Aws.from_environment().client("organizations")
    organizations.create_organization(FeatureSet="ALL")
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
