"""The unit test suite's wall time, `./run test` itself (after set-up), against a reference
process measured in the same run: a fresh Python that imports pulumi and pulumi_aws and touches
s3.Bucket, iam.Role, kms.Key, organizations.Account and ec2.Vpc (pulumi-aws loads classes
lazily). Machines differ about 2x in speed; the ratio does not. Target: at most 30x.

.venv/bin/python benchmarks/test_suite.py [--repeat N]
"""

import argparse

from _common import PYTHON, ROOT, emit, run_timed

REFERENCE = (
    "import pulumi, pulumi_aws as aws; "
    "aws.s3.Bucket, aws.iam.Role, aws.kms.Key, aws.organizations.Account, aws.ec2.Vpc"
)
TARGET_RATIO = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    repeat = parser.parse_args().repeat
    reference, _ = run_timed([PYTHON, "-c", REFERENCE], 5)
    seconds, out = run_timed([str(ROOT / "run"), "test", "-p", "no:cacheprovider"], repeat)
    summary = next((line for line in reversed(out) if " passed" in line), out[-1])
    emit(
        "test suite",
        {
            "repeat": repeat,
            "reference_seconds": round(reference, 2),
            "seconds": round(seconds, 1),
            "ratio": round(seconds / reference, 1),
            "target_ratio": TARGET_RATIO,
            "result": summary,
        },
    )


if __name__ == "__main__":
    main()
