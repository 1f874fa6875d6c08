"""`diagnyx rehearse`: the real program deployed into the embedded emulator, then the checklist."""

import json
import subprocess
import sys
from pathlib import Path

from diagnyx_infra.policies import iam
from diagnyx_infra.rehearsal.handlers import HANDLERS, NOT_EMULATED
from diagnyx_infra.rehearsal.rehearse import rehearse
from tests.helpers import ALL_STACKS

DIAGNYX = Path(sys.executable).parent / "diagnyx"
NOT_EMULATED_ITEMS = {"cost allocation tags"}


def test_rehearse_all_deploys_every_stack_and_the_checklist_passes(recordings):
    result = subprocess.run(
        [str(DIAGNYX), "rehearse", "--all", "--json"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["failure"] is None
    assert [s["stack"] for s in report["stacks"]] == list(ALL_STACKS)

    for stack in report["stacks"]:
        # Every custom resource the program registers went through the emulator or is named.
        expected = [
            r for r in recordings[stack["stack"]].resources if r.custom and not r.is_provider
        ]
        assert len(stack["created"]) == len(expected), stack["stack"]
        for created in stack["created"]:
            if created["emulated"]:
                assert created["type"] in HANDLERS
            else:
                assert created["note"], created
    missing = {c["type"] for s in report["stacks"] for c in s["created"] if not c["emulated"]}
    assert missing <= set(NOT_EMULATED) | {
        "aws:organizations/delegatedAdministrator:DelegatedAdministrator"
    }

    findings = report["checklist"]["findings"]
    assert {f["account"] for f in findings} == set(ALL_STACKS)
    for finding in findings:
        expected_status = "cannot check" if finding["item"] in NOT_EMULATED_ITEMS else "pass"
        assert finding["status"] == expected_status, finding
        if expected_status == "cannot check":
            assert finding["detail"].startswith("not emulated: ")


def test_a_broken_policy_document_fails_with_the_resources_name(monkeypatch):
    real = iam.cicd_permissions

    def broken(is_management: bool):
        document = real(is_management)
        document["Statement"][0]["Effect"] = "Alow"  # the typo a reviewer might miss
        return document

    monkeypatch.setattr(iam, "cicd_permissions", broken)
    result = rehearse(["management"])
    assert result.failure is not None
    assert result.failure.name == "baseline-roles-cicd-policy"
    assert result.failure.type == "aws:iam/rolePolicy:RolePolicy"
    assert "MalformedPolicyDocument" in result.failure.error
    assert result.findings == []
