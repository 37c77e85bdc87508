"""Path traversal against the served app: every URL parameter every page syncs, and raw URL paths.

A canary file sits outside every served root (plus sibling-prefix folders ``artifacts-evil/``,
``repo-evil/`` and symlinks pointing at it from inside the artifact folder and the DVC repo). Payloads
go into every ``pn.state.location`` parameter (discovered from the live sessions, so parameters added
later are covered too) and into URL paths; the canary text must never reach a client, in HTTP bodies
or in the Bokeh document the websocket delivers.
"""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import panel as pn
import pytest
from traversal_workspace import TraversalWorkspace, traversal_fixture  # noqa: F401 - the fixture

from workbench.errors import NotFound
from workbench.sources.mlflow_artifacts import ArtifactReader

pytestmark = pytest.mark.slow

TABS = ("experiments", "tuning", "explain", "data_versions")
# parameters also attacked alone (the others meet every payload in the all-at-once test)
ALONE = {"model", "dv_dataset", "dv_version", "dv_before", "dv_after", "tuning_study", "exp_names", "exp_runs", "tab"}


def payloads(ws: TraversalWorkspace) -> dict[str, str]:
    """Name → value of each traversal payload aimed at the canary."""
    canary = str(ws.canary)
    return {
        "dotdot": "../../../canary.csv",
        "deep-dotdot": "../" * 12 + canary.lstrip("/"),
        "encoded": "%2e%2e%2f%2e%2e%2f%2e%2e%2fcanary.csv",
        "double-encoded": "%252e%252e%252f%252e%252e%252fcanary.csv",
        "absolute": canary,
        "file-uri": f"file://{canary}",
        "symlink": "data/link.csv",
        "sibling-prefix": "../repo-evil/data/table.csv",
        "run-artifact": f"runs:/{ws.run_id}/../../../../canary.csv",
        "run-symlink": f"runs:/{ws.run_id}/link.csv",
    }


def document_text(port: int, path: str, arguments: dict[str, str]) -> str:
    """The Bokeh document a client receives over the websocket for ``path?arguments``, as JSON text."""
    from bokeh.client import pull_session

    def pull() -> str:
        with pull_session(url=f"http://127.0.0.1:{port}{path}", arguments=arguments) as session:
            return json.dumps(session.document.to_json(), default=str)

    # a thread of its own: Playwright's sync API (browser tests in the same run) keeps an event loop running here
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(pull).result(timeout=120)


def synced_url_parameters() -> set[str]:
    """Every URL parameter some live session syncs with a page (``pn.state.location.sync``)."""
    names: set[str] = set()
    for location in list(pn.state._locations.values()):
        for _obj, mapping, *_ in location._synced:
            names.update(mapping.values())
    return names


def raw_get(port: int, target: str) -> tuple[int, str]:
    """GET ``target`` exactly as written (http.client does not normalise ``..`` or encodings)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_every_url_parameter_refuses_traversal(traversal) -> None:
    """All parameters at once, each tab, payloads rotated over the parameters so each meets several."""
    ws, port = traversal
    names: set[str] = set()
    for tab in TABS:
        document_text(port, "/", {"tab": tab})
        names |= synced_url_parameters()
    # the pages' own URL state must all be covered (a new page parameter is attacked automatically)
    assert {"tab", "model", "exp_query", "exp_names", "tuning_study", "dv_dataset", "dv_version"} <= names
    attacks = list(payloads(ws).values())
    ordered = sorted(names - {"tab"})
    for tab in TABS:
        for shift in range(3):
            arguments = {name: attacks[(i + shift * 3) % len(attacks)] for i, name in enumerate(ordered)}
            arguments["tab"] = tab
            text = document_text(port, "/", arguments)
            assert ws.canary_text not in text, f"canary leaked: tab={tab} {arguments}"
            assert "wb-error" in text, f"no error shown: tab={tab} {arguments}"


def test_each_parameter_alone_never_leaks(traversal) -> None:
    """One parameter at a time (a failing first parameter must not hide the others); the parameters
    that name files or models get every payload."""
    ws, port = traversal
    attacks = payloads(ws)
    tab_of = {"exp": "experiments", "tuning": "tuning", "dv": "data_versions"}
    for tab in TABS:
        document_text(port, "/", {"tab": tab})
    for name in sorted(synced_url_parameters() & ALONE):
        tab = tab_of.get(name.split("_")[0], "explain" if name == "model" else "experiments")
        kinds = list(attacks) if name in ("model", "dv_dataset") else [("dotdot", "absolute")[len(name) % 2]]
        for kind in kinds:
            arguments = {"tab": tab, name: attacks[kind]}
            if name.startswith("dv_") and name != "dv_dataset":
                arguments["dv_dataset"] = "data/table.csv"  # a valid dataset: the revision is what is attacked
            text = document_text(port, "/", arguments)
            assert ws.canary_text not in text, f"canary leaked: {name}={kind}"
            if name in ("model", "dv_dataset", "tab"):
                assert "wb-error" in text, f"no error shown for {name}={kind}"


def test_single_page_routes_refuse_traversal(traversal) -> None:
    ws, port = traversal
    attacks = payloads(ws)
    for page, name, kinds in (("explain", "model", ("run-artifact", "run-symlink", "file-uri")),
                              ("data_versions", "dv_dataset", ("dotdot", "symlink", "sibling-prefix"))):
        for kind in kinds:
            text = document_text(port, f"/{page}", {name: attacks[kind]})
            assert ws.canary_text not in text
            assert "wb-error" in text, f"/{page} shows no error for {kind}"


def test_url_paths_never_serve_the_canary(traversal) -> None:
    ws, port = traversal
    canary = str(ws.canary)
    depth = "../" * 12
    targets = [
        f"/static/{depth}{canary.lstrip('/')}",
        "/static/" + quote(depth, safe="") + quote(canary.lstrip("/"), safe=""),
        "/static/" + depth.replace(".", "%2e") + canary.lstrip("/"),
        "/static/" + depth.replace(".", "%252e").replace("/", "%252f") + canary.lstrip("/"),
        f"/static/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f{canary.lstrip('/')}",
        f"/static//{canary}",
        f"/static/extensions/{depth}{canary.lstrip('/')}",
        f"/panel_dist/{depth}{canary.lstrip('/')}",
        f"/components/workbench/{depth}{canary.lstrip('/')}",
        f"/components/panel.models/Tabulator/__javascript__/{depth}{canary.lstrip('/')}",
        f"/experiments/{depth}{canary.lstrip('/')}",
        f"/data_versions/..%2f..%2f{canary.lstrip('/')}",
        f"/{canary}",
        f"//{canary}",
        f"/health/{depth}{canary.lstrip('/')}",
        f"/login?next={quote(canary)}",
    ]
    for target in targets:
        status, body = raw_get(port, target)
        assert ws.canary_text not in body, f"canary served for {target}"
        assert status != 500, f"{target} crashed the handler"


def test_artifact_symlink_and_sibling_are_refused(traversal) -> None:
    ws, _port = traversal
    from mlflow.tracking import MlflowClient

    uri = MlflowClient(ws.config.tracking_uri).get_run(ws.run_id).info.artifact_uri
    reader = ArtifactReader()
    assert "link.csv" not in set(reader.list(uri)["path"])  # a symlink out is not even listed
    for path in ("link.csv", "../../artifacts-evil/canary.csv", "..%2f..%2fartifacts-evil%2fcanary.csv",
                 str(ws.canary), "%252e%252e%252fcanary.csv"):
        with pytest.raises(NotFound):
            reader.read(uri, path)
    assert Path(reader.read(uri, "notes.txt").path).name == "notes.txt"
