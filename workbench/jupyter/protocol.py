"""What the proxy entry (in the Jupyter server) and the app process agree on; imports nothing heavy."""

from __future__ import annotations

PROXY_NAME = "workbench-app"  # the proxy path: <base_url>workbench-app/
SECRET_ENV = "WORKBENCH_PROXY_SECRET"  # the secret, handed to the app process in its environment
SECRET_HEADER = "X-Workbench-Proxy-Secret"  # the header the proxy adds to every request
MIN_SECRET_LENGTH = 32
