"""Every real stack file evaluates, through its own account's provider, with the required tags."""

import json
from dataclasses import replace

import pulumi
import pytest

from diagnyx_infra.config.models import REQUIRED_TAG_KEYS
from diagnyx_infra.config.stack_files import load_stack_config
from diagnyx_infra.engine.runner import PROJECT_DIR, run_stack
from diagnyx_infra.errors import ConfigError
from tests.helpers import ALL_STACKS, MEMBER_STACKS

PROVIDER = "pulumi:providers:aws"


def _own_account_id(stack):
    ids = json.loads(load_stack_config(PROJECT_DIR, stack).values["diagnyx:accountIds"])
    return ids[stack]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_stack_evaluates_without_warnings(recordings, stack):
    recording = recordings[stack]
    assert recording.resources
    # pulumi-aws logs a warning for every deprecated class or argument the program uses.
    assert recording.warnings == []
    assert recording.outputs["accountId"] == _own_account_id(stack)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_one_explicit_provider_pinned_to_the_stack_account(recordings, stack):
    recording = recordings[stack]
    (provider,) = recording.of_type(PROVIDER)
    assert provider.inputs["allowedAccountIds"] == [_own_account_id(stack)]
    for resource in recording.resources:
        if resource.custom and not resource.is_provider:
            assert resource.provider_urn == provider.urn, resource.name


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_default_tags_carry_every_required_tag(recordings, stack):
    (provider,) = recordings[stack].of_type(PROVIDER)
    tags = provider.inputs["defaultTags"]["tags"]
    assert set(tags) == set(REQUIRED_TAG_KEYS)
    assert all(tags.values())
    assert tags["ManagedBy"] == "pulumi"


@pytest.mark.parametrize("stack", MEMBER_STACKS)
def test_member_stacks_assume_the_organization_access_role(recordings, stack):
    (provider,) = recordings[stack].of_type(PROVIDER)
    (assume,) = provider.inputs["assumeRoles"]
    assert assume["roleArn"] == (
        f"arn:aws:iam::{_own_account_id(stack)}:role/OrganizationAccountAccessRole"
    )


def test_management_stack_runs_as_the_caller(management):
    (provider,) = management.of_type(PROVIDER)
    assert not provider.inputs.get("assumeRoles")


def test_environment_tag_matches_the_stack(recordings):
    environments = {
        stack: recordings[stack].of_type(PROVIDER)[0].inputs["defaultTags"]["tags"]["Environment"]
        for stack in ALL_STACKS
    }
    assert environments == {
        "management": "management",
        "security": "security",
        "shared": "shared-services",
        "dev": "development",
        "staging": "staging",
        "uat": "uat",
        "prod": "production",
    }


def test_caller_in_account_skips_the_role_assumption():
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_config

    def caller_in_account(config):
        config["diagnyx:deployment"] = {"callerInAccount": True}

    recording = run_stack("dev", config=edited_config("dev", caller_in_account))
    (provider,) = recording.of_type(PROVIDER)
    assert not provider.inputs.get("assumeRoles")
    assert provider.inputs["allowedAccountIds"] == [_own_account_id("dev")]


def test_a_config_error_reaches_the_pulumi_cli_as_a_run_error():
    """The Pulumi CLI's language host prints a pulumi.RunError's message alone and any other
    exception with a traceback; the commands catch it as the ConfigError it also is."""
    config = load_stack_config(PROJECT_DIR, "dev")
    budget = {"diagnyx:budget": '{"monthlyLimitUsd": -200}'}
    with pytest.raises(ConfigError) as refused:
        run_stack("dev", config=replace(config, values={**config.values, **budget}))
    assert isinstance(refused.value, pulumi.RunError)
    assert "monthlyLimitUsd" in str(refused.value) and refused.value.problems
