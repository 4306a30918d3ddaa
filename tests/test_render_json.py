"""Decision JSON is written by pydantic's JSON writer, byte for byte what ``json.dumps``
of ``model_dump(mode="json")`` wrote before (the contract: same case + pack, same bytes).

The two writers differ on floats below 1e-4 (``1e-05`` against ``0.00001``), on infinity
and NaN (an error against ``null``) and on lone surrogates; such decisions must take
Python's writer. The properties below put arbitrary floats and text where a decision
holds them and compare both writers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.io import render
from chipclear.model.case import Case
from chipclear.model.decision import Decision
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fresh_seed import GENERATION_CHECKS, fresh_seed

CASE = {"id": "render-1", "as_of": "2026-02-15",
        "buyer": {"name": "Example GmbH", "country": "CN", "headquarters": "CN"},
        "order": {"items": [{"chip": "H200", "quantity": 8, "unit_price_usd": 30000},
                            {"chip": "H20", "quantity": 2, "unit_price_usd": 12000}]},
        "evidence": {"necessity_justification": "FP8 training"}}


@pytest.fixture(scope="module")
def decision(evaluator: Evaluator) -> Decision:
    return evaluator.evaluate(Case.model_validate(CASE))


def _python_line(decision: Decision) -> str:
    return json.dumps(decision.model_dump(mode="json"), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")) + "\n"


def _python_document(decision: Decision) -> str:
    body = {"schema": render.SCHEMA_ID, "decisions": [decision.model_dump(mode="json")],
            "errors": [{"source": "a.yaml:1", "error": "bad"}]}
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=2) + "\n"


def _same_as_python(decision: Decision) -> None:
    """Both renderings equal Python's, or both refuse the decision like Python does."""
    try:
        line, document = _python_line(decision), _python_document(decision)
    except ValueError:  # infinity or NaN: refused, never written as null
        with pytest.raises(ValueError):
            render.to_jsonl_line(decision)
        with pytest.raises(ValueError):
            render.to_json([decision], [])
        return
    assert render.to_jsonl_line(decision) == line
    assert render.to_json([decision], [{"source": "a.yaml:1", "error": "bad"}]) == document


def _with_float(decision: Decision, value: float) -> Decision:
    items = [decision.items[0].model_copy(update={"tpp": value, "revenue_share_usd": -value}),
             *decision.items[1:]]
    us = decision.us.model_copy(update={"revenue_share_pct": value})
    return decision.model_copy(update={"items": items, "us": us})


@pytest.mark.parametrize("value", [1e-05, 9.99e-05, 1e-4, 1.5e-07, 5e-324, -2e-300, 0.0,
                                   -0.0, 1e16, 1.2345678901234568e17, 1e22, 1.7976931348623157e308,
                                   0.30000000000000004, math.inf, -math.inf, math.nan])
def test_edge_floats_print_as_python_prints_them(decision: Decision, value: float) -> None:
    _same_as_python(_with_float(decision, value))


@fresh_seed
@settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)
@given(st.floats(allow_nan=True, allow_infinity=True)
       | st.floats(min_value=-1e-3, max_value=1e-3)
       | st.floats(min_value=1e15, max_value=1e18))
def test_any_float_prints_as_python_prints_it(decision: Decision, value: float) -> None:
    _same_as_python(_with_float(decision, value))


@fresh_seed
@settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)
@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_any_text_is_written_as_python_writes_it(decision: Decision, text: str) -> None:
    """Control characters escaped alike, everything else (U+2028, DEL, CJK) as is; a lone
    surrogate makes pydantic refuse, so Python's writer keeps writing what it wrote."""
    items = [decision.items[0].model_copy(update={"chip_name": text}), *decision.items[1:]]
    _same_as_python(decision.model_copy(update={"case_id": text, "items": items}))


def test_an_ordinary_decision_does_not_go_through_json_dumps(
        decision: Decision, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the change: the common case is written by pydantic alone."""
    expected = _python_line(decision)

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("json.dumps used for an ordinary decision")

    monkeypatch.setattr(render.json, "dumps", refuse)
    assert render.to_jsonl_line(decision) == expected
