"""What the tooling expects to find in AWS, read from the same stack config the program uses."""

from dataclasses import dataclass
from pathlib import Path

from ..access_matrix import Assignment, expand
from ..config.consistency import load_project
from ..config.models import MANAGEMENT_ACCOUNT, PENDING_ID, SECURITY_ACCOUNT, StackSettings
from ..policies import scp


@dataclass(frozen=True)
class LandingZone:
    stacks: dict[str, StackSettings]

    @classmethod
    def load(cls, project_dir: Path, *, check_account_ids: bool = True) -> "LandingZone":
        """Every stack's validated settings, in agreement with the management stack's file; a
        ConfigError names each file's problem. `accounts sync`, which repairs account IDs, loads
        without comparing them."""
        return cls(load_project(project_dir, check_account_ids=check_account_ids))

    @property
    def management(self) -> StackSettings:
        return self.stacks[MANAGEMENT_ACCOUNT]

    @property
    def account_ids(self) -> dict[str, str]:
        return dict(self.management.account_ids)

    def not_management(self, caller_account_id: str) -> str | None:
        """Why credentials of ``caller_account_id`` cannot act for the organization, or None:
        commands that change or read the whole organization run as its management account."""
        expected = self.account_ids[MANAGEMENT_ACCOUNT]
        if caller_account_id == expected:
            return None
        if expected == PENDING_ID:
            return (
                "accountIds.management is pending in Pulumi.management.yaml: run `diagnyx "
                "bootstrap start --write` with the management account's credentials first"
            )
        return (
            f"the credentials are for account {caller_account_id}, not the management account "
            f"{expected} (accountIds.management in Pulumi.management.yaml); log in to the "
            "management account"
        )

    def account_names(self) -> list[str]:
        """Management first, then the members in the organization's order."""
        organization = self.management.organization
        assert organization is not None
        return [MANAGEMENT_ACCOUNT, *organization.accounts]

    def expected_ou(self, account: str) -> str | None:
        organization = self.management.organization
        assert organization is not None
        member = organization.accounts.get(account)
        return member.ou if member else None

    def expected_scps(self, account: str) -> set[str]:
        """Names of the SCPs that should reach ``account`` (root and its OU)."""
        organization = self.management.organization
        assert organization is not None
        ou = self.expected_ou(account)
        keys = list(organization.guardrails.root_policies)
        keys += next((u.policies for u in organization.organizational_units if u.name == ou), [])
        return {scp.CATALOGUE[key][0] for key in keys}

    def assignments_for(self, account: str) -> list[Assignment]:
        rows = expand(self.management.access_assignments(), self.management.account_ous())
        return [row for row in rows if row.account == account]

    def expected_repositories(self, account: str) -> list[str]:
        settings = self.stacks.get(account)
        if settings is None:
            return []
        repositories = list(settings.ecr_repositories)
        if settings.shared_services is not None:
            repositories += settings.shared_services.repositories
        return repositories

    def monthly_budget(self, account: str) -> float | None:
        settings = self.stacks.get(account)
        return settings.budget.monthly_limit_usd if settings else None

    def member_budgets(self) -> dict[str, float]:
        organization = self.management.organization
        assert organization is not None
        return {name: a.monthly_budget_usd for name, a in organization.accounts.items()}

    @property
    def trail_owner(self) -> str:
        return SECURITY_ACCOUNT
