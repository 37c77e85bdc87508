"""The Data versions page in Chromium: the version list shows the versions, data renders as text."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.apps.data_versions import DataVersionsPage
from workbench.config import WorkbenchConfig
from workbench.sources.dvc_build import RepoBuilder

pytestmark = pytest.mark.ui


def test_version_list_shows_the_demo_versions(demo_config, serve_viewable, page):
    url = serve_viewable(lambda: DataVersionsPage(config=demo_config))
    page.goto(url)
    table = page.locator(".wb-version-list")
    for tag in ("v1", "v2", "v3", "v4", "v5"):
        table.get_by_text(tag, exact=True).first.wait_for()
    assert page.locator(".wb-error").count() == 0


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui") / "repo"
    builder = RepoBuilder(root, remote=False)
    builder.version("t.csv", pd.DataFrame({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0]}), "<img src=x onerror=alert(1)>",
                    tag="first")
    builder.version("t.csv", pd.DataFrame({"id": [1, 2, 4], "v": [1.0, 2.5, 4.0]}), "Second", tag="second")
    builder.version("u.csv", pd.DataFrame({"k": [1]}), "Other dataset", tag="other")
    builder.close()
    return WorkbenchConfig(dvc_repo=str(root))


def test_messages_render_as_text_and_compare_opens(config, serve_viewable, page):
    url = serve_viewable(lambda: DataVersionsPage(config=config))
    page.goto(url)
    page.locator(".wb-version-list").get_by_text("<img src=x onerror=alert(1)>").wait_for()
    assert page.locator(".wb-version-list img").count() == 0
    page.get_by_text("Compare", exact=True).click()
    page.locator(".wb-diff-counts").get_by_text("rows before").wait_for()
    page.locator(".wb-changed-rows").get_by_text("2.0 → 2.5").wait_for()


def test_selecting_a_version_previews_it(config, serve_viewable, page):
    url = serve_viewable(lambda: DataVersionsPage(config=config))
    page.goto(url)
    page.locator(".wb-preview").get_by_text("'t.csv' at second").wait_for()
    row = page.locator(".wb-version-list .tabulator-row").filter(has_text="first")
    row.locator("input[type=checkbox]").click()
    page.locator(".wb-preview").get_by_text("'t.csv' at first").wait_for()


def test_url_state_opens_dataset_and_view(config, serve_viewable, page):
    url = serve_viewable(lambda: DataVersionsPage(config=config))
    page.goto(url + "?dv_dataset=u.csv&dv_view=versions")
    page.locator(".wb-version-list").get_by_text("Other dataset").wait_for()
    page.goto(url + "?dv_dataset=t.csv&dv_view=compare")
    page.locator(".wb-changed-rows").get_by_text("2.0 → 2.5").wait_for()
    page.get_by_text("Quality", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('dv_view=quality')")


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """Two datasets; the second (not the default) has three versions where the key column matters."""
    root = tmp_path_factory.mktemp("keyed") / "repo"
    builder = RepoBuilder(root, remote=False)
    builder.version("a.csv", pd.DataFrame({"x": [1]}), "Default dataset", tag="a1")
    commits = {}
    for tag, ids in (("z1", [1, 2, 3]), ("z2", [1, 2, 3, 4]), ("z3", [3, 2, 1])):
        frame = pd.DataFrame({"id": ids, "code": list("abcd")[:len(ids)], "v": [10 * i for i in range(len(ids))]})
        commits[tag] = builder.version("z.csv", frame, f"z {tag}", tag=tag)
    builder.close()
    return WorkbenchConfig(dvc_repo=str(root)), commits


def test_a_link_with_dataset_revisions_and_key_reopens_the_same_diff(keyed, serve_viewable, page):
    config, commits = keyed
    url = serve_viewable(lambda: DataVersionsPage(config=config))
    link = f"{url}?dv_dataset=z.csv&dv_before={commits['z1']}&dv_after={commits['z3']}&dv_key=code&dv_view=compare"
    for _ in range(2):  # opened twice: the link itself, then again from the address it leaves in the bar
        page.goto(link)
        page.get_by_text("z1 → z3", exact=True).wait_for()
        page.get_by_text("rows matched by key 'code'").wait_for()
        page.locator(".wb-changed-rows").get_by_text("1 → 3").wait_for()  # id of code 'a' (by id: no such change)
        page.wait_for_function("() => window.location.search.includes('dv_key=code')")
        link = page.url
    for name in ("z.csv", commits["z1"], commits["z3"], "compare"):
        assert name in link
