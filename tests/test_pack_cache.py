"""The validated-pack cache: a hit only when nothing the pack depends on changed, and
anything unexpected in the cache (corrupt, foreign, too open) ignored, never trusted."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from chipclear.errors import RulePackError
from chipclear.pack import cache as pack_cache
from chipclear.pack import loader
from chipclear.pack.loader import RulePack, load_pack

from tests.conftest import MINIPACK


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("CHIPCLEAR_NO_CACHE", raising=False)
    return home / "chipclear"


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MINIPACK, tmp_path / "pack"))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Every time the pack is read from its YAML files (a cache miss)."""
    seen: list[Path] = []
    real = loader._load

    def spy(root: Path) -> RulePack:
        seen.append(root)
        return real(root)

    monkeypatch.setattr(loader, "_load", spy)
    yield seen


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("pack-*.pickle"))


def _same(a: RulePack, b: RulePack) -> None:
    assert a.sha256 == b.sha256
    assert a.files == b.files
    assert [r.rule for r in a.rules] == [r.rule for r in b.rules]
    assert a.parameters == b.parameters and a.sources == b.sources
    assert vars(a.catalog) == vars(b.catalog) and a.questions == b.questions
    assert a.entity_list == b.entity_list and a.approved_customers == b.approved_customers


def test_second_load_comes_from_the_cache_and_equals_a_fresh_load(
        cache_home: Path, pack_dir: Path, reads: list[Path]) -> None:
    first = load_pack(pack_dir, cache=True)
    second = load_pack(pack_dir, cache=True)
    assert reads == [pack_dir]  # read once; the second came from the cache
    _same(second, load_pack(pack_dir))
    _same(first, second)
    assert "index" in second.entity_list.__dict__  # screening indexes come built


def test_cache_files_are_private(cache_home: Path, pack_dir: Path) -> None:
    load_pack(pack_dir, cache=True)
    (written,) = _files(cache_home)
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert not list(cache_home.glob(".pack-*"))  # no temporary file left behind


@pytest.mark.parametrize("edit", ["same_size", "longer", "new_file", "removed_file"])
def test_a_changed_pack_never_hits_a_stale_cache(
        cache_home: Path, pack_dir: Path, reads: list[Path], edit: str) -> None:
    params = pack_dir / "core" / "parameters.yaml"
    before = load_pack(pack_dir, cache=True)
    stamp = params.stat()
    if edit == "same_size":  # same length, same modification time: only the bytes differ
        params.write_text(params.read_text().replace("value: 4800", "value: 4801"))
        os.utime(params, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        assert params.stat().st_size == stamp.st_size
    elif edit == "longer":
        params.write_text(params.read_text().replace("value: 4800", "value: 48000"))
    elif edit == "new_file":  # a second sources.yaml joins the pack's source ids
        (pack_dir / "extra").mkdir()
        (pack_dir / "extra" / "sources.yaml").write_text("sources: []\n")
    else:
        (pack_dir / "official_domains.yaml").unlink()
    try:
        fresh = load_pack(pack_dir)
    except RulePackError as exc:  # the edit broke the pack: the cache must say the same
        with pytest.raises(RulePackError) as cached_error:
            load_pack(pack_dir, cache=True)
        assert cached_error.value.line() == exc.line()
        return
    after = load_pack(pack_dir, cache=True)
    assert len(reads) == 3  # first load, the fresh one, and the cached call read again
    _same(after, fresh)
    if edit in ("same_size", "longer"):
        assert after.sha256 != before.sha256
        value = after.parameters["us.tpp_a"].values[0].value
        assert value == (4801 if edit == "same_size" else 48000)


def test_a_broken_pack_is_never_cached(cache_home: Path, pack_dir: Path) -> None:
    rules = pack_dir / "core" / "rules.yaml"
    rules.write_text(rules.read_text() + "\n  - not a rule\n")
    with pytest.raises(RulePackError) as plain:
        load_pack(pack_dir)
    with pytest.raises(RulePackError) as cached:
        load_pack(pack_dir, cache=True)
    assert cached.value.line() == plain.value.line()
    assert _files(cache_home) == []


@pytest.mark.parametrize("damage", ["flipped_byte", "truncated", "empty", "not_a_pack",
                                    "other_tree"])
def test_a_damaged_cache_file_is_ignored(
        cache_home: Path, pack_dir: Path, reads: list[Path], damage: str) -> None:
    load_pack(pack_dir, cache=True)
    (path,) = _files(cache_home)
    data = bytearray(path.read_bytes())
    head = len(pack_cache._MAGIC)
    if damage == "flipped_byte":  # inside a pickled string: would still unpickle
        at = data.index(b"us.tpp_a", head + 64)
        data[at] ^= 0x01
    elif damage == "truncated":
        del data[len(data) // 2:]
    elif damage == "empty":
        data = bytearray()
    elif damage == "not_a_pack":  # a well-formed file of the right tree, but no pack
        payload = pickle.dumps({"not": "a pack"})
        import hashlib

        data = bytearray(data[:head + 32] + hashlib.sha256(payload).digest() + payload)
    else:  # a file for another version of the pack's files
        data[head] ^= 0xFF
    path.write_bytes(bytes(data))
    again = load_pack(pack_dir, cache=True)
    assert len(reads) == 2  # the damaged file was not used: the pack was read again
    _same(again, load_pack(pack_dir))
    assert load_pack(pack_dir, cache=True).sha256 == again.sha256  # and the cache rewritten
    assert len(reads) == 3  # the fresh load above; the rewritten cache served the last


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")
@pytest.mark.parametrize("opened", ["file_group_writable", "file_world_writable",
                                    "dir_world_writable", "file_is_a_link"])
def test_a_cache_others_could_write_is_never_loaded(
        cache_home: Path, pack_dir: Path, reads: list[Path], opened: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    load_pack(pack_dir, cache=True)
    (path,) = _files(cache_home)
    if opened == "file_group_writable":
        path.chmod(0o620)
    elif opened == "file_world_writable":
        path.chmod(0o602)
    elif opened == "dir_world_writable":
        cache_home.chmod(0o777)
    else:
        real = path.with_name("elsewhere")
        path.rename(real)
        path.symlink_to(real)
    unpickled: list[bytes] = []
    real_loads = pickle.loads

    def loads(data: bytes) -> object:
        unpickled.append(data)
        return real_loads(data)

    monkeypatch.setattr(pickle, "loads", loads)
    load_pack(pack_dir, cache=True)
    assert unpickled == []  # never unpickled
    assert len(reads) == 2


def test_the_cache_can_be_turned_off(cache_home: Path, pack_dir: Path, reads: list[Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCLEAR_NO_CACHE", "1")
    load_pack(pack_dir, cache=True)
    load_pack(pack_dir, cache=True)
    assert len(reads) == 2
    assert not cache_home.exists()


def test_the_imported_list_is_never_cached(cache_home: Path, pack_dir: Path,
                                           tmp_path: Path) -> None:
    load_pack(pack_dir, cache=True, lists_dir=tmp_path / "no-lists")
    cached = load_pack(pack_dir, cache=True, lists_dir=tmp_path / "no-lists")
    assert cached.imported_list is None
    (path,) = _files(cache_home)
    assert b"ImportedList" not in path.read_bytes()


def test_old_cache_files_are_pruned(cache_home: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_cache, "KEEP", 2)
    for n in range(4):  # four directories, four cache files written
        load_pack(Path(shutil.copytree(MINIPACK, tmp_path / f"copy{n}")), cache=True)
    assert len(_files(cache_home)) == 2


def test_no_test_writes_the_users_cache() -> None:
    """The suite's own guard (tests/conftest.py) holds for every test and subprocess."""
    home = Path.home() / ".cache"
    assert os.environ["XDG_CACHE_HOME"] != str(home)
    assert not pack_cache.cache_dir().is_relative_to(home)


def test_the_command_line_uses_the_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "home-cache")}
    env.pop("CHIPCLEAR_NO_CACHE", None)
    case = Path(__file__).resolve().parent.parent / "examples" / "cases" / \
        "h200-platform-2026.yaml"
    runs = [subprocess.run([sys.executable, "-m", "chipclear", "evaluate", str(case),
                            "--format", "json", "--rules", str(MINIPACK)],
                           capture_output=True, env=env, check=False) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and runs[0].returncode == runs[1].returncode
    assert len(_files(tmp_path / "home-cache" / "chipclear")) == 1


def test_a_relative_cache_home_is_ignored(tmp_path: Path, pack_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG: a relative $XDG_CACHE_HOME is ignored (~/.cache instead), never made in cwd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHIPCLEAR_NO_CACHE", raising=False)
    load_pack(pack_dir, cache=True)
    assert not (tmp_path / "relative-cache").exists()
    assert len(_files(tmp_path / "home" / ".cache" / "chipclear")) == 1


def test_a_huge_pack_directory_is_not_hashed_every_run(
        cache_home: Path, pack_dir: Path, reads: list[Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_cache, "MAX_TREE_BYTES", 1000)
    _same(load_pack(pack_dir, cache=True), load_pack(pack_dir))
    load_pack(pack_dir, cache=True)
    assert len(reads) == 3 and _files(cache_home) == []


def test_no_pack_here_is_the_loaders_error(cache_home: Path, tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match=r"pack\.yaml missing"):
        load_pack(tmp_path, cache=True)
    assert _files(cache_home) == []
