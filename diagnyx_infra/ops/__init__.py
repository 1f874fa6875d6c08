"""Operations tooling (the guide's procedures) on boto3, apart from the Pulumi program but reading
the same stack config."""
