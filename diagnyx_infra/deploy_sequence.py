"""The documented deploy sequence: how a landing zone comes to exist from an empty management
account, step by step. Defined once: the README's "Deploying for real" is rendered from it (a test
compares them) and `diagnyx rehearse` carries it out against the emulator.

AWS decides the order (checked 2026-11-27; each rule cited where the emulator enforces it, in
rehearsal/aws_rules.py and rehearsal/world.py): member account IDs
exist only once the organization creates them; IAM Identity Center's organization instance can be
enabled only once the organization exists; AWS creates the AWS-services anomaly monitor when Cost
Explorer is enabled; a cost allocation tag can be activated only once its key has appeared in
billing data; ACM issues a DNS-validated certificate only once the registrar delegates the domain
to the zone's name servers; the security account's buckets exist before any account delivers to
them (the management account's AWS Config recorder, once `awsConfig` is on, delivers to the
security account's Config bucket: PutDeliveryChannel refuses a bucket that does not exist), so
the security stack deploys before the management stack's second deploy.
"""

from dataclasses import dataclass

MANAGEMENT_CREDENTIALS = "management account administrator (`aws sso login` or a profile)"
ANY_CREDENTIALS = "none (local files only)"


@dataclass(frozen=True)
class Setting:
    """`pulumi config set --path` of one stack's setting; ``value`` as the operator types it."""

    stack: str
    path: str
    value: str

    @property
    def command(self) -> str:
        return f"pulumi config set --path 'diagnyx:{self.path}' {self.value} -s {self.stack}"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    credentials: str
    # What a person does outside the command line (console, registrar); the rehearsal performs
    # each as a named emulated step.
    console: str = ""
    diagnyx: tuple[str, ...] = ()  # `./run ...` commands, in order, before the settings
    settings: tuple[Setting, ...] = ()
    stacks: tuple[str, ...] = ()  # `pulumi up -s <stack>`, in order, after the settings
    notes: tuple[str, ...] = ()  # further shell lines for people before `pulumi up` (not rehearsed)
    after: tuple[str, ...] = ()  # shell lines for people after `pulumi up` (not rehearsed)
    check: str = ""  # what to check before the next step
    for_stack: str | None = None  # the stack the step serves, when it serves only one

    def commands(self) -> list[str]:
        lines = [f"./run {command}" for command in self.diagnyx]
        lines += [setting.command for setting in self.settings]
        lines += list(self.notes)
        lines += [f"pulumi up -s {stack}" for stack in self.stacks]
        lines += list(self.after)
        return lines


WORKLOAD_STACKS = ("dev", "staging", "uat", "prod")

SEQUENCE: tuple[Step, ...] = (
    Step(
        key="start",
        title="Record the management account",
        credentials=MANAGEMENT_CREDENTIALS,
        diagnyx=("bootstrap start --write",),
        check="`git diff`: `accountIds.management` is `aws sts get-caller-identity`'s account, "
        "every member reads `pending`, and nothing that waits for AWS (anomaly monitor, "
        "cost allocation tags, DNS delegation) is marked done",
    ),
    Step(
        key="secrets",
        title="Stacks, backend and secrets",
        credentials=ANY_CREDENTIALS,
        notes=(
            "export PULUMI_CONFIG_PASSPHRASE='<from the password manager>'  # one for all stacks",
            "pulumi login --local  # until the account's state bucket exists (last step moves it)",
            "for s in management security shared dev staging uat prod; do",
            "  pulumi stack init $s",
            "done",
            "# each workload account's own external ID (the shared deploy role presents it)",
            "for s in dev staging uat prod; do",
            '  pulumi config set --secret diagnyx:ciExternalId "$(openssl rand -hex 24)" -s $s',
            "done",
        ),
        check="`pulumi config -s dev` shows `diagnyx:ciExternalId` as `[secret]`",
    ),
    Step(
        key="organization",
        title="The organization and its accounts",
        credentials=MANAGEMENT_CREDENTIALS,
        notes=("pulumi preview -s management",),
        stacks=("management",),
        check="the warnings name what waits (Identity Center, anomaly detection, cost "
        "allocation tags, roles trusting pending accounts); an e-mail per new account arrives",
    ),
    Step(
        key="identity-center",
        title="Enable IAM Identity Center",
        credentials=MANAGEMENT_CREDENTIALS,
        console="IAM Identity Center console, in the management account's home region: Enable "
        "(organization instance). Then Settings, Authentication: MFA on every sign-in",
        check="`aws sso-admin list-instances` lists one instance",
    ),
    Step(
        key="cost-explorer",
        title="Enable Cost Explorer and name its services monitor",
        credentials=MANAGEMENT_CREDENTIALS,
        console="Billing and Cost Management console: Cost Explorer, Launch. AWS creates the "
        "AWS-services anomaly monitor `Default-Services-Monitor` (allow up to 24 hours)",
        settings=(
            Setting(
                "management",
                "costGovernance.servicesMonitorArn",
                '"$(aws ce get-anomaly-monitors --query '
                "\"AnomalyMonitors[?MonitorName=='Default-Services-Monitor'].MonitorArn\" "
                '--output text)"',
            ),
        ),
        check="the setting holds one `arn:aws:ce::<management id>:anomalymonitor/...` ARN",
    ),
    Step(
        key="sync",
        title="Record the member account IDs",
        credentials=MANAGEMENT_CREDENTIALS,
        diagnyx=("accounts sync",),
        check="`./run accounts sync --check` exits 0 and no stack file says `pending`",
    ),
    Step(
        key="security",
        title="The organization trail and its archive",
        credentials=MANAGEMENT_CREDENTIALS + "; the provider assumes OrganizationAccountAccessRole",
        stacks=("security",),
        check="`./run checklist --account security`: the organization trail line passes",
    ),
    Step(
        key="management",
        title="Identity Center, anomaly detection and cross-account trust",
        credentials=MANAGEMENT_CREDENTIALS,
        stacks=("management",),
        check="`pulumi stack output ssoPortalUrl -s management`; no warning about Identity "
        "Center or anomaly detection",
    ),
    Step(
        key="shared",
        title="Shared services: registries and zones",
        credentials=MANAGEMENT_CREDENTIALS + "; the provider assumes OrganizationAccountAccessRole",
        stacks=("shared",),
        check="`pulumi stack output nameServers -s shared` prints the delegation set's four "
        "name servers; the warning says certificates wait for the delegation",
    ),
    Step(
        key="registrar",
        title="Delegate the domain",
        for_stack="shared",
        credentials="an account at the domain's registrar",
        console="At the registrar of the domain (`sharedServices.domain`), set its name servers "
        "to the four of `pulumi stack output nameServers -s shared`",
    ),
    Step(
        key="delegation",
        title="Confirm the delegation",
        for_stack="shared",
        credentials=MANAGEMENT_CREDENTIALS,
        diagnyx=("doctor",),
        settings=(Setting("shared", "sharedServices.delegationConfirmed", "true"),),
        check="`./run doctor`: the DNS delegation line passes before the setting is changed",
    ),
    Step(
        key="certificates",
        title="Certificates",
        credentials=MANAGEMENT_CREDENTIALS + "; the provider assumes OrganizationAccountAccessRole",
        stacks=("shared",),
        check="`pulumi stack output certificateArns -s shared` lists one per environment zone",
    ),
    Step(
        key="workloads",
        title="Workload accounts",
        credentials=MANAGEMENT_CREDENTIALS + "; the provider assumes OrganizationAccountAccessRole",
        notes=("pulumi preview -s prod   # review before production",),
        stacks=WORKLOAD_STACKS,
        check="`./run checklist --all`: every line passes or names what waits",
    ),
    Step(
        key="cost-tags",
        title="A day later: cost allocation tags",
        credentials=MANAGEMENT_CREDENTIALS,
        console="Wait until `aws ce list-cost-allocation-tags --status Inactive` lists the five "
        "tag keys (up to 24 hours after the first tagged resource)",
        settings=(Setting("management", "costGovernance.activateCostAllocationTags", "true"),),
        stacks=("management",),
        after=(
            "# then move each stack's state into its own account's bucket (with credentials",
            "# of that account, e.g. a profile assuming OrganizationAccountAccessRole there):",
            "for s in management security shared dev staging uat prod; do",
            "  bucket=$(pulumi stack output stateBucket -s $s)",
            "  pulumi stack export -s $s --file $s.json",
            "  pulumi login s3://$bucket && pulumi stack init $s",
            "  pulumi stack import -s $s --file $s.json && pulumi login --local",
            "done",
        ),
        check="`./run checklist --all` passes",
    ),
)


def step(key: str) -> Step:
    return next(s for s in SEQUENCE if s.key == key)


def step_label(key: str) -> str:
    """How warnings name the step that turns something on: `step 4 (Enable IAM Identity
    Center)` of the README's "Deploying for real"."""
    number = next(i for i, s in enumerate(SEQUENCE, 1) if s.key == key)
    return f'step {number} ("{SEQUENCE[number - 1].title}") of "Deploying for real"'


def render_markdown() -> str:
    """The README's "Deploying for real" steps."""
    parts = []
    for number, s in enumerate(SEQUENCE, 1):
        parts.append(f"**{number}. {s.title}**\n\nCredentials: {s.credentials}.")
        if s.console:
            parts.append(f"\nBy hand: {s.console}.")
        commands = s.commands()
        if commands:
            parts.append("\n```bash\n" + "\n".join(commands) + "\n```")
        if s.check:
            parts.append(f"\nBefore the next step: {s.check}.")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
