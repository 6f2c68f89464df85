"""On-call scheduling core: pure (no database, no clock, no Flask)."""
