"""Helpers shared by the benchmark scripts (figures are printed, never asserted)."""

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def run_timed(
    args: list[str], repeat: int = 5, env: dict[str, str] | None = None
) -> tuple[float, list[str]]:
    """Median wall time of a command (run with ``env`` when given), and the stdout lines of its
    last run."""
    times, out = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=True, env=env)
        times.append(time.perf_counter() - started)
        out = result.stdout
    return statistics.median(times), out.splitlines()


def machine() -> str:
    cpus = len(__import__("os").sched_getaffinity(0))
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB"
    python = platform.python_version()
    return f"{platform.machine()}, {cpus} CPUs{memory}, Python {python}, {platform.system()}"


def emit(name: str, data: dict) -> None:
    print(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2))
