"""From a case to a decision: prepare facts, run the engine (the only durable import lives
in ``runtime``), cross-check and build the decision."""
