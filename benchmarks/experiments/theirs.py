"""What MLflow users run today for a comparison: every run as a DataFrame plus the curves of some.

Its own module so that a fresh process timing it imports MLflow only (not Panel or the workbench).
"""

from __future__ import annotations


def theirs(uri: str, curves: int) -> tuple[int, int]:
    """``mlflow.search_runs`` over all experiments + ``get_metric_history('loss')`` of ``curves`` runs."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    frame = mlflow.search_runs(search_all_experiments=True, max_results=100_000)
    client = MlflowClient(uri)
    with_loss = frame[frame["metrics.loss"].notna()]["run_id"].head(curves)
    points = sum(len(client.get_metric_history(run_id, "loss")) for run_id in with_loss)
    return len(frame), points
