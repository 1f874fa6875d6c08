"""The program uses current pulumi-aws v7 APIs only."""

import re
from pathlib import Path

from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack

DEPRECATED = [
    re.compile(r"aws\.\w+\.\w+V2\("),  # BucketV2 and friends: use the v7 names
    re.compile(r"\binline_policies\s*="),  # use iam.RolePolicy
    re.compile(r"\bmanaged_policy_arns\s*="),  # use iam.RolePolicyAttachment
    re.compile(r"\bassume_role\s*="),  # the provider takes assume_roles=[...]
]


def test_source_avoids_deprecated_classes_and_arguments():
    sources = [*Path(PROJECT_DIR / "diagnyx_infra").rglob("*.py"), PROJECT_DIR / "__main__.py"]
    offences = [
        f"{path.relative_to(PROJECT_DIR)}: {pattern.pattern}"
        for path in sources
        for pattern in DEPRECATED
        if pattern.search(path.read_text())
    ]
    assert offences == []


def test_the_engine_reports_deprecated_usage(tmp_path):
    """The warnings check in test_stacks can fail: a program using BucketV2 is reported."""
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "__main__.py").write_text('import pulumi_aws as aws\naws.s3.BucketV2("b")\n')
    recording = run_stack("dev", tmp_path)
    assert any("BucketV2 is deprecated" in w for w in recording.warnings)
