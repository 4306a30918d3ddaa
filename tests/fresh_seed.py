"""A fresh hypothesis seed on every run, printed so a failing run can be replayed."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import seed


def fresh_seed(test: Any) -> Any:
    """Decorate a @given test: a new random seed each run, printed (pytest -s shows it)."""
    value = random.SystemRandom().randrange(2**32)
    print(f"hypothesis seed for {test.__name__}: {value}")
    return seed(value)(test)
