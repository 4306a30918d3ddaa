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


@pytest.mark.parametrize(("text", "needle"), [
    ("a: !!int 0x10\n", "1:4: explicit tag '!!int' is not allowed"),
    ("a: !!int abc\n", "1:4: explicit tag '!!int' is not allowed"),
    ("a: !!null Huawei\n", "1:4: explicit tag '!!null' is not allowed"),
    ("a: !!binary aGk=\n", "1:4: explicit tag '!!binary' is not allowed"),
    ("a: !!bool yes\n", "1:4: explicit tag '!!bool' is not allowed"),
    ("a: !!str 12\n", "1:4: explicit tag '!!str' is not allowed"),
    ("a:\n  - !!set {x, y}\n", "2:5: explicit tag '!!set' is not allowed"),
    ("a: !!python/object/apply:os.system [x]\n",
     "1:4: explicit tag '!!python/object/apply:os.system' is not allowed"),
    ("a: !local x\n", "1:4: explicit tag '!local' is not allowed"),
    ("a: " + "7" * 4301 + "\n", "1:4: a number of 4,301 characters is out of range"),
    ("a: -" + "7" * 100 + "\n", "1:4: a number of 101 characters is out of range"),
])
def test_tags_and_absurd_numbers_are_one_line_errors(text: str, needle: str) -> None:
    """Each used to be a traceback (ValueError from int()) or a silent reinterpretation."""
    with pytest.raises(UserInputError) as err:
        loads(text, "t.yaml")
    assert err.value.line().startswith(f"t.yaml:{needle}"), err.value.line()
    assert "\n" not in err.value.line()


def test_plain_values_equal_to_their_tag_stay_allowed() -> None:
    """Only a tag that changes what the text says is refused; quoted text is text."""
    assert loads("a: '!!null x'\nb: \"12\"\nc: 12\nd: -1.5e3\n", "t.yaml") == {
        "a": "!!null x", "b": "12", "c": 12, "d": -1500.0}


def test_aliases_are_bounded() -> None:
    from chipclear.io.yamlload import MAX_ALIAS_NODES

    small = loads("a: &a {x: 1, y: [1, 2]}\nb: *a\nc: *a\n", "t.yaml")
    assert small["b"] == small["c"] == {"x": 1, "y": [1, 2]}
    levels = ["l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"] + [
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(UserInputError, match=f"repeat more than {MAX_ALIAS_NODES:,} values"):
        loads("\n".join(levels), "t.yaml")


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # no writer: a blocking open would wait forever
    with pytest.raises(UserInputError, match=r"not a regular file \(a named pipe\)"):
        load_file(fifo)
    with pytest.raises(UserInputError, match=r"not a regular file \(a device\)"):
        load_file(Path("/dev/zero"))
    with pytest.raises(UserInputError, match="is a directory"):
        load_file(tmp_path)
    dangling = tmp_path / "gone.yaml"
    dangling.symlink_to(tmp_path / "nowhere.yaml")
    with pytest.raises(UserInputError, match="the link points nowhere"):
        load_file(dangling)


def test_files_over_the_cap_are_refused_while_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" + "# pad\n" * 400_000, encoding="utf-8")
    with pytest.raises(UserInputError, match="files over 1 MB are refused"):
        load_file(big, limit=1024 * 1024)
    assert load_file(big, limit=4 * 1024 * 1024) == {"a": 1}


def test_undecodable_bytes_are_located(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("id: x\nbuyer: {name: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(UserInputError) as err:
        load_file(latin)
    assert err.value.line() == f"{latin}:2:18: not UTF-8 text (byte 23) (save the file as UTF-8)"
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"id: x\n\nab\x00c\n")
    with pytest.raises(UserInputError) as err:
        load_file(nul)
    assert err.value.line().startswith(f"{nul}:3:3: binary data")
