"""The committed JSON Schemas match the models that validate the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.io.yamlload import load_file
from chipclear.model.case import Case
from chipclear.pack.schema import SCHEMAS, render, schema_for
from jsonschema import Draft202012Validator

from tests.conftest import ROOT


def test_committed_schemas_are_current() -> None:
    for name, model in SCHEMAS.items():
        path = ROOT / "rules" / "schema" / name
        assert path.read_text(encoding="utf-8") == render(model), (
            f"{path} is stale: run `chipclear schema`")


def test_rule_schema_describes_conditions() -> None:
    schema = schema_for(SCHEMAS["rules.schema.json"])
    text = json.dumps(schema)
    assert '"when": {"$ref": "#/$defs/Condition"}' in text
    branches = [b["$ref"] for b in schema["$defs"]["Condition"]["oneOf"]]
    assert branches[-1] == "#/$defs/FactNode"
    fact_branch = schema["$defs"]["FactNode"]
    assert {"fact", "eq", "gte", "in", "nonempty"} <= set(fact_branch["properties"])
    assert fact_branch["additionalProperties"] is False


def _modeline_files() -> list[tuple[Path, Path]]:
    """Every shipped YAML file that names its schema, with the schema it names."""
    out = []
    for path in sorted([*(ROOT / "rules").rglob("*.yaml"), *(ROOT / "examples").rglob("*.yaml")]):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        if first.startswith("# yaml-language-server: $schema="):
            out.append((path, (path.parent / first.split("=", 1)[1]).resolve()))
    return out


def test_every_shipped_yaml_file_names_its_schema() -> None:
    named = {path for path, _ in _modeline_files()}
    shipped = {p for p in [*(ROOT / "rules").rglob("*.yaml"), *(ROOT / "examples").rglob("*.yaml")]
               if "fixtures" not in p.parts}
    assert shipped - named == set()


@pytest.mark.parametrize(("path", "schema"), _modeline_files(),
                         ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v)
def test_shipped_files_validate_against_the_schema_they_name(path: Path, schema: Path) -> None:
    """What an editor checks with the modeline is what chipclear accepts."""
    validator = Draft202012Validator(json.loads(schema.read_text(encoding="utf-8")))
    errors = sorted(validator.iter_errors(load_file(path)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_the_case_schema_rejects_what_the_model_rejects() -> None:
    validator = Draft202012Validator(schema_for(SCHEMAS["case.schema.json"]))
    good = {"id": "x", "order": {"items": [{"chip": "H200"}]}}
    assert validator.is_valid(good)
    assert validator.is_valid({"cases": [good, good]})
    assert not validator.is_valid({**good, "colour": "red"})
    assert not validator.is_valid({"cases": [good], "extra": 1})
    assert not validator.is_valid({"id": "x", "buyer": {"kind": "alien"}})


def test_decisions_validate_against_the_decision_schema(evaluator: Evaluator) -> None:
    """The decision schema describes what chipclear writes, new fields and values included."""
    schema = json.loads((ROOT / "rules" / "schema" / "decision.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema)
    statuses = set()
    for path in sorted((ROOT / "examples" / "cases").glob("*.yaml")):
        data = load_file(path)
        for raw in data.get("cases", [data]):
            decision = evaluator.evaluate(Case.model_validate(raw))
            dumped = decision.model_dump(mode="json")
            errors = list(validator.iter_errors(dumped))
            assert not errors, (path.name, [e.message for e in errors[:3]])
            statuses.add(dumped["cn"]["status"])
    assert "undetermined" in statuses  # the new enum value is in the schema and in use
    assert "undetermined" in schema["$defs"]["UsStatus"]["enum"]
