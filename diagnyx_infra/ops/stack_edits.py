"""Stack file edits made by the tooling (`accounts retire`, `accounts add`): validated with the
whole project in a scratch copy first, then written only when asked, each file atomically."""

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..config.consistency import load_project
from ..config.stack_files import round_trip_yaml
from ..errors import ConfigError


class EditRefused(Exception):
    """Nothing was written: the edit would leave the project's stack files invalid."""


def dumped(document: Any) -> str:
    out = io.StringIO()
    round_trip_yaml().dump(document, out)
    return out.getvalue()


def write_validated(project_dir: Path, files: dict[str, str], apply: bool) -> bool:
    """``files`` (file name -> its new text) checked with every other stack file of the project
    (a scratch copy); written only with ``apply``. Returns whether they were written."""
    with tempfile.TemporaryDirectory(prefix="diagnyx-edit-") as scratch:
        copy = Path(scratch)
        for path in project_dir.glob("Pulumi*.yaml"):
            shutil.copy(path, copy)
        for name, text in files.items():
            (copy / name).write_text(text)
        try:
            load_project(copy)
        except ConfigError as error:
            raise EditRefused(
                "the change would leave the stack files invalid: " + "; ".join(error.problems)
            ) from None
    if not apply:
        return False
    for name, text in files.items():
        path = project_dir / name
        # A new file of our own (O_EXCL), never one already there: a planted link is not
        # followed.
        handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=project_dir)
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(partial, path)
    return True
