"""The policy pack's folder on the import path, as `pulumi preview --policy-pack` loads it."""

import sys

from diagnyx_infra.engine.runner import PROJECT_DIR

PACK_DIR = PROJECT_DIR / "policy-pack"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))
