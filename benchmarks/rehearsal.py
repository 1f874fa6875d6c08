"""The rehearsal of the whole deploy sequence (14 steps, 11 stack deploys), end to end:
`diagnyx rehearse --all` in a fresh process (emulator start, every step, the checklist).

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
            "steps": len(report["steps"]),
            "deploys": [
                {"step": d["step"].split(":")[0], "stack": d["stack"], "seconds": d["seconds"]}
                for d in report["stacks"]
            ],
            "resourcesRegistered": sum(len(d["created"]) for d in report["stacks"]),
            "checklist": report["checklist"]["summary"],
        },
    )


if __name__ == "__main__":
    main()
