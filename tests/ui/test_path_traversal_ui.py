"""Path traversal in Chromium: traversal links open every tab; the canary never reaches the page, any HTTP
response or any websocket frame, and the page says what is wrong."""

from __future__ import annotations

import contextlib

import pytest
from traversal_workspace import traversal_fixture  # noqa: F401 - the fixture

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def watch_traffic(page) -> list[str]:
    """Every websocket frame and every text HTTP response body the page receives."""
    seen: list[str] = []

    def on_websocket(socket) -> None:
        socket.on("framereceived", lambda payload: seen.append(payload if isinstance(payload, str)
                                                               else payload.decode("utf-8", "replace")))

    def on_response(response) -> None:
        with contextlib.suppress(Exception):  # redirects and aborted requests have no body
            seen.append(response.body().decode("utf-8", "replace"))

    page.on("websocket", on_websocket)
    page.on("response", on_response)
    return seen


def test_traversal_links_in_the_browser(page, traversal) -> None:
    ws, port = traversal
    traffic = watch_traffic(page)
    canary = str(ws.canary)
    links = {
        "experiments": {"exp_names": f'["../../canary.csv", "{canary}"]', "exp_query": canary,
                        "exp_runs": "[\"../../../canary.csv\"]"},
        "tuning": {"tuning_study": "%2e%2e%2f%2e%2e%2fcanary.csv", "tuning_trial": "../canary"},
        "explain": {"model": f"runs:/{ws.run_id}/link.csv"},
        "data_versions": {"dv_dataset": "data/link.csv"},
    }
    for tab, arguments in links.items():
        query = "&".join(f"{key}={value}" for key, value in {"tab": tab, **arguments}.items())
        page.goto(f"http://127.0.0.1:{port}/?{query}")
        page.locator(".wb-error").first.wait_for()
        page.wait_for_timeout(1000)  # late updates (onload checks, lazy views) arrive over the websocket
        assert ws.canary_text not in page.content(), f"canary shown in the {tab} tab"
        if tab == "tuning":  # an unknown study is not silently replaced by another one
            page.locator(".wb-url-notice").filter(has_text="could not be applied").first.wait_for()
    for path, query in (("data_versions", "dv_dataset=../repo-evil/data/table.csv"),
                        ("explain", f"model=runs:/{ws.run_id}/../../../../canary.csv")):
        page.goto(f"http://127.0.0.1:{port}/{path}?{query}")
        page.locator(".wb-error").first.wait_for()
        assert ws.canary_text not in page.content()
    assert any("wb-error" in text for text in traffic)  # the frames were really captured
    assert not [text for text in traffic if ws.canary_text in text]
