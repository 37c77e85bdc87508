"""Two signed-in users with different allow-lists on the served demo: neither ever receives the other's
experiments, runs, studies or data — not in the page, not in any websocket frame — whatever the URL asks."""

from __future__ import annotations

import re

import pytest
from access_rules import DEMO_ACCESS
from helpers import free_port, wait_for_port

from workbench.serve import ServeOptions, serve
from workbench.sources.mlflow import MlflowSource
from workbench.users import add_user

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ACCESS = DEMO_ACCESS
PASSWORD = "correct horse battery staple"
DATA_MARKER = "114 biopsies from site B"  # a commit message only the Data versions history shows


def without_links(text: str) -> str:
    """``text`` without the URLs' query values the test itself asked for (echoed in the Location model and in
    the "could not be applied" notice): what is left is what the server chose to send."""
    text = re.sub(r"[?&][a-z_]+=[^&\"\s<]*", "", text)
    return re.sub(r"[a-z_]+=(&#x27;|')[^&']*(&#x27;|')", "", text)


def sign_in(browser, port: int, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    frames: list[str] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    page.goto(f"http://127.0.0.1:{port}/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.locator(".bk-tab").first.wait_for()
    return context, page, frames


def visit(page, url: str) -> str:
    page.goto(url)
    page.locator(".bk-tab, .wb-error").locator("visible=true").first.wait_for()
    page.wait_for_timeout(2500)  # lazy views, tables and onload updates arrive over the websocket
    return page.content()


def test_two_users_never_see_each_others_items(browser, tmp_path, demo_config) -> None:
    runs = MlflowSource.from_config(demo_config).runs()
    run_ids = {name: set(runs.loc[runs["experiment"] == name, "run_id"]) for name in runs["experiment"].unique()}
    model_run = demo_config.model.split("/")[1]
    users = tmp_path / "users.json"
    add_user(users, "alice", PASSWORD)
    add_user(users, "bob", PASSWORD)
    port = free_port()
    server = serve(demo_config.with_overrides(access=ACCESS),
                   ServeOptions(port=port, users_file=str(users), cookie_secret="s" * 40), threaded=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        # alice: baselines, the multi-objective study, the dataset; her URLs ask for bob's items
        context, page, frames = sign_in(browser, port, "alice")
        pages = [visit(page, f"{base}/?tab=experiments"),
                 visit(page, f'{base}/?tab=experiments&exp_names=["cancer-tuning"]'),
                 visit(page, f"{base}/?tab=tuning&tuning_study=cancer-gb-tuning&study=cancer-gb-tuning"),
                 visit(page, f"{base}/?tab=explain&model=runs:/{model_run}/model"),
                 visit(page, f"{base}/explain?model=runs:/{model_run}/model"),
                 visit(page, f"{base}/?tab=data_versions")]
        seen = "\n".join(pages + frames)
        assert "cancer-baselines" in seen and DATA_MARKER in seen and "cancer-accuracy-vs-size" in seen
        assert "cancer-gb-tuning" not in without_links(seen)
        leaked = [run_id for run_id in run_ids["cancer-tuning"] if run_id in seen.replace(model_run, "")]
        assert not leaked, f"alice received {len(leaked)} run ids of cancer-tuning"
        assert "not among the runs your account may see" in seen  # the explain link says why
        context.close()

        # bob: tuning runs and the single-objective study, no dataset; his URLs ask for alice's items
        context, page, frames = sign_in(browser, port, "bob")
        pages = [visit(page, f"{base}/?tab=experiments"),
                 visit(page, f'{base}/?tab=experiments&exp_names=["cancer-baselines"]'),
                 visit(page, f"{base}/?tab=tuning&tuning_study=cancer-accuracy-vs-size"),
                 visit(page, f"{base}/?tab=data_versions&dv_dataset=data/cancer.csv&dv_version=v2"),
                 visit(page, f"{base}/data_versions?dv_dataset=data/cancer.csv")]
        seen = "\n".join(pages + frames)
        assert "cancer-tuning" in seen and "cancer-gb-tuning" in seen
        assert DATA_MARKER not in seen
        # cancer-tuning's own runs are named after both studies (their run names and tags are bob's data);
        # the other study itself is never offered in any chooser
        assert not re.search(r'"options":\[[^\]]*"cancer-accuracy-vs-size"', seen)
        assert "Unknown MLflow experiment(s): cancer-baselines" in seen  # the URL's request is refused, by name
        assert "Your account may see no dataset" in seen
        leaked = [run_id for run_id in run_ids["cancer-baselines"] if run_id in seen]
        assert not leaked, f"bob received {len(leaked)} run ids of cancer-baselines"
        context.close()
    finally:
        server.stop()
