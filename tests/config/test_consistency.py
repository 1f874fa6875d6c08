"""No two files in the repository disagree about an account ID."""

import shutil

from diagnyx_infra.config.consistency import account_ids_by_file, disagreements
from diagnyx_infra.engine.runner import PROJECT_DIR
from tests.helpers import ALL_STACKS


def test_the_repository_stack_files_agree():
    assert disagreements(PROJECT_DIR) == []


def test_every_stack_file_names_all_seven_accounts():
    for file_name, ids in account_ids_by_file(PROJECT_DIR).items():
        assert set(ids) == set(ALL_STACKS), file_name


def test_a_single_differing_id_is_found(tmp_path):
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path)
    staging = tmp_path / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace('prod: "777777777777"', 'prod: "777777777778"'))
    problems = disagreements(tmp_path)
    assert len(problems) == 1
    assert "account 'prod' has different IDs" in problems[0]
    assert "777777777778 in Pulumi.staging.yaml" in problems[0]


def test_an_environment_that_differs_from_the_organization_is_found(tmp_path):
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path)
    uat = tmp_path / "Pulumi.uat.yaml"
    text = uat.read_text()
    uat.write_text(text.replace("diagnyx:environment: uat", "diagnyx:environment: staging"))
    assert disagreements(tmp_path) == [
        "account 'uat': Pulumi.management.yaml says environment 'uat', "
        "Pulumi.uat.yaml says 'staging'"
    ]


def test_network_maps_that_differ_are_found(tmp_path):
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path)
    prod = tmp_path / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("cidr: 10.10.0.0/16", "cidr: 10.11.0.0/16"))
    (problem,) = disagreements(tmp_path)
    assert problem.startswith("'diagnyx:networks' differs between stack files:")
    assert "Pulumi.prod.yaml" in problem
