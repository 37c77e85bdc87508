"""Pure functions on Optuna trial frames: histories, Pareto fronts, EDFs, importances, aggregations."""
