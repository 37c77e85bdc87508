"""``workbench`` command line: ``demo``, ``serve``, ``check``. Errors print as one line, never a traceback."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from workbench import __version__
from workbench.errors import WorkbenchError

EXIT_USAGE = 2


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn WorkbenchErrors into one clear line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WorkbenchError as error:
            click.secho(f"error: {error.message}", fg="red", err=True)
            if error.hint:
                click.echo(f"  how to fix: {error.hint}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("stopped.", err=True)
            sys.exit(130)

    return wrapper


def server_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``serve`` and ``demo``."""
    options = [
        click.option("--port", type=int, default=5006, show_default=True, help="TCP port to listen on."),
        click.option("--address", default="127.0.0.1", show_default=True,
                     help="Address to listen on. Anything but loopback requires --users."),
        click.option("--users", "users_file", type=click.Path(dir_okay=False), default=None,
                     help="Users file with hashed passwords (`workbench users add`): sign-in required."),
        click.option("--cookie-secret", envvar="WORKBENCH_COOKIE_SECRET", default=None,
                     help="Secret (32+ characters) that signs session cookies; required with --users."),
        click.option("--allow-websocket-origin", multiple=True,
                     help="Extra host:port allowed to open websockets (e.g. behind a reverse proxy)."),
        click.option("--max-sessions", type=int, default=100, show_default=True,
                     help="Open browser sessions served at once; more get a 'busy' page."),
        click.option("--oauth-provider", default=None,
                     help="Sign in through OAuth/OIDC: generic, github, google, gitlab, azure, okta, auth0, ... "
                          "(overrides [auth] provider in workbench.toml)."),
        click.option("--oauth-key", default=None, help="OAuth client id (overrides [auth] key)."),
        click.option("--oauth-secret", envvar="WORKBENCH_OAUTH_SECRET", default=None,
                     help="OAuth client secret (better: the WORKBENCH_OAUTH_SECRET environment variable)."),
        click.option("--oauth-redirect-uri", default=None, help="Public URL of /login (overrides [auth] redirect_uri)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="workbench")
@click.option("-v", "--verbose", is_flag=True, help="Log what the server does.")
def main(verbose: bool) -> None:
    """MLOps Workbench: MLflow runs, Optuna studies, DVC data versions and SHAP explanations in one app."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("workbench.access").setLevel(logging.INFO)  # the access log is always on


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("workbench-demo"), show_default=True, help="Where the demo workspace is built.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab.")
@click.option("--build-only", is_flag=True, help="Build the workspace and exit without serving.")
@click.option("--force", is_flag=True, help="Rebuild the workspace even if it is already complete.")
@server_options
@friendly_errors
def demo(directory: Path, no_browser: bool, build_only: bool, force: bool, **server: Any) -> None:
    """Build a demo workspace from real training runs (idempotent) and serve it."""
    from workbench.demo import build_demo

    config_file = _with_progress(lambda progress: build_demo(directory, force=force, progress=progress))
    click.echo(f"Demo workspace ready: {directory.resolve()} (config: {config_file})")
    if build_only:
        return
    _serve(config_file=config_file, show=not no_browser, overrides={}, **server)


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A workbench.toml (default: ./workbench.toml if present).")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (sqlite:///..., postgresql://..., mlruns folder, http://...).")
@click.option("--experiment", "experiments", multiple=True, help="MLflow experiment to open (repeatable).")
@click.option("--optuna-storage", default=None, help="Optuna storage URL or journal file.")
@click.option("--study", "study_name", default=None, help="Optuna study to open first.")
@click.option("--dvc-repo", default=None, help="Path of a git repository with DVC.")
@click.option("--dvc-path", default=None, help="DVC-tracked dataset to open first.")
@click.option("--model", default=None, help="Model to explain (runs:/<id>/model).")
@click.option("--trusted", is_flag=True, default=None,
              help="Allow loading (unpickling) models from your stores. Only for stores you trust.")
@click.option("--show/--no-show", default=False, show_default=True, help="Open a browser tab.")
@server_options
@friendly_errors
def serve(config_file: Path | None, show: bool, port: int, address: str, users_file: str | None,
          cookie_secret: str | None, allow_websocket_origin: tuple[str, ...], max_sessions: int,
          experiments: tuple[str, ...], **overrides: Any) -> None:
    """Serve the workbench as a web app (127.0.0.1 without auth; other addresses need auth)."""
    overrides["experiments"] = list(experiments) or None
    if overrides.get("dvc_repo"):
        overrides["dvc_repo"] = str(Path(overrides["dvc_repo"]).expanduser().resolve())
    oauth = {name: overrides.pop(name) for name in list(overrides) if name.startswith("oauth_")}
    _serve(config_file=config_file, show=show, overrides=overrides, port=port, address=address,
           users_file=users_file, cookie_secret=cookie_secret, allow_websocket_origin=allow_websocket_origin,
           max_sessions=max_sessions, system_allocator=True, **oauth)


@main.group()
def users() -> None:
    """Manage the accounts of the standalone server (hashed passwords)."""


@users.command("add")
@click.argument("name")
@click.option("--file", "users_file", type=click.Path(dir_okay=False, path_type=Path), default=Path("users.json"),
              show_default=True, help="The users file to create or update.")
@click.option("--group", "groups", multiple=True, help="Group the user belongs to (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@friendly_errors
def users_add(name: str, users_file: Path, groups: tuple[str, ...], password_stdin: bool) -> None:
    """Add a user, or reset their password."""
    from workbench.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    add_user(users_file, name, password, list(groups))
    click.echo(f"Saved user '{name}' in {users_file} (password stored as a scrypt hash).")


@users.command("remove")
@click.argument("name")
@click.option("--file", "users_file", type=click.Path(dir_okay=False, path_type=Path), default=Path("users.json"),
              show_default=True)
@friendly_errors
def users_remove(name: str, users_file: Path) -> None:
    """Remove a user."""
    from workbench.users import remove_user

    remove_user(users_file, name)
    click.echo(f"Removed user '{name}' from {users_file}.")


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@friendly_errors
def check(config_file: Path | None) -> None:
    """Check the configured stores without serving; exit 2 if any is unusable."""
    from workbench.config import WorkbenchConfig
    from workbench.preflight import check_config

    config = WorkbenchConfig.load(config_file=config_file, discover_in=None if config_file else Path.cwd())
    problems = check_config(config)
    for problem in problems:
        click.secho(f"error: {problem}", fg="red", err=True)
    if problems:
        sys.exit(EXIT_USAGE)
    click.echo(f"All configured stores look usable (settings from {config.source}).")


def _serve(config_file: Path | None, show: bool, overrides: dict[str, Any], port: int, address: str,
           users_file: str | None, cookie_secret: str | None, allow_websocket_origin: tuple[str, ...],
           max_sessions: int = 100, system_allocator: bool = False, **oauth_flags: str | None) -> None:
    from workbench.config import WorkbenchConfig
    from workbench.oauth import OAuthOptions
    from workbench.preflight import check_config
    from workbench.serve import ServeOptions, check_serving, serve
    from workbench.session_memory import use_system_allocator

    config = WorkbenchConfig.load(config_file=config_file, discover_in=None if config_file else Path.cwd(),
                                  **overrides)
    problems = check_config(config)
    if problems:
        for problem in problems:
            click.secho(f"error: {problem}", fg="red", err=True)
        sys.exit(EXIT_USAGE)
    options = ServeOptions(port=port, address=address, show=show, users_file=users_file,
                           cookie_secret=cookie_secret, allow_websocket_origin=list(allow_websocket_origin),
                           max_sessions=max_sessions,
                           oauth=OAuthOptions.from_settings(config.auth, {name.removeprefix("oauth_"): value
                                                                          for name, value in oauth_flags.items()},
                                                            os.environ))
    check_serving(config, options)
    if system_allocator:  # restarts once (before the banner): memory of closed sessions goes back to the OS
        use_system_allocator()
    click.echo(f"Serving the workbench at http://{address}:{port}/  (Ctrl+C to stop)")
    serve(config, options)


def _with_progress(work: Callable[[Callable[[str, int, int], None]], Any]) -> Any:
    """Run ``work(progress)`` showing a rich progress bar per step."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, completed: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=max(total, 1))
            bar.update(tasks[step], completed=completed, total=max(total, 1))

        return work(progress)


if __name__ == "__main__":  # pragma: no cover
    main()
