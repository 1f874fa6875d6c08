"""The unit test suite's wall time, as `./run test` runs it (after set-up).

.venv/bin/python benchmarks/test_suite.py [--repeat N]
"""

import argparse

from _common import PYTHON, emit, run_timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    repeat = parser.parse_args().repeat
    seconds, out = run_timed([PYTHON, "-m", "pytest", "-p", "no:cacheprovider"], repeat)
    summary = next((line for line in reversed(out) if " passed" in line), out[-1])
    emit("test suite", {"repeat": repeat, "seconds": round(seconds, 1), "result": summary})


if __name__ == "__main__":
    main()
