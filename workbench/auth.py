"""Login for the standalone server: hashed passwords from a users file, rate-limited attempts, offline page."""

from __future__ import annotations

import html
import logging
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from panel.auth import BasicAuthProvider, BasicLoginHandler, _validate_next_url
from panel.io.state import state

from workbench.users import load_users, verify_password

log = logging.getLogger(__name__)

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · MLOps Workbench</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: system-ui, sans-serif; background: #f4f6f9; display: flex; justify-content: center;
        align-items: center; height: 100vh; margin: 0; }}
 form {{ background: white; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 2px 12px #0002; width: 20rem; }}
 h1 {{ font-size: 1.25rem; color: #1f3a5f; margin-top: 0; }}
 label {{ display: block; margin-top: 1rem; font-size: .9rem; }}
 input {{ width: 100%; padding: .5rem; margin-top: .25rem; box-sizing: border-box; }}
 button {{ margin-top: 1.5rem; width: 100%; padding: .6rem; background: #1f3a5f; color: white; border: 0;
          border-radius: 4px; font-size: 1rem; cursor: pointer; }}
 .error {{ color: #b00020; margin-top: 1rem; font-size: .9rem; }}
</style></head>
<body><form action="{action}" method="post">
<h1>MLOps Workbench</h1>
<label>User name<input name="username" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
{error}
</form></body></html>
"""


class LoginThrottle:
    """At most ``limit`` failed attempts per client address and per user name in ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.limit for key in keys)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        attempts = self._failures[key]
        while attempts and now - attempts[0] > self.window:
            attempts.popleft()
        return attempts


class HashedLoginHandler(BasicLoginHandler):
    """Panel's login handler, checking scrypt hashes from the users file and throttling failures."""

    users_file: Path
    throttle: LoginThrottle

    def get(self) -> None:
        next_url = _validate_next_url(self.get_argument("next", state.base_url))
        if next_url:
            self.set_cookie("next_url", next_url, httponly=True)
        error = self.get_argument("error", "")
        self.write(LOGIN_PAGE.format(action=html.escape(self._login_endpoint),
                                     error=f'<p class="error">{html.escape(error)}</p>' if error else ""))

    def _validate(self, username: str, password: str) -> bool:
        users = load_users(self.users_file)  # re-read: `workbench users add` takes effect without a restart
        user = users.get(username)
        return user is not None and verify_password(password, user.password_hash)

    def post(self) -> None:
        username = self.get_argument("username", "")
        client = self.request.remote_ip or "unknown"
        keys = (f"ip:{client}", f"user:{username}")
        if self.throttle.blocked(*keys):
            log.warning("login throttled for %s", client)
            self.set_status(429)
            self.write(LOGIN_PAGE.format(action=html.escape(self._login_endpoint), error=(
                '<p class="error">Too many failed sign-ins. Wait a few minutes and try again.</p>')))
            return
        if self._validate(username, self.get_argument("password", "")):
            self.set_current_user(username)
            self.redirect(_validate_next_url(self.get_cookie("next_url", state.base_url)) or "/")
            return
        self.throttle.fail(*keys)
        log.info("failed sign-in for a user name from %s", client)
        self.redirect(f"{self._login_endpoint}?error=Invalid+user+name+or+password.")


class HashedAuthProvider(BasicAuthProvider):
    """Basic auth with hashed passwords from a users file written by ``workbench users add``."""

    def __init__(self, users_file: Path, throttle: LoginThrottle | None = None) -> None:
        load_users(users_file)  # fail at start-up, clearly, on a missing or plain-text file
        # Bokeh validates the handler inside __init__, so it must exist first.
        self._handler = type("WorkbenchLoginHandler", (HashedLoginHandler,), {
            "users_file": Path(users_file), "throttle": throttle or LoginThrottle(), "_login_endpoint": "/login",
        })
        super().__init__(login_endpoint="/login")

    @property
    def login_handler(self) -> type[HashedLoginHandler]:
        return self._handler
