"""Stored XSS: HTML and script in every user-controlled string render as text in every tab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import free_port, snapshot, wait_for_port

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve

pytestmark = pytest.mark.ui

PAYLOAD = '<img src=x onerror="window.__xss=1;alert(1)">'
SCRIPT = "<script>window.__xss=2</script>"


def hostile_mlflow_store(folder: Path) -> str:
    """A real SQLite MLflow store whose names, params, tags, metrics and artifacts carry HTML."""
    import mlflow
    import pandas as pd
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment(f"exp {PAYLOAD}", artifact_location=str(folder / "artifacts"))
    run = client.create_run(experiment, run_name=f"run {PAYLOAD}", tags={"team": SCRIPT})
    client.log_batch(run.info.run_id, metrics=[Metric("accuracy", 0.9, 0, 0), Metric("loss", 1.0, 0, 0)],
                     params=[Param("model", PAYLOAD), Param("note", SCRIPT)], tags=[RunTag("note", PAYLOAD)])
    explain = folder / "explain"
    explain.mkdir()
    features = [f"f{PAYLOAD}", "plain"]
    pd.DataFrame({features[0]: [0.1, -0.2], features[1]: [0.3, 0.0]}).to_parquet(explain / "shap_values.parquet")
    pd.DataFrame({features[0]: [1.0, 2.0], features[1]: [3.0, 4.0]}).to_parquet(explain / "features.parquet")
    (explain / "meta.json").write_text(json.dumps({
        "base_value": 0.5, "target": SCRIPT, "positive_class": PAYLOAD, "model_type": PAYLOAD,
        "feature_names": features}))
    client.log_artifacts(run.info.run_id, str(explain), "explain")
    (folder / f"{PAYLOAD}.txt").write_text(PAYLOAD)
    client.log_artifact(run.info.run_id, str(folder / f"{PAYLOAD}.txt"))
    client.set_terminated(run.info.run_id)
    mlflow.set_tracking_uri("")  # leave no global state behind
    return run.info.run_id


def hostile_optuna_store(folder: Path) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=f"study {PAYLOAD}", storage=f"sqlite:///{folder / 'optuna.db'}")
    study.set_user_attr("owner", SCRIPT)

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("note", PAYLOAD)
        x = trial.suggest_float("x", -1, 1)
        choice = trial.suggest_categorical("kind", [PAYLOAD, "plain"])
        return x * x + (choice == "plain")

    study.optimize(objective, n_trials=12)


def hostile_dvc_repo(folder: Path) -> None:
    import pandas as pd

    from workbench.sources.dvc_build import RepoBuilder

    repo = RepoBuilder(folder / "repo")
    for rows in (3, 4):
        frame = pd.DataFrame({f"c{PAYLOAD}": range(rows), "value": [PAYLOAD] * rows})
        repo.version("data/table.csv", frame, message=f"version {rows} {PAYLOAD}", author=f"Eve {SCRIPT}")
    repo.close()


@pytest.fixture(scope="module")
def hostile_workspace(tmp_path_factory: pytest.TempPathFactory) -> WorkbenchConfig:
    folder = tmp_path_factory.mktemp("hostile")
    run_id = hostile_mlflow_store(folder)
    hostile_optuna_store(folder)
    hostile_dvc_repo(folder)
    return WorkbenchConfig(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}",
                           optuna_storage=f"sqlite:///{folder / 'optuna.db'}", dvc_repo=str(folder / "repo"),
                           dvc_path="data/table.csv", model=f"runs:/{run_id}/model", cache_dir=str(folder / "cache"))


def test_no_tab_executes_stored_html(page, hostile_workspace: WorkbenchConfig, tmp_path: Path) -> None:
    stores = Path(hostile_workspace.dvc_repo).parent
    before = snapshot(stores, exclude=("cache",))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    port = free_port()
    server = serve(hostile_workspace, ServeOptions(port=port), threaded=True)
    try:
        wait_for_port(port)
        for tab in ("experiments", "tuning", "explain", "data_versions"):
            page.goto(f"http://127.0.0.1:{port}/?tab={tab}")
            page.locator(".bk-tab").first.wait_for()
            page.wait_for_timeout(1500)  # let lazy views and tables render their cells
            for header in page.locator(".bk-tab").all():
                if header.is_visible():
                    header.click()
                    page.wait_for_timeout(300)
            assert page.evaluate("window.__xss") is None, f"stored HTML executed in the {tab} tab"
            assert page.locator(".wb-error").count() == 0 or tab == "explain", f"{tab} shows an error"
    finally:
        server.stop()
    assert dialogs == []
    assert snapshot(stores, exclude=("cache",)) == before
