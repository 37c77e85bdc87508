"""Held-out evaluation of a fitted classifier: metrics, a ROC/confusion PNG and a classification report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

CLASS_NAMES = ("benign", "malignant")


def binary_log_loss(y_true: pd.Series | np.ndarray, proba: np.ndarray) -> float:
    """Log loss of positive-class probabilities in plain numpy (sklearn's validation is slow per iteration)."""
    truth = np.asarray(y_true, dtype=float)
    proba = np.clip(np.asarray(proba, dtype=float), 1e-7, 1 - 1e-7)
    return float(-np.mean(truth * np.log(proba) + (1 - truth) * np.log(1 - proba)))


def scores(y_true: pd.Series | np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """accuracy, f1, roc_auc and log_loss of positive-class probabilities (threshold 0.5)."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    proba = np.clip(np.asarray(proba, dtype=float), 1e-7, 1 - 1e-7)
    predicted = (proba >= 0.5).astype(int)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "f1": float(f1_score(y_true, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "log_loss": float(log_loss(y_true, proba, labels=[0, 1])),
    }


def write_artifacts(folder: Path, y_true: pd.Series | np.ndarray, proba: np.ndarray, title: str) -> None:
    """``evaluation.png`` (ROC curve + confusion matrix) and ``classification_report.json`` in ``folder``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score, roc_curve

    predicted = (np.asarray(proba) >= 0.5).astype(int)
    report = classification_report(y_true, predicted, labels=[0, 1], target_names=list(CLASS_NAMES),
                                   output_dict=True, zero_division=0)
    (folder / "classification_report.json").write_text(json.dumps(report, indent=2, sort_keys=True),
                                                        encoding="utf-8")

    figure = Figure(figsize=(7.2, 3.2), dpi=72)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.82, wspace=0.5)
    FigureCanvasAgg(figure)
    roc_axes, matrix_axes = figure.subplots(1, 2)
    fpr, tpr, _ = roc_curve(y_true, proba)
    roc_axes.plot(fpr, tpr, color="#1f77b4", label=f"AUC = {roc_auc_score(y_true, proba):.3f}")
    roc_axes.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
    roc_axes.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC (held-out)")
    roc_axes.legend(loc="lower right")
    matrix = confusion_matrix(y_true, predicted, labels=[0, 1])
    matrix_axes.pcolormesh(matrix[::-1], cmap="Blues")  # vector cells: much faster to render than imshow
    for (row, column), count in np.ndenumerate(matrix):
        matrix_axes.text(column + 0.5, 1.5 - row, str(count), ha="center", va="center",
                         color="white" if count > matrix.max() / 2 else "black")
    matrix_axes.set(xticks=[0.5, 1.5], yticks=[0.5, 1.5], xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES[::-1],
                    xlabel="Predicted", ylabel="Actual", title="Confusion matrix")
    figure.suptitle(title, fontsize=10)
    figure.savefig(folder / "evaluation.png")
