"""IAM Identity Center in the management stack: groups, permission sets, the access matrix."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from diagnyx_infra.access_matrix import expand, problems
from diagnyx_infra.policies.identity import GROUPS, PERMISSION_SETS

PRODUCTION = {"prod"}
ACCOUNT_OUS = {
    "management": "",
    "security": "Security",
    "shared": "SharedServices",
    "dev": "NonProduction",
    "staging": "NonProduction",
    "uat": "NonProduction",
    "prod": "Production",
}
TARGETS = [*ACCOUNT_OUS, *(f"ou:{ou}" for ou in set(ACCOUNT_OUS.values()) if ou)]


def assignments(management):
    return management.of_type("aws:ssoadmin/accountAssignment:AccountAssignment")


def test_five_groups_created_by_the_program(management):
    groups = management.of_type("aws:identitystore/group:Group")
    assert sorted(g.inputs["displayName"] for g in groups) == sorted(GROUPS)
    assert {g.inputs["identityStoreId"] for g in groups} == {"d-0000000000"}
    assert set(management.outputs["ssoGroupIds"]) == set(GROUPS)


def test_portal_url_output(management):
    assert management.outputs["ssoPortalUrl"] == "https://d-0000000000.awsapps.com/start"


def test_permission_sets_and_session_durations(management):
    sets = {
        p.inputs["name"]: p for p in management.of_type("aws:ssoadmin/permissionSet:PermissionSet")
    }
    assert set(sets) == set(PERMISSION_SETS)
    assert sets["Administrator"].inputs["sessionDuration"] == "PT1H"
    assert sets["Developer"].inputs["sessionDuration"] == "PT8H"
    managed = {}
    for attachment in management.of_type(
        "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"
    ):
        name = next(
            n for n, p in sets.items() if p.state["arn"] == attachment.inputs["permissionSetArn"]
        )
        managed.setdefault(name, set()).add(attachment.inputs["managedPolicyArn"].rsplit("/", 1)[1])
    assert managed == {
        "Administrator": {"AdministratorAccess"},
        "DevOps": {"ViewOnlyAccess"},  # metadata, not data; no deploy policy
        "Developer": {"PowerUserAccess"},
        "Auditor": {"ReadOnlyAccess", "SecurityAudit"},
    }


def test_finance_is_billing_and_cost_explorer_only(management):
    sets = {
        p.state["arn"]: p.inputs["name"]
        for p in management.of_type("aws:ssoadmin/permissionSet:PermissionSet")
    }
    inline = {
        sets[p.inputs["permissionSetArn"]]: json.loads(p.inputs["inlinePolicy"])
        for p in management.of_type(
            "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
        )
    }
    statements = inline["Finance"]["Statement"]
    # Beyond billing, Finance may only assume DiagnyxCostExplorerAccess (for the guide's commands).
    (assume,) = [s for s in statements if s["Sid"] == "AssumeCostExplorerRole"]
    assert assume["Action"] == "sts:AssumeRole"
    assert assume["Resource"] == "arn:aws:iam::*:role/DiagnyxCostExplorerAccess"
    actions = [a for s in statements if s is not assume for a in s["Action"]]
    services = {a.split(":")[0] for a in actions}
    assert "ce" in services and "billing" in services
    assert services <= {
        "account",
        "aws-portal",
        "billing",
        "budgets",
        "ce",
        "consolidatedbilling",
        "cur",
        "freetier",
        "invoicing",
        "payments",
        "pricing",
        "tax",
    }
    assert all(s["Effect"] == "Allow" for s in inline["Finance"]["Statement"])


def test_matrix_as_registered(management):
    accounts = {"111111111111": "management"}
    for account in management.of_type("aws:organizations/account:Account"):
        accounts[account.id] = account.name.removeprefix("organization-account-")
    groups = {
        g.state["groupId"]: g.inputs["displayName"]
        for g in management.of_type("aws:identitystore/group:Group")
    }
    sets = {
        p.state["arn"]: p.inputs["name"]
        for p in management.of_type("aws:ssoadmin/permissionSet:PermissionSet")
    }
    rows = {
        (
            groups[a.inputs["principalId"]],
            sets[a.inputs["permissionSetArn"]],
            accounts[a.inputs["targetId"]],
        )
        for a in assignments(management)
    }
    by_group = {}
    for group, permission_set, account in rows:
        by_group.setdefault((group, permission_set), set()).add(account)
    everything = set(ACCOUNT_OUS)
    assert by_group == {
        ("Administrators", "Administrator"): everything,
        ("DevOps", "DevOps"): everything - {"management", "security"},
        ("Developers", "Developer"): {"dev", "staging", "uat"},
        ("Finance", "Finance"): {"management"},
        ("Auditors", "Auditor"): everything,
    }
    assert all(a.inputs["principalType"] == "GROUP" for a in assignments(management))


@settings(max_examples=300, deadline=None)
@given(
    group=st.sampled_from(sorted(GROUPS)),
    permission_set=st.sampled_from(sorted(PERMISSION_SETS)),
    targets=st.lists(st.sampled_from(TARGETS), min_size=1, max_size=6),
)
def test_no_accepted_matrix_gives_developers_production(group, permission_set, targets):
    matrix = [(group, permission_set, targets)]
    if problems(matrix, ACCOUNT_OUS, PRODUCTION, "management", set(ACCOUNT_OUS.values()) - {""}):
        return  # refused by validation
    rows = expand(matrix, ACCOUNT_OUS)
    assert not any(r.group == "Developers" and r.account in PRODUCTION for r in rows)
    assert not any(r.group == "Finance" and r.account != "management" for r in rows)
    assert not any(r.group == "Auditors" and r.permission_set != "Auditor" for r in rows)


def test_readme_matrix_matches_the_config():
    from diagnyx_infra.config.loading import settings_from_config
    from diagnyx_infra.config.stack_files import load_stack_config
    from diagnyx_infra.engine.runner import PROJECT_DIR

    config = load_stack_config(PROJECT_DIR, "management")
    settings = settings_from_config("management", config.values, config.secret_keys)
    expected = {
        (row.group, row.permission_set, row.account)
        for row in expand(settings.access_assignments(), settings.account_ous())
    }
    lines = (PROJECT_DIR / "README.md").read_text().splitlines()
    start = lines.index(
        "| group | permission set | management | security | shared | dev | staging | uat | prod |"
    )
    columns = ["management", "security", "shared", "dev", "staging", "uat", "prod"]
    documented = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        group, permission_set, marks = cells[0], cells[1], cells[2:]
        documented |= {
            (group, permission_set, a) for a, m in zip(columns, marks, strict=True) if m == "x"
        }
    assert documented == expected
