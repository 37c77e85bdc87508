"""Panel components of the Experiments page (runs table, diff, curves, plots)."""
