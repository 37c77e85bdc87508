"""``/health``: the one unauthenticated endpoint, for load balancers. It reveals nothing and costs nothing."""

from __future__ import annotations

from tornado.web import RequestHandler

from workbench import __version__


class HealthHandler(RequestHandler):
    """Answers ``{"status": "ok"}`` while the server's event loop is responsive."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.write({"status": "ok", "version": __version__})

    def head(self) -> None:
        self.set_header("Cache-Control", "no-store")
