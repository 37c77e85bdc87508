"""The Explain page in Chromium: the importance chart renders; live explanations fill in."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from helpers import snapshot, wait_until
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig

pytestmark = pytest.mark.ui

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
explain_store = importlib.import_module("test_explain_stored")  # the same module pytest collects: one shared store


def test_stored_importance_chart_renders(tmp_path_factory, serve_viewable, page) -> None:
    store = explain_store.shared_store(tmp_path_factory)
    before = snapshot(store["root"])
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model")
    url = serve_viewable(lambda: ExplainPage(config=config))
    page.goto(url)
    page.locator(".wb-explain-importance canvas").first.wait_for()
    header = page.locator(".wb-explain-header")
    header.get_by_text("RandomForestClassifier").wait_for()
    header.get_by_text("target: <b>malignant</b>").wait_for()  # shown as text, not markup
    assert page.locator(".wb-explain-header b").count() == 0
    box = page.locator(".wb-explain-importance canvas").first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
    assert page.locator(".wb-error").count() == 0
    page.get_by_text("Fairness", exact=True).first.click()  # a tab rendered later: its table JS must be loaded
    page.locator(".wb-explain-fairness .tabulator-cell[tabulator-field='group']").first.wait_for()
    page.get_by_text("Beeswarm", exact=True).first.click()
    page.locator(".wb-explain-beeswarm canvas").first.wait_for()
    assert not store["marker"].exists() and snapshot(store["root"]) == before


def test_live_explanation_completes_in_the_browser(tmp_path, serve_viewable, page) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    pages = []

    def factory():
        pages.append(ExplainPage(model=model, X=X, y=y, config=WorkbenchConfig(cache_dir=""), first_rows=50))
        return pages[-1]

    url = serve_viewable(factory)
    page.goto(url)
    page.locator(".wb-explain-importance canvas").first.wait_for()
    wait_until(lambda: pages and pages[-1].explanation is not None and pages[-1].explanation.complete,
               what="the live explanation to complete")
    page.locator(".wb-explain-header").get_by_text(f"{len(X):,} rows").wait_for()


# the screen position (page pixels) of the beeswarm point farthest from every other one, and its index
ISOLATED_POINT_JS = """
() => {
  const views = [...Bokeh.index.all_views()].filter((view) => view.model.type === "GlyphRenderer"
      && view.model.data_source.data.shap !== undefined && view.model.data_source.data.y !== undefined);
  if (views.length !== 1) return null;
  const view = views[0];
  const {x_scale, y_scale} = view.coordinates;
  const data = view.model.data_source.data;
  const xs = [...data.shap].map((v) => x_scale.compute(v)), ys = [...data.y].map((v) => y_scale.compute(v));
  let best = -1, bestGap = -1;
  for (let i = 0; i < xs.length; i++) {
    let gap = Infinity;
    for (let j = 0; j < xs.length; j++) {
      if (i !== j) gap = Math.min(gap, Math.hypot(xs[i] - xs[j], ys[i] - ys[j]));
    }
    if (gap > bestGap) { best = i; bestGap = gap; }
  }
  const canvas = view.parent.canvas_view.el.getBoundingClientRect();
  return {index: best, gap: bestGap, x: canvas.left + xs[best], y: canvas.top + ys[best]};
}
"""


def test_clicking_a_beeswarm_point_selects_its_row(tmp_path_factory, serve_viewable, page) -> None:
    store = explain_store.shared_store(tmp_path_factory)
    before = snapshot(store["root"])
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model")
    pages = []

    def factory():
        pages.append(ExplainPage(config=config))
        return pages[-1]

    page.goto(serve_viewable(factory))
    page.locator(".wb-explain-importance canvas").first.wait_for()
    page.get_by_text("Beeswarm", exact=True).first.click()
    page.locator(".wb-explain-beeswarm canvas").first.wait_for()
    wait_until(lambda: page.evaluate(ISOLATED_POINT_JS) is not None, what="the beeswarm points in BokehJS")
    point = page.evaluate(ISOLATED_POINT_JS)
    assert point["gap"] >= 4, point  # a point the click cannot confuse with another
    rows = len(pages[-1].explanation.values)
    expected = point["index"] % rows
    if expected == 0:  # row 0 is selected already: it would not prove anything
        pytest.fail(f"the isolated point belongs to row 0 ({point})")
    page.mouse.click(point["x"], point["y"])
    wait_until(lambda: pages[-1].waterfall.row == expected, what=f"the click to select row {expected}")
    assert pages[-1].beeswarm.selected_row == expected and pages[-1].whatif.row == expected
    page.get_by_text("Prediction", exact=True).first.click()
    row_input = page.locator(".wb-explain-waterfall input").first
    row_input.wait_for()
    wait_until(lambda: row_input.input_value() == str(expected), what="the waterfall's row box to follow the click")
    assert not store["marker"].exists() and snapshot(store["root"]) == before
