"""Lint for rule packs: what loads but is probably wrong, and what does not load, all at once.

Loading stops at the first error; an author fixing a pack wants every problem in one
pass, and also the ones loading cannot call errors: two rules that set contradictory
statuses on the same purchase, a rule that tests a derived fact nobody derives while
it is in force, a threshold with no value on the day a rule starts.

Errors: ``no-sources``, ``window``, ``condition``, ``unknown-fact``, ``param-gap``,
``load``, ``official-url`` (a source labelled official whose URL is on none of the domains
``official_domains.yaml`` lists: a mirror or a press relay of an official text is not its
official home), ``cjk-space`` (an ASCII space between two Chinese characters, which YAML
line folding leaves in Chinese text). Warnings: ``underived``. Notes: ``contradiction``:
the decision always takes the worst status, so two overlapping statuses never leave a case
undecided; they are listed for a reviewer to confirm the stricter rule is meant to win,
not as defects.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chipclear.errors import Location, UserInputError
from chipclear.io.yamlload import load_file, locate
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY
from chipclear.pack.loader import CompiledRule, RulePack, load_pack
from chipclear.pack.sources import OfficialDomainsFile
from pydantic import ValidationError

ERRORS = ("no-sources", "window", "condition", "unknown-fact", "param-gap", "load",
          "official-url", "cjk-space")
OFFICIAL_DOMAINS = "official_domains.yaml"
#: Chinese characters and full-width punctuation; a space between two of them is an artefact.
_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
_CJK_SPACE = re.compile(f"(?<={_CJK}) +(?={_CJK})")
NOTES = ("contradiction",)
FAR = dt.date.max


@dataclass(frozen=True)
class Issue:
    location: Location
    code: str
    message: str

    @property
    def error(self) -> bool:
        return self.code in ERRORS

    @property
    def level(self) -> str:
        """error, warning, or note: something resolved by a stated policy, for review."""
        return "error" if self.error else "note" if self.code in NOTES else "warning"

    def line(self) -> str:
        return f"{self.location}: {self.level} {self.code}: {self.message}"


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _where(data: Any, path: list[int | str], file: Path) -> Location:
    mark = locate(data, path)
    return Location(str(file), *mark) if mark else Location(str(file))


@dataclass(frozen=True)
class _RawRule:
    id: str
    where: Location
    start: dt.date
    end: dt.date  # exclusive; FAR when open
    cond: C.Condition | None
    derive: dict[str, Any]


def _norm(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else value


def _raw_pass(root: Path) -> tuple[list[Issue], list[_RawRule]]:
    """Checks on the YAML itself, so they run even when the pack does not load."""
    issues: list[Issue] = []
    rules: list[_RawRule] = []
    manifest = load_file(root / "pack.yaml")
    modules = manifest.get("modules") if isinstance(manifest, dict) else None
    for module in modules if isinstance(modules, list) else []:
        path = root / str(module) / "rules.yaml"
        if not path.is_file():
            continue
        data = load_file(path)
        raw_rules = data.get("rules") if isinstance(data, dict) else None
        for i, raw in enumerate(raw_rules if isinstance(raw_rules, list) else []):
            if not isinstance(raw, dict):
                continue
            rid = str(raw.get("id", f"rules[{i}]"))
            where = _where(data, ["rules", i], path)
            if not raw.get("sources"):
                issues.append(Issue(where, "no-sources", f"{rid} cites no source"))
            start, end = _date(raw.get("valid_from")), _date(raw.get("valid_to"))
            if start and end and end <= start:
                issues.append(Issue(_where(data, ["rules", i, "valid_to"], path), "window",
                                    f"{rid} ends ({end}) before it starts ({start})"))
            cond: C.Condition | None = None
            try:
                cond = C.parse(raw.get("when"))
            except C.ConditionError as exc:
                issues.append(Issue(_where(data, ["rules", i, "when", *exc.path], path),
                                    "condition", f"{rid}: {exc}"))
            if cond is not None:
                for test in C.fact_tests(cond):
                    if test.path not in REGISTRY:
                        issues.append(Issue(where, "unknown-fact",
                                            f"{rid} tests '{test.path}', which no case field "
                                            "or computed fact provides"))
            then = raw.get("then")
            derive = then.get("derive") if isinstance(then, dict) else None
            rules.append(_RawRule(rid, where, start or dt.date.min, end or FAR, cond,
                                  dict(derive) if isinstance(derive, dict) else {}))
    return issues, rules


def _underived(rules: list[_RawRule]) -> list[Issue]:
    """Derived-fact tests that, for part of the rule's window, no rule in force can satisfy."""
    issues: list[Issue] = []
    for rule in rules:
        if rule.cond is None:
            continue
        for test in C.derived_tests(rule.cond):
            wanted = None if test.values is None else {_norm(v) for v in test.values}
            windows = sorted(
                (d.start, d.end) for d in rules
                if test.key in d.derive and (wanted is None or _norm(d.derive[test.key]) in wanted)
            )
            label = test.key if wanted is None else \
                f"{test.key} in [{', '.join(str(v) for v in test.values or ())}]"
            gap = _first_gap(rule.start, rule.end, windows)
            if gap is not None:
                upto = "on" if gap[1] == FAR else f"to {gap[1]}"
                issues.append(Issue(rule.where, "underived",
                                    f"{rule.id} tests {label}, but from {gap[0]} {upto} "
                                    "no rule in force derives it"))
    return issues


def _first_gap(start: dt.date, end: dt.date,
               windows: list[tuple[dt.date, dt.date]]) -> tuple[dt.date, dt.date] | None:
    cursor = start
    for w_start, w_end in windows:
        if w_end <= cursor:
            continue
        if w_start > cursor:
            return cursor, min(w_start, end)
        cursor = max(cursor, w_end)
        if cursor >= end:
            return None
    return (cursor, end) if cursor < end else None


def _param_gaps(pack: RulePack) -> list[Issue]:
    issues: list[Issue] = []
    for cr in pack.rules:
        rule = cr.rule
        names = set(C.params(cr.condition))
        share = rule.then.revenue_share_pct
        if isinstance(share, dict):
            names.add(share["param"])
        for name in sorted(names):
            param = pack.parameters.get(name)
            if param is None:
                continue
            if param.at(rule.valid_from) is None:
                issues.append(Issue(cr.location, "param-gap",
                                    f"{rule.id}: parameter '{name}' has no value on its "
                                    f"valid_from {rule.valid_from}"))
                continue
            for value in param.values:
                if rule.active(value.from_) and value.value is None:
                    issues.append(Issue(cr.location, "param-gap",
                                        f"{rule.id}: parameter '{name}' has no value from "
                                        f"{value.from_}, while the rule is in force"))
                    break
    return issues


# --- sources and texts ---------------------------------------------------------------------


def _domains(root: Path) -> tuple[list[str], list[Issue]]:
    """The official domains the pack lists (government and company sites)."""
    path = root / OFFICIAL_DOMAINS
    if not path.is_file():
        return [], [Issue(Location(str(path)), "official-url",
                          "no list of official domains (add official_domains.yaml to the pack)")]
    data = load_file(path)
    try:
        parsed = OfficialDomainsFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        return [], [Issue(_where(data, list(err["loc"]), path), "official-url",
                          f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")]
    return parsed.domains(), []


def _on_domain(url: str, domains: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def _official_urls(root: Path) -> list[Issue]:
    """Official sources must be cited at an official home, not at a mirror or relay."""
    domains, issues = _domains(root)
    if issues:
        return issues
    for path in sorted(root.rglob("sources.yaml")):
        data = load_file(path)
        entries = data.get("sources") if isinstance(data, dict) else None
        for i, src in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(src, dict) or src.get("confidence") != "official":
                continue
            url = str(src.get("url", ""))
            if not _on_domain(url, domains):
                issues.append(Issue(
                    _where(data, ["sources", i, "url"], path), "official-url",
                    f"{src.get('id')} is labelled official but {urlsplit(url).hostname or url} "
                    f"is not an official domain (cite the official home, or label it reported "
                    f"or uncertain; domains are listed in {OFFICIAL_DOMAINS})"))
    return issues


def _cjk_spaces(root: Path, files: list[Path]) -> list[Issue]:
    """Chinese texts (``zh``) with an ASCII space between two Chinese characters."""
    issues: list[Issue] = []

    def walk(node: Any, at: list[int | str], data: Any, path: Path) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "zh" and isinstance(value, str):
                    hit = _CJK_SPACE.search(value)
                    if hit:
                        around = value[max(0, hit.start() - 6):hit.end() + 6]
                        issues.append(Issue(_where(data, [*at, key], path), "cjk-space",
                                            f"space between Chinese characters in '{around}' "
                                            "(write the text on one line, or remove the space)"))
                else:
                    walk(value, [*at, key], data, path)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*at, i], data, path)

    for path in files:
        if path.is_file():
            data = load_file(path)
            walk(data, [], data, path)
    return issues


def _text_files(root: Path) -> list[Path]:
    manifest = load_file(root / "pack.yaml")
    modules = manifest.get("modules") if isinstance(manifest, dict) else None
    questions = manifest.get("questions", "questions.yaml") if isinstance(manifest, dict) \
        else "questions.yaml"
    files = [root / "pack.yaml", root / str(questions)]
    files += [root / str(m) / "rules.yaml" for m in (modules if isinstance(modules, list) else [])]
    files += [root / str(m) / "parameters.yaml" for m in (modules if isinstance(modules, list)
                                                          else [])]
    return files


# --- contradictions ------------------------------------------------------------------------


@dataclass
class _Facts:
    """What a rule's top-level conjuncts require of each fact (only the simple tests)."""

    allowed: dict[str, set[Any]]
    forbidden: dict[str, set[Any]]
    nonempty: dict[str, bool]
    lower: dict[str, list[tuple[Any, bool]]]  # value (literal or ParamRef), strict
    upper: dict[str, list[tuple[Any, bool]]]


_FLIP = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in", "gt": "lte", "gte": "lt",
         "lt": "gte", "lte": "gt"}


def _conjuncts(cond: C.Condition) -> list[C.Condition]:
    if isinstance(cond, C.All):
        return [c for item in cond.items for c in _conjuncts(item)]
    return [cond]


def _requirements(cond: C.Condition) -> _Facts:
    req = _Facts({}, {}, {}, {}, {})
    for part in _conjuncts(cond):
        negate = False
        if isinstance(part, C.Not) and isinstance(part.item, C.FactTest):
            part, negate = part.item, True
        if isinstance(part, C.DerivedTest):
            if part.values is not None:
                key = f"derived:{part.key}"
                vals = {_norm(v) for v in part.values}
                req.allowed[key] = req.allowed[key] & vals if key in req.allowed else vals
            continue
        if not isinstance(part, C.FactTest):
            continue
        op = _FLIP[part.op] if negate and part.op in _FLIP else part.op
        raw = part.value if isinstance(part.value, tuple) else (part.value,)
        literal = not any(isinstance(v, C.ParamRef) for v in raw)
        vals = {_norm(v) for v in raw}
        if part.op == "nonempty":
            req.nonempty[part.path] = not negate
        elif op in ("eq", "in") and literal:
            prev = req.allowed.get(part.path)
            req.allowed[part.path] = vals if prev is None else prev & vals
        elif op in ("ne", "not_in") and literal:
            req.forbidden.setdefault(part.path, set()).update(vals)
        elif op in ("gt", "gte"):
            req.lower.setdefault(part.path, []).append((raw[0], op == "gt"))
        elif op in ("lt", "lte"):
            req.upper.setdefault(part.path, []).append((raw[0], op == "lt"))
    return req


def _bounds_clash(lower: tuple[Any, bool], upper: tuple[Any, bool]) -> bool:
    (lo, lo_strict), (hi, hi_strict) = lower, upper
    if isinstance(lo, C.ParamRef) or isinstance(hi, C.ParamRef):
        return lo == hi and (lo_strict or hi_strict)  # >= P and < P
    try:
        lo_v, hi_v = float(lo), float(hi)
    except (TypeError, ValueError):
        lo_v, hi_v = _date(lo), _date(hi)  # type: ignore[assignment]
        if lo_v is None or hi_v is None:
            return False
    return bool(lo_v > hi_v or (lo_v == hi_v and (lo_strict or hi_strict)))


def _implied(cond: C.Condition, given: set[C.Condition]) -> bool:
    """Whether a set of required conditions makes ``cond`` hold, structurally."""
    if cond in given:
        return True
    if isinstance(cond, C.All):
        return all(_implied(c, given) for c in cond.items)
    if isinstance(cond, C.AnyOf):
        return any(_implied(c, given) for c in cond.items)
    return False


def exclusive(a: C.Condition, b: C.Condition) -> bool:
    """Whether two conditions cannot both hold, judged on their simple tests and on one
    negating what the other requires (``not: {all: [...]}`` against those same tests)."""
    for one, other in ((a, b), (b, a)):
        required = set(_conjuncts(other))
        if any(isinstance(c, C.Not) and _implied(c.item, required) for c in _conjuncts(one)):
            return True
    ra, rb = _requirements(a), _requirements(b)
    for x, y in ((ra, rb), (rb, ra)):
        for path, allowed in x.allowed.items():
            if path in y.allowed and not allowed & y.allowed[path]:
                return True
            if path in y.forbidden and allowed <= y.forbidden[path]:
                return True
        for path, flag in x.nonempty.items():
            if path in y.nonempty and y.nonempty[path] != flag:
                return True
        for path, lows in x.lower.items():
            if any(_bounds_clash(lo, hi) for lo in lows for hi in y.upper.get(path, [])):
                return True
    return False


def _overlap(a: CompiledRule, b: CompiledRule) -> bool:
    a_end, b_end = a.rule.valid_to or FAR, b.rule.valid_to or FAR
    return a.rule.valid_from < b_end and b.rule.valid_from < a_end


def contradictions(pack: RulePack) -> list[Issue]:
    issues: list[Issue] = []
    for a, b in combinations(pack.rules, 2):
        clash = [
            f"{side} {getattr(a.rule.then, side).value} vs {getattr(b.rule.then, side).value}"
            for side in ("us_status", "cn_status")
            if getattr(a.rule.then, side) and getattr(b.rule.then, side)
            and getattr(a.rule.then, side) != getattr(b.rule.then, side)
        ]
        if not clash or a.scope is not b.scope or not _overlap(a, b):
            continue
        if exclusive(a.condition, b.condition):
            continue
        issues.append(Issue(b.location, "contradiction",
                            f"{b.rule.id} and {a.rule.id} ({a.location}) set {'; '.join(clash)} "
                            "on overlapping dates, and both can hold"))
    return issues


def lint(root: Path) -> list[Issue]:
    """Every problem found in the pack at ``root``, errors first, each with its location."""
    root = Path(root)
    if not (root / "pack.yaml").is_file():
        raise UserInputError(Location(str(root / "pack.yaml")),
                             "no rule pack here (pack.yaml missing)", "pass --rules DIR")
    try:
        issues, raw_rules = _raw_pass(root)
    except UserInputError as exc:
        return [Issue(exc.location, "load", exc.message)]
    issues += _underived(raw_rules)
    try:
        issues += _official_urls(root)
        issues += _cjk_spaces(root, _text_files(root))
    except UserInputError as exc:
        issues.append(Issue(exc.location, "load", exc.message))
    try:
        pack = load_pack(root)
    except UserInputError as exc:
        if not any(i.error for i in issues):  # an error the raw pass did not already explain
            issues.append(Issue(exc.location, "load", exc.message + (
                f" ({exc.hint})" if exc.hint else "")))
    else:
        issues += _param_gaps(pack)
        issues += contradictions(pack)
    return sorted(issues, key=lambda i: (not i.error, i.location.file, i.location.line or 0))
