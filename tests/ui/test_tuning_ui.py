"""The Tuning page in Chromium: the optimisation history plot renders with the study's trials."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import optuna
import pandas as pd
import panel as pn
import pytest
from helpers import wait_until

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig
from workbench.sources.optuna import StudyData
from workbench.views.tuning.history import HistoryView

optuna.logging.set_verbosity(optuna.logging.ERROR)

# Every ColumnDataSource in the page with a "Trial" column: {n rows, best-so-far?}.
SOURCES_JS = """() => {
  const out = [];
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    for (const model of doc._all_models.values()) {
      if (model.type === 'ColumnDataSource' || model.constructor.name === 'ColumnDataSource') {
        const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
        if (data && data.Trial) out.push(Array.from(data.Trial).length);
      }
    }
  }
  return out;
}"""


@pytest.mark.ui
def test_history_plot_renders_in_the_browser(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="browser-study", storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=40)
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)))
    page.locator(".wb-study-summary").get_by_text("browser-study").wait_for()
    page.locator(".wb-tuning-history canvas").first.wait_for()
    sizes = wait_until(lambda: page.evaluate(SOURCES_JS), what="the history plot's data in the browser")
    assert 40 in sizes  # every completed trial is plotted
    assert any(1 < n < 40 for n in sizes)  # the best-so-far line carries only its improvements
    assert page.locator(".wb-error").count() == 0


@pytest.mark.ui
def test_trials_table_renders_user_strings_as_text(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="<b>xss</b>", storage=url)
    payload = "<img src=x onerror=\"document.title='pwned'\">"
    study.add_trial(optuna.trial.create_trial(
        value=1.0, params={"kind": payload},
        distributions={"kind": optuna.distributions.CategoricalDistribution([payload, "plain"])},
        user_attrs={"note": "<b>bold?</b>"}))
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)) + "?tuning_plot=Trials")
    table = page.locator(".wb-trials-table")
    table.get_by_text(payload, exact=True).wait_for()
    table.get_by_text("<b>bold?</b>", exact=True).wait_for()
    assert table.locator("img").count() == 0 and table.locator("b").count() == 0
    assert page.title() != "pwned"
    assert page.locator(".wb-study-summary b", has_text="<b>xss</b>").count() == 1  # the name, as text


@pytest.mark.ui
def test_live_study_updates_in_the_browser(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    writer = optuna.create_study(study_name="live", storage=url, sampler=optuna.samplers.RandomSampler(seed=1))
    writer.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    config = WorkbenchConfig(optuna_storage=url, refresh_interval=0.5)
    page.goto(serve_viewable(lambda: TuningPage(config=config)))
    summary = page.locator(".wb-study-summary")
    summary.get_by_text("5 trials").wait_for()
    writer.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    summary.get_by_text("8 trials").wait_for()  # pushed by the periodic refresh, no reload
    assert page.locator(".wb-error").count() == 0


@pytest.mark.ui
@pytest.mark.parametrize("tab", ["Compare studies", "All studies"])
def test_hostile_study_names_stay_text_in_choosers_and_tables(tmp_path, serve_viewable, page, tab):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    hostile = "<img src=x onerror=\"window.__xss=1\">"
    optuna.create_study(study_name=hostile, storage=url).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)) + f"?tuning_plot={tab.replace(' ', '+')}")
    page.locator(".wb-studies-table, .wb-compare-best").get_by_text(hostile, exact=True).wait_for()  # as text
    assert page.evaluate("window.__xss") is None


# The ranges of the history figure shown now (views in the page, not models left in the document).
HISTORY_RANGES_JS = """() => {
  if (!window.Bokeh) return null;
  const shown = [...Bokeh.index.query((view) => {
    const title = view.model && view.model.title && view.model.title.text;
    return title && String(title).startsWith('Optimisation history') && view.model.x_range && view.el.isConnected;
  })];
  if (shown.length !== 1) return null;
  const model = shown[0].model;
  return {id: model.id, x: [model.x_range.start, model.x_range.end], y: [model.y_range.start, model.y_range.end]};
}"""

GROW = textwrap.dedent("""
    import sys, optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name="zoom", storage=sys.argv[1], sampler=optuna.samplers.RandomSampler(seed=7))
    study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=int(sys.argv[2]))
""")


def _drag(page, locator, start: tuple[float, float], end: tuple[float, float]) -> None:
    box = locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=8)
    page.mouse.up()


@pytest.mark.ui
@pytest.mark.slow
def test_zoom_stays_while_a_worker_adds_trials(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'zoom.db'}"
    optuna.create_study(study_name="zoom", storage=url)
    subprocess.run([sys.executable, "-c", GROW, url, "30"], check=True, timeout=120)
    config = WorkbenchConfig(optuna_storage=url, refresh_interval=0.5)
    page.goto(serve_viewable(lambda: TuningPage(config=config)))
    canvas = page.locator(".wb-tuning-history canvas").first
    canvas.wait_for()
    wait_until(lambda: 30 in page.evaluate(SOURCES_JS), what="30 trials in the history plot")
    initial = wait_until(lambda: page.evaluate(HISTORY_RANGES_JS), what="the history plot's ranges")
    assert initial["x"][0] < 0 and initial["x"][1] > 29  # every trial in view

    _drag(page, canvas, (0.3, 0.3), (0.6, 0.8))  # a box zoom (the active drag tool)
    zoomed = wait_until(lambda: (r := page.evaluate(HISTORY_RANGES_JS)) != initial and r, what="the zoom")
    assert initial["x"][0] < zoomed["x"][0] < zoomed["x"][1] < initial["x"][1]

    subprocess.run([sys.executable, "-c", GROW, url, "20"], check=True, timeout=120)  # another process
    wait_until(lambda: 50 in page.evaluate(SOURCES_JS), timeout=60, what="the new trials in the history plot")
    page.locator(".wb-study-summary").get_by_text("50 trials").wait_for()
    after = page.evaluate(HISTORY_RANGES_JS)
    assert after["id"] == zoomed["id"]  # the same figure, its data updated in place
    assert after["x"] == pytest.approx(zoomed["x"]) and after["y"] == pytest.approx(zoomed["y"])  # zoom kept

    page.locator(".wb-tuning-history .bk-tool-icon-reset").first.click()  # reset: every trial in view again
    reset = wait_until(lambda: (r := page.evaluate(HISTORY_RANGES_JS))["x"][1] > 49 and r, what="the reset")
    assert reset["x"][0] < 0
    assert page.locator(".wb-error").count() == 0


@pytest.mark.ui
def test_box_select_in_the_history_plot_filters_the_trials_table(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'brush.db'}"
    optuna.create_study(study_name="zoom", storage=url)
    subprocess.run([sys.executable, "-c", GROW, url, "30"], check=True, timeout=120)
    pages = []

    def factory():
        pages.append(TuningPage(config=WorkbenchConfig(optuna_storage=url)))
        return pages[-1]

    page.goto(serve_viewable(factory))
    canvas = page.locator(".wb-tuning-history canvas").first
    canvas.wait_for()
    wait_until(lambda: 30 in page.evaluate(SOURCES_JS), what="30 trials in the history plot")
    page.locator(".wb-tuning-history .bk-tool-icon-box-select").first.click()
    _drag(page, canvas, (0.15, 0.15), (0.5, 0.95))  # inside the frame: trials of the first half
    dashboard = pages[-1].dashboard
    selected = wait_until(lambda: dashboard.selected_trials, what="the box selection on the server")
    assert 0 < len(selected) < 30 and max(selected) < 20
    wait_until(lambda: len(selected) in page.evaluate(SOURCES_JS), what="the selected trials ringed")
    page.locator(".bk-tab", has_text="Trials").locator("visible=true").first.click()
    page.locator(".wb-trials-brushed").get_by_text(f"Showing the {len(selected)} trials selected").wait_for()
    rows = page.locator(".wb-trials-table .tabulator-row")
    wait_until(lambda: rows.count() == len(selected), what="only the selected trials in the table")
    page.locator(".wb-trials-clear-selection button").click()
    wait_until(lambda: rows.count() == 25, what="every trial again (one page of 25)")
    assert dashboard.selected_trials == []


@pytest.mark.ui
@pytest.mark.parametrize("brush", ["%5B3%2C5%2C8%5D", "not-a-list", "%5B%22%3Cb%3E%22%5D"])
def test_brushed_trials_come_from_the_url(tmp_path, serve_viewable, page, brush):
    url = f"sqlite:///{tmp_path / 'url.db'}"
    optuna.create_study(study_name="zoom", storage=url)
    subprocess.run([sys.executable, "-c", GROW, url, "12"], check=True, timeout=120)
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)) + f"?tuning_plot=Trials&tuning_brush={brush}")
    rows = page.locator(".wb-trials-table .tabulator-row")
    if brush.startswith("%5B3"):
        page.locator(".wb-trials-brushed").get_by_text("Showing the 3 trials selected").wait_for()
        wait_until(lambda: rows.count() == 3, what="only the brushed trials")
        assert sorted(int(n) for n in rows.locator("[tabulator-field=number]").all_inner_texts()) == [3, 5, 8]
    else:  # a damaged link: every trial, no error
        wait_until(lambda: rows.count() == 12, what="every trial")
        assert page.locator(".wb-trials-brushed").is_hidden()
    assert page.locator(".wb-error").count() == 0


MAX_TRIAL_JS = """() => {
  let best = -1;
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    for (const model of doc._all_models.values()) {
      const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
      if (data && data.Trial) best = Math.max(best, ...Array.from(data.Trial));
    }
  }
  return best;
}"""


def _big_study(n: int) -> StudyData:
    """n completed trials (beyond the point budget: the history is a raster); a new best at trial 30,500."""
    rng = np.random.default_rng(0)
    value = rng.uniform(1, 2, n)
    if n > 30_500:
        value[30_500] = 0.5
    start = pd.Timestamp("2026-11-01") + pd.to_timedelta(np.arange(n), unit="s")
    trials = pd.DataFrame({"number": np.arange(n), "trial_id": np.arange(n) + 1, "state": "COMPLETE",
                           "value": value, "datetime_start": start, "datetime_complete": start,
                           "params_x": value})
    trials["duration"] = trials["datetime_complete"] - trials["datetime_start"]
    return StudyData(name="big", directions=["minimize"], trials=trials,
                     intermediate=pd.DataFrame(columns=["trial_id", "number", "step", "value", "state"]))


@pytest.mark.ui
@pytest.mark.slow
def test_a_zoomed_raster_keeps_its_view_when_trials_arrive(serve_viewable, page):
    grow, views = threading.Event(), []

    def factory():
        view = HistoryView(data=_big_study(30_000))

        def tick():  # on the server's thread, like the live refresh
            if grow.is_set() and len(view.data.trials) == 30_000:
                view.data = _big_study(31_000)

        pn.state.add_periodic_callback(tick, period=300)
        views.append(view)
        return view

    page.goto(serve_viewable(factory))
    canvas = page.locator(".wb-tuning-history canvas").first
    canvas.wait_for()
    initial = wait_until(lambda: page.evaluate(HISTORY_RANGES_JS), what="the history raster's ranges")
    assert page.evaluate(MAX_TRIAL_JS) < 30_000
    _drag(page, canvas, (0.3, 0.3), (0.6, 0.8))
    zoomed = wait_until(lambda: (r := page.evaluate(HISTORY_RANGES_JS)) != initial and r, what="the zoom")
    wait_until(lambda: views[-1].live._zoomed, what="the zoom reported to the server (debounced)")
    grow.set()
    wait_until(lambda: page.evaluate(MAX_TRIAL_JS) > 30_000, what="the new trials on the best-so-far line")
    after = page.evaluate(HISTORY_RANGES_JS)
    assert after["id"] == zoomed["id"]  # the same figure, updated in place
    assert after["x"] == pytest.approx(zoomed["x"]) and after["y"] == pytest.approx(zoomed["y"])
    assert len(views[-1].data.trials) == 31_000
