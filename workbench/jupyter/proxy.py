"""The jupyter-server-proxy entry (``jupyter_serverproxy_servers`` entry point ``workbench-app``).

The proxy starts ``workbench.jupyter.child`` on first use, on a unix socket in a fresh private
folder, and adds a secret header (random per Jupyter server) to every proxied request; the child
refuses requests without it. The proxy itself requires Jupyter's authentication and refuses
websockets from foreign origins.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

from workbench.jupyter.protocol import PROXY_NAME, SECRET_ENV, SECRET_HEADER

START_TIMEOUT_SECONDS = 120.0


def jupyter_root_dir() -> str:
    """The root folder of the running Jupyter server (the current folder if there is none)."""
    from jupyter_server.serverapp import ServerApp

    if ServerApp.initialized():
        return os.path.abspath(os.path.expanduser(ServerApp.instance().root_dir))
    return os.getcwd()


def literal(text: str) -> str:
    """``text`` escaped for the proxy, which str.format()s every command item."""
    return text.replace("{", "{{").replace("}", "}}")


def setup_workbench_app() -> dict[str, Any]:
    """The proxy's server-process config for the workbench app."""
    secret = secrets.token_urlsafe(32)

    def command() -> list[str]:
        # -P: the child runs in the Jupyter root; a folder there must not shadow our modules.
        safe_path = ["-P"] if sys.version_info >= (3, 11) else []
        return [
            literal(sys.executable), *safe_path, "-m", "workbench.jupyter.child", "--unix-socket", "{unix_socket}",
            "--prefix", "{base_url}" + PROXY_NAME, "--root-dir", literal(jupyter_root_dir()),
        ]

    return {
        "command": command,
        "environment": {SECRET_ENV: secret},
        "request_headers_override": {SECRET_HEADER: secret},
        "unix_socket": True,
        "absolute_url": True,
        "timeout": START_TIMEOUT_SECONDS,
        "new_browser_tab": False,
        "launcher_entry": {"enabled": False},
    }
