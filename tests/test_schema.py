"""The committed JSON Schemas match the models that validate the files."""

from __future__ import annotations

import json

from engine.schema import SCHEMAS, render, schema_for
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
    fact_branch = schema["$defs"]["Condition"]["oneOf"][-1]
    assert {"fact", "eq", "gte", "in", "nonempty"} <= set(fact_branch["properties"])
    assert fact_branch["additionalProperties"] is False
