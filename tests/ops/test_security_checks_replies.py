"""The security services' checklist items against replies that lack what AWS always sends: each
is "cannot check" as not an AWS answer (exit 3), never a pass or a fail read from a missing
field."""

from types import SimpleNamespace

import pytest

from diagnyx_infra.ops import security_checks
from diagnyx_infra.ops.findings import Status, run_check


class _Client:
    """Answers each named call with a fixed reply."""

    def __init__(self, replies: dict):
        self._replies = replies

    def __getattr__(self, name: str):
        if name in self._replies:
            return lambda **_: self._replies[name]
        raise AttributeError(name)

    def can_paginate(self, name: str) -> bool:
        return False


class _Aws:
    def __init__(self, replies: dict):
        self._replies = replies

    def client(self, service: str, region: str | None = None) -> _Client:
        return _Client(self._replies.get(service, {}))


def _zone() -> SimpleNamespace:
    stack = SimpleNamespace(allowed_regions=["us-east-1"], region="us-east-1")
    return SimpleNamespace(
        stacks={"dev": stack},
        management=stack,
        account_ids={"dev": "444444444444", "security": "333333333333"},
    )


CASES = {
    "EBS reply without its setting": (
        "ebs-encryption-by-default",
        {"ec2": {"get_ebs_encryption_by_default": {}}},
    ),
    "detector without its status": (
        "guardduty",
        {"guardduty": {"list_detectors": {"DetectorIds": ["d"]}, "get_detector": {}}},
    ),
    "recorder status without recording": (
        "aws-config",
        {
            "config": {
                "describe_configuration_recorder_status": {
                    "ConfigurationRecordersStatus": [{"name": "diagnyx"}]
                },
                "describe_delivery_channels": {"DeliveryChannels": []},
            }
        },
    ),
    "recorder statuses missing": (
        "aws-config",
        {"config": {"describe_configuration_recorder_status": {}}},
    ),
    "password policy missing": (
        "iam-password-policy",
        {"iam": {"get_account_password_policy": {}}},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_reply_without_its_fields_is_not_an_aws_answer(case):
    item_id, replies = CASES[case]
    item = security_checks.ITEMS_BY_ID[item_id]
    account = security_checks.Account("dev", _Aws(replies), _zone())
    finding = run_check("dev", item.item, lambda: item.check(account), "hint")
    assert (finding.status, finding.cause) == (Status.CANNOT, "unreachable"), finding
    assert "not an AWS answer" in finding.detail
