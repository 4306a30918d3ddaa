"""``audit diff`` decides a case once only where both packs provably agree on it.

A differential test: for several kinds of pack change, the fast path (``impact`` with
``fast``) and the plain path (every case decided under both packs) must give the same
result for every generated case and byte-identical reports. The corpus is generated
afresh on every run (the seed is printed); its dates sit on and around every date the
packs change, so rule windows and parameter dates are crossed both ways.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chipclear.audit.agreement import Relation, same_ground
from chipclear.audit.impact import (
    Comparer,
    CorpusCase,
    PackSpec,
    audit_diff,
    render_report,
)
from chipclear.audit.timeline import change_points
from chipclear.model.case import Case
from chipclear.pack.loader import RulePack, default_rules_dir, load_pack

from bench.corpus import case as generated_case

TODAY = dt.date(2026, 11, 22)
N = 120


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


def _param(root: Path, pid: str) -> tuple[Path, Any, dict[str, Any]]:
    for path in sorted(root.glob("*/parameters.yaml")):
        data = _yaml(path)
        for param in data["parameters"]:
            if param["id"] == pid:
                return path, data, param
    raise AssertionError(f"no parameter {pid} in {root}")


def _rules(root: Path, module: str = "us") -> tuple[Path, Any]:
    path = root / module / "rules.yaml"
    return path, _yaml(path)


# --- pack changes ------------------------------------------------------------------------


def share_param(root: Path) -> None:
    """The bench's change: the Section 232 share raised by half (only a revenue share)."""
    path, data, param = _param(root, "us.s232_tariff_pct")
    param["values"][-1]["value"] *= 1.5
    _write(path, data)


def dated_share_param(root: Path) -> None:
    """A new, later value of the share: the packs differ only from that date."""
    path, data, param = _param(root, "us.s232_tariff_pct")
    last = param["values"][-1]
    param["values"].append({**last, "from": dt.date(2026, 2, 15), "value": 40})
    _write(path, data)


def threshold_param(root: Path) -> None:
    """A threshold a condition reads: the engine sees other values."""
    path, data, param = _param(root, "us.tpp_3a090a")
    param["values"][-1]["value"] *= 1.5
    _write(path, data)


def version_and_share(root: Path) -> None:
    """A version bump (never compared) together with the share change."""
    manifest = root / "pack.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("version: ", "version: 9", 1), encoding="utf-8")
    share_param(root)


def rule_removed(root: Path) -> None:
    """A rule that derives nothing disappears."""
    path, data = _rules(root)
    gone = next(r for r in data["rules"] if not (r.get("then") or {}).get("derive"))
    data["rules"].remove(gone)
    _write(path, data)


def rule_added(root: Path) -> None:
    """A copy of a blocking rule, under a new id, in force from a date inside the corpus."""
    path, data = _rules(root)
    model = next(r for r in data["rules"] if r["severity"] == "block"
                 and not (r.get("then") or {}).get("derive"))
    data["rules"].append({**model, "id": model["id"] + "-AGAIN",
                          "valid_from": dt.date(2025, 9, 1), "valid_to": None})
    _write(path, data)


def rule_dates(root: Path) -> None:
    """Every dated rule starts 100 days later (its window still valid)."""
    path, data = _rules(root)
    for rule in data["rules"]:
        start = rule["valid_from"] + dt.timedelta(days=100)
        if rule.get("valid_to") is None or start < rule["valid_to"]:
            rule["valid_from"] = start
    _write(path, data)


def rule_title(root: Path) -> None:
    """Only words change: the rule compiles alike but is not the same rule."""
    path, data = _rules(root)
    data["rules"][3]["title"]["en"] += " (reviewed)"
    _write(path, data)


def catalog_figure(root: Path) -> None:
    """The H20's 8-bit figures change: chips are read differently (prepared twice)."""
    path = root / "catalog" / "chips.yaml"
    data = _yaml(path)
    chip = next(c for c in data["chips"] if c["id"] == "nvidia-h20")
    for key in ("fp8", "int8"):
        chip["figures"]["dense_tflops"][key]["value"] *= 3
    _write(path, data)


def list_entry(root: Path) -> None:
    """A generated buyer's name joins the Entity List: screening differs."""
    path = root / "lists" / "entity_list.yaml"
    data = _yaml(path)
    data["entries"].append({"id": "hangzhou-inference", "name": "Hangzhou Inference Ltd.",
                            "since": dt.date(2025, 9, 1), "reference": "test",
                            "sources": data["entries"][0]["sources"]})
    _write(path, data)


CHANGES: dict[str, Callable[[Path], None]] = {f.__name__: f for f in (
    share_param, dated_share_param, threshold_param, version_and_share, rule_removed,
    rule_added, rule_dates, rule_title, catalog_figure, list_entry)}
#: Changes outside rules and parameters: the fast path must not apply at all.
OTHER_GROUND = {"catalog_figure", "list_entry"}


# --- the corpus --------------------------------------------------------------------------


def corpus(base: RulePack, head: RulePack, rng: random.Random) -> list[CorpusCase]:
    """Generated cases dated on, and a day either side of, every change of either pack;
    some undated (decided today), some before the pack's coverage, some naming a chip no
    catalog knows."""
    days = sorted({d + dt.timedelta(days=k) for p in (base, head) for d in change_points(p)
                   for k in (-1, 0, 1)})
    out = []
    for i in range(N):
        raw = generated_case(i, rng)
        roll = rng.random()
        if roll < 0.1:
            raw.pop("as_of")
        elif roll < 0.13:
            raw["as_of"] = "2021-05-01"
        else:
            raw["as_of"] = rng.choice(days).isoformat()
        if rng.random() < 0.03:
            raw["order"]["items"][0]["chip"] = "no-such-chip"
        out.append(CorpusCase(f"generated:{i + 1}", Case.model_validate(raw)))
    return out


@pytest.fixture(scope="module")
def seed() -> int:
    value = random.SystemRandom().randrange(2**32)
    print(f"corpus seed for {__name__}: {value}")
    return value


def packs(tmp_path: Path, change: Callable[[Path], None]) -> tuple[Path, Path]:
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(default_rules_dir(), base)
    shutil.copytree(default_rules_dir(), head)
    change(head)
    return base, head


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CHANGES))
def test_every_case_the_fast_path_skips_is_unchanged_and_the_rest_are_equal(
        tmp_path: Path, name: str, seed: int) -> None:
    base_dir, head_dir = packs(tmp_path, CHANGES[name])
    base, head = load_pack(base_dir), load_pack(head_dir)
    assert base.sha256 != head.sha256
    fast, plain = Comparer(base, head, TODAY), Comparer(base, head, TODAY, fast=False)
    assert fast.fast is (name not in OTHER_GROUND) is same_ground(base, head)
    cases = corpus(base, head, random.Random(f"{seed}-{name}"))
    proven = 0
    skipped: set[Relation] = set()  # how the packs related where a case was skipped
    for cc in cases:
        quick, full = fast(cc), plain(cc)
        assert full is not None
        if quick is None:
            proven += 1
            skipped.add(fast._agreement(cc.case.as_of or TODAY).relation)
            assert full.category == "unchanged", (cc.case.id, cc.case.as_of, seed)
            assert not (full.base.engine_failure or full.head.engine_failure)
        else:
            assert quick.to_data() == full.to_data(), (cc.case.id, seed)
            assert quick.base == full.base and quick.head == full.head
    relations = {fast._agreement(cc.case.as_of or TODAY).relation for cc in cases} \
        if fast.fast else set()
    if name in OTHER_GROUND:
        assert proven == 0
    else:
        assert proven > 0, "the fast path proved no case unchanged"
        assert Relation.same in relations
    assert Relation.different not in skipped
    if name in {"share_param", "dated_share_param", "version_and_share"}:
        assert Relation.share_only in skipped
    if name == "threshold_param":
        assert Relation.values in skipped
    if name in {"rule_added", "rule_removed", "rule_title"}:
        assert Relation.different in relations


@pytest.mark.parametrize("name", ["share_param", "rule_added", "threshold_param",
                                  "list_entry"])
def test_the_report_is_byte_identical_to_deciding_every_case_twice(
        tmp_path: Path, name: str, seed: int) -> None:
    base_dir, head_dir = packs(tmp_path, CHANGES[name])
    cases = corpus(load_pack(base_dir), load_pack(head_dir), random.Random(f"{seed}-{name}"))
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(cc.case.model_dump(mode="json", exclude_unset=True),
                                       ensure_ascii=False) + "\n" for cc in cases),
                    encoding="utf-8")
    reports = [audit_diff(PackSpec("base", base_dir), PackSpec("head", head_dir), [path],
                          TODAY, 0, fast) for fast in (True, False)]
    for fmt in ("table", "markdown", "json"):
        assert render_report(reports[0], fmt) == render_report(reports[1], fmt), (fmt, seed)
    assert reports[0].engine_failures == reports[1].engine_failures
    assert reports[0].totals["unchanged"] > 0


def test_worker_processes_take_the_fast_path_too(tmp_path: Path, seed: int) -> None:
    base_dir, head_dir = packs(tmp_path, share_param)
    base, head = load_pack(base_dir), load_pack(head_dir)
    cases = corpus(base, head, random.Random(f"{seed}-workers"))
    from chipclear.audit.impact import impact

    in_workers = impact(base, head, cases, TODAY, jobs=1, failures=[])
    plain = impact(base, head, cases, TODAY, jobs=0, failures=[], fast=False)
    assert [i.to_data() for i in in_workers[0]] == [i.to_data() for i in plain[0]]
    assert in_workers[1] == plain[1]
