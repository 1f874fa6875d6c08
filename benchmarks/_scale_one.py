"""The management stack of a synthetic organization of N member accounts, evaluated once in a
fresh interpreter: prints seconds, peak memory and resource count as JSON. The organization is
written as the management file of a scratch project (the program checks the other stack files
against that file, and the example's would not agree)."""

import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from diagnyx_infra.config.stack_files import load_stack_config
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack

OUS = ("Security", "Production", "NonProduction", "SharedServices")


def synthetic_config(members: int):
    """The real management config with N generated member accounts (one in ten production)."""
    real = load_stack_config(PROJECT_DIR, "management")
    values = dict(real.values)
    organization = json.loads(values["diagnyx:organization"])
    accounts, ids = {}, {"management": "111111111111"}
    # The baseline needs these two by name; the rest are generated workloads.
    named = {"security": ("Security", "security"), "shared": ("SharedServices", "shared-services")}
    for index in range(members):
        name = list(named)[index] if index < len(named) else f"workload-{index:04d}"
        ou, environment = named.get(
            name,
            ("Production", "production") if index % 10 == 2 else ("NonProduction", "development"),
        )
        accounts[name] = {
            "email": f"aws+{name}@diagnyx.ai",
            "ou": ou,
            "environment": environment,
            "monthlyBudgetUsd": 100,
        }
        ids[name] = f"{200000000000 + index:012d}"
    organization["accounts"] = accounts
    values["diagnyx:organization"] = json.dumps(organization)
    values["diagnyx:accountIds"] = json.dumps(ids)
    return type(real)(real.stack, real.project, values, real.secret_keys)


def _decoded(value: str):
    try:
        return json.loads(value) if value[:1] in "[{" else value
    except json.JSONDecodeError:
        return value


def synthetic_project(config) -> Path:
    """A scratch project holding only Pulumi.yaml, the program and ``config`` as its management
    file."""
    project = Path(tempfile.mkdtemp(prefix="diagnyx-scale-"))
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, project)
    written = {
        key: _decoded(value) for key, value in config.values.items() if key.startswith("diagnyx:")
    }
    (project / "Pulumi.management.yaml").write_text(yaml.safe_dump({"config": written}))
    return project


members = int(sys.argv[1])
config = synthetic_config(members)
project = synthetic_project(config)
started = time.perf_counter()
recording = run_stack("management", project_dir=project, config=config)
seconds = time.perf_counter() - started
shutil.rmtree(project)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    json.dumps(
        {
            "members": members,
            "seconds": round(seconds, 2),
            "peakMemoryMb": round(peak_mb),
            "resources": len(recording.resources),
        }
    )
)
