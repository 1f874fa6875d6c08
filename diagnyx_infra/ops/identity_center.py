"""Identity Center lookups the operations commands share."""

from .aws import every, reply_field

# Permission set ARN -> name, kept for the process: a permission set cannot be renamed
# (UpdatePermissionSet takes no name, and the ARN holds a random ID, never reused), and Identity
# Center's administration API allows a few calls a second.
_NAMES: dict[str, str] = {}


def permission_set_names(sso, instance_arn: str) -> dict[str, str]:
    """Every permission set of the instance: ARN -> name."""
    names = {}
    for arn in every(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance_arn):
        if arn not in _NAMES:
            described = sso.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)
            _NAMES[arn] = reply_field(
                described, "PermissionSet", "Name", operation="sso:DescribePermissionSet"
            )
        names[arn] = _NAMES[arn]
    return names
