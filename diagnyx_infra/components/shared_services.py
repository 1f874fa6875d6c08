"""Shared services (guide, Step 4): central ECR repositories the workload accounts pull from,
the company's public zone with one delegated zone per environment, and DNS-validated
certificates."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config.models import SharedServices as SharedServicesSettings
from ..policies.documents import to_json
from ..policies.shared_services import repository_policy
from .ecr import image_repository

NS_TTL = 172800  # two days: the TTL registrars use for delegations
VALIDATION_TTL = 300


@dataclass(frozen=True)
class SharedServicesArgs:
    settings: SharedServicesSettings
    shared_account_id: str
    pull_account_ids: list[str]
    kms_key_arn: pulumi.Input[str]
    untagged_image_days: int


class SharedServices(pulumi.ComponentResource):
    zone_ids: dict[str, pulumi.Output[str]]
    certificate_arns: dict[str, pulumi.Output[str]]
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: SharedServicesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("diagnyx:shared:SharedServices", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self.repository_urls = {
            repo: self._repository(name, repo, args) for repo in args.settings.repositories
        }
        self._dns(name, args.settings)
        self.register_outputs(
            {
                "repositoryUrls": self.repository_urls,
                "zoneIds": self.zone_ids,
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
            policy=to_json(repository_policy(args.pull_account_ids, args.shared_account_id)),
            opts=self._child,
        )
        return repo.repository_url

    def _dns(self, name: str, settings: SharedServicesSettings) -> None:
        parent_zone = aws.route53.Zone(
            f"{name}-zone",
            name=settings.domain,
            comment="Diagnyx public zone (managed by diagnyx-infra)",
            opts=self._child,
        )
        self.zone_ids = {settings.domain: parent_zone.zone_id}
        self.certificate_arns = {}
        for label in settings.environment_zones:
            fqdn = f"{label}.{settings.domain}"
            zone = aws.route53.Zone(
                f"{name}-zone-{label}",
                name=fqdn,
                comment=f"Diagnyx {label} zone, delegated from {settings.domain}",
                opts=self._child,
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
