"""The Experiments dashboard headless on a real SQLite store: query, selection, diff, curves, export, refresh."""

from __future__ import annotations

import re
import shutil

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest
from helpers import snapshot
from mlflow import MlflowClient
from mlflow.entities import Metric

from workbench.sources.mlflow import MlflowSource
from workbench.views.experiments import metric_curves
from workbench.views.experiments.dashboard import ExperimentsDashboard


def log_run(client: MlflowClient, experiment_id: str, name: str, model: str, acc: float, steps: int = 4,
            parent: str | None = None) -> str:
    tags = {"mlflow.parentRunId": parent} if parent else {}
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    run_id = run.info.run_id
    client.log_param(run_id, "model", model)
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1) + acc, 1000 + s, s) for s in range(steps)]
                     + [Metric("acc", acc, 1000, 0)])
    client.set_terminated(run_id)
    return run_id


def build_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    first = client.create_experiment("first")
    second = client.create_experiment("second")
    parent = log_run(client, first, "sweep", "rf", 0.7)
    for i in range(6):
        log_run(client, first, f"rf-{i}", "rf", 0.80 + i / 100, parent=parent if i < 2 else None)
    for i in range(4):
        log_run(client, second, f"gb-{i}", "gb", 0.90 + i / 100)
    return uri, client, first, tmp_path


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """A store no test changes (built once)."""
    return build_store(tmp_path_factory.mktemp("shared"))


@pytest.fixture
def store(shared_store, tmp_path):
    """A copy of the shared store that the test may change."""
    shutil.copy(shared_store[3] / "mlflow.db", tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    return uri, client, client.get_experiment_by_name("first").experiment_id, tmp_path


@pytest.fixture
def dashboard(shared_store):
    uri, *_ = shared_store
    return ExperimentsDashboard(source=MlflowSource(uri))


def table_names(dashboard: ExperimentsDashboard) -> list[str]:
    return dashboard.table.table.value["run_name"].tolist()


def test_all_experiments_and_nesting(dashboard: ExperimentsDashboard) -> None:
    assert len(dashboard.runs) == 11 and set(dashboard.runs["experiment"]) == {"first", "second"}
    names = table_names(dashboard)
    sweep = names.index("sweep")
    assert {names[sweep + 1], names[sweep + 2]} == {"↳ rf-0", "↳ rf-1"}
    dashboard.__panel__().get_root()


def test_query_filters_and_errors_keep_last_result(dashboard: ExperimentsDashboard) -> None:
    dashboard.query = "params.model = 'gb' OR (metrics.acc > 0.845 AND params.model = 'rf')"
    assert sorted(table_names(dashboard)) == ["gb-0", "gb-1", "gb-2", "gb-3", "rf-5"]
    assert not dashboard._query_error.visible
    dashboard.query = "metrics.acc >> 1"
    assert dashboard._query_error.visible and "position 14" in dashboard._query_error.object
    assert len(table_names(dashboard)) == 5  # the last good result stays
    dashboard.query = ""
    assert len(table_names(dashboard)) == 11


def test_html_in_query_error_is_escaped(dashboard: ExperimentsDashboard) -> None:
    dashboard.query = "metrics.acc > <script>"
    assert dashboard._query_error.visible and "<script>" not in dashboard._query_error.object


def test_experiment_choice(dashboard: ExperimentsDashboard) -> None:
    dashboard.experiments = ["second"]
    assert sorted(table_names(dashboard)) == ["gb-0", "gb-1", "gb-2", "gb-3"]


def test_selection_drives_diff_and_curves(dashboard: ExperimentsDashboard) -> None:
    frame = dashboard.table.table.value
    rows = [frame.index[frame["run_name"] == n][0] for n in ("gb-3", "rf-2")]
    dashboard.table.table.selection = rows
    chosen = frame.loc[rows, "run_id"].tolist()
    assert dashboard.diff.selection == chosen and dashboard.curves.selection == chosen
    diff = dashboard.diff._table.value
    assert list(diff.columns) == ["run 1", "run 2"] and diff.loc["run"].tolist() == ["gb-3", "rf-2"]
    assert "params.model" in diff.index
    assert dashboard.diff.best["metrics.acc"] == "gb-3" and dashboard.diff.best["metrics.loss"] == "rf-2"
    styles = dashboard.diff._table.get_root().cell_styles["data"]  # the highlight reaches the browser model
    highlighted = {(row, column) for row, cells in styles.items() for column, css in cells.items() if css}
    assert len(highlighted) == 2
    plot = dashboard.curves._pane.object
    assert isinstance(plot, hv.NdOverlay) and len(plot) == 2
    assert sorted(len(curve) for curve in plot) == [4, 4]


def test_curves_default_to_first_runs_and_group(dashboard: ExperimentsDashboard) -> None:
    assert len(dashboard.curves.selection) == 10 and dashboard.curves.metric == "loss"
    dashboard.curves.group_by = "params.model"
    overlay = dashboard.curves._pane.object
    assert isinstance(overlay, hv.Overlay) and len(overlay) == 4  # band + mean per model


def test_many_curves_are_rasterised(dashboard: ExperimentsDashboard, monkeypatch) -> None:
    monkeypatch.setattr(metric_curves, "LINE_BUDGET", 5)
    dashboard.curves.selection = dashboard.runs["run_id"].tolist()
    plot = dashboard.curves._pane.object
    assert not isinstance(plot, hv.NdOverlay)  # one raster, not 11 glyphs
    assert "11 curve(s)" in dashboard.curves._status.object


def test_csv_export_is_the_filtered_table(dashboard: ExperimentsDashboard) -> None:
    dashboard.query = "params.model = 'gb'"
    exported = pd.read_csv(dashboard.csv())
    assert sorted(exported["run_name"]) == ["gb-0", "gb-1", "gb-2", "gb-3"]
    assert "metrics.acc" in exported.columns and "run_id" in exported.columns


def test_refresh_reads_new_runs_and_keeps_selection(store) -> None:
    uri, client, first, tmp_path = store
    dashboard = ExperimentsDashboard(source=MlflowSource(uri))
    frame = dashboard.table.table.value
    dashboard.table.table.selection = [frame.index[frame["run_name"] == "gb-1"][0]]
    selected = list(dashboard.table.selection)
    before = snapshot(tmp_path)
    dashboard.refresh()
    assert dashboard.source.last_reread == 0 and snapshot(tmp_path) == before
    log_run(client, first, "late", "rf", 0.99)
    dashboard.refresh()
    assert "late" in table_names(dashboard) and dashboard.source.last_reread == 1
    assert dashboard.table.selection == selected


def test_refresh_failure_keeps_last_data(store) -> None:
    uri, _, _, tmp_path = store
    dashboard = ExperimentsDashboard(source=MlflowSource(uri))
    (tmp_path / "mlflow.db").rename(tmp_path / "moved.db")
    dashboard.source._reader._connection.close()
    dashboard.refresh()
    assert len(table_names(dashboard)) == 11
    assert isinstance(dashboard._banner[0], pn.pane.Alert) and dashboard._banner[1].name == "Retry"


def test_parallel_brush_filters_the_table(dashboard: ExperimentsDashboard) -> None:
    parallel = dashboard.parallel
    assert parallel.dimensions == ["params.model", "metrics.acc", "metrics.loss"]
    axis = parallel.dimensions.index("metrics.acc")
    parallel.brush((axis - 0.1, 0.5, axis + 0.1, 1.0))  # upper half of the accuracy axis
    accuracies = dashboard.runs.set_index("run_name")["metrics.acc"]
    low, high = accuracies.min(), accuracies.max()
    expected = sorted(accuracies[accuracies >= low + (high - low) / 2].index)
    assert sorted(table_names(dashboard)) == expected and 0 < len(expected) < 11
    parallel.clear()
    assert len(table_names(dashboard)) == 11


def test_scatter_and_box(dashboard: ExperimentsDashboard) -> None:
    scatter = dashboard.scatter
    assert scatter.x == "params.model" and isinstance(scatter._pane.object, hv.BoxWhisker)
    scatter.x, scatter.y, scatter.color = "metrics.loss", "metrics.acc", "params.model"
    plot = scatter._pane.object
    assert isinstance(plot, hv.Scatter) and len(plot) == 11 and "c" in plot.vdims[-1].name


def test_html_report_is_self_contained(dashboard: ExperimentsDashboard) -> None:
    frame = dashboard.table.table.value
    dashboard.table.table.selection = [frame.index[frame["run_name"] == n][0] for n in ("gb-0", "rf-3")]
    dashboard.query = "metrics.acc > 0 AND tags.mlflow.runName != '<x>'"
    page = dashboard.report().getvalue()
    assert not re.search(r"<script[^>]+src=[\"']https?:", page)  # scripts inlined, nothing from a CDN
    assert not re.search(r"<link[^>]+stylesheet[^>]+href=[\"']https?:", page)
    assert "gb-0" in page and "rf-3" in page and "params.model" in page
    # the document JSON is embedded HTML-escaped: our escaped "&lt;x&gt;" shows as "&amp;amp;lt;x..."
    assert "&amp;amp;lt;x&amp;amp;gt;" in page and "&amp;lt;x&amp;gt;" not in page


def test_selection_set_from_outside_ticks_rows(dashboard: ExperimentsDashboard) -> None:
    wanted = dashboard.runs[dashboard.runs["run_name"].isin(["gb-2", "rf-4"])]["run_id"].tolist()
    dashboard.table.selection = wanted
    frame = dashboard.table.table.value
    assert sorted(frame.loc[dashboard.table.table.selection, "run_name"]) == ["gb-2", "rf-4"]
    assert sorted(dashboard.diff.selection) == sorted(wanted)


def test_thousands_of_points_become_one_density_image(dashboard: ExperimentsDashboard, monkeypatch) -> None:
    monkeypatch.setattr(metric_curves, "LINE_BUDGET", 5)
    monkeypatch.setattr(metric_curves, "POINT_BUDGET", 10)
    dashboard.curves.selection = dashboard.runs["run_id"].tolist()
    plot = dashboard.curves._pane.object
    assert isinstance(plot, hv.DynamicMap)
    image = plot[()]
    assert isinstance(image, hv.Image) and np.nansum(image.dimension_values(2)) >= 11  # every curve drawn
    dashboard.curves.__panel__().get_root()


def test_contour_of_a_metric_over_two_columns(dashboard: ExperimentsDashboard) -> None:
    scatter = dashboard.scatter
    scatter.kind = "contour"
    scatter.x, scatter.x2 = "metrics.acc", "metrics.loss"
    plot = scatter._pane.object
    assert isinstance(plot, hv.Overlay) and isinstance(plot.get(0), hv.Image)
    assert np.isfinite(plot.get(0).dimension_values(2)).sum() >= 5
    scatter.x = "params.model"  # text: no contour possible, a message instead
    assert isinstance(scatter._pane.object, hv.Text)
    scatter.__panel__().get_root()


def test_no_experiment_chosen_shows_no_runs(dashboard: ExperimentsDashboard) -> None:
    dashboard.experiments = []
    assert len(dashboard.table.table.value) == 0 and len(dashboard.filtered) == 0
    dashboard.experiments = ["first"]
    assert len(dashboard.table.table.value) == 7
