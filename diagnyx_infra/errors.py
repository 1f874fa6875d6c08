"""Errors the program reports to people, without a traceback."""

import pulumi


class ConfigError(pulumi.RunError):
    """Stack configuration is invalid. Raised before any resource is registered.

    Subclassing ``pulumi.RunError`` makes the Pulumi CLI print only the message; the offline engine
    prints it the same way and exits with status 2.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack configuration:\n{lines}")


class ReportedFailure(Exception):
    """A failure already captured for the user (e.g. an emulated API refusing a resource): the
    engine's leftover futures that carry it need no second report."""
