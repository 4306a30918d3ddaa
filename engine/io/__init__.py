"""Reading case files (YAML, JSON, JSON lines) with positions, and rendering decisions."""
