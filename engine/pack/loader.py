"""Rule packs: YAML rules, dated parameters, sources, the catalog and screening lists.

A pack is a directory (``rules/`` by default) with a ``pack.yaml`` manifest. Loading
checks everything a rule author can get wrong (unknown fact paths, unknown sources,
parameters without a value, windows that end before they start) and reports it as
``file:line:col``. The pack's content hash covers every file that can change a
decision, so each decision records exactly which rules made it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from chipclear.errors import Location, RulePackError
from chipclear.io.yamlload import load_file, locate
from chipclear.model.strict import StrictModel
from chipclear.pack import conditions as C
from chipclear.pack.catalog import Catalog, CatalogFile
from chipclear.pack.digest import pack_digest
from chipclear.pack.facts import REGISTRY, Kind, Scope
from chipclear.pack.sources import Confidence, Source, SourceFile, SourceId, weakest
from chipclear.screening import store as list_store
from chipclear.screening.match import ScreeningList, parse_list
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)


class Text(StrictModel):
    """Bilingual text: every title, condition and question exists in English and Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class Jurisdiction(StrEnum):
    US = "US"
    CN = "CN"


class Severity(StrEnum):
    block = "block"
    condition = "condition"
    info = "info"


class UsStatus(StrEnum):
    """US status, best to worst; ``undetermined`` is a decision's answer, never a rule's."""

    not_controlled = "not_controlled"
    licence_exception = "licence_exception"
    licence_required = "licence_required"
    presumption_of_denial = "presumption_of_denial"
    prohibited = "prohibited"
    undetermined = "undetermined"


class CnStatus(StrEnum):
    """Chinese regulator's status, best to worst; ``undetermined`` as for UsStatus."""

    no_objection = "no_objection"
    conditions = "conditions"
    approval_required = "approval_required"
    prohibited = "prohibited"
    undetermined = "undetermined"
    #: The module's ``applies_when`` is false for the case (a consignee outside mainland
    #: China): the regulator's measures do not reach it, which is not "no objection".
    not_applicable = "not_applicable"


#: Statuses a rule may set, best to worst (``undetermined`` is not on the scale).
US_ORDER = [s for s in UsStatus if s is not UsStatus.undetermined]
CN_ORDER = [s for s in CnStatus if s not in (CnStatus.undetermined, CnStatus.not_applicable)]
#: The step of each scale that means "allowed, subject to conditions": a rule that only
#: raises a status this far adds checklist items, it does not change what may be done.
US_CONDITIONAL = UsStatus.licence_exception
CN_CONDITIONAL = CnStatus.conditions

RuleId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9.]+)+$", max_length=60)]
DeriveValue = str | bool | float | int


class ParamKind(StrEnum):
    """What a parameter's value is; checked against every fact the parameter is compared with."""

    number = "number"
    date = "date"
    text = "text"
    boolean = "boolean"


#: The unit of a revenue-share parameter.
PERCENT = "percent"
#: Which parameter kind a fact of each kind is compared with.
PARAM_KIND_FOR = {Kind.number: ParamKind.number, Kind.date: ParamKind.date,
                  Kind.text: ParamKind.text, Kind.choice: ParamKind.text,
                  Kind.boolean: ParamKind.boolean}


def number_problem(value: Any) -> str | None:
    """Why a number cannot be a rule value: not a number, not finite, or not exactly a float.

    The engine holds numbers as doubles (see decide/runtime.py); anything else would be
    refused when a case is decided, so it is refused when the pack loads.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number"
    try:
        as_float = float(value)
    except OverflowError:
        return f"{value} is too large"
    if not math.isfinite(as_float):
        return f"{value} is not a finite number"
    if isinstance(value, int) and int(as_float) != value:
        return f"{value} is not exactly representable (at most 2**53)"
    return None


def value_problem(kind: ParamKind, value: Any) -> str | None:
    """Why a value does not fit a parameter kind (None: it fits, or it is 'no value')."""
    if value is None:
        return None
    if kind is ParamKind.number:
        return number_problem(value)
    if kind is ParamKind.boolean:
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if not isinstance(value, str):
        return f"{value!r} is not {'a date (YYYY-MM-DD)' if kind is ParamKind.date else 'text'}"
    if kind is ParamKind.date:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date (YYYY-MM-DD)"
    return None


class ParamValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              defer_build=True)  # see StrictModel

    from_: dt.date = Field(alias="from")
    value: float | str | bool | None
    sources: list[SourceId] = Field(min_length=1)
    note: str | None = None


class Parameter(StrictModel):
    """A dated value (threshold, rate): the value in force is the latest ``from`` <= date."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")]
    description: Text
    kind: ParamKind = Field(description="number (with a unit), date (YYYY-MM-DD), text or "
                                        "boolean; must match every fact it is compared with.")
    unit: str | None = Field(None, description="Unit of a number parameter (TPP, TPP/mm2, GB, "
                                               "GB/s, USD, percent): the unit of its facts.")
    values: list[ParamValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> Parameter:
        dates = [v.from_ for v in self.values]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("values must be in increasing 'from' order, one per date")
        return self

    @model_validator(mode="after")
    def _typed(self) -> Parameter:
        if self.kind is ParamKind.number and not self.unit:
            raise ValueError("a number parameter declares its unit (e.g. TPP, GB/s, percent)")
        if self.kind is not ParamKind.number and self.unit is not None:
            raise ValueError(f"a {self.kind} parameter has no unit")
        for value in self.values:
            problem = value_problem(self.kind, value.value)
            if problem:
                raise ValueError(f"value from {value.from_}: {problem} "
                                 f"(the parameter is a {self.kind})")
        return self

    def at(self, when: dt.date) -> ParamValue | None:
        current = None
        for value in self.values:
            if value.from_ <= when:
                current = value
        return current if current is not None and current.value is not None else None


class Then(StrictModel):
    derive: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], DeriveValue] = Field(
        default_factory=dict
    )
    us_status: UsStatus | None = None
    cn_status: CnStatus | None = None
    revenue_share_pct: float | dict[str, str] | None = None
    revenue_share_basis: Text | None = Field(
        None, description="What the dollar figure of the share is an estimate of, e.g. the "
                          "customs value at US import.")
    condition: Text | None = None

    @model_validator(mode="after")
    def _no_undetermined(self) -> Then:
        if self.us_status is UsStatus.undetermined or self.cn_status in (
                CnStatus.undetermined, CnStatus.not_applicable):
            raise ValueError("'undetermined' is what a decision says while a rule is undecided; "
                             "a rule sets a definite status")
        return self


class Rule(StrictModel):
    id: RuleId
    title: Text
    jurisdiction: Jurisdiction
    severity: Severity
    valid_from: dt.date
    valid_to: dt.date | None = Field(None, description="First day the rule no longer applies.")
    sources: list[SourceId] = Field(min_length=1)
    context_sources: list[SourceId] = Field(
        default_factory=list,
        description="Sources cited for background only; the claim rests on `sources`.")
    confidence: Confidence | None = Field(
        None, description="Confidence of the claim the rule rests on; without it, the weakest "
                          "of its (operative) sources.")
    summary: Text | None = None
    silent: bool = Field(False, description="Derives facts only; not shown as a finding.")
    when: Any
    requires: list[Any] = Field(
        default_factory=list,
        description="Preconditions of the path (case-fact tests). All must hold for the rule to "
                    "fire; a false one closes the path (another rule states what follows), an "
                    "unknown one is a decisive missing fact.")
    then: Then = Field(default_factory=Then)

    @model_validator(mode="after")
    def _window(self) -> Rule:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is not after valid_from {self.valid_from}")
        return self

    def active(self, when: dt.date) -> bool:
        return self.valid_from <= when and (self.valid_to is None or when < self.valid_to)


class ModuleHeader(StrictModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    title: Text
    jurisdiction: Jurisdiction
    applies_when: Any = Field(
        None, description="A condition every rule of the module also needs, e.g. that the "
                          "buyer is in the regulator's territory; rules show it in their chain.")


class RuleFile(StrictModel):
    module: ModuleHeader
    rules: list[Rule]


class ParameterFile(StrictModel):
    parameters: list[Parameter]


class InputType(StrEnum):
    choice = "choice"
    yesno = "yesno"
    number = "number"
    date = "date"
    text = "text"
    items = "items"
    country = "country"


class Owner(StrEnum):
    """Who can answer a question: whom an officer sends it to."""

    buyer = "buyer"
    exporter = "exporter"
    vendor = "vendor"
    regulator = "regulator"


class Question(StrictModel):
    fact: str
    owner: Owner = Field(
        Owner.buyer, description="Who can answer it. The exporter's facts (its certifications) "
                                 "are shown for the exporter and never make the verdict "
                                 "needs_information: the buyer cannot answer them.")
    text: Text
    help: Text | None = None
    why: Text | None = None  #: one sentence: why the answer matters ("why we ask")
    input: InputType
    unit: str | None = None
    choices: list[str] | None = None


class QuestionFile(StrictModel):
    questions: list[Question]


def path_problem(rel: str) -> str | None:
    """Why a manifest path does not name a place inside the pack (None: it does)."""
    if not rel or rel.startswith(("/", "\\")) or "\\" in rel or PureWindowsPath(rel).drive:
        return f"'{rel}' is not a relative path"
    if ".." in PurePosixPath(rel).parts:
        return f"'{rel}' climbs out of the pack with '..'"
    return None


#: A path inside the pack, relative to pack.yaml, never absolute and without '..'.
PackPath = Annotated[str, Field(min_length=1,
                                description="Relative to pack.yaml, inside the pack.")]


class Manifest(StrictModel):
    id: str
    version: str
    title: Text
    modules: list[PackPath] = Field(min_length=1)
    catalog: PackPath = "catalog/chips.yaml"
    entity_list: PackPath = "lists/entity_list.yaml"
    approved_customers: PackPath = "lists/approved_customers.yaml"
    questions: PackPath = "questions.yaml"
    covers_from: dt.date | None = Field(
        None, description="First decision date the pack's rules were written for; an "
                          "earlier date is refused (no rule firing there is no answer).")
    reviewed_until: dt.date | None = Field(
        None, description="Date up to which the pack's sources were reviewed; a decision "
                          "dated later warns that newer measures may apply.")

    @field_validator("modules", "catalog", "entity_list", "approved_customers", "questions")
    @classmethod
    def _inside(cls, value: str | list[str]) -> str | list[str]:
        for rel in [value] if isinstance(value, str) else value:
            problem = path_problem(rel)
            if problem:
                raise ValueError(f"{problem} (name files relative to pack.yaml, inside the pack)")
        return value


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its parsed condition and where it was written."""

    rule: Rule
    module: str
    condition: C.Condition
    scope: Scope
    location: Location
    #: The rule's ``requires`` as one condition (already joined into ``condition``).
    requirement: C.Condition | None = None


@dataclass
class RulePack:
    root: Path
    manifest: Manifest
    rules: list[CompiledRule]
    parameters: dict[str, Parameter]
    sources: dict[str, Source]
    catalog: Catalog
    entity_list: ScreeningList
    approved_customers: ScreeningList
    questions: dict[str, Question]
    sha256: str
    files: dict[str, bytes] = field(repr=False)
    derived_scopes: dict[str, Scope] = field(default_factory=dict)
    #: Each module's ``applies_when``, parsed (already joined into its rules' conditions).
    module_scopes: dict[str, C.Condition] = field(default_factory=dict)
    #: The Consolidated Screening List the user imported (not part of the pack's hash; each
    #: decision records its own import date and snapshot hash), or None.
    imported_list: list_store.ImportedList | None = None

    @cached_property
    def rules_by_id(self) -> dict[str, CompiledRule]:
        return {r.rule.id: r for r in self.rules}

    def confidence(self, source_ids: list[str]) -> Confidence:
        """The weakest confidence among the operative sources: a claim is as good as its
        weakest support (none known: uncertain)."""
        levels = [self.sources[s].confidence for s in source_ids if s in self.sources]
        return weakest(levels) if levels else Confidence.uncertain


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        mark = locate(data, err["loc"], err["type"] == "extra_forbidden")
        loc = ".".join(str(p) for p in err["loc"])
        where = Location(str(path), *mark) if mark else Location(str(path))
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise RulePackError(where, f"{loc}: {err['msg']}{more}") from None


def confined(root: Path, rel: str) -> Path:
    """``root/rel``, refused unless it stays inside the pack once links are resolved.

    A pack (also one read from a git revision) must not read files elsewhere on the
    machine: its hash would then depend on that machine, and it could read anything.
    """
    where = Location(str(root / "pack.yaml"))
    problem = path_problem(rel)
    if problem:
        raise RulePackError(where, problem, "name files relative to pack.yaml, inside the pack")
    path = root / rel
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise RulePackError(Location(str(path)), "leads outside the rule pack (a symbolic link?)",
                            "keep every pack file inside the pack directory")
    if real.exists() and not real.is_file():
        raise RulePackError(Location(str(path)), "is not a regular file")
    return path


def _read(root: Path, rel: str, files: dict[str, bytes]) -> Any:
    path = confined(root, rel)
    data = load_file(path)
    files[rel] = path.read_bytes()
    return data


def _rule_location(data: Any, index: int, path: Path) -> Location:
    mark = locate(data, ["rules", index])
    return Location(str(path), *mark) if mark else Location(str(path))


def _check_test(test: C.FactTest, params: dict[str, Parameter]) -> str | None:
    spec = REGISTRY.get(test.path)
    if spec is None:
        return f"unknown fact '{test.path}'"
    values = test.value if isinstance(test.value, tuple) else (test.value,)
    for value in values:
        if isinstance(value, C.ParamRef):
            param = params.get(value.name)
            if param is None:
                return f"unknown parameter '{value.name}'"
            problem = _param_problem(test.path, param)
            if problem:
                return problem
            if test.op in ("gt", "gte", "lt", "lte") and spec.kind not in (Kind.number,
                                                                            Kind.date):
                return f"'{test.op}' compares numbers or dates; '{test.path}' is {spec.kind}"
            continue
        if test.op == "nonempty":
            if spec.kind is not Kind.text:
                return f"'nonempty' is for text facts; '{test.path}' is {spec.kind}"
            continue
        if spec.kind is Kind.boolean and not isinstance(value, bool):
            return f"'{test.path}' is true/false, not {value!r}"
        if spec.kind is Kind.number and number_problem(value):
            return f"'{test.path}' is a finite number; {number_problem(value)}"
        if spec.kind in (Kind.choice, Kind.text) and not isinstance(value, str):
            return f"'{test.path}' is text, not {value!r}"
        if spec.kind is Kind.choice and value not in spec.choices:
            return f"'{value}' is not a value of '{test.path}' ({', '.join(spec.choices)})"
        if spec.kind is Kind.date:
            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                return f"'{test.path}' is a date (YYYY-MM-DD), not {value!r}"
        if test.op in ("gt", "gte", "lt", "lte") and spec.kind not in (Kind.number, Kind.date):
            return f"'{test.op}' compares numbers or dates; '{test.path}' is {spec.kind}"
    return None


def _param_problem(path: str, param: Parameter) -> str | None:
    """Why a parameter cannot be compared with a fact: another kind, unit or choice."""
    spec = REGISTRY[path]
    want = PARAM_KIND_FOR[spec.kind]
    if param.kind is not want:
        return f"parameter '{param.id}' is a {param.kind}, but '{path}' is a {spec.kind}"
    if spec.unit is not None and param.unit != spec.unit:
        return f"parameter '{param.id}' is in {param.unit}, but '{path}' is in {spec.unit}"
    if spec.kind is Kind.choice:
        for value in param.values:
            if value.value is not None and value.value not in spec.choices:
                return (f"parameter '{param.id}' has value {value.value!r}, not a value of "
                        f"'{path}' ({', '.join(spec.choices)})")
    return None


def _share_problem(share: float | dict[str, str], params: dict[str, Parameter]) -> str | None:
    """Why a revenue share is not a percentage (literal, or a number parameter in percent)."""
    if isinstance(share, dict):
        param = params.get(share.get("param", "")) if set(share) == {"param"} else None
        if param is None:
            return "revenue_share_pct is a number or {param: name} naming a defined parameter"
        if param.kind is not ParamKind.number or param.unit != PERCENT:
            return f"revenue_share_pct: parameter '{param.id}' must be a number in {PERCENT}"
        values = [v.value for v in param.values if v.value is not None]
    else:
        values = [share]
    for value in values:
        if number_problem(value) or not 0 <= float(value) <= 100:
            return f"revenue_share_pct: {value!r} is not a percentage from 0 to 100"
    return None


def _overlap(a: Rule, b: Rule) -> bool:
    return a.valid_from < (b.valid_to or dt.date.max) and b.valid_from < (a.valid_to or dt.date.max)


def derive_cycle(rules: list[CompiledRule]) -> tuple[CompiledRule, list[str]] | None:
    """A chain of rules in force together that derive each other's conditions, if any.

    Such a pack cannot be ordered for evaluation; it is refused when it loads (and so
    by ``rules lint``), not first when a case on an affected date is decided.
    """
    derivers: dict[str, list[CompiledRule]] = {}
    for r in rules:
        for key in r.rule.then.derive:
            derivers.setdefault(key, []).append(r)
    state: dict[str, int] = {}

    def visit(r: CompiledRule, chain: list[str]) -> tuple[CompiledRule, list[str]] | None:
        mark = state.get(r.rule.id, 0)
        if mark == 2:
            return None
        if mark == 1:
            return r, [*chain[chain.index(r.rule.id):], r.rule.id]
        state[r.rule.id] = 1
        for test in C.derived_tests(r.condition):
            for dep in derivers.get(test.key, []):
                if _overlap(r.rule, dep.rule):
                    found = visit(dep, [*chain, r.rule.id])
                    if found:
                        return found
        state[r.rule.id] = 2
        return None

    for r in rules:
        found = visit(r, [])
        if found:
            return found
    return None


def load_pack(root: Path, lists_dir: Path | None = None, *, cache: bool = False) -> RulePack:
    """Load and check a rule pack directory; raise RulePackError naming file:line:col.

    The imported screening list is read from ``lists_dir`` (default: the user's data
    directory, ``$CHIPCLEAR_DATA``), so every decision screens against the last import.
    ``cache``: reuse the pack as validated by an earlier run when none of its files (nor
    chipclear's code) changed since (``chipclear.pack.cache``; the command line's choice).
    """
    root = Path(root)
    if cache:
        from chipclear.pack import cache as pack_cache

        if pack_cache.enabled():
            pack = pack_cache.cached(root, _load_indexed, RulePack)
            return replace(pack, imported_list=list_store.load(lists_dir))
    return replace(_load(root), imported_list=list_store.load(lists_dir))


def _load_indexed(root: Path) -> RulePack:
    """The pack with its screening indexes built, as the cache keeps it."""
    pack = _load(root)
    _ = pack.entity_list.index, pack.approved_customers.allow_index
    return pack


def _load(root: Path) -> RulePack:
    """The pack from its files, without the user's imported list."""
    if not (root / "pack.yaml").is_file():
        raise RulePackError(
            Location(str(root / "pack.yaml")), "no rule pack here (pack.yaml missing)",
            "pass the rules directory with --rules",
        )
    files: dict[str, bytes] = {}
    manifest: Manifest = _validate(Manifest, _read(root, "pack.yaml", files), root / "pack.yaml")
    sources = _read_sources(root, files)
    parameters, rule_entries, module_scope = _read_modules(root, manifest, sources, files)
    compiled, derived_scopes = _compile_rules(rule_entries, parameters, module_scope)
    catalog = _read_catalog(root, manifest, sources, files)
    entity_list = parse_list(_read(root, manifest.entity_list, files),
                             str(root / manifest.entity_list))
    approved = parse_list(_read(root, manifest.approved_customers, files),
                          str(root / manifest.approved_customers))
    questions = _read_questions(root, manifest, files)
    return RulePack(
        root=root, manifest=manifest, rules=compiled, parameters=parameters, sources=sources,
        catalog=catalog, entity_list=entity_list, approved_customers=approved,
        questions=questions, sha256=pack_digest(files), files=files,
        derived_scopes=derived_scopes, module_scopes=module_scope,
    )


#: A rule as read from its module file, with what is needed to point at it.
_RuleEntry = tuple[Rule, str, Any, int, Path]  # rule, module, file data, index, file path


def _read_sources(root: Path, files: dict[str, bytes]) -> dict[str, Source]:
    """Every ``sources.yaml`` in the pack, one id space for the whole pack."""
    sources: dict[str, Source] = {}
    for src_path in sorted(root.rglob("sources.yaml")):
        rel = src_path.relative_to(root).as_posix()
        data = _read(root, rel, files)
        parsed: SourceFile = _validate(SourceFile, data, src_path)
        for i, src in enumerate(parsed.sources):
            if src.id in sources:
                mark = locate(data, ["sources", i])
                raise RulePackError(Location(str(src_path), *(mark or (None, None))),
                                    f"source id '{src.id}' is defined twice")
            sources[src.id] = src
    return sources


def _check_sources(sources: dict[str, Source], ids: list[str], data: Any,
                   loc: list[int | str], path: Path) -> None:
    """Refuse a citation of a source no ``sources.yaml`` defines."""
    for sid in ids:
        if sid not in sources:
            mark = locate(data, loc)
            raise RulePackError(
                Location(str(path), *(mark or (None, None))),
                f"unknown source '{sid}'", "add it to a sources.yaml in the pack",
            )


def _read_modules(
    root: Path, manifest: Manifest, sources: dict[str, Source], files: dict[str, bytes],
) -> tuple[dict[str, Parameter], list[_RuleEntry], dict[str, C.Condition]]:
    """Each module's parameters and rules, and the condition a module applies under."""
    parameters: dict[str, Parameter] = {}
    rule_entries: list[_RuleEntry] = []
    module_scope: dict[str, C.Condition] = {}
    for module in manifest.modules:
        param_rel = f"{module}/parameters.yaml"
        if confined(root, param_rel).exists():
            data = _read(root, param_rel, files)
            pfile: ParameterFile = _validate(ParameterFile, data, root / param_rel)
            for i, param in enumerate(pfile.parameters):
                if param.id in parameters:
                    raise RulePackError(Location(str(root / param_rel)),
                                        f"parameter '{param.id}' is defined twice")
                for j, value in enumerate(param.values):
                    _check_sources(sources, value.sources, data,
                                   ["parameters", i, "values", j], root / param_rel)
                parameters[param.id] = param
        rules_rel = f"{module}/rules.yaml"
        data = _read(root, rules_rel, files)
        rfile: RuleFile = _validate(RuleFile, data, root / rules_rel)
        if rfile.module.applies_when is not None:
            try:
                module_scope[module] = C.parse(rfile.module.applies_when)
            except C.ConditionError as exc:
                mark = locate(data, ["module", "applies_when", *exc.path])
                raise RulePackError(Location(str(root / rules_rel), *(mark or (None, None))),
                                    f"module {module}: applies_when: {exc}") from None
        for i, rule in enumerate(rfile.rules):
            _check_sources(sources, rule.sources, data, ["rules", i, "sources"],
                           root / rules_rel)
            _check_sources(sources, rule.context_sources, data,
                           ["rules", i, "context_sources"], root / rules_rel)
            rule_entries.append((rule, module, data, i, root / rules_rel))
    return parameters, rule_entries, module_scope


def _compile_rules(
    rule_entries: list[_RuleEntry], parameters: dict[str, Parameter],
    module_scope: dict[str, C.Condition],
) -> tuple[list[CompiledRule], dict[str, Scope]]:
    """Parse and check every rule, give each its scope; refuse unknown derived facts and
    derive cycles. Returns the rules in file order and the scope of each derived fact."""
    seen: dict[str, Location] = {}
    pending: list[tuple[Rule, str, C.Condition, Location]] = []
    requirements: dict[str, C.Condition | None] = {}
    for rule, module, data, i, path in rule_entries:
        where = _rule_location(data, i, path)
        if rule.id in seen:
            raise RulePackError(where, f"rule id '{rule.id}' is already used at {seen[rule.id]}")
        seen[rule.id] = where
        cond, requirement = _rule_condition(rule, data, i, path, where)
        if module in module_scope:
            cond = C.All((module_scope[module], cond))
        _check_rule(rule, cond, where, parameters)
        pending.append((rule, module, cond, where))
        requirements[rule.id] = requirement

    scopes, derived_scopes = _scopes([(rule, cond) for rule, _, cond, _ in pending])
    compiled: list[CompiledRule] = []
    for rule, module, cond, where in pending:
        for dtest in C.derived_tests(cond):
            if dtest.key not in derived_scopes:
                raise RulePackError(where, f"{rule.id}: no rule derives '{dtest.key}'")
        compiled.append(CompiledRule(rule, module, cond, scopes[rule.id], where,
                                     requirements[rule.id]))
    cycle = derive_cycle(compiled)
    if cycle:
        raise RulePackError(cycle[0].location,
                            "rules derive each other in a cycle: " + " -> ".join(cycle[1]),
                            "a rule cannot depend on what it derives")
    return compiled, derived_scopes


def _rule_condition(rule: Rule, data: Any, i: int, path: Path,
                    where: Location) -> tuple[C.Condition, C.Condition | None]:
    """The rule's ``when`` joined with its ``requires`` (also returned alone)."""
    try:
        cond = C.parse(rule.when)
    except C.ConditionError as exc:
        mark = locate(data, ["rules", i, "when", *exc.path])
        raise RulePackError(Location(str(path), *(mark or (None, None))),
                            f"{rule.id}: {exc}") from None
    requirement: C.Condition | None = None
    if rule.requires:
        try:
            requirement = C.All(tuple(C.parse(r, ("requires", j))
                                      for j, r in enumerate(rule.requires)))
        except C.ConditionError as exc:
            mark = locate(data, ["rules", i, *exc.path])
            raise RulePackError(Location(str(path), *(mark or (None, None))),
                                f"{rule.id}: {exc}") from None
        if C.uses_derived(requirement):
            raise RulePackError(where, f"{rule.id}: requires tests case facts, not derived "
                                       "facts (a precondition is something someone states)")
        cond = C.All((cond, requirement))
    return cond, requirement


def _check_rule(rule: Rule, cond: C.Condition, where: Location,
                parameters: dict[str, Parameter]) -> None:
    """Refuse tests of unknown facts or parameters, values of the wrong kind, non-finite
    derived numbers and a revenue share that is not a percentage."""
    for test in C.fact_tests(cond):
        problem = _check_test(test, parameters)
        if problem:
            raise RulePackError(where, f"{rule.id}: {problem}")
    for dtest in C.derived_tests(cond):
        for dvalue in dtest.values or ():
            if isinstance(dvalue, int | float) and not isinstance(dvalue, bool) \
                    and number_problem(dvalue):
                raise RulePackError(where, f"{rule.id}: derived {dtest.key}: "
                                           f"{number_problem(dvalue)}")
    share = rule.then.revenue_share_pct
    problem = None if share is None else _share_problem(share, parameters)
    if problem:
        raise RulePackError(where, f"{rule.id}: {problem}")
    for key, derived in rule.then.derive.items():
        if isinstance(derived, int | float) and not isinstance(derived, bool) \
                and number_problem(derived):
            raise RulePackError(where, f"{rule.id}: derive {key}: {number_problem(derived)}")


def _scopes(rules: list[tuple[Rule, C.Condition]]) -> tuple[dict[str, Scope], dict[str, Scope]]:
    """Each rule's scope and each derived fact's: item rules test chip or item facts, or
    a derived fact an item rule sets (propagated to a fixpoint)."""

    def direct_scope(cond: C.Condition) -> Scope:
        item = any(REGISTRY[t.path].scope is Scope.item for t in C.fact_tests(cond))
        return Scope.item if item else Scope.case

    derived_scopes: dict[str, Scope] = {}
    scopes = {rule.id: direct_scope(cond) for rule, cond in rules}
    for _ in range(len(rules) + 1):  # propagate through derived facts to a fixpoint
        for rule, _ in rules:
            for key in rule.then.derive:
                if scopes[rule.id] is Scope.item:
                    derived_scopes[key] = Scope.item
                else:
                    derived_scopes.setdefault(key, Scope.case)
        changed = False
        for rule, cond in rules:
            if scopes[rule.id] is Scope.case and any(
                derived_scopes.get(t.key) is Scope.item for t in C.derived_tests(cond)
            ):
                scopes[rule.id] = Scope.item
                changed = True
        if not changed:
            break
    return scopes, derived_scopes


def _read_catalog(root: Path, manifest: Manifest, sources: dict[str, Source],
                  files: dict[str, bytes]) -> Catalog:
    catalog_data = _read(root, manifest.catalog, files)
    catalog_file: CatalogFile = _validate(CatalogFile, catalog_data, root / manifest.catalog)
    try:
        catalog = Catalog(catalog_file.chips)
    except ValueError as exc:
        raise RulePackError(Location(str(root / manifest.catalog)), str(exc)) from None
    for i, chip in enumerate(catalog_file.chips):
        _check_sources(sources, chip.sources, catalog_data, ["chips", i],
                       root / manifest.catalog)
    return catalog


def _read_questions(root: Path, manifest: Manifest,
                    files: dict[str, bytes]) -> dict[str, Question]:
    """The questions file is optional: without it, facts are asked by their path."""
    questions: dict[str, Question] = {}
    if confined(root, manifest.questions).exists():
        qdata = _read(root, manifest.questions, files)
        qfile: QuestionFile = _validate(QuestionFile, qdata, root / manifest.questions)
        for q in qfile.questions:
            questions[q.fact] = q
    return questions


def default_rules_dir() -> Path:
    """The shipped pack, found as package data of ``chipclear.rules`` (wheel or editable)."""
    from importlib.resources import files

    return Path(str(files("chipclear.rules").joinpath("pack.yaml"))).resolve().parent


