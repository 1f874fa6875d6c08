"""The management stack of a synthetic organization of N member accounts, evaluated once in a
fresh interpreter: prints seconds, peak memory and resource count as JSON."""

import json
import resource
import sys
import time

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


members = int(sys.argv[1])
config = synthetic_config(members)
started = time.perf_counter()
recording = run_stack("management", config=config)
seconds = time.perf_counter() - started
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
