"""The environment that installs the test-only seam (``sitecustomize.py`` beside this
file) in a chipclear subprocess and in every worker it starts."""

from __future__ import annotations

import os
from pathlib import Path

SEAMS = Path(__file__).resolve().parent


def seam_env(crash: str = "", hang: str = "", bug: str = "") -> dict[str, str]:
    """Environment entries: the seam on PYTHONPATH, and the case ids it acts on."""
    path = os.pathsep.join(filter(None, [str(SEAMS), os.environ.get("PYTHONPATH", "")]))
    return {"PYTHONPATH": path, "CHIPCLEAR_SEAM_CRASH": crash, "CHIPCLEAR_SEAM_HANG": hang,
            "CHIPCLEAR_SEAM_BUG": bug}
