"""The server extension's HTTP API (every handler authenticated, under ``/workbench/api/``)."""

from __future__ import annotations

import asyncio
import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from workbench.errors import ConfigError, NotFound, WorkbenchError
from workbench.jupyter.items import inspect_item

API_PREFIX = "workbench/api"


class InspectHandler(APIHandler):
    """``GET /workbench/api/inspect?path=<item>``: which page opens a file-browser item."""

    @tornado.web.authenticated
    async def get(self) -> None:
        path = self.get_query_argument("path", "")
        try:
            # Off the event loop: reading a (possibly locked) SQLite file must not stall Jupyter.
            item = await asyncio.to_thread(inspect_item, self.settings["workbench_root_dir"], path)
        except WorkbenchError as error:
            status = 404 if isinstance(error, NotFound) else 400 if isinstance(error, ConfigError) else 422
            self.set_status(status)
            self.finish(json.dumps({"message": error.message, "hint": error.hint}))
            return
        self.finish(json.dumps(item.to_json()))


def handler_routes(base_url: str) -> list[tuple[str, type[APIHandler]]]:
    """The (URL pattern, handler) pairs the extension registers."""
    return [(url_path_join(base_url, API_PREFIX, "inspect"), InspectHandler)]


def setup_handlers(web_app: tornado.web.Application, root_dir: str) -> None:
    web_app.settings["workbench_root_dir"] = root_dir
    web_app.add_handlers(".*$", handler_routes(web_app.settings["base_url"]))
