"""How the next question is chosen and grouped: impact first, then the pack's order.

The decision's ``missing`` entries say which facts undecided rules wait for; when they
also say who must act (``owner``) and what an answer could do (``impact``), questions
that could block the purchase come before those that could change a status, and those
before questions that only settle a condition. Read with ``getattr`` so the planner
works with decisions that carry those fields and with those that do not.
"""

from __future__ import annotations

from typing import Any

from chipclear.model.decision import Missing
from chipclear.pack.loader import Text

#: What an answer could do to the outcome, most consequential first.
IMPACT_RANK = {"could_block": 0, "could_change_status": 1, "condition_only": 2}

#: Where a question belongs, by the start of its fact path (first match wins).
SECTIONS: tuple[tuple[str, Text], ...] = (
    ("evidence.vendor_attestation.", Text(en="Evidence from the vendor", zh="供应商提供的证明")),
    ("evidence.exporter_certifications.",
     Text(en="Evidence from the exporter", zh="出口商提供的证明")),
    ("order.", Text(en="Order", zh="订单")),
    ("as_of", Text(en="Order", zh="订单")),
    ("use.", Text(en="Use and workload", zh="用途与工作负载")),
    ("deployment.", Text(en="Use and workload", zh="用途与工作负载")),
    ("buyer.", Text(en="Buyer", zh="买方")),
    ("evidence.", Text(en="Buyer", zh="买方")),
)


def section_of(path: str) -> Text:
    """The section a question is shown under (Buyer, Order, Use and workload, Evidence…)."""
    for prefix, title in SECTIONS:
        if path.startswith(prefix):
            return title
    return Text(en="Other", zh="其他")


def impact_rank(missing: Missing | Any) -> int:
    """0 could block, 1 could change a status (also when the decision does not say), 2 only
    a condition."""
    impact = getattr(missing, "impact", None)
    value = getattr(impact, "value", impact)
    return IMPACT_RANK.get(str(value), 1) if value is not None else 1


def owner_of(missing: Missing | Any) -> str | None:
    """Who must act to answer (buyer, exporter, vendor, regulator), when the decision says."""
    owner = getattr(missing, "owner", None)
    value = getattr(owner, "value", owner)
    return str(value) if value is not None else None


def decisive(missing: Missing | Any) -> bool:
    """Whether an answer could change the verdict or a status (not only settle a condition)."""
    return impact_rank(missing) < IMPACT_RANK["condition_only"]
