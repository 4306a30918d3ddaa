"""Confined packs: a rule pack reads only regular files inside its own directory.

pack.yaml entries used to accept absolute paths and '..', so a pack (one read from a
git revision included) could read any file on the machine and its hash depended on
that machine; a symlink in a committed rules/ crashed `audit diff` with a tarfile error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chipclear.errors import RulePackError
from chipclear.pack.loader import load_pack

from tests.conftest import MINIPACK, ROOT


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(MINIPACK, target)
    return target


def set_entry(pack: Path, key: str, value: str) -> None:
    manifest = pack / "pack.yaml"
    lines = [ln for ln in manifest.read_text(encoding="utf-8").splitlines()
             if not ln.startswith(f"{key}:")]
    manifest.write_text("\n".join([*lines, f"{key}: {value}"]) + "\n", encoding="utf-8")


def refusal(pack: Path) -> str:
    with pytest.raises(RulePackError) as err:
        load_pack(pack)
    return err.value.line()


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_fixture_loads(pack: Path) -> None:
    assert load_pack(pack).catalog.chips


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("catalog", "/etc/passwd", "is not a relative path"),
    ("catalog", "../outside.yaml", "climbs out of the pack with '..'"),
    ("entity_list", "lists/../../x.yaml", "climbs out of the pack"),
    ("questions", "'C:\\\\x.yaml'", "is not a relative path"),
    ("modules", "[core, ../elsewhere]", "climbs out of the pack"),
])
def test_manifest_paths_are_relative_and_inside(pack: Path, key: str, value: str,
                                                problem: str) -> None:
    set_entry(pack, key, value)
    line = refusal(pack)
    assert problem in line and line.startswith(f"{pack / 'pack.yaml'}:"), line


def test_a_symlink_leading_out_of_the_pack_is_refused(pack: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    shutil.copy(pack / "catalog" / "chips.yaml", outside)
    (pack / "catalog" / "chips.yaml").unlink()
    (pack / "catalog" / "chips.yaml").symlink_to(outside)
    assert "leads outside the rule pack" in refusal(pack)


def test_a_module_directory_linked_from_elsewhere_is_refused(pack: Path, tmp_path: Path) -> None:
    shutil.move(pack / "core", tmp_path / "core")
    (pack / "core").symlink_to(tmp_path / "core")
    assert "leads outside the rule pack" in refusal(pack)


def test_a_link_inside_the_pack_is_followed(pack: Path) -> None:
    shutil.move(pack / "catalog" / "chips.yaml", pack / "catalog" / "real.yaml")
    (pack / "catalog" / "chips.yaml").symlink_to("real.yaml")
    assert load_pack(pack).catalog.chips


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_manifest_entry_must_name_a_regular_file(pack: Path, kind: str) -> None:
    target = pack / "lists" / "special"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    set_entry(pack, "entity_list", "lists/special")
    assert "is not a regular file" in refusal(pack)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    *args], check=True, capture_output=True)


@pytest.mark.parametrize("target", ["/etc/hostname", "../README", "core/rules.yaml"])
def test_a_symlink_in_a_committed_pack_is_one_line_and_exit_2(tmp_path: Path,
                                                               target: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(MINIPACK, repo / "rules")
    (repo / "rules" / "extra.yaml").symlink_to(target)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "a pack with a link")
    case = tmp_path / "case.yaml"
    case.write_text("id: a\nas_of: 2026-02-15\nbuyer: {country: CN}\n", encoding="utf-8")
    result = cli("audit", "diff", "--base", "HEAD", "--head", str(repo / "rules"),
                 "--cases", str(case), cwd=repo)
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("HEAD:rules/extra.yaml: a symbolic link in ")
    assert lines[0].endswith("(a rule pack holds regular files only)")
    assert "Traceback" not in result.stderr
