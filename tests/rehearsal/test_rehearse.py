"""`diagnyx rehearse`: the real program deployed into the embedded emulator, then the checklist."""

import json
import subprocess
import sys
from pathlib import Path

from diagnyx_infra.deploy_sequence import SEQUENCE
from diagnyx_infra.policies import iam
from diagnyx_infra.rehearsal.emulator import HANDLERS
from diagnyx_infra.rehearsal.rehearse import rehearse
from tests.helpers import ALL_STACKS

DIAGNYX = Path(sys.executable).parent / "diagnyx"


def test_rehearse_all_follows_the_deploy_sequence_from_nothing(recordings):
    result = subprocess.run(
        [str(DIAGNYX), "rehearse", "--all", "--json"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["failure"] is None
    # Every step of the documented sequence, in order, from an empty management account.
    assert report["steps"] == [f"step {n}: {s.title}" for n, s in enumerate(SEQUENCE, 1)]
    deploys = [(d["step"].split(":")[0], d["stack"]) for d in report["stacks"]]
    expected = [(f"step {n}", stack) for n, s in enumerate(SEQUENCE, 1) for stack in s.stacks]
    assert deploys == expected
    # The first management deploy names what waits; the last waits for nothing.
    first, last = (
        report["stacks"][0],
        [d for d in report["stacks"] if d["stack"] == "management"][-1],
    )
    assert any("Identity Center is not enabled" in w for w in first["warnings"])
    assert any("accountIds.shared is pending" in w for w in first["warnings"])
    assert last["warnings"] == []

    final = {d["stack"]: d for d in report["stacks"]}  # each stack's last deploy
    for stack, deploy in final.items():
        # Every custom resource the program registers went through the emulator.
        expected_resources = [
            r for r in recordings[stack].resources if r.custom and not r.is_provider
        ]
        assert len(deploy["created"]) == len(expected_resources), stack
        assert all(c["emulated"] and c["type"] in HANDLERS for c in deploy["created"]), stack

    findings = report["checklist"]["findings"]
    assert {f["account"] for f in findings} == set(ALL_STACKS)
    # Every item answered, cost allocation tags included (the emulator answers from the world).
    assert all(f["status"] == "pass" for f in findings), [
        f for f in findings if f["status"] != "pass"
    ]


def test_a_broken_policy_document_fails_with_the_resources_name(monkeypatch):
    real = iam.cicd_permissions

    def broken(*args):
        document = real(*args)
        document["Statement"][0]["Effect"] = "Alow"  # the typo a reviewer might miss
        return document

    monkeypatch.setattr(iam, "cicd_permissions", broken)
    result = rehearse(["management"])
    assert result.failure is not None
    assert result.failure.name == "baseline-roles-cicd-policy"
    assert result.failure.type == "aws:iam/rolePolicy:RolePolicy"
    assert "MalformedPolicyDocument" in result.failure.error
    assert result.findings == []
