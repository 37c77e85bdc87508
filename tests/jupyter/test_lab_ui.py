"""The extension in a real JupyterLab, driven through Debian's Chromium."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.jupyter, pytest.mark.ui, pytest.mark.slow]

TILES = ["MLOps Workbench", "Experiments", "Tuning", "Explain", "Data versions"]


def open_lab(page, lab, reset: bool = True) -> None:
    page.goto(f"{lab.url}/lab{'?reset&' if reset else '?'}token={lab.token}")
    page.locator(".jp-DirListing-item").first.wait_for()


def launcher_section(page):
    title = page.locator(".jp-Launcher-sectionTitle", has_text="MLOps Workbench")
    return page.locator(".jp-Launcher-section", has=title)


def tab(page, label: str):
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab", has=page.locator(".lm-TabBar-tabLabel", has_text=label))


def menu_item(page, label: str):
    """A shown item of the open menus (Lumino keeps invisible items in the DOM, hidden)."""
    exact = re.compile(f"^{re.escape(label)}$")
    return page.locator(".lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel").filter(has_text=exact)


def app_frame(page, widget_id: str):
    return page.frame_locator(f'[id="{widget_id}"] iframe')


def assert_shows_study(frame) -> None:
    """The Tuning page chose the demo study and drew its plots."""
    frame.locator("option[value='cancer-gb-tuning']").first.wait_for(state="attached", timeout=90_000)
    frame.locator("canvas").first.wait_for(timeout=90_000)
    assert frame.locator(".wb-error").count() == 0


def test_launcher_tiles_open_panels_in_restorable_tabs(page, lab) -> None:
    open_lab(page, lab)
    cards = launcher_section(page).locator(".jp-LauncherCard")
    cards.first.wait_for()
    assert cards.all_inner_texts() == TILES
    assert cards.locator(".jp-LauncherCard-icon svg").count() == len(TILES)

    cards.filter(has_text="Experiments").click()
    frame = app_frame(page, "workbench-experiments")
    frame.locator(".tabulator-row").first.wait_for(timeout=90_000)
    assert frame.get_by_text("cancer-baselines").count() > 0
    iframe = page.locator('[id="workbench-experiments"] iframe')
    assert set(iframe.get_attribute("sandbox").split()) >= {"allow-scripts", "allow-same-origin"}
    assert "theme=light" in iframe.get_attribute("src")

    # A second launcher's Experiments tile brings back the open tab instead of a second one.
    page.locator("#jp-main-dock-panel .lm-TabBar-addButton").first.click()
    launcher_section(page).locator(".jp-LauncherCard", has_text="Experiments").click()
    page.wait_for_function(
        "() => document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current')"
        "?.textContent.includes('Experiments')")
    assert tab(page, "Launcher").count() == 0  # the tile click completed (the launcher gives way)
    assert tab(page, "Experiments").count() == 1

    open_lab(page, lab, reset=False)  # reload: the layout restorer reopens the tab
    tab(page, "Experiments").wait_for()
    app_frame(page, "workbench-experiments").locator(".tabulator-row").first.wait_for(timeout=90_000)


def test_every_launcher_tile_shows_demo_data(page, lab) -> None:
    open_lab(page, lab)
    checks = {
        "MLOps Workbench": ("workbench-all", lambda frame: frame.locator(".tabulator-row").first.wait_for(timeout=90_000)),
        "Tuning": ("workbench-tuning", assert_shows_study),
        "Explain": ("workbench-explain", lambda frame: frame.locator("canvas").first.wait_for(timeout=90_000)),
        "Data versions": ("workbench-data_versions",
                          lambda frame: frame.get_by_text("v5").first.wait_for(timeout=90_000)),
    }
    for number, (label, (widget_id, shows_data)) in enumerate(checks.items()):
        if number:  # the first launcher is open already; a tile click replaces it with the panel
            page.locator("#jp-main-dock-panel .lm-TabBar-addButton").first.click()
        launcher_section(page).locator(".jp-LauncherCard", has_text=re.compile(f"^{label}$")).click()
        frame = app_frame(page, widget_id)
        shows_data(frame)
        assert frame.locator(".wb-error").count() == 0, f"{label} shows an error"


def test_menu_and_palette_open_panels(page, lab) -> None:
    open_lab(page, lab)
    page.locator(".lm-MenuBar-itemLabel", has_text="Workbench").click()
    menu_item(page, "Open Tuning").click()
    assert_shows_study(app_frame(page, "workbench-tuning"))

    page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
    menu_item(page, "Activate Command Palette").click()
    page.locator(".lm-CommandPalette-input").fill("Open Data versions")
    page.locator(".lm-CommandPalette-item", has_text="Open Data versions").first.click()
    tab(page, "Data versions").wait_for()
    app_frame(page, "workbench-data_versions").get_by_text("v2").first.wait_for(timeout=90_000)


def test_file_browser_items_open_their_panel(page, lab) -> None:
    open_lab(page, lab)
    page.locator(".jp-DirListing-item[data-isdir='true']", has_text="data").first.dblclick()
    dvc_file = page.locator(".jp-DirListing-item", has_text="cancer.csv.dvc")
    dvc_file.click(button="right")
    menu_item(page, "Browse versions").wait_for()
    assert menu_item(page, "Open in MLOps Workbench").count() == 0
    menu_item(page, "Browse versions").click()
    widget_id = "workbench-data_versions:data/cancer.csv.dvc"
    tab(page, "Data versions: cancer.csv.dvc").wait_for()
    app_frame(page, widget_id).get_by_text("v2").first.wait_for(timeout=90_000)
    assert app_frame(page, widget_id).locator(".wb-error").count() == 0

    page.locator(".jp-BreadCrumbs-home").click()
    page.locator(".jp-DirListing-item", has_text="optuna.db").click(button="right")
    menu_item(page, "Open in MLOps Workbench").wait_for()
    assert menu_item(page, "Browse versions").count() == 0
    menu_item(page, "Open in MLOps Workbench").click()
    tab(page, "Tuning: optuna.db").wait_for()
    assert_shows_study(app_frame(page, "workbench-tuning:optuna.db"))


def test_panels_follow_the_jupyterlab_theme(page, lab) -> None:
    open_lab(page, lab)
    launcher_section(page).locator(".jp-LauncherCard", has_text="Experiments").click()
    frame = app_frame(page, "workbench-experiments")
    frame.locator(".tabulator-row").first.wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    menu_item(page, "Theme").hover()
    menu_item(page, "JupyterLab Dark").click()
    # The tab reloads on the dark app: its page background turns dark (same-origin iframe).
    page.wait_for_function("""() => {
        const iframe = document.querySelector('[id="workbench-experiments"] iframe');
        const html = iframe?.contentDocument?.documentElement;
        return iframe.src.includes('theme=dark') && html
            && getComputedStyle(html).backgroundColor === 'rgb(18, 18, 18)';
    }""")
    frame.locator(".tabulator-row").first.wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()  # back to light for other tests
    menu_item(page, "Theme").hover()
    menu_item(page, "JupyterLab Light").click()
    page.wait_for_function(
        "() => document.querySelector('[id=\"workbench-experiments\"] iframe').src.includes('theme=light')")


def test_settings_reach_the_panels_and_problems_show_in_the_tab(page, lab) -> None:
    lab.put_settings("jupyterlab-workbench:plugin", {"trackingUri": "sqlite:///missing.db", "refreshInterval": 30})
    try:
        open_lab(page, lab)
        launcher_section(page).locator(".jp-LauncherCard", has_text="Experiments").click()
        page.wait_for_function(  # settings load asynchronously; the tab follows them
            "() => document.querySelector('[id=\"workbench-experiments\"] iframe')?.src.includes('tracking_uri')")
        src = page.locator('[id="workbench-experiments"] iframe').get_attribute("src")
        assert "tracking_uri=sqlite%3A%2F%2F%2Fmissing.db" in src and "refresh_interval=30" in src
        app_frame(page, "workbench-experiments").locator(".wb-error").first.wait_for(timeout=90_000)
    finally:
        lab.put_settings("jupyterlab-workbench:plugin", {})
    assert not (lab.root / "missing.db").exists()


def test_problems_show_inside_the_tab(page, lab) -> None:
    page.goto(f"{lab.url}/workbench-app/tuning?theme=light&path=missing.db&token={lab.token}")
    page.locator(".wb-error", has_text="'missing.db' does not exist").wait_for(timeout=90_000)
    page.goto(f"{lab.url}/workbench-app/experiments?theme=light&path=../../etc/passwd&token={lab.token}")
    page.locator(".wb-error", has_text="outside the folder JupyterLab serves").wait_for(timeout=90_000)


def test_the_stores_are_byte_identical_after_all_this(lab, store_snapshot) -> None:
    from conftest import STORES
    from helpers import snapshot

    assert {name: snapshot(lab.root / name) for name in STORES} == store_snapshot
