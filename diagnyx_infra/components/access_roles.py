"""CI/CD identity and cross-account roles of one account: the GitHub Actions OIDC provider, the
deployment role (with the `CICDPolicy` the guide's isolation procedure deletes), the read-only
preview role for pull requests, the auditors' read-only role, and the scheduled drift check's
read-only role."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..delivery import github_deploy_subject, github_drift_subject, github_pull_request_subject
from ..deploy_sequence import step_label
from ..policies import iam
from ..policies.documents import to_json
from ..policies.identity import READ_ONLY_ACCESS, SECURITY_AUDIT, VIEW_ONLY_ACCESS


@dataclass(frozen=True)
class AccessRolesArgs:
    stack: str
    account_id: str
    is_management: bool
    # The repository part of the OIDC `sub` claim, e.g. `repo:diagnyx/diagnyx-infra`.
    github_subject_prefix: str
    # None while config marks the account pending: its trust statement (or role) waits.
    shared_account_id: str | None
    security_account_id: str | None
    external_id: pulumi.Input[str] | None  # a secret; workload accounts only
    state_bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    manages_organization_trail: bool = False
    # Account IDs whose deploy roles this one may assume (the shared services account's CI).
    deploys_accounts: tuple[str, ...] = ()
    # The management account's ID (None while pending: a member's drift role waits for it), and
    # in the management account the members whose drift roles its own drift role may assume.
    management_account_id: str | None = None
    drift_members: tuple[str, ...] = ()


class AccessRoles(pulumi.ComponentResource):
    cicd_role: aws.iam.Role
    preview_role: aws.iam.Role
    audit_role: aws.iam.Role | None
    drift_role: aws.iam.Role | None

    def __init__(
        self, name: str, args: AccessRolesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:baseline:AccessRoles", name, None, opts)
        # Every role below carries the boundary, which must exist first.
        self.boundary = aws.iam.Policy(
            f"{name}-permissions-boundary",
            name=naming.PERMISSIONS_BOUNDARY,
            description="Ceiling of every Diagnyx role: no IAM users or keys, no unbounded roles",
            policy=to_json(iam.permissions_boundary(args.account_id)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.boundary])
        self._child = child
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-github-oidc",
            url=f"https://{iam.GITHUB_OIDC_HOST}",
            client_id_lists=[iam.GITHUB_OIDC_AUDIENCE],
            opts=child,
        )

        deploy_subject = github_deploy_subject(args.github_subject_prefix, args.stack)
        cicd_trust = pulumi.Output.all(oidc.arn, args.external_id).apply(
            lambda values: to_json(
                iam.cicd_trust_policy(args.shared_account_id, values[1], values[0], deploy_subject)
            )
        )
        self.cicd_role = aws.iam.Role(
            f"{name}-cicd",
            name=naming.CICD_ROLE,
            description="Deploys this account's stack from CI (GitHub OIDC or shared services)",
            assume_role_policy=pulumi.Output.secret(cicd_trust),
            max_session_duration=3600,
            permissions_boundary=self.boundary.arn,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-cicd-policy",
            name=naming.CICD_POLICY,
            role=self.cicd_role.id,
            policy=to_json(
                iam.cicd_permissions(
                    args.account_id,
                    args.is_management,
                    args.manages_organization_trail,
                    args.deploys_accounts,
                )
            ),
            opts=child,
        )

        pull_requests = github_pull_request_subject(args.github_subject_prefix)
        self.preview_role = aws.iam.Role(
            f"{name}-preview",
            name=naming.PREVIEW_ROLE,
            description="Read-only `pulumi preview` from pull requests: metadata, no data",
            assume_role_policy=oidc.arn.apply(
                lambda arn: to_json(iam.preview_trust_policy(arn, pull_requests))
            ),
            max_session_duration=3600,
            permissions_boundary=self.boundary.arn,
            opts=child,
        )
        # ViewOnlyAccess lists and describes configuration; unlike ReadOnlyAccess it reads no S3
        # object, DynamoDB item or secret. The state and the lock come from the inline policy.
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-view-only",
            role=self.preview_role.name,
            policy_arn=VIEW_ONLY_ACCESS,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-preview-state",
            name=naming.PREVIEW_STATE_POLICY,
            role=self.preview_role.id,
            policy=pulumi.Output.all(args.state_bucket_arn, args.kms_key_arn).apply(
                lambda values: to_json(iam.preview_state_access(values[0], values[1]))
            ),
            opts=child,
        )

        self.drift_role = self._drift_role(name, args, oidc.arn)

        self.audit_role = None
        if args.security_account_id is None:
            pulumi.log.warn(
                f"{naming.AUDIT_ROLE} waits for the security account's ID (accountIds.security is "
                f"pending): {step_label('sync')} records it",
                resource=self,
            )
        else:
            self._audit_role(name, args.security_account_id)
        if args.shared_account_id is None:
            pulumi.log.warn(
                f"{naming.CICD_ROLE} trusts GitHub OIDC only until the shared services account's "
                f"ID is known (accountIds.shared is pending): {step_label('sync')} records it",
                resource=self,
            )
        self.register_outputs(
            {
                "cicdRoleArn": self.cicd_role.arn,
                "previewRoleArn": self.preview_role.arn,
            }
        )

    def _drift_role(
        self, name: str, args: AccessRolesArgs, oidc_arn: pulumi.Output[str]
    ) -> aws.iam.Role | None:
        """The scheduled read-only jobs' role (`diagnyx drift` and `diagnyx maintenance`): in
        the management account the drift environment's jobs (its GitHub OIDC subject) take it;
        in a member, only that role does. Reads only, no data (iam.drift_reads)."""
        if args.is_management:
            subject = github_drift_subject(args.github_subject_prefix)
            trust = oidc_arn.apply(lambda arn: to_json(iam.drift_trust_policy(arn, subject)))
        elif args.management_account_id is None:
            return None  # the management account's ID is needed to deploy at all
        else:
            trust = to_json(iam.drift_member_trust_policy(args.management_account_id))
        role = aws.iam.Role(
            f"{name}-drift",
            name=naming.DRIFT_ROLE,
            description="Read-only: what `diagnyx drift` compares with config, nothing else",
            assume_role_policy=trust,
            max_session_duration=3600,
            permissions_boundary=self.boundary.arn,
            opts=self._child,
        )
        aws.iam.RolePolicy(
            f"{name}-drift-reads",
            name=naming.DRIFT_POLICY,
            role=role.id,
            policy=to_json(iam.drift_reads(args.is_management, args.drift_members)),
            opts=self._child,
        )
        return role

    def _audit_role(self, name: str, security_account_id: str) -> None:
        child = self._child
        self.audit_role = aws.iam.Role(
            f"{name}-audit",
            name=naming.AUDIT_ROLE,
            description="Read-only and security audit access for the security account's Auditors",
            assume_role_policy=to_json(iam.audit_trust_policy(security_account_id)),
            max_session_duration=3600,
            permissions_boundary=self.boundary.arn,
            opts=child,
        )
        for label, policy_arn in (
            ("read-only", READ_ONLY_ACCESS),
            ("security-audit", SECURITY_AUDIT),
        ):
            aws.iam.RolePolicyAttachment(
                f"{name}-audit-{label}",
                role=self.audit_role.name,
                policy_arn=policy_arn,
                opts=child,
            )
