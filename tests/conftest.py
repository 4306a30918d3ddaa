"""Shared fixtures: the shipped pack, a tiny pack for engine tests, and no network."""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.pack.golden import GoldenResult, run_golden
from chipclear.pack.loader import RulePack, load_pack

# Decisions must not depend on a list the developer imported: every test (and every
# command a test starts) sees an empty data directory unless it imports into its own.
os.environ["CHIPCLEAR_DATA"] = tempfile.mkdtemp(prefix="chipclear-test-data-")
# The command line keeps validated packs in $XDG_CACHE_HOME/chipclear: tests (and the
# commands they start) write theirs to a private temporary directory, never ~/.cache.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="chipclear-test-cache-")

ROOT = Path(__file__).resolve().parent.parent
MINIPACK = Path(__file__).resolve().parent / "fixtures" / "minipack"
_FUZZ_SEED = int(os.environ.get("CHIPCLEAR_FUZZ_SEED") or secrets.randbits(32))


def fuzz_seed() -> int:
    """One seed per test run for every property test: fresh inputs each run, replayable."""
    return _FUZZ_SEED


def pytest_report_header() -> str:
    return f"fuzz seed: {_FUZZ_SEED} (CHIPCLEAR_FUZZ_SEED={_FUZZ_SEED} replays this run)"


@pytest.fixture(scope="session")
def pack() -> RulePack:
    return load_pack(ROOT / "rules")


@pytest.fixture(scope="session")
def evaluator(pack: RulePack) -> Evaluator:
    return Evaluator(pack)


@pytest.fixture(scope="session")
def golden_results(evaluator: Evaluator) -> list[GoldenResult]:
    """Every golden case of the shipped pack, decided once for the whole session."""
    return run_golden(evaluator)


@pytest.fixture(scope="session")
def minipack() -> RulePack:
    return load_pack(MINIPACK)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """chipclear never phones home: any attempt to open a network connection fails a test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield
