"""The rehearsal of all seven stacks, end to end: `diagnyx rehearse --all` in a fresh process
(emulator start, every stack deployed, the checklist).

    .venv/bin/python benchmarks/rehearsal.py [--repeat N]
"""

import argparse
import json
from pathlib import Path

from _common import PYTHON, emit, run_timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    diagnyx = str(Path(PYTHON).parent / "diagnyx")
    seconds, out = run_timed([diagnyx, "rehearse", "--all", "--json"], repeat)
    report = json.loads("\n".join(out))
    emit(
        "rehearsal",
        {
            "repeat": repeat,
            "seconds": round(seconds, 2),
            "perStackSeconds": {s["stack"]: s["seconds"] for s in report["stacks"]},
            "resources": sum(len(s["created"]) for s in report["stacks"]),
            "checklist": report["checklist"]["summary"],
        },
    )


if __name__ == "__main__":
    main()
