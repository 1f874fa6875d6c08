"""`diagnyx test` and `diagnyx lint`: what `./run test` and `./run lint` run, for someone who
calls the installed command in a clone of the repository."""

import os
import subprocess
import sys

from . import PROJECT_DIR


def run_tests(arguments: list[str]) -> int:
    """pytest over the repository's tests. The tests' bytecode is cached even where
    PYTHONDONTWRITEBYTECODE is set, as `./run test` does (each worker would compile and rewrite
    every test module again)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "pytest", *arguments]
    return subprocess.call(command, cwd=PROJECT_DIR, env=environment)


def lint() -> int:
    ruff = [sys.executable, "-m", "ruff"]
    checked = subprocess.call([*ruff, "check", "."], cwd=PROJECT_DIR)
    return checked or subprocess.call([*ruff, "format", "--check", "."], cwd=PROJECT_DIR)
