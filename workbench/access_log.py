"""Structured access log of the standalone server: one JSON line a request, never a token or a secret."""

from __future__ import annotations

import json
import logging
import time

from tornado.web import RequestHandler

access_log = logging.getLogger("workbench.access")


def request_record(handler: RequestHandler) -> dict[str, object]:
    """What is logged for one request: the path without its query string (it may carry tokens)."""
    request = handler.request
    user = None
    try:
        raw = handler.get_secure_cookie("user") if handler.application.settings.get("cookie_secret") else None
        user = raw.decode() if raw else None
    except Exception:  # noqa: BLE001 - a broken cookie must not break logging
        user = None
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        "method": request.method,
        "path": request.path,
        "status": handler.get_status(),
        "ms": round(request.request_time() * 1000, 1),
        "client": request.remote_ip,
        "user": user,
    }


def log_request(handler: RequestHandler) -> None:
    """Tornado's ``log_function``: JSON lines on the ``workbench.access`` logger."""
    record = request_record(handler)
    status = int(record["status"])
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    access_log.log(level, json.dumps(record, separators=(",", ":")))
