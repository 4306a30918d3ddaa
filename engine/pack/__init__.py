"""Rule packs as data: files, typed conditions, facts, the chip catalog, loading, lint, diff
and the JSON Schemas editors validate against."""
