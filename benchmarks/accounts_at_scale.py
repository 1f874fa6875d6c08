"""Account vending at scale: for organizations of 100, 500 and 1,000 member accounts, with the
stack files as `accounts add` writes them (member files list no account IDs; `--every-id` writes
every ID into every file, as before issue 17),

- `plan management` (the project validated, the management stack evaluated) in a fresh
  interpreter: seconds and peak memory;
- the project's stack files: how many, and their lines in all;
- `accounts sync` writing the organization's IDs into them (moto in this process holds the
  organization): seconds, files and lines written;
- at the largest size, adding one account (`accounts add --apply`, then sync): seconds and files
  touched.

    .venv/bin/python benchmarks/accounts_at_scale.py [--sizes 100 500 1000] [--every-id]
"""

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import PYTHON, ROOT, emit
from _synthetic_organization import (
    account_entry,
    config_lines,
    member_names,
    write_project,
)

from diagnyx_infra.ops.accounts_sync import sync
from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.ops.landing_zone import LandingZone
from diagnyx_infra.ops.vending import NewAccount, add
from diagnyx_infra.rehearsal.rehearse import emulated_aws

PLAN = """
import io, json, resource, sys, time, contextlib
from diagnyx_infra.cli import app
started = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    app(["plan", "management", "--project-dir", sys.argv[1], "--json"], standalone_mode=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "peakMemoryMb": round(peak)}))
"""


def plan(folder: Path) -> dict:
    out = subprocess.run(
        [PYTHON, "-c", PLAN, str(folder)], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.glob("Pulumi.*.yaml")}


def written(before: dict[str, str], after: dict[str, str]) -> tuple[int, int]:
    """Files changed or added, and the lines they hold."""
    changed = [name for name, text in after.items() if before.get(name) != text]
    return len(changed), sum(len(after[name].splitlines()) for name in changed)


def organization_of(aws: Aws, names: list[str]) -> None:
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    for name in names:
        organizations.create_account(AccountName=name, Email=f"aws+{name}@diagnyx.ai")


def synced(aws: Aws, folder: Path) -> dict:
    zone = LandingZone.load(folder, check_account_ids=False)
    before = contents(folder)
    started = time.perf_counter()
    sync(aws, zone, folder, write=True)
    seconds = time.perf_counter() - started
    files, lines = written(before, contents(folder))
    return {"seconds": round(seconds, 2), "filesWritten": files, "linesWritten": lines}


def add_one(aws: Aws, folder: Path, members: int) -> dict:
    """One more account: `accounts add --apply` (its management entry and its own stack file),
    the organization creating it, then `accounts sync`."""
    name = f"workload-{members:04d}"
    entry = account_entry(members, name)
    account = NewAccount(
        name, entry["email"], entry["ou"], entry["environment"], entry["monthlyBudgetUsd"]
    )
    before = contents(folder)
    started = time.perf_counter()
    add(folder, account, apply=True, quota=members + 10)
    aws.client("organizations").create_account(AccountName=name, Email=entry["email"])
    zone = LandingZone.load(folder, check_account_ids=False)
    sync(aws, zone, folder, write=True)
    files, lines = written(before, contents(folder))
    return {
        "members": members,
        "seconds": round(time.perf_counter() - started, 2),
        "filesTouched": files,
        "linesWritten": lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--every-id", action="store_true", help="every ID in every stack file")
    arguments = parser.parse_args()
    sizes, every_id = arguments.sizes, arguments.every_id
    rows, added = [], None
    for members in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"diagnyx-vending-{members}-"))
        try:
            write_project(folder, members, every_id_in_every_file=every_id)
            row = {"members": members, "stackFiles": len(contents(folder))}
            row["configLines"] = config_lines(folder)
            row["plan"] = plan(folder)
            with emulated_aws():
                aws = Aws.from_environment("us-east-1")
                names = member_names(members)
                pending = dict.fromkeys(names, "pending")
                shutil.rmtree(folder)
                write_project(
                    folder,
                    members,
                    {"management": aws.account_id, **pending},
                    every_id_in_every_file=every_id,
                )
                organization_of(aws, names)
                row["sync"] = synced(aws, folder)
                if members == max(sizes) and not every_id:
                    added = add_one(aws, folder, members)
            rows.append(row)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    layout = "every ID in every stack file" if every_id else "member files list no IDs"
    emit("accounts at scale", {"stackFiles": layout, "organizations": rows, "addOneAccount": added})


if __name__ == "__main__":
    main()
