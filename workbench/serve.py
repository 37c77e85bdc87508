"""``workbench serve``: the standalone app, one session per browser tab, safe defaults."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import panel as pn

from workbench.access import AccessPolicy, narrow
from workbench.access_log import log_request
from workbench.apps.main import PAGES, served_app
from workbench.auth import HashedAuthProvider
from workbench.collector import tune_for_serving
from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError
from workbench.health import HealthHandler
from workbench.oauth import OAuthOptions
from workbench.server_limits import (
    DEFAULT_MAX_SESSIONS,
    SessionLimiter,
    limited,
    stop_gracefully_on_signals,
)
from workbench.session_memory import import_outside_sessions, release_after_session
from workbench.sources.mlflow_rest import serve_with_short_requests
from workbench.users import load_users

log = logging.getLogger(__name__)
MIN_COOKIE_SECRET = 32


@dataclass
class ServeOptions:
    """How the server listens and who may use it."""

    port: int = 5006
    address: str = "127.0.0.1"
    show: bool = False
    users_file: str | None = None
    cookie_secret: str | None = None
    allow_websocket_origin: list[str] = field(default_factory=list)
    num_procs: int = 1
    max_sessions: int = DEFAULT_MAX_SESSIONS
    oauth: OAuthOptions | None = None

    def validate(self) -> None:
        """Refuse unsafe or impossible settings with a clear message."""
        if not 0 < self.port < 65536:
            raise ConfigError(f"Port {self.port} is not a valid TCP port.", "pass --port with a number from 1 to 65535")
        if not is_loopback(self.address) and not self.users_file and self.oauth is None:
            raise ConfigError(
                f"Refusing to serve on {self.address} without authentication: anyone on the network could read "
                "your runs, studies and data.",
                "pass --users FILE (made with `workbench users add`) and --cookie-secret, configure OAuth "
                "([auth] in workbench.toml), or serve on 127.0.0.1",
            )
        if self.users_file and self.oauth is not None:
            raise ConfigError("Both a users file and OAuth sign-in are configured.",
                              "choose one: drop --users, or remove the [auth] table / --oauth-provider")
        if self.oauth is not None:
            self.oauth.validate()
        if (self.users_file or self.oauth is not None) and len(self.cookie_secret or "") < MIN_COOKIE_SECRET:
            raise ConfigError("Sign-in needs a cookie secret of at least 32 characters to sign sessions.",
                              "pass --cookie-secret (or WORKBENCH_COOKIE_SECRET) from `openssl rand -hex 32`")
        if self.users_file:
            load_users(Path(self.users_file))
        if self.max_sessions < 1:
            raise ConfigError(f"--max-sessions {self.max_sessions} would refuse every visitor.",
                              f"pass --max-sessions with a number of at least 1 (default {DEFAULT_MAX_SESSIONS})")
        ensure_port_free(self.address, self.port)


def is_loopback(address: str) -> bool:
    """Whether ``address`` only accepts connections from this machine."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def ensure_port_free(address: str, port: int) -> None:
    """Raise a clear ConfigError when ``address:port`` cannot be bound."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        try:
            probe.bind((address, port))
        except PermissionError:
            raise ConfigError(f"Not allowed to listen on port {port}.", "pass --port with a number above 1024") from None
        except OSError as error:
            if "assign" in str(error).lower():
                raise ConfigError(f"Cannot listen on address {address}: it is not an address of this machine.",
                                  "pass --address 127.0.0.1 (or an address this machine has)") from None
            raise ConfigError(f"Port {port} on {address} is already in use.",
                              f"pass --port with a free port (e.g. --port {port + 1}) or stop the other server") from None


def session_factory(config: WorkbenchConfig, page: str | None = None,
                    users_file: str | None = None) -> Callable[[], object]:
    """A function Panel calls once per browser session (a plain function: Panel does not call partials).
    With ``[access]`` rules, each session gets the config narrowed to its signed-in user."""
    policy = AccessPolicy.from_table(config.access)

    def new_session() -> object:
        pn.state.on_session_destroyed(release_after_session)  # RSS back near baseline once sessions close
        return served_app(session_config(config, policy, users_file), page)

    return new_session


def session_config(config: WorkbenchConfig, policy: AccessPolicy | None, users_file: str | None) -> WorkbenchConfig:
    """``config`` narrowed to what the session's user may see (their groups from the users file count)."""
    if policy is None:
        return config
    user = pn.state.user
    groups: list[str] = []
    if user and users_file:
        account = load_users(Path(users_file)).get(user)
        groups = account.groups if account is not None else []
    return narrow(config, policy, user, groups)


def app_routes(config: WorkbenchConfig, limiter: SessionLimiter | None = None,
               users_file: str | None = None) -> dict[str, Callable[[], object]]:
    """URL path → session factory: the whole workbench at / and each page on its own path; with a
    ``limiter``, sessions beyond its limit get a "busy" page."""
    routes = {"/": session_factory(config, users_file=users_file)}
    for key in PAGES:
        routes[f"/{key}"] = session_factory(config, key, users_file=users_file)
    if limiter is not None:
        routes = {path: limited(factory, limiter) for path, factory in routes.items()}
    return routes


def websocket_origins(options: ServeOptions) -> list[str]:
    """The exact origins allowed to open websockets (never ``*``)."""
    hosts = {options.address, "localhost", "127.0.0.1"} if is_loopback(options.address) else {options.address}
    origins = {f"{host}:{options.port}" for host in hosts}
    origins.update(options.allow_websocket_origin)
    return sorted(origins)


def check_serving(config: WorkbenchConfig, options: ServeOptions) -> None:
    """Refuse settings the server cannot run with (a ``ConfigError`` saying how to fix them)."""
    options.validate()
    if config.access is not None and not options.users_file and options.oauth is None:
        raise ConfigError("workbench.toml has [access] rules, but nobody signs in: every visitor would see nothing.",
                          "serve with --users FILE and --cookie-secret, or OAuth ([auth]), or remove the [access] table")


def serve(config: WorkbenchConfig, options: ServeOptions, start: bool = True, threaded: bool = False):
    """Serve the workbench; blocks until stopped unless ``threaded``."""
    check_serving(config, options)
    kwargs: dict[str, object] = {}
    if options.users_file:
        kwargs.update(auth_provider=HashedAuthProvider(Path(options.users_file)), cookie_secret=options.cookie_secret)
    if options.oauth is not None:
        kwargs.update(options.oauth.serve_kwargs(), cookie_secret=options.cookie_secret)
    import_outside_sessions()  # a library imported by a session could pin it (workbench/session_memory.py)
    log.info("Serving the workbench on http://%s:%s", options.address, options.port)
    serve_with_short_requests()  # one hung tracking server must not queue every session's requests
    blocking = start and not threaded
    server = pn.serve(
        app_routes(config, SessionLimiter(options.max_sessions), options.users_file), port=options.port, address=options.address,
        show=options.show, start=start and threaded, threaded=threaded, title=config.title,
        websocket_origin=websocket_origins(options), num_procs=options.num_procs, admin=False,
        extra_patterns=[(r"/health", HealthHandler)], log_function=log_request, **kwargs,
    )
    if blocking:  # our own loop, so that SIGTERM/SIGINT stop it cleanly (exit 0)
        stop_gracefully_on_signals(server)
        tune_for_serving()  # fewer full garbage collections while many sessions are open (collector.py)
        server.start()
        server.io_loop.start()
    return server
