"""`diagnyx rehearse`: the real program deployed into the embedded emulator, then the checklist;
what it prints (one summary table by default, the details with --verbose, everything as JSON)."""

import difflib
import io
import json
import os
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from diagnyx_infra.cli import app
from diagnyx_infra.deploy_sequence import SEQUENCE
from diagnyx_infra.ops.aws import classify
from diagnyx_infra.ops.findings import Finding, Status
from diagnyx_infra.plan import as_json as plan_json
from diagnyx_infra.policies import iam
from diagnyx_infra.rehearsal.emulator import HANDLERS, Created
from diagnyx_infra.rehearsal.handlers import NOT_EMULATED
from diagnyx_infra.rehearsal.rehearse import (
    Advance,
    RehearsalResult,
    StackResult,
    _name_emulator_gaps,
    rehearse,
)
from diagnyx_infra.rehearsal.report import from_json, render, short_reason, to_json
from tests.helpers import ALL_STACKS, table_rows
from tests.rehearsal.rule_variations import VARIATIONS
from tests.rehearsal.variations import Variations

# What two rehearsals may differ in: the timings (and so the centring of a title that holds
# one), and the member account IDs moto makes up at random (the checklist's bucket names carry
# them; the default text shows none).
_TIMING = re.compile(r"\d+\.\d+ s\b|\"seconds\": [\d.]+")
_ACCOUNT_ID = re.compile(r"\d{7,}")
SNAPSHOTS = Path(__file__).parent / "snapshots"


def _normalized(text: str) -> str:
    text = _ACCOUNT_ID.sub("<account>", _TIMING.sub("<time>", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _text(result: RehearsalResult, verbose: bool = False) -> str:
    """As the command prints it to a log or a pipe (80 columns, no colour)."""
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render(result, console, verbose=verbose)
    return console.file.getvalue()


# One rehearsal of every stack for the whole file, through the command line as a user runs it
# (its JSON; the run's result and progress are heard on the way, and each rule's mistake is
# carried out from its step on a copy of it). `.ci/run` runs the console script itself.


@pytest.fixture(scope="module")
def rehearsals() -> tuple[dict, RehearsalResult, list[Advance], Variations]:
    heard: list[Advance] = []
    returned: list[RehearsalResult] = []
    variations = Variations(VARIATIONS)

    def listened(*args, **kwargs):
        told = kwargs.pop("on_progress", None) or args[2]

        def on_progress(advance: Advance) -> None:
            heard.append(advance)
            told(advance)

        try:
            result = rehearse(
                *args[:2], on_progress=on_progress, before_step=variations.before_step, **kwargs
            )
        except BaseException:
            variations.failed()
            raise
        variations.done(result)  # in a variation's copy, the end
        returned.append(result)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("diagnyx_infra.rehearsal.rehearse.rehearse", listened)
        run = CliRunner().invoke(app, ["rehearse", "--all", "--json"])
    if run.exception is not None and not isinstance(run.exception, SystemExit):
        raise run.exception  # a variation that failed in its copy says why
    assert run.exit_code == 0, run.output[-3000:]
    assert run.stderr == ""  # no progress bar in a pipe, no error
    (result,) = returned
    return json.loads(run.stdout), result, heard, variations


@pytest.fixture(scope="module")
def cli_report(rehearsals) -> dict:
    return rehearsals[0]


@pytest.fixture(scope="module")
def result(rehearsals) -> RehearsalResult:
    return rehearsals[1]


@pytest.fixture(scope="module")
def results(rehearsals) -> dict[str, RehearsalResult]:
    """Each rule's variation, by name, and the rehearsal they start from."""
    return {"rehearsal": rehearsals[1], **rehearsals[3].results}


def test_rehearse_all_follows_the_deploy_sequence_from_nothing(cli_report):
    report = cli_report
    assert report["failure"] is None
    # Every step of the documented sequence, in order, from an empty management account.
    assert report["steps"] == [f"step {n}: {s.title}" for n, s in enumerate(SEQUENCE, 1)]
    assert report["totalSteps"] == len(SEQUENCE)
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
        # Every resource went through a handler; one is left not emulated only where moto lacks
        # the API (NOT_EMULATED), after the handler checked what AWS checks, and says so by name.
        assert all(
            c["type"] in HANDLERS and (c["emulated"] or c["note"] == NOT_EMULATED.get(c["type"]))
            for c in deploy["created"]
        ), stack
        # Sorted, so that two rehearsals list them alike (a real engine registers in no fixed
        # order).
        keys = [(c["type"], c["name"], c["account"]) for c in deploy["created"]]
        assert keys == sorted(keys), stack
        assert deploy["warnings"] == sorted(deploy["warnings"]), stack

    findings = report["checklist"]["findings"]
    assert {f["account"] for f in findings} == set(ALL_STACKS)
    # Every item answered, cost allocation tags included (the emulator answers from the world),
    # but for what moto lacks, named "not emulated" (rehearse._name_emulator_gaps): the
    # organization analyzer, itself not emulated (handlers.NOT_EMULATED).
    unanswered = [f for f in findings if f["status"] != "pass"]
    assert all(
        f["status"] == "cannot check" and f["detail"].startswith("not emulated: ")
        for f in unanswered
    ), unanswered
    assert {(f["account"], f["item"]) for f in unanswered} <= {("security", "IAM Access Analyzer")}
    # `diagnyx drift` of the organization and every account finds the landing zone the program
    # just deployed exactly as config describes it: what drift expects is what the program makes.
    assert report["drift"] == {"drifted": False, "drifts": [], "notLooked": []}


def test_the_three_maintenance_reports_find_nothing_to_do_in_a_landing_zone_just_deployed(
    cli_report,
):
    """`diagnyx maintenance` weekly, monthly and quarterly ran on every account: each item
    answered for each, nothing needs action, and what moto cannot answer is named "not
    emulated" (Cost Explorer's anomalies and reservation coverage), leaving the exit code 0."""
    from diagnyx_infra.ops.maintenance import ITEMS

    findings = cli_report["maintenance"]["findings"]
    asked = {(a, i.item) for a in cli_report["checked"] for i in ITEMS}
    assert {(f["account"], f["item"]) for f in findings} == asked
    assert len(findings) == len(asked)
    unanswered = {(f["account"], f["item"]): f for f in findings if f["status"] != "pass"}
    assert set(unanswered) == {
        ("management", "Cost anomalies"),
        ("management", "Reservations and Savings Plans"),
    }
    for finding in unanswered.values():
        assert finding["status"] == "cannot check" and finding["cause"] == "unavailable"
        assert finding["detail"].startswith("not emulated: the endpoint does not implement")
    assert cli_report["maintenance"]["summary"] == {
        "pass": len(asked) - 2,
        "fail": 0,
        "cannot check": 2,
    }


def test_every_custom_resource_the_program_registers_went_through_the_emulator(
    cli_report, recordings
):
    # (Asked for after the rehearsal: the other worker of the run has evaluated the stacks by
    # then, and this one reads its evaluations rather than waiting for them.)
    final = {d["stack"]: d for d in cli_report["stacks"]}
    for stack, deploy in final.items():
        expected = [r for r in recordings[stack].resources if r.custom and not r.is_provider]
        assert len(deploy["created"]) == len(expected), stack


def test_plan_and_rehearse_count_resources_alike(cli_report, recordings, result):
    """`plan` counts every registration; the rehearsal's "resources" are what a deploy created
    in AWS. The count in brackets is plan's, and the text says what the difference is."""
    final = {d["stack"]: d for d in cli_report["stacks"]}
    text = _text(result)
    for stack, row in zip(ALL_STACKS, table_rows(text), strict=False):
        recording = recordings[stack]
        assert final[stack]["registered"] == len(plan_json(recording)["resources"]), stack
        in_aws = [r for r in recording.resources if r.custom and not r.is_provider]
        assert len(final[stack]["created"]) == len(in_aws), stack
        assert row[0] == stack
        assert row[2] == f"{len(in_aws)} ({len(recording.resources)})", stack
    flat = " ".join(text.split())
    assert "as `diagnyx plan` counts them" in flat
    assert "components and provider, which create nothing in AWS" in flat


def test_the_default_output_is_one_table_and_what_needs_a_look(result):
    text = _text(result)
    lines = text.splitlines()
    # 7 stacks at 80 columns: the table is 15 lines (title, 2 header lines, 7 rows, the totals),
    # its note 3, the verdict 1, the pointer to --verbose 2: 21. A failure or an item to look at
    # adds a line or two each; 30 leaves room for a few and still reads at a glance.
    assert len(lines) <= 30, text
    assert text.count("┏") == 1, text  # one table
    assert [row[0] for row in table_rows(text)] == [*ALL_STACKS, "all"]  # deploy order, then totals
    assert "Rehearsal: 14/14 steps, 10 deploys of 7 stacks" in lines[0]
    assert "all 14 steps carried out; checklist: 132 pass, 0 fail, 1 cannot check" in text
    assert "19/0/0" in text and "18/0/1" in text and "132/0/1" in text
    assert "resources by type" not in text and "Checklist of the rehearsed" not in text
    assert "--verbose" in text


def test_verbose_adds_each_stacks_resources_and_the_full_checklist(result):
    default, verbose = _text(result), _text(result, verbose=True)
    for stack in ALL_STACKS:
        assert f"{stack}: resources by type, per deploy" in verbose
    assert "step 3 ┃ step 8 ┃ step 14" in verbose  # management, one column per deploy
    assert "Checklist of the rehearsed landing zone" in verbose
    assert verbose.count("│ pass ") == 132
    for label in result.steps:
        assert label in verbose
    # The summary closes the details, as it stands alone by default; what needs a look follows
    # it by default, once, and is in the details with --verbose (here: what is not emulated).
    lines = default.splitlines()
    needs_a_look = ("cannot check:", "not emulated:", "still waits:", "--verbose")
    end = next(n for n, line in enumerate(lines) if line.startswith(needs_a_look))
    assert _normalized(verbose).endswith(_normalized("\n".join(lines[:end])))
    assert "Not emulated (each stack's last deploy; reported, not failed)" in verbose
    assert "security: security-services-access-analyzer-us-east-1," in verbose


def test_every_rehearsal_prints_what_the_last_reviewed_one_printed(cli_report, result):
    """The text of a rehearsal from nothing, default and --verbose, is the reviewed text in
    snapshots/ but for timings and the account IDs moto makes up: so its order does not change
    between runs (each run is a new process, with its own hash seed and thread timings). After a
    change to what the rehearsal prints, review the new text and record it with
    DIAGNYX_UPDATE_SNAPSHOTS=1."""
    for verbose in (False, True):
        text = _normalized(_text(result, verbose))
        assert _normalized(_text(from_json(cli_report), verbose)) == text
        snapshot = SNAPSHOTS / ("rehearse-verbose.txt" if verbose else "rehearse.txt")
        if os.environ.get("DIAGNYX_UPDATE_SNAPSHOTS") == "1":
            snapshot.write_text(text + "\n")
        recorded = snapshot.read_text().removesuffix("\n")
        assert text == recorded, "\n".join(
            difflib.unified_diff(
                recorded.splitlines(), text.splitlines(), str(snapshot), "this run", lineterm=""
            )
        )
    assert _normalized(json.dumps(to_json(result), indent=2)) == _normalized(
        json.dumps(cli_report, indent=2)
    )
    # The default text shows no account ID: two rehearsals differ only in the timings.
    assert not _ACCOUNT_ID.search(_text(result))


def test_the_json_holds_everything_the_text_shows(cli_report):
    assert to_json(from_json(cli_report)) == cli_report


def test_progress_counts_the_steps(rehearsals):
    _, result, heard, _ = rehearsals
    total = len(SEQUENCE)
    assert {a.total for a in heard} == {total}
    done = [a.done for a in heard]
    assert done == sorted(done) and done[0] == 0
    assert heard[-1] == Advance(total, total, "checklist")
    assert [a.step for a in heard if not a.stack][:-1] == result.steps
    deploys = [(a.step, a.stack) for a in heard if a.stack]
    assert deploys == [(d.step, d.stack) for d in result.stacks]


def _not_implemented(action: str) -> str:
    """moto's answer in process to an action it lacks, as the checklist words it."""
    return classify(NotImplementedError(f"The {action} action has not been implemented")).message


def test_moto_not_implemented_text_appears_once_per_type_and_short():
    monitor, tag = "aws:costexplorer/anomalyMonitor:AnomalyMonitor", "aws:ce/tag:Tag"
    stacks = [
        StackResult(
            stack,
            [
                Created(monitor, f"{stack}-monitor-{n}", "1", False, _not_implemented("CreateX"))
                for n in range(3)
            ]
            + [Created(tag, f"{stack}-tag", "1", False, _not_implemented("TagIt"))]
            + [Created("aws:s3/bucket:Bucket", f"{stack}-bucket", "1", True)],
            1.0,
            "step 3: The organization and its accounts",
            registered=6,
        )
        for stack in ("management", "security")
    ]
    findings = [
        _name_emulator_gaps(
            Finding(
                stack,
                "cost allocation tags",
                Status.CANNOT,
                _not_implemented("ListCostAllocationTags"),
                "hint",
                "unavailable",
            )
        )
        for stack in ("management", "security")
    ]
    gaps = RehearsalResult(
        stacks=stacks,
        steps=["step 3: The organization and its accounts"],
        findings=findings,
        order=["management", "security"],
        total_steps=1,
        checked=["management", "security"],
        seconds=2.0,
    )
    default, verbose = _text(gaps), _text(gaps, verbose=True)
    for text in (" ".join(default.split()), " ".join(verbose.split())):
        assert "has not been implemented" not in text  # moto's words, shortened
        assert text.count("moto does not implement CreateX") == 1, text
        assert text.count("moto does not implement TagIt") == 1, text
    assert table_rows(default)[0] == ["management", "3", "5 (6)", "4", "0/0/1"]
    assert (
        f"not emulated: {monitor} (management 3, security 3): moto does not implement CreateX"
        in " ".join(default.split())
    )
    # The checklist items the emulator cannot answer: once, with every account they concern.
    assert default.count("ListCostAllocationTags") == 1
    assert (
        "cannot check: cost allocation tags (management, security): not emulated: moto does not "
        "implement ListCostAllocationTags" in " ".join(default.split())
    )
    # --verbose lists every resource, by type and stack.
    listed = "security: security-monitor-0, security-monitor-1, security-monitor-2"
    assert listed in " ".join(verbose.split())


def test_short_reason_names_what_moto_lacks_in_one_line():
    assert short_reason(_not_implemented("ListTags")) == "moto does not implement ListTags"
    server = (
        "the endpoint does not implement this API: http://127.0.0.1:5000 answered "
        "ce:ListCostAllocationTags as a moto server answers an action it lacks (HTTP 500, its "
        "error page)"
    )
    assert short_reason(server) == "moto does not implement ce:ListCostAllocationTags"
    assert short_reason(f"not emulated: {server}").startswith("not emulated: moto")
    long = "line one\n" + "word " * 100
    assert "\n" not in short_reason(long) and len(short_reason(long)) <= 160


def test_a_broken_policy_document_fails_with_the_resources_name(monkeypatch):
    real = iam.cicd_permissions

    def broken(*args):
        document = real(*args)
        document["Statement"][0]["Effect"] = "Alow"  # the typo a reviewer might miss
        return document

    monkeypatch.setattr(iam, "cicd_permissions", broken)
    run = CliRunner().invoke(app, ["rehearse", "management"])
    assert run.exit_code == 1, run.output
    flat = " ".join(run.output.split())
    # Said once (stdout and stderr together), with the step, the stack, the resource, the error.
    assert flat.count("baseline-roles-cicd-policy") == 1, run.output
    assert (
        "refused: step 3: The organization and its accounts, stack management: "
        "baseline-roles-cicd-policy (aws:iam/rolePolicy:RolePolicy) was refused: "
        "MalformedPolicyDocument" in flat
    )
    assert "stopped at step 3: The organization and its accounts" in flat
    assert "nothing was checked" in flat
    assert [row[:2] for row in table_rows(run.stdout)] == [
        ["management", "3 (refused)"],
        ["security", "not reached"],
        ["all", ""],
    ]


# --- each AWS rule the emulator enforces, shown failing when the mistake is reintroduced:
# the rehearsal stops at the step, names the resource and the rule (rule_variations.py) ----


def test_trail_arn_with_the_security_accounts_id_is_refused(results):
    failure = results["trail ARN of the security account"].failure
    assert failure is not None
    assert failure.step.startswith("step 7:")  # the security stack
    assert failure.type == "aws:cloudtrail/trail:Trail"
    assert failure.name == "baseline-organization-trail-trail"
    assert "InsufficientS3BucketPolicyException" in failure.error
    assert "management account" in failure.error  # the rule is named


def test_organization_trail_needs_cloudtrails_own_delegated_administrator(results):
    failure = results["no CloudTrail delegated administrator"].failure
    assert failure is not None
    assert failure.type == "aws:cloudtrail/trail:Trail"
    assert "NotOrganizationMasterAccountException" in failure.error


def test_identity_center_enabled_before_the_organization_breaks_the_organization(results):
    failure = results["Identity Center before the organization"].failure
    assert failure is not None
    assert failure.step.endswith("The organization and its accounts")
    assert failure.type == "aws:organizations/organization:Organization"
    assert "AlreadyInOrganizationException" in failure.error


def test_cost_allocation_tags_before_their_keys_reach_billing_are_refused(results):
    failure = results["cost tags before billing has their keys"].failure
    assert failure is not None
    assert failure.type == "aws:costexplorer/costAllocationTag:CostAllocationTag"
    assert "not found in billing data" in failure.error


def test_certificates_before_the_registrar_delegates_are_refused(results):
    failure = results["certificates before the registrar delegates"].failure
    assert failure is not None
    assert failure.step.endswith("Certificates")
    assert failure.type == "aws:acm/certificateValidation:CertificateValidation"
    assert "ValidationTimedOut" in failure.error
    assert "registrar" in failure.error


def test_doctor_does_not_confirm_a_delegation_the_registrar_has_not_made(results):
    failure = results["doctor without the registrar"].failure
    assert failure is not None
    assert failure.step.endswith("Confirm the delegation")
    assert "DNS delegation" in failure.error


def test_a_second_aws_services_monitor_fails_the_management_deploy(results):
    failure = results["a second AWS-services monitor"].failure
    assert failure is not None
    assert failure.step.endswith("Identity Center, anomaly detection and cross-account trust")
    assert failure.name == "cost-governance-anomalies-by-service"
    assert "Limit exceeded on dimensional spend monitor creation" in failure.error


def test_a_monitor_specification_the_provider_reads_back_differently_fails(results):
    failure = results["a monitor specification without the read-back nulls"].failure
    assert failure is not None
    assert failure.type == "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
    assert "every `pulumi up` would replace it" in failure.error
    assert "anomaly_monitor.go" in failure.error


def test_a_cost_allocation_tag_no_resource_carries_is_refused(results):
    failure = results["a cost tag no resource carries"].failure
    assert failure is not None
    assert failure.step.endswith("A day later: cost allocation tags")
    assert failure.name == "cost-governance-cost-tag-Owner"
    assert "tag key Owner not found in billing data" in failure.error


def test_each_command_runs_as_the_readme_writes_it(results):
    """`diagnyx rehearse` passes its own command line in: a command the README writes wrongly
    fails the rehearsal at its step (this one did: `accounts sync` has no --write)."""
    failure = results["a command misspelt"].failure
    assert failure is not None
    assert failure.step.endswith("Record the member account IDs")
    assert "No such option: --write" in failure.error


def test_without_the_activation_step_the_checklist_finds_the_tags_inactive(results):
    result = results["no activation step"]
    assert result.failure is None
    assert result.checked == ["management"]
    (line,) = [f for f in result.findings if f.item == "cost allocation tags"]
    assert line.status == "fail"
    assert "inactive: CostCenter, Environment, ManagedBy, Owner, Project" in line.detail


def test_a_rehearsed_landing_zone_that_drifted_fails_with_each_drift_named(monkeypatch):
    """Were the program to deploy other than what `drift` expects, the rehearsal says so, each
    drift on a line, and exits 1 (the result is made up: the rehearsal above shows drift runs,
    and finds nothing, on what the program really deploys)."""
    from diagnyx_infra.ops.drift import Drift, DriftReport

    drifted = RehearsalResult(
        steps=["step 1: x"],
        total_steps=1,
        drift=DriftReport([Drift("organization", "OU missing", "OU Imagined", "present",
                                 "absent", "-")]),
    )  # fmt: skip
    monkeypatch.setattr("diagnyx_infra.rehearsal.rehearse.rehearse", lambda *a, **k: drifted)
    run = CliRunner().invoke(app, ["rehearse", "--all"])
    assert run.exit_code == 1
    text = " ".join(run.stdout.split())
    assert "drift: 1" in text
    assert "drift: organization: OU missing: OU Imagined (config: present; AWS: absent)" in text


def test_a_maintenance_item_that_needs_action_fails_the_rehearsal(monkeypatch):
    """A landing zone just deployed that a maintenance report finds wanting (the program left
    the lock table unrecoverable, say) fails the rehearsal, named (the result is made up: the
    rehearsal above shows the reports run and find nothing on what the program deploys)."""
    from diagnyx_infra.ops.findings import Finding, Status

    wanting = RehearsalResult(
        steps=["step 1: x"],
        total_steps=1,
        maintenance=[
            Finding("dev", "Backup health", Status.FAIL, "point-in-time recovery is DISABLED")
        ],
    )
    monkeypatch.setattr("diagnyx_infra.rehearsal.rehearse.rehearse", lambda *a, **k: wanting)
    run = CliRunner().invoke(app, ["rehearse", "--all"])
    assert run.exit_code == 1
    text = " ".join(run.stdout.split())
    assert "maintenance: 1 fail" in text
    assert "fail: dev: Backup health: point-in-time recovery is DISABLED" in text


def test_the_variations_change_only_what_follows_their_start(results):
    """Each variation carried out the shared steps before its start once, as the shared
    rehearsal did: its steps begin with exactly those."""
    shared = results["rehearsal"].steps
    starts = {s.title: n for n, s in enumerate(SEQUENCE)}
    for name, variation in VARIATIONS.items():
        first = [s.key for s in SEQUENCE].index(variation.start)
        before = [label for label in shared if starts[label.split(": ", 1)[1]] < first]
        assert results[name].steps[: len(before)] == before, name


def test_sessions_of_one_data_path_share_one_loader():
    """moto makes botocore sessions of its own; once the emulator is imported, they read
    botocore's models once per process, as ops/aws.py's sessions do."""
    import botocore.session

    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is second.get_component("data_loader")


def test_certificates_share_one_key_and_cryptography_is_left_as_it_was():
    """moto's ACM makes a key pair per certificate; the emulator's share one, swapping
    cryptography's generator only while moto makes a certificate."""
    import cryptography.hazmat.primitives.asymmetric.rsa as rsa
    import moto.acm.models

    def patched_later(**kwargs):  # someone else's patch, made after the rehearsal's import
        return generator(**kwargs)

    generator = rsa.generate_private_key
    rsa.generate_private_key = patched_later
    try:
        first, second = (
            moto.acm.models.CertBundle.generate_cert(name, "111111111111", "us-east-1")
            for name in ("a.example.com", "b.example.com")
        )
        assert rsa.generate_private_key is patched_later  # put back as it was found
    finally:
        rsa.generate_private_key = generator
    assert first.key == second.key
    assert first.cert != second.cert  # each certificate is still its own
    # The shared key is not read back from its PEM text and checked again for each certificate.
    assert first._key is second._key


def test_an_imported_certificates_key_is_still_checked():
    """Only the emulator's own shared key skips moto's check of a certificate's private key."""
    import moto.acm.models
    from moto.acm.exceptions import AWSValidationException

    issued = moto.acm.models.CertBundle.generate_cert("a.example.com", "111111111111", "us-east-1")
    broken = issued.key.replace(issued.key[40:80], b"A" * 40)
    with pytest.raises(AWSValidationException, match="private key"):
        moto.acm.models.CertBundle("111111111111", certificate=issued.cert, private_key=broken)
