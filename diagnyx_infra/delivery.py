"""Which git ref deploys which stack, and how CI reaches the stack's account. The workflows ask
`diagnyx ci-target` instead of repeating this mapping."""

# Pushes to these branches deploy the stack without a manual approval.
BRANCH_DEPLOYED = {"dev": "develop", "staging": "staging"}
# Every stack that needs approval (prod, uat and the organization stacks) deploys from this branch
# only, however the run started: a manual dispatch can be started on any branch, and GitHub creates
# an environment that does not exist yet, unprotected, the first time a job names it.
GATED_BRANCH = "main"
# Pushes to main deploy prod, through the `prod` GitHub environment (approval required).
PRODUCTION_BRANCH = {"prod": GATED_BRANCH}
DEPLOY_BRANCHES = {**BRANCH_DEPLOYED, **PRODUCTION_BRANCH}
# The scheduled drift check's job runs in this GitHub environment (deployment branches: the
# gated branch only); its OIDC subject is the one the management account's drift role trusts.
DRIFT_ENVIRONMENT = "drift"


def needs_approval(stack: str) -> bool:
    """Every stack but dev and staging deploys through a GitHub environment named after it."""
    return stack not in BRANCH_DEPLOYED


def deploy_ref(stack: str) -> str:
    """The only git ref a deployment of ``stack`` may run from (`github.ref`): the branch of dev
    and staging, ``GATED_BRANCH`` for every stack that needs approval."""
    branch = GATED_BRANCH if needs_approval(stack) else BRANCH_DEPLOYED[stack]
    return f"refs/heads/{branch}"


def stack_for_branch(branch: str) -> str | None:
    return next((stack for stack, b in DEPLOY_BRANCHES.items() if b == branch), None)


def github_deploy_subject(subject_prefix: str, stack: str) -> str:
    """The OIDC `sub` claim of the GitHub Actions job allowed to deploy ``stack``. A job that
    uses an environment gets `environment:<name>` as its subject; the environment's deployment
    branch rule (``GATED_BRANCH`` only, for every such environment) then limits which branch can
    get there; the subject itself names no branch, so that rule is what keeps others out.

    ``subject_prefix`` is the claim's repository part exactly as the job's token carries it:
    `repo:<owner>/<repo>` for repositories that predate GitHub's immutable-ID subjects,
    `repo:<owner>-<owner ID>/<repo>-<repo ID>` for newer ones (`StackSettings`
    `effective_github_subject_prefix`)."""
    if needs_approval(stack):
        return f"{subject_prefix}:environment:{stack}"
    return f"{subject_prefix}:ref:refs/heads/{BRANCH_DEPLOYED[stack]}"


def github_drift_subject(subject_prefix: str) -> str:
    """The OIDC `sub` claim of the scheduled drift check's job (see ``github_deploy_subject``)."""
    return f"{subject_prefix}:environment:{DRIFT_ENVIRONMENT}"


def github_pull_request_subject(subject_prefix: str) -> str:
    """The OIDC `sub` claim of a pull request's job (see ``github_deploy_subject``)."""
    return f"{subject_prefix}:pull_request"
