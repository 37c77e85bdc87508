"""Pure functions on SHAP frames: importances, distributions, cohorts, performance, fairness, diffs."""
