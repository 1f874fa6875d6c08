"""One stack's program evaluated under the mock engine, in a fresh interpreter."""

import sys

from diagnyx_infra.engine.runner import run_stack

recording = run_stack(sys.argv[1])
print(len(recording.resources))
