"""Pure functions on dataset versions: content diffs, drift, summary statistics, quality checks."""
