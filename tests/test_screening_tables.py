"""Folding tables that travel with a cached pack fold exactly as freshly built ones."""

from __future__ import annotations

import pickle
import sys

from chipclear.screening import normalise
from confusable_homoglyphs import categories

NAMES = [
    "Huаwei Technologies Co., Ltd.",  # Cyrillic а
    "S0phgo Technologies",
    "華為技術有限公司",  # traditional
    "Ｂｉｒｅｎ Ｔｅｃｈ",  # full width
    "Zhipu\u200bAI",
    "Ωmega Στοιχεία Ltd",
    "Crème Brûlée Holdings (Beijing)",
]


def test_the_script_table_agrees_with_the_unicode_scripts_data() -> None:
    """``mixed_script`` asks only Latin, Cyrillic or Greek: the table answers exactly as
    confusable-homoglyphs' lookup does for every non-ASCII letter."""
    table = normalise._script_table()
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if not char.isalpha():
            continue
        script = categories.alias(char)
        expected = script if script in normalise._MIXED_SCRIPTS else "OTHER"
        assert table.get(code, "OTHER") == expected, (hex(code), script)


def test_folding_with_given_tables_is_folding_with_built_ones() -> None:
    before = [normalise.fold(name) for name in NAMES]
    assert any(f.mixed_script for f in before)
    given = pickle.loads(pickle.dumps(normalise.tables()))
    try:
        normalise.use_tables(given)
        assert normalise._skeleton_map() is given.skeleton  # served, not rebuilt
        after = [normalise.fold(name) for name in NAMES]
    finally:
        normalise._given = None
        for cached in (normalise.vocabulary, normalise._skeleton_map,
                       normalise._pre_skeleton_map, normalise._script_table,
                       normalise._script, normalise.fold):
            cached.cache_clear()
    assert [(f.core, f.skeleton, f.mixed_script) for f in after] == \
        [(f.core, f.skeleton, f.mixed_script) for f in before]


def test_the_shipped_data_tables_read_the_same_with_libyaml() -> None:
    """labels.yaml and vocabulary.yaml are read with libyaml's safe loader when PyYAML has
    it: each must mean exactly what the pure-Python safe loader reads."""
    from importlib.resources import files

    import yaml

    for package, name in (("chipclear.io", "labels.yaml"),
                          ("chipclear.screening", "vocabulary.yaml")):
        text = files(package).joinpath(name).read_text(encoding="utf-8")
        fast = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        assert fast == yaml.load(text, Loader=yaml.SafeLoader), name
