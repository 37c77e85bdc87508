"""Per-feature SHAP distributions: beeswarm points and dependence (with its strongest interaction)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def normalised(features: pd.DataFrame) -> pd.DataFrame:
    """Feature values scaled to 0..1 per column between its 5th and 95th percentile (colour scale)."""
    numeric = features.apply(pd.to_numeric, errors="coerce").astype(float)
    low, high = numeric.quantile(0.05), numeric.quantile(0.95)
    span = (high - low).replace(0, 1.0)
    return ((numeric - low) / span).clip(0, 1)


def beeswarm_frame(values: pd.DataFrame, features: pd.DataFrame, order: list[str], seed: int = 0) -> pd.DataFrame:
    """Long frame for a beeswarm: ``feature``, ``row`` (0 = top), ``y`` (row + jitter), ``shap``, ``value``.

    The jitter grows with the local density of SHAP values so dense areas spread out like a swarm.
    """
    rng = np.random.default_rng(seed)
    colour = normalised(features[order])
    parts = []
    for position, name in enumerate(order):
        shap_values = values[name].to_numpy(dtype=float)
        density = _local_density(shap_values)
        jitter = rng.uniform(-0.4, 0.4, size=len(shap_values)) * density
        parts.append(pd.DataFrame({
            "feature": name, "row": len(order) - 1 - position, "shap": shap_values,
            "value": colour[name].to_numpy(dtype=float), "raw": features[name].to_numpy(),
        }).assign(y=lambda f, j=jitter: f["row"] + j))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["feature", "row", "shap", "value", "raw", "y"])


def _local_density(values: np.ndarray, bins: int = 50) -> np.ndarray:
    """Each point's histogram-bin count relative to the fullest bin (0..1)."""
    if len(values) == 0 or np.nanmax(values) == np.nanmin(values):
        return np.ones(len(values))
    counts, edges = np.histogram(values, bins=bins)
    index = np.clip(np.digitize(values, edges[1:-1]), 0, bins - 1)
    return counts[index] / counts.max()


def strongest_interaction(values: pd.DataFrame, features: pd.DataFrame, feature: str, bins: int = 10) -> str | None:
    """The feature whose values best explain the spread of ``feature``'s SHAP values at a given value.

    Like shap's ``approximate_interactions``: sort rows by the feature, cut them into bins, and rank
    the other features by the summed |correlation| with ``feature``'s SHAP values inside each bin.
    """
    others = [name for name in features.columns if name != feature]
    if not others or len(values) < 2 * bins:
        return None
    order = np.argsort(pd.to_numeric(features[feature], errors="coerce").to_numpy(), kind="stable")
    shap_sorted = values[feature].to_numpy(dtype=float)[order]
    edges = np.linspace(0, len(order), bins + 1).astype(int)
    best, best_score = None, 0.0
    for name in others:
        column = pd.to_numeric(features[name], errors="coerce").to_numpy(dtype=float)[order]
        score = 0.0
        for start, stop in zip(edges[:-1], edges[1:], strict=True):
            a, b = shap_sorted[start:stop], column[start:stop]
            mask = ~np.isnan(b)
            if mask.sum() > 2 and np.std(a[mask]) > 0 and np.std(b[mask]) > 0:
                score += abs(np.corrcoef(a[mask], b[mask])[0, 1])
        if score > best_score:
            best, best_score = name, score
    return best


def dependence_frame(values: pd.DataFrame, features: pd.DataFrame, feature: str,
                     colour_by: str | None) -> pd.DataFrame:
    """Columns ``value`` (the feature), ``shap`` and ``colour`` (the interaction feature, if any)."""
    frame = pd.DataFrame({"value": pd.to_numeric(features[feature], errors="coerce"),
                          "shap": values[feature].astype(float)})
    frame["colour"] = pd.to_numeric(features[colour_by], errors="coerce") if colour_by else 0.0
    return frame.reset_index(drop=True)
