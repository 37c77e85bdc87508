"""The Explain page built headless: stored explanations (stakeholder), live ones (notebook/trusted), alerts."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import panel as pn
import pytest
from helpers import snapshot
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
explain_store = importlib.import_module("test_explain_stored")  # the same module pytest collects: one shared store


@pytest.fixture
def store(tmp_path_factory) -> dict:
    return explain_store.shared_store(tmp_path_factory)


def alert_text(page: ExplainPage) -> str:
    content = page._layout[0]
    assert isinstance(content, pn.pane.Alert), f"expected an alert, got {content!r}"
    return content.object


def test_demo_best_model_importance_shown_eagerly(demo_config: WorkbenchConfig, demo_workspace: Path) -> None:
    before = snapshot(demo_workspace / "mlflow.db") | snapshot(demo_workspace / "mlartifacts")
    page = ExplainPage(config=demo_config)
    assert page.explanation is not None and page.explanation.complete
    importance = page.importance.frame()
    assert len(importance) >= 5 and importance["importance"].is_monotonic_decreasing
    assert (importance["importance"] > 0).all()
    page.__panel__().get_root()
    assert snapshot(demo_workspace / "mlflow.db") | snapshot(demo_workspace / "mlartifacts") == before


def test_stakeholder_mode_reads_stored_explanation_and_never_unpickles(store) -> None:
    before = snapshot(store["root"])
    page = ExplainPage(config=WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model",
                                              cache_dir=str(store["root"] / "cache-unused")))
    assert page.job is None and page.explanation.complete
    np.testing.assert_allclose(page.explanation.values.to_numpy(), store["values"])
    frame = page.importance.frame()
    assert frame.iloc[0]["importance"] == pytest.approx(np.abs(store["values"]).mean(axis=0).max())
    report = page.export_html()
    assert "<html" in report.lower() and "<b>malignant</b>" not in report
    assert "mean concave points" in report and "cdn.bokeh.org" not in report  # self-contained, offline
    header = page._header()
    assert "<b>" not in header and "&lt;b&gt;malignant" in header  # user strings escaped
    page.__panel__().get_root()  # render every view to Bokeh models
    assert not store["marker"].exists()
    assert snapshot(store["root"]) == before


def test_stakeholder_run_without_explanation_says_how_to_explain_live(store) -> None:
    page = ExplainPage(config=WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['bare']}/model"))
    text = alert_text(page)
    assert "no stored explanation" in text and "--trusted" in text and "wb.explain" in text


def test_notebook_api_explains_live_progressively_and_caches(tmp_path) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    config = WorkbenchConfig(cache_dir=str(tmp_path / "cache"))
    page = ExplainPage(model=model, X=X, y=y, config=config, first_rows=100)
    assert page.first_shown is not None and len(page.first_shown.values) == 100
    assert page.first_shown.n_total == len(X) and not page.first_shown.complete
    final = page.wait()
    assert final.complete and len(final.values) == len(X) and page.progress == 100 and page.status == ""
    np.testing.assert_allclose(final.output.to_numpy(), model.predict_proba(X)[:, 1], atol=1e-9)
    assert list(final.values.index) == list(X.index)
    assert list((tmp_path / "cache" / "explain").iterdir())
    again = ExplainPage(model=model, X=X, y=y, config=config)
    assert "cache" in again.explanation.source and again.explanation.complete
    np.testing.assert_allclose(again.explanation.values.to_numpy(), final.values.to_numpy())


def test_first_screen_is_a_sample_with_progress(tmp_path) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    page = ExplainPage(model=model, X=X, y=y, config=WorkbenchConfig(cache_dir=""), first_rows=50)
    page.wait()
    assert len(page.first_shown.values) == 50 and page.first_shown.n_total == len(X)
    assert page.progress == 100 and len(page.explanation.values) == len(X) and page.explanation.complete


def test_trusted_config_loads_the_logged_model(store, tmp_path) -> None:
    data = tmp_path / "rows.csv"
    store["X"].iloc[:80].assign(target=store["y"].iloc[:80]).to_csv(data, index=False)
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['bare']}/model", trusted=True,
                             explain_data=str(data), cache_dir=str(tmp_path / "cache"))
    page = ExplainPage(config=config)
    final = page.wait()
    assert final.complete and len(final.values) == 80
    np.testing.assert_allclose(final.output.to_numpy(), store["model"].predict_proba(store["X"].iloc[:80])[:, 1],
                               atol=1e-9)


def test_bad_inputs_become_alerts(store, tmp_path) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    config = WorkbenchConfig(cache_dir="")
    assert "do not match" in alert_text(ExplainPage(model=model, X=X.iloc[:, :5], config=config))
    assert "non-numeric" in alert_text(ExplainPage(model=model, X=X.assign(**{"mean radius": "big"}), config=config))
    assert "X is missing" in alert_text(ExplainPage(model=model, config=config))
    assert "No model to explain" in alert_text(ExplainPage(config=config))
    assert "not a model URI" in alert_text(ExplainPage(config=WorkbenchConfig(model="model.pkl")))
    unknown = WorkbenchConfig(tracking_uri=store["uri"], model="runs:/0123456789abcdef/model")
    assert "does not exist" in alert_text(ExplainPage(config=unknown))
    missing = WorkbenchConfig(tracking_uri=f"sqlite:///{tmp_path / 'none.db'}", model="runs:/abc/model")
    assert "does not exist" in alert_text(ExplainPage(config=missing))
    assert not (tmp_path / "none.db").exists()


def render_every_view(page: ExplainPage) -> None:
    """Open every tab and render every view to Bokeh models (what a stakeholder can browse)."""
    tabs = page._layout[0][-1]
    for index in range(len(tabs)):
        tabs.active = index
    for view in (page.importance, page.beeswarm, page.dependence, page.waterfall, page.whatif, page.performance,
                 page.cohorts, page.fairness, page.diff):
        view.__panel__().get_root()


def test_stakeholder_browses_every_view_without_loading_the_model(store) -> None:
    before = snapshot(store["root"])
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model")
    page = ExplainPage(config=config)
    render_every_view(page)
    assert page.whatif.result() is None  # no model in stakeholder mode: what-if explains why
    assert "needs the model" in page.whatif._plot().object
    assert page.dependence.feature == page.importance.frame()["feature"].iloc[0]
    assert page.dependence.interaction() in store["rows"].columns
    page.dependence.selected_row = 7
    assert page.waterfall.row == 7 and page.whatif.row == 7
    waterfall = page.waterfall.frame()
    assert waterfall["end"].iloc[-1] == pytest.approx(page.explanation.output.iloc[7])
    assert "true targets" in page.performance._content().object
    table, gaps = page.fairness.metrics()
    assert table["rows"].sum() == len(store["rows"]) and "selection rate" in gaps
    page.compare_uri = f"runs:/{store['ids']['explained']}/model"
    assert page.diff.frame()["importance shift"].abs().max() == 0
    page.compare_uri = f"runs:/{store['ids']['bare']}/model"
    assert page.other is None and "no stored explanation" in page._diff_error[0].object
    page.beeswarm.raster_above = 10  # the datashaded path
    assert page.beeswarm.rasterised()
    page.beeswarm.__panel__().get_root()
    assert not store["marker"].exists()
    assert snapshot(store["root"]) == before


def test_live_views_what_if_performance_fairness_and_diff(tmp_path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :10]
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    other = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    page = ExplainPage(model=model, X=X, y=y, compare_model=other, config=WorkbenchConfig(cache_dir=""))
    page.wait()
    render_every_view(page)
    page.waterfall.row = 3
    name = page.whatif._inputs[0][0].name
    page.whatif._inputs[0][0].value = float(X[name].max() * 2)
    values, base = page.whatif.result()
    edited = X.iloc[[3]].copy()
    edited[name] = float(X[name].max() * 2)
    assert base + values.sum() == pytest.approx(model.predict_proba(edited)[0, 1])
    assert page.performance.classification()
    assert f"ROC AUC {roc_auc_score(y, model.predict_proba(X)[:, 1]):.3f}" in page.performance._content()[0].object
    table, gaps = page.fairness.metrics()
    assert {"TPR", "FPR", "error rate"} <= set(table.columns) and "TPR" in gaps
    diff = page.diff.frame()
    assert set(diff["feature"]) == set(X.columns) and page.other.model_type == "HistGradientBoostingClassifier"
    cohort = page.cohorts.frame()
    assert cohort["rows_a"].iloc[0] + cohort["rows_b"].iloc[0] == len(X)


def test_nans_and_unexplainable_models_get_one_clear_message() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    model = LogisticRegression(max_iter=500).fit(X, y)
    holes = X.copy()
    holes.iloc[3, 2] = np.nan
    text = alert_text(ExplainPage(model=model, X=holes, config=WorkbenchConfig(cache_dir="")))
    assert "missing values (in mean perimeter)" in text and "fill them" in text

    class Broken:
        feature_names_in_ = np.array(list(X.columns))

        def predict(self, data):
            raise RuntimeError("this model is broken")

    text = alert_text(ExplainPage(model=Broken(), X=X, config=WorkbenchConfig(cache_dir="")))
    assert "could not explain" in text and "this model is broken" in text


def test_over_budget_offers_sampling_and_explains_all_on_request() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    page = ExplainPage(model=model, X=X, y=y, config=WorkbenchConfig(cache_dir=""), budget_seconds=1e-6)
    page.wait()
    assert page.job.sampled and len(page.explanation.values) < len(X)
    notice = next(o for o in page._layout[0] if "wb-explain-budget" in o.css_classes)
    assert "wb-explain-budget" in notice.css_classes and "random sample" in notice[0].object
    notice[1].clicks += 1  # "Explain all rows anyway"
    page.wait()
    assert not page.job.sampled and len(page.explanation.values) == len(X) and page.explanation.complete


def test_model_agnostic_cost_is_shown() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:40, :4]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y.iloc[:40])
    page = ExplainPage(model=model, X=X, config=WorkbenchConfig(cache_dir=""), first_rows=2, budget_seconds=1e-6)
    note = page._explainer_note()
    assert "permutation explainer on 40 background rows" in note and "estimated" in note and "for 40 rows" in note
    page.job.cancel()


def test_trusted_run_with_stored_explanation_shows_it_and_enables_what_if(demo_config, demo_workspace) -> None:
    before = snapshot(demo_workspace)
    page = ExplainPage(config=demo_config.with_overrides(trusted=True))
    assert page.job is None and "model loaded (trusted)" in page.explanation.source
    assert page.explanation.predictions is not None
    values, base = page.whatif.result()
    assert base + values.sum() == pytest.approx(page.explanation.output.iloc[0], rel=1e-6, abs=1e-6)
    assert snapshot(demo_workspace) == before  # nothing computed, nothing cached into the workspace


def test_regression_performance_view() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import mean_absolute_error

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(X, y)
    page = ExplainPage(model=model, X=X, y=y, config=WorkbenchConfig(cache_dir=""))
    page.wait()
    assert not page.performance.classification()
    text = page.performance._content()[0].object
    assert f"MAE: {mean_absolute_error(y, model.predict(X)):.4g}" in text
    page.performance.__panel__().get_root()


def stream_of(pane, kind):
    """The HoloViews stream of type ``kind`` attached to the element a pane shows."""
    import holoviews as hv

    streams = [stream for stream in hv.streams.Stream.registry.get(pane.object, []) if isinstance(stream, kind)]
    assert len(streams) == 1, streams
    return streams[0]


def test_beeswarm_click_selects_the_row_for_waterfall_and_what_if(store) -> None:
    import holoviews as hv

    page = ExplainPage(config=WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model"))
    page.beeswarm.__panel__().get_root()
    selection = stream_of(page.beeswarm._plot(), hv.streams.Selection1D)  # glyphs: the clicked point
    shown, n = page.beeswarm._shown, len(page.explanation.values)
    selection.event(index=[n + 5])  # a point in the second feature's lane belongs to row 5
    assert page.waterfall.row == 5 and page.whatif.row == 5
    assert shown.iloc[n + 5]["shap"] == pytest.approx(page.explanation.values[shown.iloc[n + 5]["feature"]].iloc[5])
    page.waterfall.row = 0
    selection.event(index=[n + 5])  # the same point again selects it again
    assert page.waterfall.row == 5
    page.beeswarm.raster_above = 10  # datashaded: the point nearest the click is taken
    tap = stream_of(page.beeswarm._plot(), hv.streams.Tap)
    lane = page.beeswarm._shown.iloc[n:2 * n]  # the second feature's points, one per row
    feature = lane["feature"].iloc[0]
    page.waterfall.row = 0
    tap.event(x=float(lane["shap"].max()) + 1.0, y=float(lane["row"].iloc[0]) + 0.3)  # right of every point
    assert page.explanation.values[feature].iloc[page.waterfall.row] == pytest.approx(lane["shap"].max())
    page.waterfall.row = 2
    tap.event(x=0.0, y=99.0)  # outside every lane: nothing changes
    assert page.waterfall.row == 2
