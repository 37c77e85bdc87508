"""Lineage views built headless: the run graph (links, disabled reasons, escaping) and the versions chart."""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest
from bokeh.models import Tooltip
from helpers import snapshot

from workbench.config import WorkbenchConfig
from workbench.sources.lineage import ABSENT, LineageSource, Link, RunLineage
from workbench.views.lineage.graph import LineageGraph
from workbench.views.lineage.panels import RunLineagePanel, VersionsPanel
from workbench.views.lineage.versions_chart import VersionsChart


@pytest.fixture(scope="module")
def source(demo_config) -> LineageSource:
    return LineageSource(demo_config)


def _html(viewable) -> str:
    """Every HTML pane's text inside a built layout."""
    return " ".join(str(pane.object) for pane in viewable.select(pn.pane.HTML))


def test_graph_of_the_best_run_has_every_link(source, demo_workspace):
    import json

    best = json.loads((demo_workspace / ".workbench-demo.json").read_text())["best_run_id"]
    panel = RunLineagePanel(source=source, run_id=best)
    panel.__panel__().get_root()
    buttons = panel.graph.buttons
    assert not buttons["data"].disabled and buttons["data"].name == "data/cancer.csv @ v5"
    assert not buttons["trial"].disabled and buttons["trial"].name.startswith("cancer-gb-tuning #")
    assert not buttons["explanation"].disabled
    assert buttons["model"].disabled and "trusted mode" in buttons["model"].description  # untrusted demo config
    followed = []
    panel.param.watch(lambda event: followed.append(event.new), "followed")
    buttons["data"].clicks += 1
    buttons["trial"].clicks += 1
    buttons["model"].clicks += 1  # disabled: ignored
    assert [(link.kind, link.target.get("version", link.target.get("study"))) for link in followed] == \
        [("data", "v5"), ("trial", "cancer-gb-tuning")]


def test_trusted_mode_enables_the_model_link(demo_workspace):
    config = WorkbenchConfig.load(config_file=demo_workspace / "workbench.toml", env={}, trusted=True)
    source = LineageSource(config)
    run_id = source.runs()["run_id"].iloc[-1]
    panel = RunLineagePanel(source=source, run_id=run_id)
    assert not panel.graph.buttons["model"].disabled


def test_a_run_without_lineage_shows_disabled_links_with_escaped_reasons():
    links = {kind: Link(kind, ABSENT, f"no {kind}", f"No <b>{kind}</b> recorded") for kind in
             ("data", "trial", "model", "explanation")}
    graph = LineageGraph(lineage=RunLineage("r1", "<script>alert(1)</script>", "exp", **links))
    graph.__panel__().get_root()
    assert all(button.disabled for button in graph.buttons.values())
    root = graph.__panel__().get_root()
    tooltips = [str(getattr(model.content, "text", model.content)) for model in root.select({"type": Tooltip})]
    assert "No &lt;b&gt;trial&lt;/b&gt; recorded" in " ".join(tooltips) and "<b>trial" not in " ".join(tooltips)
    text = _html(graph.__panel__())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert "No &lt;b&gt;data&lt;/b&gt; recorded" in text
    graph.follow(links["data"])
    assert graph.followed is None


def test_unknown_run_and_unreadable_store_become_alerts(source, tmp_path):
    panel = RunLineagePanel(source=source, run_id="no-such-run")
    alerts = panel.__panel__().select(pn.pane.Alert)
    assert alerts and "no-such-run" in alerts[0].object
    broken = LineageSource(WorkbenchConfig(tracking_uri=f"sqlite:///{tmp_path / 'missing.db'}"))
    assert "does not exist" in RunLineagePanel(source=broken, run_id="x").__panel__().select(pn.pane.Alert)[0].object
    assert VersionsPanel(source=broken).__panel__().select(pn.pane.Alert)


def test_versions_panel_charts_a_metric_per_demo_version(source, demo_workspace):
    before = snapshot(demo_workspace)
    panel = VersionsPanel(source=source)
    panel.__panel__().get_root()
    assert panel.metric == "roc_auc" and "log_loss" in panel.param.metric.objects
    table = panel.chart.summary()
    assert table["version"].tolist() == ["v1", "v2", "v3", "v4", "v5"] and (table["n_runs"] > 0).all()
    panel.experiment = "cancer-baselines"  # like for like: the same 13 candidates on every version
    assert panel.chart.summary()["n_runs"].tolist() == [13] * 5
    panel.metric = "log_loss"
    assert panel.chart.minimize is True
    assert panel.chart.summary()["best"].tolist() == \
        panel.chart.points.groupby("order")["value"].min().tolist()
    assert snapshot(demo_workspace) == before


def test_versions_chart_without_runs_says_so():
    history = pd.DataFrame({"commit": ["c" * 40], "short": ["ccccccc"], "tags": ["v1"], "md5": ["a" * 32],
                            "date": pd.to_datetime(["2026-01-01"], utc=True), "message": ["m"]})
    chart = VersionsChart(history=history, metric="auc")
    chart.__panel__().get_root()
    assert chart.summary()["n_runs"].tolist() == [0]
    assert "No run recorded" in _html(chart.__panel__())


def test_no_run_selected_shows_a_hint(source):
    panel = RunLineagePanel(source=source)
    assert "Select a run" in _html(panel.__panel__()) and panel.graph.buttons == {}
    panel.run_id = source.runs()["run_id"].iloc[0]
    assert set(panel.graph.buttons) == {"data", "trial", "model", "explanation"}


def test_run_list_shows_the_runs_of_a_version_and_selects_one(source):
    from workbench.views.lineage.run_list import MAX_METRICS, RunList

    runset = source.version_runs("v2")
    view = RunList(runset=runset, metrics=["roc_auc", "accuracy"])
    view.__panel__().get_root()
    table = view._table.value
    assert list(table.columns) == ["run_name", "experiment", "status", "start_time", "roc_auc", "accuracy"]
    assert len(table) == 13 and table["run_name"].str.endswith("-v2").all()
    view._table.selection = [3]
    assert view.selected == runset.runs["run_id"].iloc[3]
    empty = RunList(runset=source.trial_runs("cancer-gb-tuning", 10_000))
    alerts = empty.__panel__().select(pn.pane.Alert)
    assert alerts and "No run" in alerts[0].object
    default = RunList(runset=runset)._table.value.columns  # the most logged metrics, at most MAX_METRICS
    assert {"roc_auc", "accuracy", "log_loss"} <= set(default) and len(default) == 4 + MAX_METRICS
