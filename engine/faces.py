"""Package faces: a subpackage's public names, imported on first use.

Each subpackage's ``__init__`` lists its public names in ``__all__`` and where each
lives; ``from chipclear.decide import Evaluator`` then works without importing the
whole package up front, so importing one module never loads (or cycles through) the
others.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``where[name]`` on first use.

    Unknown names raise AttributeError, so ``from package import submodule`` still
    finds the submodule.
    """

    def getattr_(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(where[name]), name)

    return getattr_
