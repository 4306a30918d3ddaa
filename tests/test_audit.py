"""``chipclear audit``: structural diff, impact on a corpus, git revisions, timelines."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chipclear.audit.impact import Corpus, CorpusCase, default_corpus, impact, read_cases
from chipclear.audit.timeline import change_points, timeline
from chipclear.model.case import Case, ImportApproval
from chipclear.pack.diff import diff_packs
from chipclear.pack.loader import load_pack

from tests.conftest import MINIPACK, ROOT


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def copy_pack(dest: Path) -> Path:
    shutil.copytree(MINIPACK, dest)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


#: Four cases; raising the TPP threshold above the H200's 15,832 flips exactly the two
#: whose buyers are Chinese (the licence rule needs the 3A090.a ECCN), and changes the
#: German one's findings (the classification stops firing).
CORPUS = """\
cases:
  - id: cn-h200
    as_of: 2026-02-15
    buyer: {name: Example Cloud Co., country: CN}
    order: {items: [{chip: H200, quantity: 2, unit_price_usd: 30000}]}
    evidence: {necessity_justification: "FP8"}
  - id: hq-cn-h200
    as_of: 2026-02-15
    buyer: {name: Example Cloud Co., country: MY, headquarters: CN}
    order: {items: [{chip: H200, quantity: 2, unit_price_usd: 30000}]}
    evidence: {necessity_justification: "FP8"}
  - id: cn-ascend
    as_of: 2026-02-15
    buyer: {name: Example Cloud Co., country: CN}
    order: {items: [{chip: huawei-ascend-910c}]}
  - id: de-h200-2023
    as_of: 2023-01-10
    buyer: {name: Example Cloud Co., country: DE}
    order: {items: [{chip: H200, quantity: 2, unit_price_usd: 30000}]}
"""


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.yaml"
    path.write_text(CORPUS, encoding="utf-8")
    return path


def test_threshold_change_names_the_parameter_and_exactly_the_flipping_cases(
        tmp_path: Path, corpus: Path) -> None:
    base = copy_pack(tmp_path / "base")
    head = copy_pack(tmp_path / "head")
    edit(head / "core" / "parameters.yaml", "value: 4800", "value: 20000")
    result = run("audit", "diff", "--base", str(base), "--head", str(head),
                 "--cases", str(corpus), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["structure"] == [{
        "section": "parameters", "key": "us.tpp_a", "kind": "changed",
        "fields": [{"field": "from 2022-10-07", "old": 4800.0, "new": 20000.0}]}]
    changed = {c["case"]: c for c in report["impact"]["changed"]}
    assert {k for k, c in changed.items() if c["base"]["verdict"] != c["head"]["verdict"]} \
        == {"cn-h200", "hq-cn-h200"}
    assert set(changed) == {"cn-h200", "hq-cn-h200"}
    assert changed["cn-h200"]["stop_firing"] == ["US-CLS-A", "US-LIC-CN"]
    assert changed["cn-h200"]["base"]["us_status"] == "presumption_of_denial"
    assert changed["cn-h200"]["head"]["us_status"] == "not_controlled"
    totals = report["impact"]["totals"]
    assert totals["unchanged"] == 2
    assert sum(totals.values()) == 4

    table = run("audit", "diff", "--base", str(base), "--head", str(head),
                "--cases", str(corpus))
    assert table.returncode == 1
    assert "us.tpp_a" in table.stdout and "4,800 → 20,000" in table.stdout
    assert "cn-h200" in table.stdout and "cn-ascend" not in table.stdout
    assert "no decision changed" not in table.stdout


def test_unchanged_copy_exits_0(tmp_path: Path, corpus: Path) -> None:
    base = copy_pack(tmp_path / "base")
    head = copy_pack(tmp_path / "head")
    for fmt in ("table", "markdown"):
        result = run("audit", "diff", "--base", str(base), "--head", str(head),
                     "--cases", str(corpus), "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert "no decision changed" in result.stdout


def test_a_reformatted_pack_changes_no_decision(tmp_path: Path, corpus: Path) -> None:
    """Different bytes (another pack hash), same rules: every case is decided, none changes."""
    base = copy_pack(tmp_path / "base")
    head = copy_pack(tmp_path / "head")
    edit(head / "core" / "rules.yaml", "rules:", "# reviewed\nrules:")
    result = run("audit", "diff", "--base", str(base), "--head", str(head),
                 "--cases", str(corpus))
    assert result.returncode == 0, result.stdout
    assert "core/rules.yaml" not in result.stdout  # explained as rules: none changed
    assert "no decision changed" in result.stdout


def test_rule_fields_are_diffed_one_by_one(tmp_path: Path) -> None:
    base = copy_pack(tmp_path / "base")
    head = copy_pack(tmp_path / "head")
    rules = head / "core" / "rules.yaml"
    edit(rules, "severity: block\n    valid_from: 2023-11-17",
         "severity: condition\n    valid_from: 2023-11-17\n    valid_to: 2026-01-15")
    edit(rules, "- {fact: buyer.headquarters, in: [CN, MO]}",
         "- {fact: buyer.headquarters, in: [CN]}")
    edit(rules, "  - id: CN-NOJUST", "  - id: CN-NOJUST-2")
    edit(head / "catalog" / "chips.yaml", "value: 1979", "value: 2000")
    diff = diff_packs(load_pack(base), load_pack(head))
    by_key = {(c.section, c.key): c for c in diff.changes}
    lic = by_key[("rules", "US-LIC-CN")]
    fields = {f.field: (f.old, f.new) for f in lic.fields}
    assert fields["severity"] == ("block", "condition")
    assert fields["valid_to"] == (None, "2026-01-15")
    old_when, new_when = fields["when"]
    assert old_when["all"][1]["any"][1] == {"fact": "buyer.headquarters", "in": ["CN", "MO"]}
    assert new_when["all"][1]["any"][1] == {"fact": "buyer.headquarters", "in": ["CN"]}
    assert by_key[("rules", "CN-NOJUST")].kind == "removed"
    assert by_key[("rules", "CN-NOJUST-2")].kind == "added"
    chip = {f.field: (f.old, f.new) for f in by_key[("catalog", "nvidia-h200-sxm")].fields}
    assert chip["figures.dense_tflops.fp8.value"] == (1979.0, 2000.0)
    assert chip["tpp (computed)"] == (15832.0, 16000.0)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    *args], check=True, capture_output=True)


def test_diff_between_two_git_revisions(tmp_path: Path, corpus: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    copy_pack(repo / "rules")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "first")
    edit(repo / "rules" / "core" / "parameters.yaml", "value: 4800", "value: 20000")
    _git(repo, "commit", "-qam", "raise the threshold")
    result = run("audit", "diff", "--base", "HEAD~1", "--head", "HEAD", "--cases", str(corpus),
                 "--format", "json", cwd=repo)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["base"]["label"].startswith("HEAD~1:rules")
    assert [c["key"] for c in report["structure"]] == ["us.tpp_a"]
    assert {c["case"] for c in report["impact"]["changed"]} == {"cn-h200", "hq-cn-h200"}

    # default: committed rules/ at HEAD against the working tree
    clean = run("audit", "diff", "--cases", str(corpus), cwd=repo)
    assert clean.returncode == 0, clean.stderr
    assert "no decision changed" in clean.stdout
    edit(repo / "rules" / "core" / "parameters.yaml", "value: 20000", "value: 4800")
    dirty = run("audit", "diff", "--cases", str(corpus), "--repo", str(repo))
    assert dirty.returncode == 1, dirty.stderr

    # REV:path names a pack elsewhere in the tree; a bad revision is one line, exit 2
    sub = run("audit", "diff", "--base", "HEAD~1:rules", "--head", "HEAD:rules",
              "--cases", str(corpus), cwd=repo)
    assert sub.returncode == 1
    bad = run("audit", "diff", "--base", "no-such-rev", "--cases", str(corpus), cwd=repo)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"no-such-rev: neither a rule-pack directory nor a git revision of {repo} "
        "(use a branch, tag, commit or a rules directory)"]
    assert "Traceback" not in bad.stderr


def test_default_corpus_holds_examples_and_golden_cases_of_both_packs(tmp_path: Path) -> None:
    base = copy_pack(tmp_path / "base")
    head = copy_pack(tmp_path / "head")
    golden = """\
golden:
  - name: {name}
    case: {{id: g, as_of: 2026-02-15, buyer: {{country: CN}}, order: {{items: [{{chip: H200}}]}}}}
    expect: {{verdict: no_go}}
"""
    for root, name in ((base, "only-in-base"), (head, "only-in-head")):
        (root / "core" / "golden").mkdir()
        (root / "core" / "golden" / "g.yaml").write_text(golden.format(name=name), "utf-8")
    corpus = default_corpus(load_pack(base), load_pack(head))
    labels = [c.label for c in corpus.cases]
    assert "golden only-in-base" in labels and "golden only-in-head" in labels
    assert any("examples/cases" in label for label in labels) or not (
        ROOT / "examples" / "cases").is_dir()


def test_impact_of_identical_packs_is_nothing(minipack_copy: Path) -> None:
    pack = load_pack(minipack_copy)
    cases = [CorpusCase("x", Case.model_validate({"id": "x", "buyer": {"country": "CN"}}))]
    changed, totals = impact(pack, pack, cases, dt.date(2026, 2, 15))
    assert changed == [] and totals["unchanged"] == 1


@pytest.fixture()
def minipack_copy(tmp_path: Path) -> Path:
    return copy_pack(tmp_path / "pack")


def test_worker_processes_give_the_same_impact(tmp_path: Path) -> None:
    base = load_pack(copy_pack(tmp_path / "base"))
    head_root = copy_pack(tmp_path / "head")
    edit(head_root / "core" / "parameters.yaml", "value: 4800", "value: 20000")
    head = load_pack(head_root)
    cases = [CorpusCase(f"c{i}", Case.model_validate({
        "id": f"c{i}", "as_of": ["2023-01-10", "2026-02-15"][i % 2],
        "buyer": {"country": ["CN", "DE", "MY"][i % 3]},
        "order": {"items": [{"chip": "H200", "quantity": 1 + i}]}})) for i in range(240)]
    serial = impact(base, head, cases, dt.date(2026, 2, 15))
    parallel = impact(base, head, cases, dt.date(2026, 2, 15), jobs=2)
    assert parallel == serial
    assert serial[0] and serial[1]["unchanged"] < 240


def test_bad_cases_in_the_corpus_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nbuyer: {contry: CN}\n", encoding="utf-8")
    corpus = Corpus()
    read_cases([bad], corpus)
    assert corpus.cases == [] and len(corpus.errors) == 1
    result = run("audit", "diff", "--base", str(MINIPACK), "--head", str(MINIPACK),
                 "--cases", str(bad))
    assert result.returncode == 2
    assert "unknown field 'buyer.contry'" in result.stderr and "Traceback" not in result.stderr


# --- timeline ----------------------------------------------------------------------------


def dated_pack(dest: Path) -> Path:
    """The minipack with history: the licence rule ends on 2026-01-15, a case-by-case rule
    replaces it, and the TPP threshold rises on 2025-06-01 (no effect on the H200)."""
    root = copy_pack(dest)
    rules = root / "core" / "rules.yaml"
    edit(rules, "then: {us_status: presumption_of_denial}",
         "then: {us_status: presumption_of_denial}\n    valid_to: 2026-01-15")
    with rules.open("a", encoding="utf-8") as f:
        f.write("""\
  - id: US-LIC-CN-CBC
    title: {en: Case by case, zh: 逐案审查}
    jurisdiction: US
    severity: condition
    valid_from: 2026-01-15
    sources: [fr-2023]
    when:
      all:
        - {derived: eccn, in: [3A090.a]}
        - {fact: buyer.country, in: [CN, MO]}
    then: {us_status: licence_required, condition: {en: apply for a licence, zh: 申请许可证}}
""")
    edit(root / "core" / "parameters.yaml",
         "- {from: 2022-10-07, value: 4800, sources: [fr-2023]}",
         "- {from: 2022-10-07, value: 4800, sources: [fr-2023]}\n"
         "      - {from: 2025-06-01, value: 6000, sources: [fr-2023]}")
    return root


H200_CN = {"id": "cn-h200", "as_of": "2026-02-15",
           "buyer": {"country": "CN", "name": "Example Cloud Co."},
           "order": {"items": [{"chip": "H200", "quantity": 2, "unit_price_usd": 30000}]},
           "evidence": {"necessity_justification": "FP8"}}


def test_timeline_lists_the_flip_dates_and_the_rules_responsible(tmp_path: Path) -> None:
    pack = load_pack(dated_pack(tmp_path / "dated"))
    assert dt.date(2025, 6, 1) in change_points(pack)
    tl = timeline(pack, Case.model_validate(H200_CN))
    assert [f.date for f in tl.flips] == [dt.date(2023, 11, 17), dt.date(2025, 7, 31),
                                          dt.date(2026, 1, 15)]
    last = tl.flips[-1]
    assert last.before.verdict == "no_go" and last.after.verdict == "go_with_conditions"
    assert last.after.us_status == "licence_required"
    assert set(last.responsible()) == {"US-LIC-CN", "US-LIC-CN-CBC"}
    assert last.stop_firing == ["US-LIC-CN"] and last.newly_fire == ["US-LIC-CN-CBC"]

    window = timeline(pack, Case.model_validate(H200_CN), dt.date(2024, 1, 1),
                      dt.date(2026, 1, 14))
    assert [f.date for f in window.flips] == [dt.date(2025, 7, 31)]


def test_timeline_command(tmp_path: Path) -> None:
    root = dated_pack(tmp_path / "dated")
    case = tmp_path / "case.json"
    case.write_text(json.dumps(H200_CN), encoding="utf-8")
    result = run("audit", "timeline", str(case), "--rules", str(root), "--from", "2024-01-01")
    assert result.returncode == 0, result.stderr
    assert "2025-07-31" in result.stdout and "2026-01-15" in result.stdout
    assert "US-LIC-CN-CBC in force from 2026-01-15" in result.stdout
    assert "2023-11-17" not in result.stdout.split("start:")[1]
    data = run("audit", "timeline", str(case), "--rules", str(root), "--format", "json")
    assert [f["date"] for f in json.loads(data.stdout)["flips"]] == [
        "2023-11-17", "2025-07-31", "2026-01-15"]
    bad = run("audit", "timeline", str(case), "--rules", str(root), "--from", "2026-13-01")
    assert bad.returncode == 2 and "--from: '2026-13-01' is not a date" in bad.stderr


def test_shipped_h200_case_flips_on_the_issue_dates() -> None:
    """The shipped H200 example (an approval in hand) across the shipped pack: the US
    announcement (information only), the reported order pause, customs blocking every
    commercial H200, the US case-by-case rule, and the first approvals, each with the
    rule responsible."""
    pack = load_pack(ROOT / "rules")
    [entry] = read_file_cases(ROOT / "examples" / "cases" / "h200-platform-2026.yaml")
    tl = timeline(pack, entry, dt.date(2025, 12, 1), dt.date(2026, 6, 30))
    flips = {f.date.isoformat(): f for f in tl.flips}
    assert list(flips) == ["2025-12-08", "2026-01-01", "2026-01-08", "2026-01-14", "2026-01-15",
                           "2026-01-28"]
    for flip in tl.flips:
        assert flip.responsible(), flip.date
    assert "US-ANN-H200-2025" in flips["2025-12-08"].responsible()
    assert flips["2025-12-08"].after.verdict == flips["2025-12-08"].before.verdict  # info only
    # The amended Cybersecurity Law renumbers the articles the summons finding cites.
    assert "CN-CAC-SUMMONS-2026" in flips["2026-01-01"].responsible()
    assert flips["2026-01-01"].after.verdict == flips["2026-01-01"].before.verdict
    assert "CN-IMP-H200-PAUSE-2026" in flips["2026-01-08"].responsible()
    assert "CN-IMP-H200-CUSTOMS-BAN-2026" in flips["2026-01-14"].responsible()
    assert flips["2026-01-14"].after.cn_status == "prohibited"
    assert "US-LIC-CN-CBC-2026" in flips["2026-01-15"].responsible()
    assert flips["2026-01-15"].after.us_status == "licence_required"
    assert "CN-IMP-H200-CUSTOMS-BAN-2026" in flips["2026-01-28"].responsible()
    assert flips["2026-01-28"].after.cn_status == "conditions"
    assert flips["2026-01-28"].after.verdict == "go_with_conditions"


def test_h200_without_import_approval_stays_prohibited_after_the_approvals() -> None:
    pack = load_pack(ROOT / "rules")
    [entry] = read_file_cases(ROOT / "examples" / "cases" / "h200-platform-2026.yaml")
    assert entry.evidence is not None
    seeded = entry.model_copy(update={"evidence": entry.evidence.model_copy(
        update={"import_approval": ImportApproval.none})})
    tl = timeline(pack, seeded, dt.date(2025, 12, 1), dt.date(2026, 6, 30))
    assert [f.date.isoformat() for f in tl.flips] == [
        "2025-12-08", "2026-01-01", "2026-01-08", "2026-01-14", "2026-01-15", "2026-01-28"]
    # 2026-01-28: the customs ban window closes (CN-IMP-H200-CUSTOMS-BAN-2026 no longer tests
    # the paperwork, so it blocked too); without an approval the H200 stays prohibited.
    assert tl.flips[-1].after.cn_status == "prohibited"
    assert tl.flips[-1].before.cn_status == "prohibited"
    assert "CN-IMP-H200-CUSTOMS-BAN-2026" in tl.flips[-1].responsible()
    assert "CN-IMP-H200-NOTPERMITTED-2026" in tl.flips[3].responsible()


def read_file_cases(path: Path) -> list[Case]:
    corpus = Corpus()
    read_cases([path], corpus)
    assert not corpus.errors, corpus.errors
    return [c.case for c in corpus.cases]
