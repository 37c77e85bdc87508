"""Model performance from true targets and predictions (classification and regression)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics


def is_classification(y_true: pd.Series, predictions: pd.Series) -> bool:
    """Binary 0/1 targets with scores in [0, 1]."""
    labels = set(pd.unique(y_true.dropna()))
    return labels <= {0, 1} and predictions.between(0, 1).all()


def roc_frame(y_true: pd.Series, scores: pd.Series) -> tuple[pd.DataFrame, float]:
    fpr, tpr, thresholds = metrics.roc_curve(y_true, scores)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds}), float(metrics.auc(fpr, tpr))


def pr_frame(y_true: pd.Series, scores: pd.Series) -> tuple[pd.DataFrame, float]:
    precision, recall, _ = metrics.precision_recall_curve(y_true, scores)
    return (pd.DataFrame({"recall": recall, "precision": precision}),
            float(metrics.average_precision_score(y_true, scores)))


def confusion(y_true: pd.Series, scores: pd.Series, threshold: float) -> pd.DataFrame:
    """Counts of actual × predicted at ``threshold`` (long frame for a heatmap) with summary rates."""
    predicted = (scores >= threshold).astype(int)
    actual = pd.Series(y_true).astype(int)
    matrix = metrics.confusion_matrix(actual, predicted, labels=[0, 1])
    return pd.DataFrame([{"actual": str(a), "predicted": str(p), "count": int(matrix[a, p])}
                         for a in (0, 1) for p in (0, 1)])


def threshold_metrics(y_true: pd.Series, scores: pd.Series, threshold: float) -> dict[str, float]:
    predicted = (scores >= threshold).astype(int)
    actual = pd.Series(y_true).astype(int)
    return {
        "accuracy": float(metrics.accuracy_score(actual, predicted)),
        "precision": float(metrics.precision_score(actual, predicted, zero_division=0)),
        "recall": float(metrics.recall_score(actual, predicted, zero_division=0)),
        "f1": float(metrics.f1_score(actual, predicted, zero_division=0)),
    }


def calibration_frame(y_true: pd.Series, scores: pd.Series, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed positive rate per score bin."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "score": np.asarray(scores, dtype=float),
                          "actual": np.asarray(y_true, dtype=float)})
    grouped = frame.groupby("bin").agg(predicted=("score", "mean"), observed=("actual", "mean"), rows=("score", "size"))
    return grouped.reset_index(drop=True)


def regression_frame(y_true: pd.Series, predictions: pd.Series) -> tuple[pd.DataFrame, dict[str, float]]:
    """Predicted vs actual with residuals, and summary metrics (MAE, RMSE, R²)."""
    actual = np.asarray(y_true, dtype=float)
    predicted = np.asarray(predictions, dtype=float)
    frame = pd.DataFrame({"actual": actual, "predicted": predicted, "residual": actual - predicted})
    summary = {"MAE": float(metrics.mean_absolute_error(actual, predicted)),
               "RMSE": float(np.sqrt(metrics.mean_squared_error(actual, predicted))),
               "R²": float(metrics.r2_score(actual, predicted))}
    return frame, summary
