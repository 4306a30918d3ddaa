"""Each subpackage's face: ``__all__`` names what is public, and every name resolves."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PACKAGES = sorted(
    [f"chipclear.{p.parent.name}" for p in (ROOT / "engine").glob("*/__init__.py")]
    + [f"chipclear.tui.{p.parent.name}" for p in (ROOT / "tui").glob("*/__init__.py")]
)


def test_every_subpackage_is_listed() -> None:
    assert {"chipclear.decide", "chipclear.pack", "chipclear.tui.cli"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_face_names_exist_and_are_the_modules_own(name: str) -> None:
    package = importlib.import_module(name)
    public = package.__all__
    assert public, f"{name} has an empty __all__"
    assert len(set(public)) == len(public)
    for attr in public:
        value = getattr(package, attr)
        if inspect.isclass(value) or inspect.isfunction(value):  # defined in this package
            assert value.__module__.startswith(name + "."), (name, attr, value.__module__)
    with pytest.raises(AttributeError):
        package.no_such_public_name  # noqa: B018


def test_face_still_reaches_submodules() -> None:
    from chipclear.batch import run
    from chipclear.decide import Evaluator, evaluate

    assert run.__name__ == "chipclear.batch.run"
    assert Evaluator is evaluate.Evaluator


def test_a_face_loads_nothing_until_used() -> None:
    """Importing a package face must not import its modules (no cycles through faces)."""
    code = ("import sys, chipclear.decide, chipclear.pack; "
            "print('chipclear.decide.evaluate' in sys.modules, "
            "'chipclear.pack.loader' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]
