"""The emulator's own bookkeeping that a rule reads (rehearsal/emulator.py), tested alone: the
rule variations that start where their mistake shows (rule_variations.py, ``left``) take it as
given."""

import json

import pytest
from pulumi.runtime.mocks import MockResourceArgs

from diagnyx_infra.ops.aws import Aws
from diagnyx_infra.rehearsal.emulator import PROVIDER, EmulatorMocks
from diagnyx_infra.rehearsal.rehearse import REGION, emulated_aws
from diagnyx_infra.rehearsal.world import World, tag_keys_reach_billing


@pytest.fixture
def world():
    with emulated_aws():  # moto in this process, as the rehearsal's
        yield World(Aws.from_environment(REGION), REGION)


def _provider(mocks: EmulatorMocks, name: str, tags: dict[str, str] | None) -> None:
    inputs = {"region": REGION}
    if tags is not None:
        inputs["defaultTags"] = json.dumps({"tags": tags})  # as the engine hands provider inputs
    mocks.new_resource(MockResourceArgs(PROVIDER, name, inputs, None, None, True))


def test_only_the_tag_keys_the_providers_put_on_resources_reach_billing(world):
    """What the cost-tags step activates must be a key some deployed resource carries: the
    emulator counts the keys of each provider's default tags, and only those."""
    mocks = EmulatorMocks("management", world.management, world)
    _provider(mocks, "without-owner", {"Project": "diagnyx", "Environment": "management"})
    _provider(mocks, "untagged", None)
    tag_keys_reach_billing(world)
    assert world.tag_keys_in_use == {"Project", "Environment"}
    assert "Owner" not in world.billing_tag_keys
    _provider(mocks, "with-owner", {"Owner": "platform"})
    tag_keys_reach_billing(world)
    assert "Owner" in world.billing_tag_keys
