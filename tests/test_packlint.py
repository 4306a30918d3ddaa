"""``chipclear rules lint / test / coverage`` on small packs with planted problems."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chipclear.pack import conditions as C
from chipclear.pack.lint import Issue, exclusive, lint

from tests.conftest import MINIPACK, ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def pack(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MINIPACK, tmp_path / "pack"))


def add_rules(root: Path, text: str) -> None:
    with (root / "core" / "rules.yaml").open("a", encoding="utf-8") as f:
        f.write(text)


def codes(issues: list[Issue]) -> list[tuple[str, str]]:
    return [(i.code, i.message.split()[0]) for i in issues]


def test_the_minipack_is_clean(pack: Path) -> None:
    assert [i.line() for i in lint(pack)] == []
    result = run("rules", "lint", "--rules", str(pack))
    assert result.returncode == 0
    assert result.stdout.strip() == "0 errors, 0 warnings"


def test_rule_without_sources_and_inverted_window_are_found_together(pack: Path) -> None:
    add_rules(pack, """\
  - id: US-NOSRC
    title: {en: x, zh: x}
    jurisdiction: US
    severity: info
    valid_from: 2024-01-01
    sources: []
    when: {fact: buyer.country, eq: CN}
  - id: US-BACKWARDS
    title: {en: x, zh: x}
    jurisdiction: US
    severity: info
    valid_from: 2024-01-01
    valid_to: 2023-01-01
    sources: [fr-2023]
    when: {fact: buyer.country, eq: CN}
""")
    issues = lint(pack)
    rules = str(pack / "core" / "rules.yaml")
    assert [(i.code, i.location.file) for i in issues if i.error][:2] == [
        ("no-sources", rules), ("window", rules)]
    window = next(i for i in issues if i.code == "window")
    assert window.message == "US-BACKWARDS ends (2023-01-01) before it starts (2024-01-01)"
    assert window.location.line == 69  # the valid_to line
    result = run("rules", "lint", "--rules", str(pack))
    assert result.returncode == 1
    assert f"{rules}:57:5: error no-sources: US-NOSRC cites no source" in result.stdout


def test_unknown_fact_and_underived_fact(pack: Path) -> None:
    add_rules(pack, """\
  - id: US-TYPO
    title: {en: x, zh: x}
    jurisdiction: US
    severity: info
    valid_from: 2024-01-01
    sources: [fr-2023]
    when: {fact: buyer.contry, eq: CN}
  - id: US-EARLY
    title: {en: x, zh: x}
    jurisdiction: US
    severity: info
    valid_from: 2022-01-01
    sources: [fr-2023]
    when: {derived: eccn, in: [3A090.a]}
""")
    issues = lint(pack)
    assert ("unknown-fact", "US-TYPO") in codes(issues)
    early = next(i for i in issues if i.code == "underived")
    assert early.message == ("US-EARLY tests eccn in [3A090.a], but from 2022-01-01 to "
                             "2023-11-17 no rule in force derives it")
    assert not early.error


def test_parameter_without_value_when_a_rule_starts(pack: Path) -> None:
    params = pack / "core" / "parameters.yaml"
    params.write_text(params.read_text().replace("from: 2022-10-07", "from: 2024-01-01"))
    issues = lint(pack)
    assert codes(issues) == [("param-gap", "US-CLS-A:")]
    assert "no value on its valid_from 2023-11-17" in issues[0].message


CONTRA = """\
  - id: US-OPEN-{n}
    title: {{en: x, zh: x}}
    jurisdiction: US
    severity: info
    valid_from: {start}
    sources: [fr-2023]
    when:
      all:
        - {{derived: eccn, in: [3A090.a]}}
        - {{fact: buyer.country, {test}}}
    then: {{us_status: not_controlled}}
"""


@pytest.mark.parametrize(("start", "test", "expected"), [
    ("2024-01-01", "eq: DE", ["contradiction"]),          # both can hold for a DE+CN buyer
    ("2024-01-01", "in: [CN]", ["contradiction"]),        # overlaps the licence rule
    ("2010-01-01", "eq: DE", ["contradiction"]),
])
def test_contradictory_statuses(pack: Path, start: str, test: str, expected: list[str]) -> None:
    add_rules(pack, CONTRA.format(n=1, start=start, test=test))
    found = [i for i in lint(pack) if i.code == "contradiction"]
    assert [i.code for i in found] == expected
    assert "US-OPEN-1 and US-LIC-CN" in found[0].message
    assert "us_status presumption_of_denial vs not_controlled" in found[0].message


def test_exclusive_tests_and_disjoint_windows_are_not_contradictions(pack: Path) -> None:
    rules = pack / "core" / "rules.yaml"
    rules.write_text(rules.read_text().replace(
        "        - any:\n          - {fact: buyer.country, in: [CN, MO]}\n"
        "          - {fact: buyer.headquarters, in: [CN, MO]}\n",
        "        - {fact: buyer.country, in: [CN, MO]}\n"))
    add_rules(pack, CONTRA.format(n=1, start="2024-01-01", test="eq: DE"))
    add_rules(pack, CONTRA.format(n=2, start="2024-01-01", test="not_in: [CN, MO]"))
    assert [i.line() for i in lint(pack) if i.code == "contradiction"] == []
    # the same rule, in force only before the licence rule, does not overlap it
    add_rules(pack, CONTRA.format(n=3, start="2023-01-01", test="in: [CN]").replace(
        "    sources: [fr-2023]", "    valid_to: 2023-11-17\n    sources: [fr-2023]", 1))
    found = [i for i in lint(pack) if i.code == "contradiction"]
    assert [i.message.split()[0] for i in found] == []


def p(raw: object) -> C.Condition:
    return C.parse(raw)


@pytest.mark.parametrize(("a", "b", "result"), [
    ({"fact": "buyer.kind", "eq": "government"}, {"fact": "buyer.kind", "eq": "startup"}, True),
    ({"fact": "buyer.kind", "in": ["government", "startup"]},
     {"fact": "buyer.kind", "eq": "startup"}, False),
    ({"fact": "buyer.state_owned", "eq": True},
     {"not": {"fact": "buyer.state_owned", "eq": True}}, True),
    ({"fact": "chip.tpp", "gte": {"param": "us.tpp_a"}},
     {"fact": "chip.tpp", "lt": {"param": "us.tpp_a"}}, True),
    ({"fact": "chip.tpp", "gte": 4800}, {"fact": "chip.tpp", "lte": 4800}, False),
    ({"fact": "chip.tpp", "gt": 4800}, {"fact": "chip.tpp", "lte": 4800}, True),
    ({"fact": "evidence.necessity_justification", "nonempty": True},
     {"not": {"fact": "evidence.necessity_justification", "nonempty": True}}, True),
    ({"all": [{"fact": "order.ship_from", "eq": "US"}, {"fact": "buyer.kind", "eq": "startup"},
              {"any": [{"fact": "buyer.state_owned", "eq": True},
                       {"fact": "buyer.us_approved_customer", "eq": True}]}]},
     {"all": [{"fact": "buyer.country", "eq": "CN"},
              {"not": {"all": [{"fact": "order.ship_from", "eq": "US"},
                               {"fact": "buyer.kind", "eq": "startup"}]}}]}, True),
    ({"any": [{"fact": "buyer.state_owned", "eq": True},
              {"fact": "buyer.us_approved_customer", "eq": True}]},
     {"not": {"any": [{"fact": "buyer.state_owned", "eq": True},
                      {"fact": "buyer.us_approved_customer", "eq": True}]}}, True),
    ({"fact": "order.ship_from", "eq": "US"},
     {"not": {"all": [{"fact": "order.ship_from", "eq": "US"},
                      {"fact": "buyer.kind", "eq": "startup"}]}}, False),
    ({"all": [{"fact": "buyer.country", "eq": "CN"}, {"fact": "buyer.kind", "eq": "startup"}]},
     {"any": [{"fact": "buyer.country", "eq": "DE"}, {"fact": "buyer.kind", "eq": "startup"}]},
     False),
])
def test_exclusive(a: object, b: object, result: bool) -> None:
    assert exclusive(p(a), p(b)) is result
    assert exclusive(p(b), p(a)) is result


def test_pack_that_does_not_load_is_reported(pack: Path) -> None:
    (pack / "core" / "sources.yaml").write_text("sources: [}\n")
    issues = lint(pack)
    assert [i.code for i in issues] == ["load"]


# --- rules test and coverage -------------------------------------------------------------


GOLDEN = """\
golden:
  - name: cn-h200-blocked
    case:
      id: g1
      as_of: 2026-02-15
      buyer: {{name: Example Cloud Co., country: CN}}
      order: {{items: [{{chip: H200, quantity: 1, unit_price_usd: 30000}}]}}
      evidence: {{necessity_justification: FP8}}
    expect:
      verdict: {verdict}
      us_status: presumption_of_denial
      findings: [US-LIC-CN]
"""


def test_rules_test_passes_and_fails(pack: Path) -> None:
    (pack / "core" / "golden").mkdir()
    golden = pack / "core" / "golden" / "g.yaml"
    golden.write_text(GOLDEN.format(verdict="no_go"), encoding="utf-8")
    ok = run("rules", "test", "--rules", str(pack))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 golden cases, 1 passed, 0 failed" in ok.stdout
    golden.write_text(GOLDEN.format(verdict="go"), encoding="utf-8")
    bad = run("rules", "test", "--rules", str(pack))
    assert bad.returncode == 1
    assert f"{golden}:2:5: cn-h200-blocked: verdict: got" in bad.stdout
    golden.write_text(GOLDEN.format(verdict="maybe"), encoding="utf-8")
    broken = run("rules", "test", "--rules", str(pack))
    assert broken.returncode == 2
    assert broken.stderr.startswith(f"{golden}:") and "Traceback" not in broken.stderr


def test_rules_coverage(pack: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("""\
cases:
  - {id: a, as_of: 2026-02-15, buyer: {country: CN}, order: {items: [{chip: H200}]}}
  - {id: b, as_of: 2026-02-15, buyer: {country: DE}, order: {items: [{chip: H200}]}}
""", encoding="utf-8")
    result = run("rules", "coverage", "--rules", str(pack), "--cases", str(cases))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    never = next(line for line in lines if line.startswith("never fire"))
    always = next(line for line in lines if line.startswith("fire on every case"))
    assert "CN-JUST" in never and "US-CLS-A" not in never
    assert "US-CLS-A" in always  # an info rule that derives the ECCN
    assert "CN-NOJUST" in never  # no justification given is unknown, not false


def test_official_source_off_the_official_domains_is_refused(pack: Path) -> None:
    sources = pack / "core" / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text + '  - {id: mirror, name: "CSL Art. 22 (reprint)", date: 2016-11-07, '
                       'url: "http://blog.example-mirror.com/csl.html", confidence: official}\n'
                       '  - {id: relay, name: "A relay", date: 2016-11-07, '
                       'url: "http://blog.example-mirror.com/x.html", confidence: reported}\n'
                       '  - {id: lookalike, name: "Not the FR", date: 2016-11-07, '
                       'url: "https://federalregister.gov.example.com/x", confidence: official}\n',
                       encoding="utf-8")
    found = [i for i in lint(pack) if i.code == "official-url"]
    assert [i.message.split()[0] for i in found] == ["mirror", "lookalike"]
    assert all(i.error and i.location.line for i in found)
    result = run("rules", "lint", "--rules", str(pack))
    assert result.returncode == 1
    assert "blog.example-mirror.com is not an official domain" in result.stdout


def test_official_sources_need_the_list_of_domains(pack: Path) -> None:
    (pack / "official_domains.yaml").unlink()
    assert [i.code for i in lint(pack)] == ["official-url"]


def test_space_between_chinese_characters_is_an_error(pack: Path) -> None:
    add_rules(pack, """\
  - id: US-FOLDED
    title: {en: x, zh: "标题"}
    jurisdiction: US
    severity: info
    valid_from: 2024-01-01
    sources: [fr-2023]
    summary:
      en: folded
      zh: >-
        每批货物须在
        美国接受检验，H20 和 B200
    when: {fact: buyer.country, eq: CN}
""")
    found = [i for i in lint(pack) if i.code == "cjk-space"]
    assert len(found) == 1  # "须在 美国" only: a space next to Latin text is left alone
    assert "须在 美国" in found[0].message and found[0].error and found[0].location.line


def test_the_shipped_pack_passes_lint() -> None:
    issues = lint(ROOT / "rules")
    assert [i.line() for i in issues if i.error] == []
