"""The Experiments page built headless: real runs on the first screen, alerts for bad stores."""

from __future__ import annotations

import socket
from pathlib import Path

import panel as pn
import pytest
from helpers import free_port, snapshot
from mlflow import MlflowClient

from workbench.apps.experiments import ExperimentsPage
from workbench.config import WorkbenchConfig


def alert_text(page: ExperimentsPage) -> str:
    content = page._layout[0]
    assert isinstance(content, pn.pane.Alert), f"expected an alert, got {content!r}"
    return content.object


def test_demo_runs_shown_eagerly(demo_config: WorkbenchConfig, demo_workspace: Path) -> None:
    before = snapshot(demo_workspace / "mlflow.db")
    page = ExperimentsPage(config=demo_config.with_overrides(experiments=[]))
    frame = page.table.table.value
    assert len(frame) >= 60
    assert {"cancer-baselines", "cancer-tuning"} <= set(frame["experiment"])
    assert any(c.startswith("metrics.") for c in frame.columns) and any(c.startswith("params.") for c in frame.columns)
    assert page.table.table.pagination == "remote"
    page.__panel__().get_root()  # renders to a Bokeh model without a server
    assert snapshot(demo_workspace / "mlflow.db") == before


def test_demo_one_experiment(demo_config: WorkbenchConfig) -> None:
    page = ExperimentsPage(config=demo_config.with_overrides(experiments=["cancer-baselines"]))
    assert set(page.table.table.value["experiment"]) == {"cancer-baselines"}


def test_unknown_experiment(demo_config: WorkbenchConfig) -> None:
    text = alert_text(ExperimentsPage(config=demo_config.with_overrides(experiments=["no-such-exp"])))
    assert "no-such-exp" in text and "cancer-baselines" in text


def test_missing_store_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    text = alert_text(ExperimentsPage(config=WorkbenchConfig(tracking_uri=f"sqlite:///{path}")))
    assert "does not exist" in text and "How to fix" in text
    assert not path.exists()


def test_no_tracking_uri() -> None:
    assert "No MLflow tracking URI" in alert_text(ExperimentsPage(config=WorkbenchConfig()))


def test_unreachable_server() -> None:
    text = alert_text(ExperimentsPage(config=WorkbenchConfig(tracking_uri=f"http://127.0.0.1:{free_port()}")))
    assert "does not answer" in text


def test_hung_server() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        uri = f"http://127.0.0.1:{listener.getsockname()[1]}"
        assert "does not answer" in alert_text(ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri)))


def test_store_without_runs(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).create_experiment("empty")
    before = snapshot(tmp_path)
    text = alert_text(ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri, experiments=["empty"])))
    assert "No runs" in text
    assert "No runs" in alert_text(ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri)))
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("content", [b"", b"garbage" * 50])
def test_not_an_mlflow_store(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mlflow.db"
    path.write_bytes(content)
    text = alert_text(ExperimentsPage(config=WorkbenchConfig(tracking_uri=f"sqlite:///{path}")))
    assert "How to fix" in text
    assert path.read_bytes() == content


def test_summary_follows_the_experiment_choice(demo_config) -> None:
    from workbench.apps.experiments import ExperimentsPage

    page = ExperimentsPage(config=demo_config)
    summary = page.__panel__().select(lambda obj: "wb-runs-summary" in getattr(obj, "css_classes", []))[0]
    assert "2 experiment(s): cancer-baselines, cancer-tuning" in summary.object
    page.dashboard.experiments = ["cancer-baselines"]
    assert "1 experiment(s): cancer-baselines" in summary.object
