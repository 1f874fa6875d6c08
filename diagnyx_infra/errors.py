"""Errors the program reports to people, without a traceback."""


class ConfigError(Exception):
    """Stack configuration is invalid. Raised before any resource is registered.

    The program hands it to the Pulumi CLI as a ``pulumi.RunError`` (stacks.main), whose message
    alone is printed; the offline engine prints it the same way and exits with status 2. (Not a
    subclass here: the operations commands, which never run the program, would import the Pulumi
    SDK to start, a tenth of a second each.)
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack configuration:\n{lines}")


class ReportedFailure(Exception):
    """A failure already captured for the user (e.g. an emulated API refusing a resource): the
    engine's leftover futures that carry it need no second report."""
