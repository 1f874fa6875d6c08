"""Shared services (guide, Step 4): central ECR repositories the workload accounts pull from,
the company's public zone with one delegated zone per environment, and DNS-validated
certificates."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config.models import SharedServices as SharedServicesSettings
from ..deploy_sequence import step_label
from ..policies.documents import to_json
from ..policies.shared_services import repository_policy
from .ecr import image_repository
from .secure_bucket import PROTECT

NS_TTL = 172800  # two days: the TTL registrars use for delegations
VALIDATION_TTL = 300


@dataclass(frozen=True)
class SharedServicesArgs:
    settings: SharedServicesSettings
    shared_account_id: str
    pull_account_ids: list[str]
    kms_key_arn: pulumi.Input[str]
    untagged_image_days: int
    # The role the stack deploys through; the repository policy may never lock it out.
    deployment_role: str


class SharedServices(pulumi.ComponentResource):
    zone_ids: dict[str, pulumi.Output[str]]
    certificate_arns: dict[str, pulumi.Output[str]]
    name_servers: pulumi.Output[list[str]]
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: SharedServicesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:shared:SharedServices", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        # Replacing a zone changes its name servers and breaks every delegation to it.
        self._kept = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        self.repository_urls = {
            repo: self._repository(name, repo, args) for repo in args.settings.repositories
        }
        self._dns(name, args.settings)
        self.register_outputs(
            {
                "repositoryUrls": self.repository_urls,
                "zoneIds": self.zone_ids,
                "nameServers": self.name_servers,
                "certificateArns": self.certificate_arns,
            }
        )

    def _repository(self, name: str, repository: str, args: SharedServicesArgs) -> pulumi.Output:
        resource_name = f"{name}-ecr-{repository.replace('/', '-')}"
        repo = image_repository(
            resource_name,
            repository,
            args.kms_key_arn,
            args.untagged_image_days,
            parent=self,
        )
        aws.ecr.RepositoryPolicy(
            f"{resource_name}-policy",
            repository=repo.name,
            policy=to_json(
                repository_policy(
                    args.pull_account_ids, args.shared_account_id, args.deployment_role
                )
            ),
            # Protected with the repository: `pulumi destroy --exclude-protected` would otherwise
            # cut the workload accounts off their images. Not retained: deleting it only narrows
            # access, and a repository dropped from config should stop granting pulls.
            opts=pulumi.ResourceOptions.merge(self._child, PROTECT),
        )
        return repo.repository_url

    def _dns(self, name: str, settings: SharedServicesSettings) -> None:
        # A reusable delegation set fixes the parent zone's name servers before the zone exists
        # and across any replacement of it, so the registrar is pointed at them once.
        delegation_set = aws.route53.DelegationSet(
            f"{name}-delegation-set",
            reference_name=f"diagnyx-{settings.domain}",
            opts=self._kept,
        )
        self.name_servers = delegation_set.name_servers
        parent_zone = aws.route53.Zone(
            f"{name}-zone",
            name=settings.domain,
            comment="Diagnyx public zone (managed by diagnyx-infra)",
            delegation_set_id=delegation_set.id,
            opts=self._kept,
        )
        self.zone_ids = {settings.domain: parent_zone.zone_id}
        self.certificate_arns = {}
        if settings.environment_zones and not settings.delegation_confirmed:
            pulumi.log.warn(
                f"certificates wait for the registrar to delegate {settings.domain} to the "
                "delegation set's name servers (sharedServices.delegationConfirmed is false; "
                "ACM cannot validate before public DNS resolves): "
                f"{step_label('registrar')} and {step_label('delegation')} turn them on",
                resource=self,
            )
        for label in settings.environment_zones:
            fqdn = f"{label}.{settings.domain}"
            # Environment zones cannot share the parent's name servers (Route 53
            # ConflictingDomainExists), so each gets its own and an NS record in the parent.
            zone = aws.route53.Zone(
                f"{name}-zone-{label}",
                name=fqdn,
                comment=f"Diagnyx {label} zone, delegated from {settings.domain}",
                opts=self._kept,
            )
            aws.route53.Record(
                f"{name}-delegation-{label}",
                zone_id=parent_zone.zone_id,
                name=fqdn,
                type="NS",
                ttl=NS_TTL,
                records=zone.name_servers,
                opts=self._child,
            )
            self.zone_ids[fqdn] = zone.zone_id
            if settings.delegation_confirmed:
                self.certificate_arns[fqdn] = self._certificate(name, label, fqdn, zone)

    def _certificate(
        self, name: str, label: str, fqdn: str, zone: aws.route53.Zone
    ) -> pulumi.Output[str]:
        certificate = aws.acm.Certificate(
            f"{name}-certificate-{label}",
            domain_name=fqdn,
            subject_alternative_names=[f"*.{fqdn}"],
            validation_method="DNS",
            opts=self._child,
        )
        # The apex and its wildcard share one validation record.
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-certificate-{label}-validation",
            zone_id=zone.zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=VALIDATION_TTL,
            allow_overwrite=True,
            opts=self._child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-{label}-issued",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=self._child,
        )
        return validation.certificate_arn
