"""Program evaluation time per stack under the mock engine, against the floor of starting Python
and importing the pulumi and pulumi-aws modules the program uses, as a ratio in one run.

    .venv/bin/python benchmarks/evaluation.py [--repeat N]
"""

import argparse

from _common import PYTHON, emit, run_timed

STACKS = ("management", "security", "shared", "dev", "staging", "uat", "prod")


def floor_program() -> str:
    """Start Python, import pulumi and every pulumi-aws class the stacks register (pulumi-aws
    loads classes lazily, so touching each is what importing them costs)."""
    from diagnyx_infra.engine.runner import run_stack

    classes = set()
    for stack in STACKS:
        for resource in run_stack(stack).resources:
            if resource.type.startswith("aws:"):
                module = resource.type.split(":")[1].split("/")[0]
                classes.add(f"pulumi_aws.{module}.{resource.type.rsplit(':', 1)[1]}")
    return "import pulumi, pulumi.runtime, pulumi_aws; pulumi_aws.Provider; " + "; ".join(
        sorted(classes)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    floor, _ = run_timed([PYTHON, "-c", floor_program()], repeat)
    rows = {}
    for stack in STACKS:
        seconds, out = run_timed([PYTHON, "benchmarks/_evaluate_stack.py", stack], repeat)
        rows[stack] = {
            "seconds": round(seconds, 3),
            "resources": int(out[-1]),
            "ratioToFloor": round(seconds / floor, 2),
        }
    emit("evaluation", {"floorSeconds": round(floor, 3), "repeat": repeat, "stacks": rows})


if __name__ == "__main__":
    main()
