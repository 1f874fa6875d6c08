"""diagnyx-infra: Diagnyx's multi-account AWS landing zone as a Pulumi Python program."""

PROJECT_NAME = "diagnyx"
CONFIG_NAMESPACE = "diagnyx"
