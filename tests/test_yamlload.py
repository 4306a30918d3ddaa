from __future__ import annotations

import re
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
    "{id: a, id: b}", "{id: !!str 12}", "{n: " + "7" * 200 + "}",
    "{a: !!python/object/apply:os.system [x]}", "{n: ._}",
])
def test_a_refused_value_refuses_its_case_only(tmp_path: Path, item: str) -> None:
    """A case whose value is refused (not its syntax) is that case's one-line error, with
    the words and place of the whole parse, and the cases after it are still read."""
    path = tmp_path / "c.yaml"
    path.write_text(f"cases:\n  - {{id: ok}}\n  - {item}\n  - {{id: after}}\n",
                    encoding="utf-8")
    with pytest.raises(UserInputError) as whole:
        load_file(path)
    got = _streamed(path)
    assert [i for i, _ in got] == [0, 1, 2]
    assert got[0][1] == {"id": "ok"} and got[2][1] == {"id": "after"}
    refused = got[1][1]
    assert isinstance(refused, UserInputError)
    assert refused.line() == whole.value.line()
    assert refused.line().startswith(f"{path}:3:")


@pytest.mark.parametrize("item", ["{id: [unclosed}", "*nowhere", "{id: &a x, b: &a y}"])
def test_a_syntax_error_ends_the_streamed_file(tmp_path: Path, item: str) -> None:
    """A syntax error (or an anchor problem) stops the file: what follows cannot be
    trusted to be the cases the author meant; the cases before it were read."""
    path = tmp_path / "c.yaml"
    path.write_text(f"cases:\n  - {{id: ok}}\n  - {item}\n  - {{id: after}}\n",
                    encoding="utf-8")
    with pytest.raises(UserInputError) as whole:
        load_file(path)
    from chipclear.io.yamlload import stream_cases

    seen = []
    with pytest.raises(UserInputError) as streamed:
        for entry in stream_cases(path):
            seen.append(entry)
    assert streamed.value.line() == whole.value.line()
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
    got = _streamed(path)
    # each alias repeats 1,000 values: past the bound, every case that repeats is refused
    refused = [i for i, value in got if isinstance(value, UserInputError)]
    assert refused == [len(items) - 1]
    assert f"repeat more than {MAX_ALIAS_NODES:,} values" in str(got[-1][1])
    assert all(isinstance(value, dict) for _, value in got[:-1])
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


# --- differential: the event builder against the loader it replaced ----------------------

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests import reference_yamlload as reference  # noqa: E402
from tests.fresh_seed import GENERATION_CHECKS, fresh_seed  # noqa: E402

#: Scalars where YAML 1.1, 1.2 and our refusals differ, and plain text.
TRICKY = ["yes", "no", "NO", "on", "off", "y", "0x1F", "0o17", "012", "0123", "1_000",
          "-0", "+5", "1e3", "1E-3", ".5", "-.5", "._", "1.", "1._", ".inf", "-.inf", ".nan",
          "~", "null", "Null", "NULL", "", "true", "True", "TRUE", "false", "FaLsE",
          "2025-01-31", "12:30", "'q'", '"d\\u00e9"', "'it''s'", "\"\"", "é", "中文",
          "1" * 101, "-" + "2" * 100, "a b", "x#y", "|", "!!str 1", "!foo bar", "! 12",
          "!!null x", "!!python/name:os.system", "&a 1", "*a", "*b", "&b [1, 2]"]


@st.composite
def _scalar(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(TRICKY))
    return draw(st.text(alphabet="abcXYZ019_-. é", min_size=1, max_size=6)).strip() or "w"


@st.composite
def _block(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    """Lines of a block mapping or sequence at ``indent``, values inline or nested."""
    pad = " " * indent
    as_map = draw(st.booleans())
    keys = draw(st.lists(st.sampled_from(["id", "a", "b", "no", "1", "x y", "'a'", "? k"]),
                         min_size=1, max_size=4))
    lines = []
    for key in keys:
        head = f"{pad}{key}:" if as_map else f"{pad}-"
        if key == "? k" and as_map:
            head = f"{pad}? k\n{pad}:"
        nested = depth < 3 and draw(st.integers(0, 3)) == 0
        if nested:
            anchor = draw(st.sampled_from(["", "", "", " &a", " &b", " !!map"]))
            lines.append(head + anchor)
            lines.extend(draw(_block(indent + 2, depth + 1)))
        elif draw(st.integers(0, 4)) == 0:
            lines.append(f"{head} {draw(_flow(depth))}")
        else:
            lines.append(f"{head} {draw(_scalar())}")
        if draw(st.integers(0, 8)) == 0:
            lines.append(f"{pad}# a comment")
    return lines


@st.composite
def _flow(draw: st.DrawFn, depth: int) -> str:
    items = draw(st.lists(_scalar(), max_size=3))
    if depth < 3 and draw(st.integers(0, 3)) == 0:
        items.append(draw(_flow(depth + 1)))
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(["id", "a", "b", "n"]), min_size=len(items),
                             max_size=len(items)))
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items, strict=True)) + "}"
    return "[" + ", ".join(items) + "]"


@st.composite
def _document(draw: st.DrawFn) -> str:
    """A YAML text: usually a ``cases:`` list (block or flow items), sometimes anything,
    sometimes with a character inserted or removed (syntax errors)."""
    shape = draw(st.integers(0, 5))
    if shape == 0:
        text = "\n".join(draw(_block(0, 0))) + "\n"
    elif shape == 1:
        text = draw(_flow(0)) + "\n"
    else:
        indent = draw(st.sampled_from([0, 2]))
        items = []
        for _ in range(draw(st.integers(0, 5))):
            if draw(st.integers(0, 3)) == 0:
                items.append(" " * indent + "- " + draw(st.one_of(_flow(1), _scalar())))
            else:
                lines = draw(_block(indent + 2, 1))
                items.append(" " * indent + "- " + lines[0].lstrip() + "".join(
                    "\n" + line for line in lines[1:]))
        text = "cases:\n" + "".join(item + "\n" for item in items)
        if draw(st.integers(0, 6)) == 0:
            text += draw(st.sampled_from(["other: 1\n", "cases: []\n", "---\na: 1\n"]))
    if draw(st.integers(0, 5)) == 0 and text:
        at = draw(st.integers(0, len(text) - 1))
        if draw(st.booleans()):
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + draw(st.sampled_from(list(":-[]{}#&*!|>'\"\t ,?"))) + text[at:]
    return text


def _shape(value: object) -> object:
    """A value with every position in it, comparable across the two loaders' classes."""
    if isinstance(value, dict):
        return ("map", getattr(value, "mark", None), dict(getattr(value, "key_marks", {})),
                dict(getattr(value, "value_marks", {})),
                [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", getattr(value, "mark", None), list(getattr(value, "item_marks", [])),
                [_shape(v) for v in value])
    if isinstance(value, UserInputError):
        return ("error", value.line())
    return (type(value).__name__, value)


def _outcome(load: object) -> object:
    try:
        return _shape(load() if callable(load) else load)
    except UserInputError as exc:
        return ("error", exc.line())
    except ValueError as exc:  # the old loader's crash on '._' (float('.'))
        return ("crash", str(exc))


def _same(new: object, old: object) -> bool:
    if new == old:
        return True
    if isinstance(old, tuple) and old[0] == "crash":  # now a one-line error instead
        return isinstance(new, tuple) and new[0] == "error" and "is not a number" in str(new)
    if isinstance(new, tuple) and isinstance(old, tuple) and new[0] == old[0] == "error":
        # libyaml's composer did not name an undefined alias; ours does
        return re.sub(r"found undefined alias '[^']*'", "found undefined alias",
                      str(new[1])) == old[1]
    return False


def _streamed_outcome(path: Path, split: bool = False) -> list[object]:
    from chipclear.io.yamlload import RawItem, load_item, stream_cases

    out: list[object] = []
    try:
        for index, value in stream_cases(path, split=split):
            if isinstance(value, RawItem):
                try:
                    value = load_item(value, str(path))
                except UserInputError as exc:
                    value = exc
            out.append((index, _shape(value)))
    except UserInputError as exc:
        out.append(("error", exc.line()))
    return out


@fresh_seed
@settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)
@given(text=_document())
@example(text="cases:\n- - &a\n    - []\n- - 0\n  - &a\n    - [|, []]\n")  # anchor, then syntax
@example(text="cases:\n- - 0\n- \n- [[[]]]\nother: 1\n")  # an empty item
def test_the_builder_loads_what_the_old_loader_loaded(tmp_path_factory: pytest.TempPathFactory,
                                                      text: str) -> None:
    """On generated documents (YAML 1.1 traps, tags, anchors, duplicate keys, long
    numbers, block and flow style, random syntax errors): the same values and positions,
    or the same one-line error, as the PyYAML-composer loader it replaced; streamed,
    the same cases and errors in order, where a refused value now refuses only its
    case; cut into items for workers, exactly what the streamed reading gives."""
    assert _same(_outcome(lambda: loads(text, "f.yaml")),
                 _outcome(lambda: reference.loads(text, "f.yaml"))), text
    path = tmp_path_factory.mktemp("diff") / "c.yaml"
    path.write_text(text, encoding="utf-8")
    new = _streamed_outcome(path)
    old: list[object] = []
    try:
        for index, value in reference.stream_cases(path):
            old.append((index, _shape(value)))
    except UserInputError as exc:
        old.append(("error", exc.line()))
    except ValueError as exc:
        old.append(("crash", str(exc)))
    # the old reading stopped at a refused value; the new one refuses that case and
    # goes on: equal up to there, and the refusal in the same words
    for position, (got, was) in enumerate(zip(new, old, strict=False)):
        if isinstance(got, tuple) and isinstance(got[1], tuple) and got[1][0] == "error" \
                and got[0] != "error":
            assert _same(("error", got[1][1]), was), (text, got, was)
            break
        assert _same(got, was) if got[0] == "error" else got == was, (text, position)
    else:
        assert len(new) == len(old), text
    assert _streamed_outcome(path, split=True) == new, text


def test_cases_cut_for_workers_across_read_chunks(tmp_path: Path) -> None:
    """Cases cut out of a file many read chunks long (non-ASCII text, so characters and
    bytes differ; items of both block and flow style; an anchored case built here) parse
    in a worker to exactly the streamed values and positions."""
    from chipclear.io.yamlload import RawItem, load_item, stream_cases

    items = []
    for i in range(3000):
        if i % 7 == 0:
            items.append(f"  - {{id: c{i}, name: '北京 é {i}', n: {i}.5}}\n")
        else:
            items.append(f"  - id: c{i}\n    buyer:\n      name: 中文 Société {i}\n"
                         f"      # a comment\n    order: {{items: [{{chip: H{i}}}]}}\n")
    items[1500] = "  - id: anchored\n    buyer: &b {name: x}\n"
    items[1501] = "  - {id: aliased, buyer: *b}\n"
    path = tmp_path / "big.yaml"
    path.write_text("\ufeffcases:\n" + "".join(items), encoding="utf-8")
    assert path.stat().st_size > 4 * 64 * 1024
    whole = [(i, _shape(v)) for i, v in stream_cases(path)]
    cut = list(stream_cases(path, split=True))
    assert sum(isinstance(v, RawItem) for _, v in cut) == 2998
    rebuilt = [(i, _shape(load_item(v, str(path)) if isinstance(v, RawItem) else v))
               for i, v in cut]
    assert rebuilt == whole
    assert cut[9][1].case_id == "c9"
