"""Share toolbar in Chromium: "Copy link" reopens the same view; the exported report opens offline, inert."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from helpers import free_port, snapshot, wait_for_port, wait_until

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve

pytestmark = pytest.mark.ui
hostile = importlib.import_module("test_security_ui")  # the same module pytest collects: shared store builders

# tab → (sub-tab clicked, query the click puts in the URL, selector of what that sub-view shows, report text)
VIEWS = {
    "experiments": ("Parallel coordinates", "exp_view=2", ".wb-experiment-tabs", "Run comparison"),
    "tuning": ("Slice", "tuning_plot=Slice", ".wb-tuning-slice", "cancer-gb-tuning"),
    "explain": ("Dependence", "explain_view=2", ".wb-explain-tabs", "mean_concave_points"),
    "data_versions": ("Compare", "dv_view=compare", ".wb-diff-counts", "data/cancer.csv"),
}


workbench_url = importlib.import_module("test_workbench_ui").workbench_url  # the demo, served (module fixture)


def active_tab(page, text: str):
    return page.locator(".bk-tab.bk-active", has_text=text).locator("visible=true").first


def copy_link(page) -> str:
    """Click the visible "Copy link"; the link shown and the clipboard's text."""
    page.locator(".wb-share-copy button").locator("visible=true").first.click()
    field = page.locator(".wb-share-link input").locator("visible=true").first
    link = wait_until(lambda: field.input_value(), what="the copied link")
    copied = page.evaluate("navigator.clipboard.readText()")
    return link if link == copied else pytest.fail(f"clipboard {copied!r} differs from the link {link!r}")


def download_report(page, folder: Path) -> Path:
    page.mouse.move(0, 0)  # as a user's pointer leaves "Copy link", its tooltip (over this button) goes
    with page.expect_download(timeout=60_000) as info:
        page.locator(".wb-share-export button").locator("visible=true").first.click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def open_offline(browser, report: Path):
    """Open ``report`` with the network unavailable; the page, the requests it tried, and its dialogs."""
    context = browser.new_context(offline=True)
    viewer = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    viewer.on("request", lambda request: requests.append(request.url))
    viewer.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    viewer.goto(report.as_uri())
    return context, viewer, requests, dialogs


@pytest.mark.parametrize("tab", list(VIEWS))
def test_copy_link_reopens_the_view_and_report_opens_offline(tab, workbench_url, demo_workspace, page, browser, tmp_path):
    before = snapshot(demo_workspace / "mlflow.db") | snapshot(demo_workspace / "optuna.db")
    sub_tab, query, shown, report_text = VIEWS[tab]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{workbench_url}/?tab={tab}")
    page.locator(".wb-share-copy button").locator("visible=true").first.wait_for()
    page.locator(".bk-tab", has_text=sub_tab).locator("visible=true").first.click()
    page.wait_for_function(f"() => window.location.search.includes({query!r})")

    link = copy_link(page)
    assert link == page.url and query in link and f"tab={tab}" in link
    other = page.context.new_page()
    other.goto(link)
    active_tab(other, sub_tab).wait_for()
    other.locator(shown).locator("visible=true").first.wait_for()
    assert other.locator(".wb-error").count() == 0
    other.close()

    report = download_report(page, tmp_path)
    assert report.suffix == ".html"
    context, viewer, requests, dialogs = open_offline(browser, report)
    try:
        viewer.get_by_text(report_text).first.wait_for()
        viewer.locator("canvas").first.wait_for()  # the static Bokeh plots render from inline JS
        assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
        assert dialogs == []
    finally:
        context.close()
    assert snapshot(demo_workspace / "mlflow.db") | snapshot(demo_workspace / "optuna.db") == before


def test_reopened_link_restores_inner_choices(workbench_url, page):
    """Beyond the sub-tab: the study's plot choice and the explained row come back from the link."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{workbench_url}/?tab=explain&explain_view=3&explain_row=7")
    active_tab(page, "Prediction").wait_for()
    link = copy_link(page)
    assert "explain_row=7" in link and "explain_view=3" in link
    page.goto(f"{workbench_url}/?tab=tuning&tuning_plot=Slice")
    active_tab(page, "Slice").wait_for()
    select = page.locator(".wb-tuning-tabs select").locator("visible=true").first
    options = select.locator("option").all_inner_texts()
    select.select_option(options[-1])
    page.wait_for_function(f"() => window.location.search.includes('tuning_slice=' + {options[-1]!r})")
    link = copy_link(page)
    other = page.context.new_page()
    other.goto(link)
    active_tab(other, "Slice").wait_for()
    wait_until(lambda: other.locator(".wb-tuning-tabs select").locator("visible=true").first.input_value()
               == options[-1], what="the slice parameter restored from the link")
    other.close()


def test_link_to_a_plot_the_study_lacks_says_so(workbench_url, page):
    """?tuning_plot= naming no plot of the study: the page says which value was not applied and shows
    History; the Pareto front arrives with its multi-objective study in one link without a notice."""
    notice = page.locator(".wb-url-notice").filter(has_text="could not be applied")
    page.goto(f"{workbench_url}/?tab=tuning&tuning_plot=%3Cb%3ENo+such+plot%3C%2Fb%3E")
    notice.first.wait_for()
    text = notice.first.get_by_text("could not be applied").first.inner_text()
    assert "tuning_plot='<b>No such plot</b>'" in text  # quoted back as text, not rendered
    active_tab(page, "History").wait_for()
    page.goto(f"{workbench_url}/?tab=tuning&tuning_study=cancer-gb-tuning&tuning_plot=Pareto+front")
    notice.first.wait_for()  # a single-objective study has no Pareto front
    active_tab(page, "History").wait_for()
    page.goto(f"{workbench_url}/?tab=tuning&tuning_study=cancer-accuracy-vs-size&tuning_plot=Pareto+front")
    active_tab(page, "Pareto front").wait_for()
    page.locator(".wb-tuning-pareto").locator("visible=true").first.wait_for()
    assert notice.count() == 0 or not notice.first.is_visible()


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("share-hostile")
    run_id = hostile.hostile_mlflow_store(folder)
    hostile.hostile_optuna_store(folder)
    hostile.hostile_dvc_repo(folder)
    config = WorkbenchConfig(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}",
                             optuna_storage=f"sqlite:///{folder / 'optuna.db'}", dvc_repo=str(folder / "repo"),
                             dvc_path="data/table.csv", model=f"runs:/{run_id}/model", cache_dir=str(folder / "cache"))
    port = free_port()
    server = serve(config, ServeOptions(port=port), threaded=True)
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.mark.parametrize("tab", list(VIEWS))
def test_report_renders_stored_html_as_text(tab, hostile_url, page, browser, tmp_path):
    page.goto(f"{hostile_url}/?tab={tab}")
    page.locator(".wb-share-export button").locator("visible=true").first.wait_for()
    report = download_report(page, tmp_path)
    text = report.read_text()
    assert hostile.SCRIPT not in text and hostile.PAYLOAD not in text  # escaped everywhere, also in Bokeh's JSON
    context, viewer, requests, dialogs = open_offline(browser, report)
    try:
        viewer.get_by_text(hostile.PAYLOAD).first.wait_for()  # the stored HTML, shown as text
        assert viewer.evaluate("window.__xss") is None
        assert viewer.locator("img[src=x]").count() == 0
        assert dialogs == []
        assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
    finally:
        context.close()
