"""The unit test suite's wall time, `./run test` itself (after set-up), against a reference
process measured in the same run: a fresh Python that imports pulumi and pulumi_aws and touches
s3.Bucket, iam.Role, kms.Key, organizations.Account and ec2.Vpc (pulumi-aws loads classes
lazily). Machines differ about 2x in speed; the ratio does not. Target: at most 30x.

.venv/bin/python benchmarks/test_suite.py [--repeat N] [--no-bytecode-cache]

--no-bytecode-cache measures both without Python's bytecode caches (each process compiles what it
imports, as where PYTHONDONTWRITEBYTECODE is set and nothing was compiled at install): the way
the issue that set the target appears to have measured its first figures (RESULTS.md).
"""

import argparse
import os
import statistics
import tempfile

from _common import PYTHON, ROOT, emit, run_timed

REFERENCE = (
    "import pulumi, pulumi_aws as aws; "
    "aws.s3.Bucket, aws.iam.Role, aws.kms.Key, aws.organizations.Account, aws.ec2.Vpc"
)
TARGET_RATIO = 30


def _cold() -> dict[str, str]:
    """An environment whose bytecode cache is an empty folder of its own: nothing compiled is
    found (./run lets the tests write theirs, into that folder, for that run only)."""
    empty = tempfile.mkdtemp(prefix="diagnyx-no-bytecode-")
    return {**os.environ, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-bytecode-cache", action="store_true")
    options = parser.parse_args()
    repeat = options.repeat
    suite = [str(ROOT / "run"), "test", "-p", "no:cacheprovider"]
    if options.no_bytecode_cache:
        reference = statistics.median(run_timed([PYTHON, "-c", REFERENCE], 1, _cold())[0]
                                      for _ in range(5))  # fmt: skip
        runs = [run_timed(suite, 1, _cold()) for _ in range(repeat)]
        seconds, out = statistics.median(r[0] for r in runs), runs[-1][1]
    else:
        reference, _ = run_timed([PYTHON, "-c", REFERENCE], 5)
        seconds, out = run_timed(suite, repeat)
    summary = next((line for line in reversed(out) if " passed" in line), out[-1])
    emit(
        "test suite",
        {
            "repeat": repeat,
            "bytecodeCache": not options.no_bytecode_cache,
            "reference_seconds": round(reference, 2),
            "seconds": round(seconds, 1),
            "ratio": round(seconds / reference, 1),
            "target_ratio": TARGET_RATIO,
            "result": summary,
        },
    )


if __name__ == "__main__":
    main()
