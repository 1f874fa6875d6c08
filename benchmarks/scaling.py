"""Synthetic organizations of 10, 100 and 500 member accounts: the management stack's evaluation
time and peak memory, and the time per resource (constant when growth is linear).

    .venv/bin/python benchmarks/scaling.py
"""

import json
import subprocess

from _common import PYTHON, ROOT, emit

SIZES = (10, 100, 500)


def main() -> None:
    rows = []
    for size in SIZES:
        out = subprocess.run(
            [PYTHON, "benchmarks/_scale_one.py", str(size)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["msPerResource"] = round(1000 * row["seconds"] / row["resources"], 2)
        rows.append(row)
    emit("scaling", {"organizations": rows})


if __name__ == "__main__":
    main()
