"""JSON Schemas for every file users and rule authors write, and for the decision.

yaml-language-server reads a ``# yaml-language-server: $schema=...`` modeline and
then completes and checks keys as the author types. The schemas are generated from
the same pydantic models that validate the files, so they cannot drift; a test
checks the committed copies under ``rules/schema/`` are current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chipclear.model.case import Case
from chipclear.model.decision import Decision
from chipclear.pack import conditions as C
from chipclear.pack.catalog import CatalogFile
from chipclear.pack.golden import GoldenFile
from chipclear.pack.loader import Manifest, ParameterFile, QuestionFile, RuleFile
from chipclear.pack.sources import OfficialDomainsFile, SourceFile
from chipclear.screening.match import ScreeningList
from pydantic import BaseModel


def condition_schema() -> dict[str, Any]:
    """The condition grammar's JSON Schema, generated from the models the parser validates with.

    Returns the definitions to merge into a schema's ``$defs``, ``Condition`` included.
    """
    generated = C.CONDITION_MODEL.json_schema(ref_template="#/$defs/{model}", by_alias=True)
    defs: dict[str, Any] = generated.pop("$defs")
    defs["Condition"] = generated
    return defs


#: File name → model. Names are what modelines point at.
SCHEMAS: dict[str, type[BaseModel]] = {
    "case.schema.json": Case,
    "pack.schema.json": Manifest,
    "rules.schema.json": RuleFile,
    "parameters.schema.json": ParameterFile,
    "sources.schema.json": SourceFile,
    "catalog.schema.json": CatalogFile,
    "list.schema.json": ScreeningList,
    "questions.schema.json": QuestionFile,
    "golden.schema.json": GoldenFile,
    # What chipclear answers (one JSON-lines row; `decisions[]` in JSON output).
    "decision.schema.json": Decision,
    "official_domains.schema.json": OfficialDomainsFile,
}


def _patch_when(node: Any) -> None:
    """Point every condition property (typed Any in the model: the loader parses it with
    ``conditions.parse`` to report rule-level errors) at the generated condition grammar."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            if "when" in props:
                props["when"] = {"$ref": "#/$defs/Condition"}
            if "requires" in props:
                props["requires"] = {"type": "array", "items": {"$ref": "#/$defs/Condition"},
                                     "description": props["requires"].get("description")}
            if "applies_when" in props:
                description = props["applies_when"].get("description")
                props["applies_when"] = {"anyOf": [{"$ref": "#/$defs/Condition"}, {"type": "null"}],
                                         "description": description}
        for value in node.values():
            _patch_when(value)
    elif isinstance(node, list):
        for value in node:
            _patch_when(value)


def _one_or_many(case: dict[str, Any]) -> dict[str, Any]:
    """A case file holds one case, or many under ``cases:``."""
    defs = case.pop("$defs", {})
    defs["Case"] = case
    return {
        "title": "chipclear case file",
        "description": "One purchase case, or several under `cases:`.",
        "$defs": defs,
        "anyOf": [
            {"$ref": "#/$defs/Case"},
            {"type": "object", "required": ["cases"], "additionalProperties": False,
             "properties": {"cases": {"type": "array", "items": {"$ref": "#/$defs/Case"}}}},
        ],
    }


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    if model is Case:
        schema = _one_or_many(schema)
    if model is RuleFile:
        _patch_when(schema)
        schema.setdefault("$defs", {}).update(condition_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema_for(model), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = directory / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written
