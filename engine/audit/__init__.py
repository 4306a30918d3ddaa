"""What a rule change does (impact, timeline, coverage) and the tamper-evident ledger."""
