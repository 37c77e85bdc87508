"""Panel components of lineage: one run's graph of links, and a metric-per-data-version chart."""
