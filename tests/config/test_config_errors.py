"""Bad config is refused with one message naming the setting, and nothing is registered."""

import pytest

from diagnyx_infra.engine.runner import run_stack
from diagnyx_infra.errors import ConfigError
from tests.helpers import edited_config, edited_project, spy_registrations


def _org(config):
    return config["diagnyx:organization"]


def _set_account_id(config):
    config["diagnyx:accountIds"]["dev"] = "44444444444"


def _unquoted_account_id(config):
    config["diagnyx:accountIds"]["dev"] = 444444444444


def _duplicate_email(config):
    _org(config)["accounts"]["uat"]["email"] = "aws+staging@diagnyx.ai"


def _unknown_ou(config):
    _org(config)["accounts"]["dev"]["ou"] = "Sandbox"


def _zero_budget(config):
    config["diagnyx:budget"]["monthlyLimitUsd"] = 0


def _negative_budget(config):
    config["diagnyx:budget"]["monthlyLimitUsd"] = -5


def _typo_top_level(config):
    config["diagnyx:acountIds"] = config.pop("diagnyx:accountIds")


def _typo_nested(config):
    _org(config)["accounts"]["dev"]["emial"] = _org(config)["accounts"]["dev"].pop("email")


def _region_outside_allow_list(config):
    config["aws:region"] = "eu-central-1"


def _invalid_region(config):
    config["diagnyx:allowedRegions"] = ["us-east-1", "mars-north-1"]


def _unknown_scp(config):
    _org(config)["organizationalUnits"][1]["policies"] = ["require-mfa-for-everyone"]


def _too_many_root_scps(config):
    guardrails = _org(config)["guardrails"]
    guardrails["rootPolicies"] = [*guardrails["rootPolicies"], "non-production-cost-control"]


def _bad_email(config):
    _org(config)["accounts"]["dev"]["email"] = "dev-at-diagnyx.ai"


def _unknown_environment(config):
    _org(config)["accounts"]["dev"]["environment"] = "sandbox"


def _missing_budget(config):
    del config["diagnyx:budget"]


def _production_with_nonproduction(config):
    _org(config)["accounts"]["dev"]["ou"] = "Production"


def _same_id_twice(config):
    config["diagnyx:accountIds"]["uat"] = config["diagnyx:accountIds"]["staging"]


def _oversized_scp(config):
    _org(config)["guardrails"]["nonProductionInstanceTypes"] = [
        f"m{i}.family{i}xlarge" for i in range(400)
    ]


CASES = {
    "account ID of 11 digits": (
        _set_account_id,
        "diagnyx:accountIds.dev: '44444444444' is not an AWS account ID (exactly 12 digits)",
    ),
    "account ID as a number": (
        _unquoted_account_id,
        "diagnyx:accountIds.dev: must be a quoted string of 12 digits",
    ),
    "duplicate account e-mail": (
        _duplicate_email,
        "diagnyx:organization.accounts.uat.email: 'aws+staging@diagnyx.ai' is already the e-mail "
        "of account 'staging'",
    ),
    "account in unknown OU": (
        _unknown_ou,
        "diagnyx:organization.accounts.dev.ou: unknown organizational unit 'Sandbox'",
    ),
    "zero budget": (_zero_budget, "diagnyx:budget.monthlyLimitUsd: Input should be greater than 0"),
    "negative budget": (
        _negative_budget,
        "diagnyx:budget.monthlyLimitUsd: Input should be greater than 0",
    ),
    "typo in a top-level key": (
        _typo_top_level,
        "diagnyx:acountIds: unknown setting; did you mean 'accountIds'?",
    ),
    "typo in a nested key": (
        _typo_nested,
        "diagnyx:organization.accounts.dev.emial: unknown setting; did you mean 'email'?",
    ),
    "region outside the allow-list": (
        _region_outside_allow_list,
        "aws:region: 'eu-central-1' is outside the allowed regions (us-east-1, us-west-2)",
    ),
    "not a region": (
        _invalid_region,
        "diagnyx:allowedRegions[1]: 'mars-north-1' is not an AWS region",
    ),
    "unknown SCP": (
        _unknown_scp,
        "diagnyx:organization.organizationalUnits[1].policies: unknown service control policy "
        "require-mfa-for-everyone",
    ),
    "too many SCPs on the root": (
        _too_many_root_scps,
        "diagnyx:organization.guardrails.rootPolicies: 5 policies plus AWS's FullAWSAccess exceed "
        "the limit of 5 SCPs per target",
    ),
    "invalid e-mail": (
        _bad_email,
        "diagnyx:organization.accounts.dev.email: 'dev-at-diagnyx.ai' is not a valid account "
        "e-mail: it must contain exactly one '@'",
    ),
    "unknown environment": (
        _unknown_environment,
        "diagnyx:organization.accounts.dev.environment: 'sandbox' is not allowed",
    ),
    "missing budget": (_missing_budget, "diagnyx:budget: is required but not set"),
    "production OU shared with non-production": (
        _production_with_nonproduction,
        "diagnyx:organization: organizational unit 'Production' mixes production accounts (prod) "
        "with others (dev)",
    ),
    "one ID for two accounts": (
        _same_id_twice,
        "diagnyx:accountIds: one ID is given to several accounts: 555555555555 for staging, uat",
    ),
    "SCP over the size limit": (
        _oversized_scp,
        "diagnyx:organization.guardrails: SCP 'non-production-cost-control' is",
    ),
    "another account's anomaly monitor": (
        lambda c: c["diagnyx:costGovernance"].update(
            servicesMonitorArn="arn:aws:ce::999999999999:anomalymonitor/1234abcd"
        ),
        "diagnyx:costGovernance.servicesMonitorArn: 'arn:aws:ce::999999999999:anomalymonitor/"
        "1234abcd' belongs to account 999999999999, not to the management account",
    ),
    "a trusted service listed twice": (
        lambda c: _org(c).update(
            trustedServices=["cloudtrail.amazonaws.com", "sso.amazonaws.com", "sso.amazonaws.com"]
        ),
        "diagnyx:organization.trustedServices: a service is listed twice",
    ),
    "a trusted service that is not a service principal": (
        lambda c: _org(c).update(
            trustedServices=["cloudtrail.amazonaws.com", "sso.amazonaws.com", "..amazonaws.com"]
        ),
        "diagnyx:organization.trustedServices[2]: String should match pattern",
    ),
    "an OIDC subject prefix of another repository": (
        lambda c: c.update({"diagnyx:githubSubjectPrefix": "repo:diagnyx/diagnyx-infra-evil"}),
        "diagnyx:githubSubjectPrefix: 'repo:diagnyx/diagnyx-infra-evil' does not name the "
        "repository diagnyx/diagnyx-infra",
    ),
}


def test_a_pending_management_account_is_refused_with_the_step_that_fixes_it(tmp_path):
    from tests.helpers import edited_project

    project = edited_project(
        tmp_path, lambda _, c: c["diagnyx:accountIds"].update(management="pending")
    )
    with pytest.raises(ConfigError) as raised:
        run_stack("management", project)
    assert raised.value.problems == [
        "diagnyx:accountIds.management: is 'pending'; run `diagnyx bootstrap start --write` "
        "(new organization) or `diagnyx accounts sync` with the management account's credentials"
    ]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_management_config_is_refused_before_anything_is_registered(case):
    edit, expected = CASES[case]
    config = edited_config("management", edit)
    with pytest.raises(ConfigError) as raised:
        run_stack("management", config=config)
    message = str(raised.value)
    assert expected in message, message
    assert len(raised.value.problems) == 1, raised.value.problems


def test_config_error_registers_nothing(monkeypatch):
    registered = spy_registrations(monkeypatch)
    with pytest.raises(ConfigError):
        run_stack("management", config=edited_config("management", _zero_budget))
    # The root stack is the engine's own; no resource of the program may follow it.
    assert [t for t in registered if t != "pulumi:pulumi:Stack"] == []


def test_a_member_stack_takes_the_ids_its_file_does_not_list_from_the_management_file():
    """Adding an account edits the management file and its own, not every stack file."""

    def drop_every_id(config):
        del config["diagnyx:accountIds"]

    recording = run_stack("dev", config=edited_config("dev", drop_every_id))
    (provider,) = [r for r in recording.resources if r.type == "pulumi:providers:aws"]
    assert provider.inputs["allowedAccountIds"] == ["444444444444"]

    def drop_own_id(config):
        del config["diagnyx:accountIds"]["dev"]

    assert run_stack("dev", config=edited_config("dev", drop_own_id)).outputs["accountId"] == (
        "444444444444"
    )


def test_an_id_a_member_file_lists_must_be_the_management_files(tmp_path):
    def another_id(stack, config):
        if stack == "dev":
            config["diagnyx:accountIds"] = {"dev": "999999999999"}

    with pytest.raises(ConfigError, match=r"Pulumi\.dev\.yaml diagnyx:accountIds\.dev: '9{12}'"):
        run_stack("dev", edited_project(tmp_path, another_id, stacks=["dev"]))


def test_member_stack_cannot_describe_the_organization():
    organization = edited_config("management", lambda c: None).values["diagnyx:organization"]

    def add_org(config):
        config["diagnyx:organization"] = organization

    with pytest.raises(ConfigError, match="only the management stack describes the organization"):
        run_stack("dev", config=edited_config("dev", add_org))


def test_structured_value_that_is_not_json():
    def break_budget(config):
        config["diagnyx:budget"] = "{monthlyLimitUsd: 200"

    with pytest.raises(ConfigError, match="diagnyx:budget: is not a structured value"):
        run_stack("dev", config=edited_config("dev", break_budget))


def test_external_id_in_plain_text_is_refused():
    config = edited_config("dev", lambda c: None, plain_text=["diagnyx:ciExternalId"])
    with pytest.raises(ConfigError) as raised:
        run_stack("dev", config=config)
    assert raised.value.problems == [
        "diagnyx:ciExternalId: must be a secret; set it with "
        "`pulumi config set --secret diagnyx:ciExternalId <value>`"
    ]


def test_the_guides_published_external_id_is_refused():
    def published(config):
        config["diagnyx:ciExternalId"] = "diagnyx-secure-external-id-2024"

    with pytest.raises(ConfigError, match="is the example value printed in the guide"):
        run_stack("dev", config=edited_config("dev", published))


def test_audit_archive_belongs_to_the_security_stack_only():
    archive = edited_config("security", lambda c: None).values["diagnyx:auditArchive"]

    def add_archive(config):
        config["diagnyx:auditArchive"] = archive

    with pytest.raises(ConfigError, match="only the security stack holds the audit archive"):
        run_stack("dev", config=edited_config("dev", add_archive))

    def drop_archive(config):
        del config["diagnyx:auditArchive"]

    with pytest.raises(ConfigError, match="auditArchive: required in the security stack"):
        run_stack("security", config=edited_config("security", drop_archive))


def test_archive_transition_must_come_before_the_end_of_retention():
    def late(config):
        config["diagnyx:auditArchive"]["transitionDays"] = 3000

    with pytest.raises(ConfigError) as raised:
        run_stack("security", config=edited_config("security", late))
    assert raised.value.problems == [
        "diagnyx:auditArchive.transitionDays: 3000 is not before the end of retention (2557 days)"
    ]


def test_object_lock_mode_is_compliance_or_governance():
    def wrong(config):
        config["diagnyx:auditArchive"]["objectLockMode"] = "LEGAL_HOLD"

    with pytest.raises(ConfigError, match=r"diagnyx:auditArchive\.objectLockMode"):
        run_stack("security", config=edited_config("security", wrong))


def _network_error(stack, edit):
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, config=edited_config(stack, edit))
    assert len(raised.value.problems) == 1, raised.value.problems
    return raised.value.problems[0]


def test_overlapping_vpcs_name_both_accounts():
    def overlap(config):
        config["diagnyx:networks"]["uat"]["cidr"] = "10.20.128.0/17"

    assert _network_error("dev", overlap) == (
        "diagnyx:networks: the VPCs of staging (10.20.0.0/16) and uat (10.20.128.0/17) overlap"
    )


def test_production_never_peers_with_non_production():
    def peer(config):
        config["diagnyx:network"]["peerings"] = [["prod", "staging"]]

    assert _network_error("prod", peer) == (
        "diagnyx:network.peerings[0]: prod (production) may not peer with staging (staging): "
        "production and non-production networks stay apart"
    )


def test_peering_with_an_unknown_network():
    def peer(config):
        config["diagnyx:network"]["peerings"] = [["dev", "sandbox"]]

    assert _network_error("dev", peer) == (
        "diagnyx:network.peerings[0]: 'sandbox' has no entry in networks"
    )


def test_vpc_cidr_must_be_a_network():
    def bad(config):
        config["diagnyx:networks"]["dev"]["cidr"] = "10.10.0.1/16"

    assert _network_error("dev", bad).startswith(
        "diagnyx:networks.dev.cidr: '10.10.0.1/16' is not an IPv4 network in CIDR notation"
    )


def test_shared_services_pull_accounts_must_be_workload_accounts():
    def bad(config):
        config["diagnyx:sharedServices"]["pullAccounts"].append("management")

    assert _network_error("shared", bad) == (
        "diagnyx:sharedServices.pullAccounts[4]: 'management' runs no workloads; "
        "only workload accounts pull images"
    )


def _matrix_error(edit):
    with pytest.raises(ConfigError) as raised:
        run_stack("management", config=edited_config("management", edit))
    assert len(raised.value.problems) == 1, raised.value.problems
    return raised.value.problems[0]


def _assignment(config, group):
    return next(a for a in config["diagnyx:identityCenter"]["assignments"] if a["group"] == group)


def test_developers_on_production_are_refused():
    def prod_for_developers(config):
        _assignment(config, "Developers")["targets"].append("ou:Production")

    assert _matrix_error(prod_for_developers) == (
        "diagnyx:identityCenter.assignments[2]: Developers get no production access (prod)"
    )


def test_finance_outside_management_is_refused():
    def finance_in_dev(config):
        _assignment(config, "Finance")["targets"].append("dev")

    assert _matrix_error(finance_in_dev) == (
        "diagnyx:identityCenter.assignments[3]: Finance has access only in the management "
        "account (not dev)"
    )


def test_auditors_must_be_read_only_and_everywhere():
    def writable_auditors(config):
        _assignment(config, "Auditors")["permissionSet"] = "DevOps"

    assert "Auditors are read-only" in _matrix_error(writable_auditors)

    def partial_auditors(config):
        _assignment(config, "Auditors")["targets"] = ["management"]

    assert _matrix_error(partial_auditors).endswith(
        "Auditors must reach every account (dev, prod, security, shared, staging, uat)"
    )


def test_unknown_group_in_the_matrix():
    def unknown(config):
        _assignment(config, "DevOps")["group"] = "Contractors"

    assert "unknown group 'Contractors'" in _matrix_error(unknown)


def test_member_budget_must_agree_between_files(tmp_path):
    import shutil

    from diagnyx_infra.config.consistency import disagreements
    from diagnyx_infra.engine.runner import PROJECT_DIR

    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path)
    dev = tmp_path / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("monthlyLimitUsd: 200", "monthlyLimitUsd: 250"))
    assert disagreements(tmp_path) == [
        "Pulumi.dev.yaml diagnyx:budget.monthlyLimitUsd: 250, but Pulumi.management.yaml "
        "diagnyx:organization.accounts.dev.monthlyBudgetUsd is 200"
    ]


def test_an_empty_ou_may_be_targeted():
    """An OU without accounts yet is still an OU: assigning to it is not an error."""

    def empty_ou(config):
        config["diagnyx:organization"]["organizationalUnits"].append({"name": "Sandbox"})
        assignments = config["diagnyx:identityCenter"]["assignments"]
        assignments[0]["targets"].append("ou:Sandbox")

    recording = run_stack("management", config=edited_config("management", empty_ou))
    ous = recording.of_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    assert "Sandbox" in {ou.inputs["name"] for ou in ous}


def test_a_workload_stack_needs_its_own_external_id():
    config = edited_config("dev", lambda c: c.pop("diagnyx:ciExternalId"))
    with pytest.raises(ConfigError) as raised:
        run_stack("dev", config=config)
    assert "diagnyx:ciExternalId: required in a workload stack" in str(raised.value)


def test_the_accounts_that_trust_no_other_account_take_no_external_id():
    def with_external_id(config):
        config["diagnyx:ciExternalId"] = "a-secret-external-id"

    config = edited_config("security", with_external_id)
    config = type(config)(
        config.stack, config.project, config.values, config.secret_keys | {"diagnyx:ciExternalId"}
    )
    with pytest.raises(ConfigError) as raised:
        run_stack("security", config=config)
    assert "only workload accounts trust the shared services deploy role" in str(raised.value)


def test_a_waived_core_guardrail_is_left_out_and_warned_about_on_every_deploy():
    def waive_root_user(config):
        guardrails = config["diagnyx:organization"]["guardrails"]
        guardrails["rootPolicies"].remove("deny-root-user")
        guardrails["waivedRootPolicies"] = ["deny-root-user"]

    recording = run_stack("management", config=edited_config("management", waive_root_user))
    policies = {p.inputs["name"] for p in recording.of_type("aws:organizations/policy:Policy")}
    assert "DiagnyxDenyRootUser" not in policies
    assert "DiagnyxDenyLeaveOrganization" in policies
    (warning,) = [w for w in recording.warnings if "deny-root-user is waived" in w]
    assert "root users could act unrestricted" in warning


def test_a_waiver_of_a_policy_still_attached_is_refused():
    def waive_but_keep(config):
        config["diagnyx:organization"]["guardrails"]["waivedRootPolicies"] = ["deny-root-user"]

    with pytest.raises(ConfigError, match="'deny-root-user' is also in rootPolicies"):
        run_stack("management", config=edited_config("management", waive_but_keep))
