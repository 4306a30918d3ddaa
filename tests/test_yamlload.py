from __future__ import annotations

from pathlib import Path

import pytest
from chipclear.errors import UserInputError
from chipclear.io.yamlload import load_file, loads, locate


def test_yaml11_traps_stay_text() -> None:
    data = loads("country: NO\nflag: on\ncode: 0123\nwhen: 2025-01-01\nyes: yes\n", "f.yaml")
    assert data == {"country": "NO", "flag": "on", "code": "0123", "when": "2025-01-01",
                    "yes": "yes"}


def test_core_scalars_resolve() -> None:
    assert loads("a: true\nb: false\nc: null\nd: 12\ne: 1.5\nf: 1e3\n", "f.yaml") == {
        "a": True, "b": False, "c": None, "d": 12, "e": 1.5, "f": 1000.0}


def test_json_parses_with_positions() -> None:
    data = loads('{"a":1,\n "b": {"c": [1, 2]}}', "x.json")
    assert data == {"a": 1, "b": {"c": [1, 2]}}
    assert locate(data, ["b", "c"]) == (2, 13)
    assert locate(data, ["b", "c"], key=True) == (2, 8)


def test_duplicate_key_is_refused_with_position() -> None:
    with pytest.raises(UserInputError) as err:
        loads("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml")
    assert err.value.line().startswith("dup.yaml:4:3: duplicate key 'c'")


def test_malformed_yaml_names_line_and_column() -> None:
    with pytest.raises(UserInputError) as err:
        loads("a: [1, 2\nb: 3\n", "bad.yaml")
    assert err.value.line().startswith("bad.yaml:2:")
    assert "malformed YAML" in err.value.line()


def test_locate_falls_back_to_nearest_parent() -> None:
    data = loads("order:\n  items:\n    - chip: H200\n", "f.yaml")
    assert locate(data, ["order", "items", 0, "chip"]) == (3, 13)
    assert locate(data, ["order", "items", 5]) == (3, 5)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="file not found"):
        load_file(tmp_path / "nope.yaml")
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(UserInputError, match="binary data"):
        load_file(binary)
    latin = tmp_path / "y.yaml"
    latin.write_bytes("name: caf\xe9".encode("latin-1"))
    with pytest.raises(UserInputError, match="not UTF-8"):
        load_file(latin)
