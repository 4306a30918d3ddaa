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


# --- streaming a cases: list --------------------------------------------------------------

STREAMED = [
    "cases:\n  - {id: a, n: 1}\n  - id: b\n    m: [1, 2.5, true, null, '007']\n",
    "cases: [{id: a}, {id: b}]\n",
    "cases:\n- &buyer {name: X, country: CN}\n- *buyer\n- {id: c, b: *buyer}\n",
    "cases: []\n",
    "id: single\nbuyer: {name: X}\n",
    "other: 1\ncases:\n  - {id: a}\n",
    "cases: {id: a}\n",
    "- just\n- a list\n",
    "",
    "# only a comment\n",
]


def _streamed(path: Path, limit: int | None = None) -> list[tuple[int | None, object]]:
    from chipclear.io.yamlload import stream_cases

    return list(stream_cases(path) if limit is None else stream_cases(path, limit))


@pytest.mark.parametrize("text", STREAMED)
def test_streamed_cases_equal_the_whole_parse_with_positions(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    whole = load_file(path)
    got = _streamed(path)
    if isinstance(whole, dict) and next(iter(whole), None) == "cases" \
            and isinstance(whole["cases"], list):  # streamed: one entry per item, in order
        assert [i for i, _ in got] == list(range(len(whole["cases"])))
        assert [v for _, v in got] == whole["cases"]
        for (_, value), original in zip(got, whole["cases"], strict=True):
            assert getattr(value, "mark", None) == getattr(original, "mark", None)
            assert getattr(value, "key_marks", None) == getattr(original, "key_marks", None)
    else:
        assert got == [(None, whole)]


@pytest.mark.parametrize("item", [
    "{id: a, id: b}", "{id: !!str 12}", "{id: [unclosed}", "{n: " + "7" * 200 + "}",
    "{a: !!python/object/apply:os.system [x]}", "*nowhere",
])
def test_streamed_errors_are_the_whole_parse_errors(tmp_path: Path, item: str) -> None:
    """A bad case further down is the same one-line error, after the cases before it."""
    path = tmp_path / "c.yaml"
    path.write_text(f"cases:\n  - {{id: ok}}\n  - {item}\n", encoding="utf-8")
    with pytest.raises(UserInputError) as whole:
        load_file(path)
    from chipclear.io.yamlload import stream_cases

    seen = []
    with pytest.raises(UserInputError) as streamed:
        for entry in stream_cases(path):
            seen.append(entry)
    # the same place and words (the Python composer also names an undefined alias)
    assert streamed.value.line().startswith(whole.value.line().split(" (")[0])
    assert seen == [(0, {"id": "ok"})]


def test_streamed_bytes_are_checked_like_a_whole_file(tmp_path: Path) -> None:
    for raw in ("cases:\n- {id: x}\n- {name: caf\xe9}\n".encode("latin-1"),
                b"cases:\n- {id: x}\n- {name: a\x00c}\n", b"cases:\n- {id: x}\n- {name: a\x07}\n",
                b"\xef\xbb\xbfcases:\n- {id: x}\n"):
        path = tmp_path / "c.yaml"
        path.write_bytes(raw)
        try:
            whole: object = load_file(path)
        except UserInputError as exc:
            whole = exc.line()
        try:
            streamed: object = _streamed(path)
        except UserInputError as exc:
            streamed = exc.line()
        if isinstance(whole, dict):
            assert streamed == list(enumerate(whole["cases"]))
        else:
            assert streamed == whole


def test_aliases_are_bounded_across_streamed_cases(tmp_path: Path) -> None:
    from chipclear.io.yamlload import MAX_ALIAS_NODES

    path = tmp_path / "c.yaml"
    block = "[" + ", ".join(["1"] * 999) + "]"
    items = [f"  - {{id: c0, big: &big {block}}}"] + [
        f"  - {{id: c{i}, big: *big}}" for i in range(1, MAX_ALIAS_NODES // 1000 + 2)]
    path.write_text("cases:\n" + "\n".join(items) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=f"repeat more than {MAX_ALIAS_NODES:,} values"):
        _streamed(path)
    path.write_text("cases:\n" + "\n".join(items[:50]) + "\n", encoding="utf-8")
    assert len(_streamed(path)) == 50


def test_the_cap_bounds_each_streamed_case_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    case = "  - {id: c%d, note: '" + "x" * 500 + "'}\n"
    path.write_text("cases:\n" + "".join(case % i for i in range(2000)), encoding="utf-8")
    assert path.stat().st_size > 1024 * 1024
    assert len(_streamed(path, limit=256 * 1024)) == 2000
    path.write_text("cases:\n" + case % 0 + "  - {id: big, note: '" + "y" * 400_000 + "'}\n",
                    encoding="utf-8")
    with pytest.raises(UserInputError,
                       match=r"c.yaml:2:\d+: case 1 of 'cases' \(from here\) is over 0 MB"):
        _streamed(path, limit=256 * 1024)
    path.write_text("id: one\nnote: '" + "y" * 400_000 + "'\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="YAML files over 0 MB are refused unless they hold"):
        _streamed(path, limit=256 * 1024)


def test_nothing_may_follow_a_streamed_list(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    for tail, message in (("other: 1\n", "3:1: unknown top-level key 'other' beside 'cases'"),
                          ("cases: []\n", "3:1: duplicate key 'cases'")):
        path.write_text("cases:\n- {id: a}\n" + tail, encoding="utf-8")
        seen = []
        with pytest.raises(UserInputError) as err:
            for entry in _streamed_iter(path):
                seen.append(entry)
        assert err.value.line().startswith(f"{path}:{message}")
        assert seen == [(0, {"id": "a"})]


def _streamed_iter(path: Path):  # type: ignore[no-untyped-def]
    from chipclear.io.yamlload import stream_cases

    return stream_cases(path)
