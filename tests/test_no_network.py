"""chipclear never phones home: evaluate, the interview and audit run with no network.

A product that checks chips for telemetry must not have any itself. Every way out of
the process (connect, DNS, datagrams) is replaced by a recorder that refuses; the test
then runs the real commands and asserts that nothing even tried. Worker processes are
checked too, through a ``sitecustomize`` that installs the same guard in every child.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chipclear.pack.loader import RulePack
from chipclear.tui.cli.main import full_app
from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.test_tui import drive, example_answers, make_app

GUARD = '''
import socket

def _refuse(*args, **kwargs):
    with open({log!r}, "a", encoding="utf-8") as log:
        log.write(repr(args[1:] if args else kwargs) + "\\n")
    raise OSError("network access refused by the chipclear test guard")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.socket.sendto = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every attempt to reach the network, recorded and refused."""
    seen: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[1:] if args else kwargs)
        raise OSError("network access refused by the test")

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return seen


def test_evaluate_audit_and_ledger_in_process(attempts: list[Any], tmp_path: Path) -> None:
    runner = CliRunner()
    ledger = tmp_path / "ledger.sqlite"
    head = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", head)
    commands = [
        ["evaluate", str(ROOT / "examples" / "cases"), "--format", "json",
         "--ledger", str(ledger)],
        ["audit", "timeline", str(ROOT / "examples" / "cases" / "h200-platform-2026.yaml")],
        ["audit", "diff", "--base", str(ROOT / "rules"), "--head", str(head),
         "--cases", str(ROOT / "examples" / "cases")],
        ["ledger", "verify", str(ledger)],
        ["ledger", "replay", str(ledger), "1"],
    ]
    for args in commands:
        result = runner.invoke(full_app(), args)
        assert result.exit_code in (0, 1), (args, result.output, result.exception)
    assert attempts == []


async def test_headless_interview(attempts: list[Any], pack: RulePack, tmp_path: Path) -> None:
    as_of, answers = example_answers("h200-platform-2026.yaml")
    interview_app = make_app(pack, tmp_path / "case.yaml", as_of)
    async with interview_app.run_test(size=(100, 40)) as pilot:
        asked = await drive(pilot, answers)
    assert asked  # the interview really ran
    assert interview_app.interview.decision.verdict.value == "go_with_conditions"
    assert attempts == []


def test_worker_processes_stay_offline(tmp_path: Path) -> None:
    log = tmp_path / "attempts.log"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GUARD.format(log=str(log)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.getaddrinfo('x', 1)"],
                           env=env, capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and log.read_text(encoding="utf-8")  # the guard works
    log.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "chipclear", "evaluate", str(ROOT / "examples" / "cases"),
         "--format", "jsonl", "--jobs", "2"],
        env=env, capture_output=True, text=True, check=False, cwd=tmp_path, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    assert len(result.stdout.splitlines()) >= 5
    assert not log.exists(), log.read_text(encoding="utf-8")
