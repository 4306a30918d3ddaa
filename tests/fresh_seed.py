"""A fresh hypothesis seed on every run, printed so a failing run can be replayed."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, seed

#: Health checks about how fast or how big generation is, not about behaviour: on a
#: loaded machine they fail a run that found nothing wrong.
GENERATION_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large,
                     HealthCheck.large_base_example]


def fresh_seed(test: Any) -> Any:
    """Decorate a @given test: a new random seed each run, printed (pytest -s shows it)."""
    value = random.SystemRandom().randrange(2**32)
    print(f"hypothesis seed for {test.__name__}: {value}")
    return seed(value)(test)
