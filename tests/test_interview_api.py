"""The headless interview: which question comes next, validation, autosave and resume.

Behaviour is pinned on a small fixture pack (``tests/fixtures/interviewpack``); the
examples test runs the shipped pack, replaying each example case as a user would.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from chipclear.decide.evaluate import Evaluator
from chipclear.interview.casefile import CaseFileError as InterviewFileError
from chipclear.interview.paths import get_path, parse_path, set_path, unset_path
from chipclear.interview.session import UNKNOWN, Interview
from chipclear.io.caseio import read_file
from chipclear.model.case import Case
from chipclear.model.decision import Verdict
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY
from chipclear.pack.loader import RulePack, load_pack

from tests.conftest import ROOT

IPACK = Path(__file__).resolve().parent / "fixtures" / "interviewpack"
EXAMPLES = ROOT / "examples" / "cases"


@pytest.fixture(scope="module")
def ipack() -> RulePack:
    return load_pack(IPACK)


def new(pack: RulePack, path: Path | None = None, **data: Any) -> Interview:
    return Interview(pack, {"id": "t", "as_of": "2026-02-15", **data}, path)


H200 = [{"chip": "H200", "quantity": "1,000", "unit_price_usd": "32k"}]


def replay(iv: Interview, answers: dict[str, Any], limit: int = 60) -> list[str]:
    """Answer every question the interview asks from ``answers`` ("don't know" otherwise)."""
    asked: list[str] = []
    for _ in range(limit):
        q = iv.next_question()
        if q is None:
            return asked
        asked.append(q.fact)
        errors = iv.answer(q.fact, answers.get(q.fact, UNKNOWN))
        assert errors == [], (q.fact, errors)
    raise AssertionError(f"interview did not finish: {asked}")


def test_paths_round_trip() -> None:
    assert parse_path("order.items[2].spec.die_area_mm2") == [
        "order", "items", 2, "spec", "die_area_mm2"]
    data: dict[str, Any] = {"order": {"items": [{"chip": "H200"}]}}
    set_path(data, "order.items[0].quantity", 3)
    set_path(data, "buyer.country", "CN")
    assert get_path(data, "order.items[0].quantity") == 3
    unset_path(data, "buyer.country")
    assert "buyer" not in data  # no empty mappings left behind
    with pytest.raises(ValueError):
        set_path(data, "order.items[5].quantity", 1)


def test_items_then_country_come_first_and_block_rules_lead(ipack: RulePack) -> None:
    iv = new(ipack)
    assert iv.decision.verdict is Verdict.needs_information
    first = iv.next_question()
    assert first is not None and first.fact == "order.items"
    assert first.blocking and "US-BLACKWELL" in first.rules
    assert iv.answer("order.items", H200) == []
    second = iv.next_question()
    assert second is not None and second.fact == "buyer.country"
    assert "US-PD" in second.rules and second.sources
    assert "Presumption of denial" in second.why.en and "推定拒绝" in second.why.zh


def test_typed_text_is_understood(ipack: RulePack) -> None:
    iv = new(ipack)
    assert iv.answer("order.items", H200) == []
    assert iv.data["order"]["items"][0] == {
        "chip": "nvidia-h200-sxm", "quantity": 1000, "unit_price_usd": 32000}
    assert iv.answer("buyer.country", "China") == []
    assert iv.data["buyer"]["country"] == "CN"
    assert iv.answer("buyer.us_approved_customer", "是") == []
    assert iv.data["buyer"]["us_approved_customer"] is True


@pytest.mark.parametrize(("fact", "value", "needle"), [
    ("order.items[0].quantity", "0", "is too small (use at least 1)"),
    ("order.items[0].quantity", "many", "not a number"),
    ("order.items", [{"chip": "H2O0", "quantity": 1}], "did you mean"),
    ("order.items", [{"custom": True, "chip": "X1"}], "custom: true needs a spec"),
    ("buyer.country", "Atlantis", "two-letter"),
    ("buyer.kind", "pirate", "not one of"),
    ("as_of", "15/02/2026", "not a date"),
    ("buyer.us_approved_customer", "perhaps", "yes, no"),
])
def test_invalid_answer_is_rejected_and_previous_value_kept(
        ipack: RulePack, fact: str, value: Any, needle: str) -> None:
    iv = new(ipack, order={"items": [{"chip": "H200", "quantity": 8}]},
             buyer={"country": "CN", "kind": "startup", "us_approved_customer": True})
    before = (json.dumps(iv.data), iv.decision.model_dump_json())
    errors = iv.answer(fact, value)
    assert errors and needle in errors[0]
    assert (json.dumps(iv.data), iv.decision.model_dump_json()) == before


def test_contradiction_is_an_error(ipack: RulePack) -> None:
    iv = new(ipack, buyer={"kind": "state_owned_enterprise"})
    errors = iv.answer("buyer.state_owned", "no")
    assert errors and "state_owned" in errors[0]


def test_blackwell_stops_after_two_questions(ipack: RulePack) -> None:
    iv = new(ipack)
    asked = replay(iv, {"order.items": [{"chip": "B200", "quantity": 8}],
                        "buyer.country": "CN"})
    assert asked == ["order.items", "buyer.country"]
    assert iv.decision.verdict is Verdict.no_go
    assert iv.decision.missing == []


def test_dont_know_is_not_asked_again_and_leaves_needs_information(ipack: RulePack) -> None:
    iv = new(ipack)
    asked = replay(iv, {"order.items": H200, "buyer.country": "CN", "order.ship_from": "US",
                        "buyer.us_approved_customer": True, "buyer.kind": "startup",
                        "use.workload.min_memory_gb": 141})
    assert "evidence.necessity_justification" in asked
    assert len(asked) == len(set(asked))
    assert iv.decision.verdict is Verdict.needs_information
    assert iv.open_facts() == ["evidence.necessity_justification"]
    assert iv.next_question() is None
    # "Don't know" is data in the case: the case model (and so batch) reads it back.
    assert any(a.unknown for a in iv.answers())
    assert Case.model_validate(iv.data).unknown == sorted(iv.unknown)
    assert "evidence.necessity_justification" in iv.data["unknown"]


def test_save_is_a_valid_case_file_and_resume_continues(ipack: RulePack,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    answers = {"order.items": H200, "buyer.country": "CN", "order.ship_from": "US",
               "buyer.us_approved_customer": "yes", "buyer.kind": "internet_platform",
               "evidence.necessity_justification": "FP8 training at 141 GB",
               "use.workload.min_memory_gb": 141}
    whole = new(ipack)
    replay(whole, answers)
    assert whole.decision.verdict is Verdict.go_with_conditions

    first = new(ipack, path)
    for _ in range(3):  # answer three questions, then "kill" the interview
        q = first.next_question()
        assert q is not None
        assert first.answer(q.fact, answers.get(q.fact, UNKNOWN)) == []
    del first
    entries = list(read_file(path))
    assert len(entries) == 1 and entries[0].error is None
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(raw) == [k for k in Case.model_fields if k in raw]  # model order
    assert "null" not in path.read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files

    resumed = Interview.open(ipack, path)
    replay(resumed, answers)
    assert resumed.decision.verdict is whole.decision.verdict
    assert resumed.decision.model_dump(exclude={"case_id"}) == \
        whole.decision.model_dump(exclude={"case_id"})


def test_answers_that_no_longer_matter_are_kept_but_marked(ipack: RulePack) -> None:
    iv = new(ipack)
    replay(iv, {"order.items": H200, "buyer.country": "CN", "order.ship_from": "US",
                "buyer.us_approved_customer": True, "buyer.kind": "startup",
                "evidence.necessity_justification": "FP8",
                "use.workload.min_memory_gb": 141})
    relevant = {a.fact: a.relevant for a in iv.answers()}
    assert relevant["order.ship_from"] and relevant["buyer.us_approved_customer"]
    # Now the order is a domestic chip: the US licence questions stop mattering.
    assert iv.answer("order.items[0].chip", "Ascend 910C") == []
    after = {a.fact: a for a in iv.answers()}
    assert not after["order.ship_from"].relevant
    assert not after["buyer.us_approved_customer"].relevant
    assert after["order.ship_from"].value == "US"  # kept
    assert iv.decision.verdict is Verdict.go


def test_unset_makes_the_question_come_back(ipack: RulePack) -> None:
    iv = new(ipack, order={"items": [{"chip": "H200", "quantity": 8}]},
             buyer={"country": "CN"})
    assert iv.unset("buyer.country") == []
    q = iv.next_question()
    assert q is not None and q.fact == "buyer.country"


def test_explain_walks_the_chain_of_derived_facts(ipack: RulePack) -> None:
    iv = new(ipack, order={"items": [{"chip": "B200", "quantity": 8}]},
             buyer={"country": "CN"})
    ex = iv.explain("US-BLACKWELL")
    assert [(link.rule, link.depth) for link in ex.chain] == [("US-CN-DEST", 1),
                                                              ("US-CLS-A", 2)]
    assert any(b.fact == "chip.tpp" and not b.derived for b in ex.chain[1].because)
    assert ex.finding.title.zh and ex.finding.sources


def test_exports(ipack: RulePack, tmp_path: Path) -> None:
    iv = new(ipack, tmp_path / "c.yaml", order={"items": [{"chip": "B200"}]},
             buyer={"country": "CN"})
    assert iv.decision.verdict.value == "no_go"
    memo = iv.export_markdown("zh")
    assert "**结论: `不能采购`**" in memo  # the translated verdict, not the enum value
    assert "`no_go`" not in memo
    assert "**Verdict: `no_go`**" in iv.export_markdown("en")
    facts = memo[memo.index("本决策所依据的事实"):]
    assert "`buyer.country = CN`" in facts and "`order.items[0].chip = B200`" in facts
    assert '"verdict": "no_go"' in iv.export_json()
    md = iv.export("md", "zh")
    js = iv.export("json")
    assert md.name == "c.memo.zh.md" and js.name == "c.decision.json"
    assert md.read_text(encoding="utf-8").startswith("## t")


def test_evaluation_time_is_recorded(ipack: RulePack) -> None:
    iv = new(ipack)
    iv.answer("order.items", H200)
    assert 0 < iv.last_eval_ms < 1000


# ---------------------------------------------------------------------------------------
# The shipped pack: every example case replayed as an interview
# ---------------------------------------------------------------------------------------

def _examples() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for entry in read_file(path):
            assert entry.case is not None, entry.error
            data = entry.case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            out.append((entry.case.id, data))
    return out


def _answers(data: dict[str, Any]) -> dict[str, Any]:
    """What the user would answer: every leaf of the case, plus the order lines whole."""
    out: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and not prefix.endswith("dense_tflops"):
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{prefix}[{i}]")
        else:
            out[prefix] = value

    walk(data, "")
    out["order.items"] = data.get("order", {}).get("items", [])
    return out


def _used_paths(pack: RulePack, as_of: dt.date, n_items: int) -> set[str]:
    """The case paths the rules in force actually test (item paths per order line)."""
    used: set[str] = {"order.items"}
    for cr in pack.rules:
        if not cr.rule.active(as_of):
            continue
        for test in C.fact_tests(cr.condition):
            spec = REGISTRY[test.path]
            template = spec.case_path or test.path
            for i in range(max(n_items, 1)):
                used.add(template.replace("{i}", str(i)))
            if test.path == "item.value_usd":
                used.update(f"order.items[{i}].{k}" for i in range(n_items)
                            for k in ("quantity", "unit_price_usd"))
            if test.path == "item.domestic_alternative_meets_all":
                used.update(f"use.workload.{k}" for k in (
                    "min_memory_gb", "min_memory_bandwidth_gbs", "needs_fp8",
                    "needs_cuda_ecosystem", "min_cluster_size"))
    return used


@pytest.mark.parametrize(("case_id", "data"), _examples(), ids=[c for c, _ in _examples()])
def test_examples_ask_no_more_than_the_rules_use(pack: RulePack, evaluator: Evaluator,
                                                 case_id: str, data: dict[str, Any]) -> None:
    answers = _answers(data)
    iv = Interview(pack, {"id": case_id, "as_of": data["as_of"]}, evaluator=evaluator)
    asked = replay(iv, answers)
    as_of = dt.date.fromisoformat(data["as_of"])
    used = _used_paths(pack, as_of, len(answers["order.items"]))
    assert len(asked) == len(set(asked)), asked
    assert len(asked) <= len(used)
    assert set(asked) <= used, set(asked) - used
    direct = evaluator.evaluate(Case.model_validate(data))
    assert iv.decision.verdict is direct.verdict, (asked, iv.decision.missing)
    # Three-valued logic is monotone: what the interview decided, more facts cannot undo.
    mine = {f.rule for f in iv.decision.findings if f.severity.value != "info"}
    theirs = {f.rule for f in direct.findings if f.severity.value != "info"}
    if direct.verdict is Verdict.no_go:  # the interview may stop at the first block
        assert mine and mine <= theirs
    else:
        assert mine == theirs


# ---------------------------------------------------------------------------------------
# The user's file: never rewritten unasked, never damaged
# ---------------------------------------------------------------------------------------

COMMENTED = """\
# Ticket PROC-4711: approved by J. Wang on 2026-02-01, keep this note.
id: kept   # the ERP number
as_of: 2026-02-15
order:
    items:
      - chip: H200
        quantity: 12000     # framework contract
        unit_price_usd: 32000
buyer:
    country: CN
    name: >
        A long folded name that the interview must not reflow, whatever
        the line width of its own writer is.
"""


def test_opening_writes_nothing_and_an_answer_keeps_comments_order_and_mode(
        ipack: RulePack, tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    path.chmod(0o640)
    iv = Interview.open(ipack, path)
    assert path.read_text(encoding="utf-8") == COMMENTED  # opened: not a byte changed
    assert iv.answer("buyer.country", "CN") == []  # the same answer: still nothing to write
    assert path.read_text(encoding="utf-8") == COMMENTED and not iv.saved
    assert iv.answer("order.ship_from", "US") == []
    assert iv.answer("buyer.kind", UNKNOWN) == []
    text = path.read_text(encoding="utf-8")
    assert iv.saved and oct(path.stat().st_mode & 0o777) == oct(0o640)
    for kept in ("# Ticket PROC-4711", "# the ERP number", "quantity: 12000     # framework",
                 "name: >\n        A long folded name", "as_of: 2026-02-15"):
        assert kept in text, kept
    assert "12000.0" not in text
    lines = text.splitlines()
    assert lines.index("order:") < lines.index("    ship_from: US") < lines.index("buyer:")
    assert "unknown:" in text
    case = next(iter(read_file(path))).case
    assert case is not None and case.unknown == ["buyer.kind"]
    assert Interview.open(ipack, path).unknown == {"buyer.kind"}
    # A line added keeps the first line's comment.
    lines = [{"chip": "H200", "quantity": 12000, "unit_price_usd": 32000},
             {"chip": "B200", "quantity": 8}]
    assert iv.answer("order.items", lines) == []
    text = path.read_text(encoding="utf-8")
    assert "quantity: 12000     # framework contract" in text and "nvidia-b200" in text


def test_json_stays_json_and_batches_or_read_only_files_are_refused(
        ipack: RulePack, tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    original = json.dumps({"id": "j", "as_of": "2026-02-15",
                           "order": {"items": [{"chip": "H200", "quantity": 8}]}}, indent=4)
    path.write_text(original, encoding="utf-8")
    iv = Interview.open(ipack, path)
    assert path.read_text(encoding="utf-8") == original
    assert iv.answer("buyer.country", "CN") == []
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["buyer"] == {"country": "CN"} and data["order"]["items"][0]["quantity"] == 8
    assert '\n    "id": "j"' in path.read_text(encoding="utf-8")  # its indentation too

    batch = tmp_path / "cases.jsonl"
    batch.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(InterviewFileError, match=r"cases\.jsonl: .*jsonl"):
        Interview.open(ipack, batch)
    assert batch.read_text(encoding="utf-8") == '{"id": "a"}\n'

    locked = tmp_path / "locked.yaml"
    locked.write_text(COMMENTED, encoding="utf-8")
    locked.chmod(0o444)
    with pytest.raises(InterviewFileError, match="read-only") as caught:
        Interview.open(ipack, locked)
    assert "\n" not in str(caught.value)
    assert locked.read_text(encoding="utf-8") == COMMENTED


def test_a_failed_save_keeps_the_previous_state_and_says_so(ipack: RulePack,
                                                            tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    path = folder / "case.yaml"
    iv = Interview.open(ipack, path)
    assert not path.exists()  # a new case: no file until the first answer
    assert iv.answer("order.items", H200) == []
    before = (json.dumps(iv.data), iv.decision.model_dump_json(), path.read_text("utf-8"))
    # The folder goes away and a file takes its name: no user (root included) can save.
    folder.rename(tmp_path / "moved")
    folder.write_text("not a folder", encoding="utf-8")
    try:
        errors = iv.answer("buyer.country", "CN")
    finally:
        folder.unlink()
        (tmp_path / "moved").rename(folder)
    assert errors and "could not save" in errors[0] and "not recorded" in errors[0]
    assert (json.dumps(iv.data), iv.decision.model_dump_json(),
            path.read_text("utf-8")) == before
    assert iv.answer("buyer.country", "CN") == []  # writable again: the answer goes in
    assert "country: CN" in path.read_text("utf-8")


def test_every_question_says_why_it_is_asked_in_both_languages(pack: RulePack) -> None:
    for fact, q in pack.questions.items():
        assert q.why is not None, f"{fact}: no 'why' sentence"
        assert q.why.en.strip().endswith(".") and q.why.zh.strip().endswith("。"), fact
        sentences = re.findall(r"[.!?]\s+[A-Z]", q.why.en.replace("e.g. ", ""))
        assert not sentences, f"{fact}: one sentence"
    view = Interview(pack, {"id": "w", "as_of": "2026-02-15"}).next_question()
    assert view is not None and view.reason == pack.questions[view.fact].why


def test_planner_orders_by_impact_when_the_decision_gives_it() -> None:
    from types import SimpleNamespace

    from chipclear.interview.planner import decisive, impact_rank, section_of

    block = SimpleNamespace(fact="a", impact="could_block")
    condition = SimpleNamespace(fact="b", impact=SimpleNamespace(value="condition_only"))
    plain = SimpleNamespace(fact="c")  # a decision from before impact existed
    assert impact_rank(block) < impact_rank(plain) < impact_rank(condition)
    assert decisive(block) and decisive(plain) and not decisive(condition)
    assert section_of("evidence.vendor_attestation.no_backdoor").en == "Evidence from the vendor"
    assert section_of("deployment.air_gapped").en == "Use and workload"


def test_review_marks_not_needed_only_when_forgetting_changes_nothing(ipack: RulePack) -> None:
    """The reported case: buyer.kind and the justification hold a go_with_conditions up."""
    iv = new(ipack)
    replay(iv, {"order.items": H200, "buyer.country": "CN", "order.ship_from": "US",
                "buyer.us_approved_customer": True, "buyer.kind": "internet_platform",
                "evidence.necessity_justification": "FP8 training at 141 GB",
                "use.workload.min_memory_gb": 141})
    assert iv.decision.verdict is Verdict.go_with_conditions
    views = {a.fact: a for a in iv.answers()}
    for fact in ("buyer.kind", "evidence.necessity_justification"):
        assert views[fact].relevant, fact
        before = iv.decision.verdict
        assert iv.unset(fact) == []  # and indeed: forgetting it changes the outcome
        changed = (iv.decision.verdict, iv.decision.us.status, iv.decision.cn.status)
        assert views[fact].without == " · ".join(x.value for x in changed)
        assert iv.answer(fact, get_path({"buyer": {"kind": "internet_platform"},
                                         "evidence": {"necessity_justification": "FP8"}},
                                        fact)) == []
        assert iv.decision.verdict is before
    def outcome() -> tuple[str, str, str]:
        d = iv.decision
        return d.verdict.value, d.us.status.value, d.cn.status.value

    kept = outcome()
    not_needed = [a for a in views.values() if not a.relevant]
    for a in not_needed:  # whatever is marked "not needed" really changes nothing
        assert iv.unset(a.fact) == []
        assert outcome() == kept, a.fact
        assert iv.answer(a.fact, a.value) == []


def test_a_screened_name_is_never_marked_not_needed(pack: RulePack) -> None:
    """Without a name the engine does not screen; with a listed one the purchase stops."""
    entry = next(iter(read_file(EXAMPLES / "h200-platform-2026.yaml")))
    assert entry.case is not None
    iv = Interview(pack, entry.case.model_dump(mode="json", exclude_none=True))
    assert iv.decision.verdict is Verdict.go_with_conditions
    assert {a.fact: a for a in iv.answers()}["buyer.name"].relevant
    listed = yaml.safe_load((ROOT / "rules" / "lists" / "entity_list.yaml").read_text("utf-8"))
    entries = next(v for v in listed.values() if isinstance(v, list))
    assert iv.answer("buyer.name", entries[0]["name"]) == []
    assert iv.decision.verdict is Verdict.no_go
