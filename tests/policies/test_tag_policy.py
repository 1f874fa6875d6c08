from diagnyx_infra.config.models import REQUIRED_TAG_KEYS
from diagnyx_infra.policies.tag_policy import tag_policy


def test_tag_policy_spells_every_required_key_and_limits_environment_values():
    policy = tag_policy(REQUIRED_TAG_KEYS, ["production", "development"])
    tags = policy["tags"]
    assert {rule["tag_key"]["@@assign"] for rule in tags.values()} == set(REQUIRED_TAG_KEYS)
    environment = tags["environment"]
    assert environment["tag_value"]["@@assign"] == ["development", "production"]
    assert environment["enforced_for"]["@@assign"]
    assert "tag_value" not in tags["owner"]
