"""The workbench app process that jupyter-server-proxy starts for JupyterLab tabs.

It listens on a unix socket (in a private temporary folder) and answers only requests that carry
the per-Jupyter-server secret header the proxy adds, so the app is reachable only through
Jupyter's authenticated proxy. Routes: ``/`` all pages in tabs, ``/<page>`` one page; the query
holds ``theme`` (light/dark), the JupyterLab settings and an optional file-browser ``path``.

Run by the proxy as ``python -m workbench.jupyter.child --unix-socket PATH --prefix PREFIX
--root-dir ROOT`` with the secret in the ``WORKBENCH_PROXY_SECRET`` environment variable.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import panel as pn
import tornado.web

from workbench.apps.main import PAGES, create_app
from workbench.jupyter.protocol import MIN_SECRET_LENGTH, SECRET_ENV, SECRET_HEADER
from workbench.jupyter.session import session_config
from workbench.views.alert import error_alert

log = logging.getLogger(__name__)



def session_view(root: Path, page: str | None) -> pn.viewable.Viewable:
    """One tab's view: theme from ``?theme=``, config from settings/item; errors become an alert."""
    args = {key: values[0].decode("utf-8", "replace") for key, values in pn.state.session_args.items() if values}
    pn.config.theme = "dark" if args.get("theme") == "dark" else "default"
    try:
        config, page = session_config(root, args, page)
        view = create_app(config, page)
    except Exception as error:  # noqa: BLE001 - the tab shows the problem instead of going blank
        view = error_alert(error, context="MLOps Workbench")
    return pn.Column(view, sizing_mode="stretch_width", css_classes=["wb-jupyter-tab"])


def app_routes(root: Path) -> dict[str, Callable[[], pn.viewable.Viewable]]:
    """URL path → session factory: all pages at ``/``, each page at ``/<key>``."""

    def factory(page: str | None) -> Callable[[], pn.viewable.Viewable]:
        # A plain function: Panel renders a functools.partial as its repr instead of calling it.
        def view() -> pn.viewable.Viewable:
            return session_view(root, page)

        return view

    return {"/": factory(None), **{f"/{key}": factory(key) for key in PAGES}}


def require_secret(application: tornado.web.Application, secret: str) -> None:
    """Answer 403 to every request (HTTP and websocket upgrade) without ``secret`` in SECRET_HEADER."""
    expected = secret.encode()
    find_handler = application.find_handler

    def gated_find_handler(request, **kwargs):
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return application.get_handler_delegate(request, tornado.web.ErrorHandler, {"status_code": 403})
        return find_handler(request, **kwargs)

    application.find_handler = gated_find_handler


def serve(root: Path, unix_socket: str, prefix: str, secret: str, start: bool = True):
    """Serve the app on ``unix_socket`` behind the secret check; blocks when ``start``."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise SystemExit(f"{SECRET_ENV} must hold a secret of at least {MIN_SECRET_LENGTH} characters.")
    from workbench.sources.mlflow_rest import serve_with_short_requests

    serve_with_short_requests()  # this process only serves the workbench: one hung request must not queue others
    server = pn.serve(
        app_routes(root), unix_socket=unix_socket, prefix=prefix, show=False, start=False,
        title="MLOps Workbench", websocket_origin=["*"], admin=False,
    )
    require_secret(server._tornado, secret)  # noqa: SLF001 - the Tornado app Bokeh built
    if start:
        server.start()
        server.io_loop.start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workbench.jupyter.child", description=__doc__.split("\n")[0])
    parser.add_argument("--unix-socket", required=True, help="path of the unix socket to listen on")
    parser.add_argument("--prefix", default="", help="URL prefix the proxy forwards (e.g. /workbench-app)")
    parser.add_argument("--root-dir", default=os.getcwd(), help="the Jupyter root folder")
    options = parser.parse_args(argv)
    secret = os.environ.pop(SECRET_ENV, "")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    pn.extension("tabulator", inline=True)
    serve(Path(options.root_dir), options.unix_socket, options.prefix.rstrip("/"), secret)


if __name__ == "__main__":
    main()
