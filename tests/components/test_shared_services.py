"""Central ECR, DNS zones and certificates of the shared services stack."""

import json

import pytest

from diagnyx_infra.policies.shared_services import PUSH_ACTIONS

WORKLOAD_IDS = ["444444444444", "555555555555", "666666666666", "777777777777"]
CI_ROLE = "arn:aws:iam::222222222222:role/DiagnyxCrossAccountCICD"
ENVIRONMENTS = ["dev", "staging", "uat", "prod"]


@pytest.fixture(scope="module")
def shared(recordings):
    return recordings["shared"]


def by_sid(policy_json):
    return {s["Sid"]: s for s in json.loads(policy_json)["Statement"]}


def test_central_repositories(shared):
    repos = {r.inputs["name"]: r for r in shared.of_type("aws:ecr/repository:Repository")}
    assert set(repos) == {"diagnyx/api", "diagnyx/worker", "diagnyx/web"}
    for repo in repos.values():
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert repo.protect and repo.retain_on_delete
    assert len(shared.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")) == 3


def test_exactly_the_workload_accounts_pull_and_only_ci_pushes(shared):
    policies = shared.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert sorted(p.inputs["repository"] for p in policies) == [
        "diagnyx/api",
        "diagnyx/web",
        "diagnyx/worker",
    ]
    for policy in policies:
        statements = by_sid(policy.inputs["policy"])
        pull = statements["WorkloadAccountsPull"]
        assert pull["Principal"]["AWS"] == [f"arn:aws:iam::{i}:root" for i in WORKLOAD_IDS]
        assert not set(pull["Action"]) & set(PUSH_ACTIONS)
        assert statements["CiRolePushes"]["Principal"] == {"AWS": CI_ROLE}
        deny = statements["NobodyElsePushes"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert set(deny["Action"]) == set(PUSH_ACTIONS)
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": CI_ROLE}}


def test_pulling_accounts_may_decrypt_images_through_ecr_only(shared):
    (key,) = shared.of_type("aws:kms/key:Key")
    statement = by_sid(key.inputs["policy"])["WorkloadAccountsDecryptImages"]
    assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{i}:root" for i in WORKLOAD_IDS]
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": "ecr.us-east-1.amazonaws.com"}
    }


def test_public_zone_with_one_delegated_zone_per_environment(shared):
    zones = {z.inputs["name"]: z for z in shared.of_type("aws:route53/zone:Zone")}
    assert set(zones) == {"diagnyx.ai", *(f"{e}.diagnyx.ai" for e in ENVIRONMENTS)}
    parent_id = zones["diagnyx.ai"].state["zoneId"]
    delegations = {
        r.inputs["name"]: r
        for r in shared.of_type("aws:route53/record:Record")
        if r.inputs["type"] == "NS"
    }
    assert set(delegations) == {f"{e}.diagnyx.ai" for e in ENVIRONMENTS}
    for fqdn, record in delegations.items():
        assert record.inputs["zoneId"] == parent_id
        assert record.inputs["records"] == zones[fqdn].state["nameServers"]


def test_certificates_are_validated_through_their_zone(shared):
    zones = {z.inputs["name"]: z.state["zoneId"] for z in shared.of_type("aws:route53/zone:Zone")}
    certificates = {
        c.inputs["domainName"]: c for c in shared.of_type("aws:acm/certificate:Certificate")
    }
    assert set(certificates) == {f"{e}.diagnyx.ai" for e in ENVIRONMENTS}
    validations = shared.of_type("aws:acm/certificateValidation:CertificateValidation")
    validated_arns = {v.inputs["certificateArn"] for v in validations}
    for fqdn, certificate in certificates.items():
        assert certificate.inputs["validationMethod"] == "DNS"
        assert certificate.inputs["subjectAlternativeNames"] == [f"*.{fqdn}"]
        assert certificate.state["arn"] in validated_arns
        option = certificate.state["domainValidationOptions"][0]
        (record,) = [
            r
            for r in shared.of_type("aws:route53/record:Record")
            if r.inputs["name"] == option["resourceRecordName"]
        ]
        assert record.inputs["zoneId"] == zones[fqdn]
        assert record.inputs["records"] == [option["resourceRecordValue"]]
        (validation,) = [
            v for v in validations if v.inputs["certificateArn"] == certificate.state["arn"]
        ]
        assert validation.inputs["validationRecordFqdns"] == [record.state["fqdn"]]
    assert set(shared.outputs["certificateArns"]) == set(certificates)


def test_adding_a_zone_is_a_config_change_only():
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_config

    def add_zone(config):
        config["diagnyx:sharedServices"]["environmentZones"].append("sandbox")

    recording = run_stack("shared", config=edited_config("shared", add_zone))
    names = {z.inputs["name"] for z in recording.of_type("aws:route53/zone:Zone")}
    assert "sandbox.diagnyx.ai" in names
    assert len(recording.of_type("aws:acm/certificate:Certificate")) == 5


DEFAULT_POLICY_ADMINS = [
    "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
    CI_ROLE,
]


def _policy_administrators(recording):
    admins = []
    for policy in recording.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy"):
        statement = by_sid(policy.inputs["policy"])["OnlyDeployersChangeThisPolicy"]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert set(statement["Action"]) == {
            "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
        }
        admins.append(statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    assert len(admins) == 3
    return admins


def test_only_the_deployment_roles_change_repository_policies(shared):
    for admins in _policy_administrators(shared):
        assert admins == DEFAULT_POLICY_ADMINS


@pytest.mark.parametrize("caller_in_account", [False, True])
def test_repository_policy_never_locks_out_the_role_the_stack_deploys_through(caller_in_account):
    """ECR refuses a policy that denies its caller SetRepositoryPolicy (unless `force`, which the
    provider never sets): a `deployment.roleName` outside the usual deployment roles must be
    exempt, and the policy is the same whether CI runs the stack (`callerInAccount`) or not."""
    from diagnyx_infra.engine.runner import run_stack
    from tests.helpers import edited_config

    def deploy_as_platform_deployer(config):
        config["diagnyx:deployment"] = {
            "roleName": "PlatformDeployer",
            "callerInAccount": caller_in_account,
        }

    recording = run_stack("shared", config=edited_config("shared", deploy_as_platform_deployer))
    for admins in _policy_administrators(recording):
        assert admins == [
            *DEFAULT_POLICY_ADMINS,
            "arn:aws:iam::222222222222:role/PlatformDeployer",
        ]
