"""`diagnyx accounts retire` / `unretire`: an account taken out of use without closing it.

Retiring edits the management stack's file, never AWS: the account moves to the Suspended OU,
whose SCP (suspended-account) denies everything but the break-glass, audit and drift roles, and
the Identity Center assignments that name it directly are removed (those through its OU end with
the move). What was removed is recorded in the account's entry (`retired`), so the change is
reviewed like any other and `unretire` puts it back. `pulumi up -s management` carries it out.
Nothing is closed: closing an account is a decision made in AWS, by a person.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.consistency import SOURCE_OF_TRUTH, load_project
from ..config.models import (
    MANAGEMENT_ACCOUNT,
    SECURITY_ACCOUNT,
    SHARED_SERVICES_ACCOUNT,
    SUSPENDED_OU,
    SUSPENDED_POLICY,
)
from ..config.stack_files import mapping_setting, round_trip_yaml, stack_file
from .stack_edits import EditRefused, dumped, write_validated

# The accounts every stack depends on: retiring one would leave the landing zone without its
# audit trail or its CI.
CORE_ACCOUNTS = (MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, SHARED_SERVICES_ACCOUNT)

CLOSING = (
    "Closing the account is done in AWS, by a person, and only when it is no longer wanted: "
    "Organizations' CloseAccount (or the console) suspends it for a 90-day post-closure "
    "period, in which only AWS Support can reopen it; then AWS deletes it and everything in it "
    "for good. What it used before closing is still billed; it counts against the "
    "organization's account quota until it is removed; 10% of the member accounts (between 10 "
    "and 1,000) can be closed in 30 days; its e-mail address cannot be used again. Once AWS "
    "has removed it, take its entry and stack file out of config (the account resource is "
    "protected: `pulumi state unprotect`, then `pulumi state delete`). Until it is closed, "
    "`diagnyx accounts unretire {name}` brings it back."
)


class RetirementRefused(Exception):
    """Nothing was written: the account cannot be retired or brought back as asked."""


@dataclass(frozen=True)
class Access:
    group: str
    permission_set: str


@dataclass
class RetirementPlan:
    account: str
    from_ou: str
    to_ou: str
    access: list[Access] = field(default_factory=list)  # removed (retire), given back (unretire)
    suspended_ou_added: bool = False
    written: bool = False

    def steps(self) -> list[str]:
        return [
            f"pulumi preview -s {MANAGEMENT_ACCOUNT}   # the account moves to {self.to_ou}",
            f"pulumi up -s {MANAGEMENT_ACCOUNT}",
        ]


def retire(project_dir: Path, name: str, apply: bool) -> RetirementPlan:
    """Move ``name`` to the Suspended OU and remove the assignments naming it (a dry run unless
    ``apply``). Refused for an unknown, core or already retired account."""
    document, config = _management_file(project_dir)
    organization = _organization(config)
    accounts = _accounts(organization, name)
    entry = accounts[name]
    if name in CORE_ACCOUNTS:
        raise RetirementRefused(
            f"'{name}' is one of the accounts every stack depends on "
            f"({', '.join(CORE_ACCOUNTS)}): it cannot be retired"
        )
    if entry.get("retired") is not None:
        raise RetirementRefused(f"'{name}' is already retired (in {SUSPENDED_OU})")
    _refuse_what_reaches_it(project_dir, name)
    plan = RetirementPlan(name, str(entry["ou"]), SUSPENDED_OU)
    plan.access = _remove_direct_access(config, name)
    units = organization["organizationalUnits"]
    if not any(unit.get("name") == SUSPENDED_OU for unit in units):
        units.append({"name": SUSPENDED_OU, "policies": [SUSPENDED_POLICY]})
        plan.suspended_ou_added = True
    entry["ou"] = SUSPENDED_OU
    entry["retired"] = {
        "ou": plan.from_ou,
        "access": [{"group": a.group, "permissionSet": a.permission_set} for a in plan.access],
    }
    plan.written = _write_if_valid(project_dir, document, apply)
    return plan


def unretire(project_dir: Path, name: str, apply: bool) -> RetirementPlan:
    """Put ``name`` back where `retire` found it, with the assignments it removed."""
    document, config = _management_file(project_dir)
    organization = _organization(config)
    entry = _accounts(organization, name)[name]
    retired = entry.get("retired")
    if retired is None:
        raise RetirementRefused(f"'{name}' is not retired")
    plan = RetirementPlan(name, SUSPENDED_OU, str(retired["ou"]))
    plan.access = [
        Access(str(a["group"]), str(a["permissionSet"])) for a in retired.get("access") or []
    ]
    assignments = _assignments(config)
    for access in plan.access:
        same = next(
            (
                a
                for a in assignments
                if a.get("group") == access.group
                and a.get("permissionSet") == access.permission_set
            ),
            None,
        )
        if same is None:
            assignments.append(
                {"group": access.group, "permissionSet": access.permission_set, "targets": [name]}
            )
        elif name not in same["targets"]:
            same["targets"].append(name)
    entry["ou"] = plan.to_ou
    del entry["retired"]
    plan.written = _write_if_valid(project_dir, document, apply)
    return plan


# --- the management file --------------------------------------------------------------------


def _refuse_what_reaches_it(project_dir: Path, name: str) -> None:
    """An SCP restricts only the account's own principals: a peering into its VPC or images
    pulled from shared services would stay open. Each is removed first, in config."""
    for stack, settings in load_project(project_dir).items():
        if settings.network is not None:
            for left, right in settings.network.peerings:
                if name in (left, right):
                    raise RetirementRefused(
                        f"'{name}' is peered with {right if left == name else left} "
                        f"(Pulumi.{stack}.yaml diagnyx:network.peerings): remove the peering "
                        "first, in both stacks"
                    )
        if settings.shared_services is not None and name in settings.shared_services.pull_accounts:
            raise RetirementRefused(
                f"'{name}' pulls images from shared services (Pulumi.{stack}.yaml "
                "diagnyx:sharedServices.pullAccounts): take it out of the list first"
            )


def _management_file(project_dir: Path) -> tuple[Any, Any]:
    """The management stack's file, validated with the whole project first (a file that is
    already wrong is not edited), as a round-trip document and its `config` mapping."""
    load_project(project_dir)
    path = stack_file(project_dir, MANAGEMENT_ACCOUNT)
    document = round_trip_yaml().load(path.read_text())
    return document, document["config"]


def _organization(config: Any) -> Any:
    organization = mapping_setting(config, "organization", SOURCE_OF_TRUTH)
    assert organization is not None  # validated: the management file describes it
    return organization


def _accounts(organization: Any, name: str) -> Any:
    accounts = organization["accounts"]
    if name not in accounts:
        known = ", ".join(sorted(accounts))
        raise RetirementRefused(
            f"unknown account '{name}': not an account of {SOURCE_OF_TRUTH} (accounts: {known})"
        )
    return accounts


def _assignments(config: Any) -> Any:
    identity = mapping_setting(config, "identityCenter", SOURCE_OF_TRUTH)
    assert identity is not None  # validated: required in the management file
    return identity["assignments"]


def _remove_direct_access(config: Any, name: str) -> list[Access]:
    """Each assignment naming ``name`` as a target loses it; one left without targets goes."""
    removed = []
    assignments = _assignments(config)
    for assignment in list(assignments):
        targets = assignment["targets"]
        # Compared as validation reads them (`' uat'` is `uat`).
        naming_it = [t for t in targets if str(t).strip() == name]
        if not naming_it:
            continue
        removed.append(Access(str(assignment["group"]), str(assignment["permissionSet"])))
        for target in naming_it:
            targets.remove(target)
        if not targets:
            assignments.remove(assignment)
    return removed


def _write_if_valid(project_dir: Path, document: Any, apply: bool) -> bool:
    try:
        return write_validated(
            project_dir, {stack_file(project_dir, MANAGEMENT_ACCOUNT).name: dumped(document)}, apply
        )
    except EditRefused as refused:
        raise RetirementRefused(str(refused)) from None
