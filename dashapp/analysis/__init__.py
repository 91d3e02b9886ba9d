"""The analysis engine: torch + numpy + scipy only (no Dash, no Flask)."""
