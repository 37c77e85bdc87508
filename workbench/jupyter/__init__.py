"""JupyterLab integration: the server extension (``/workbench/api/``), the jupyter-server-proxy
entry serving the app (``proxy.py`` → ``child.py``) and the prebuilt frontend's location."""

from __future__ import annotations

import os
from typing import Any

LABEXTENSION_NAME = "jupyterlab-workbench"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt frontend lives (for ``jupyter labextension develop``)."""
    return [{"src": os.path.join("..", "labextension"), "dest": LABEXTENSION_NAME}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "workbench.jupyter"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the authenticated API handlers."""
    from workbench.jupyter.handlers import setup_handlers

    root_dir = os.path.abspath(os.path.expanduser(server_app.root_dir))
    setup_handlers(server_app.web_app, root_dir)
    server_app.log.info("MLOps Workbench server extension loaded (root: %s)", root_dir)
