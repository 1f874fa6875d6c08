"""Which git ref deploys which stack (the delivery pipeline and the CI role's trust use it)."""

# Branch pushes that deploy a stack; every other stack deploys by manual dispatch through a GitHub
# environment of the stack's name, which requires approval.
DEPLOY_BRANCHES = {"dev": "develop", "staging": "staging", "prod": "main"}


def github_deploy_subject(repository: str, stack: str) -> str:
    """The OIDC `sub` claim of a GitHub Actions job allowed to deploy ``stack``."""
    branch = DEPLOY_BRANCHES.get(stack)
    if branch:
        return f"repo:{repository}:ref:refs/heads/{branch}"
    return f"repo:{repository}:environment:{stack}"


def github_pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"
