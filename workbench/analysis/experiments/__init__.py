"""Pure functions on tidy runs frames: column choice, queries, diffs (no I/O, no Panel)."""
