"""The jupyter-server-proxy entry: what the Jupyter server process runs and hands to the app."""

from __future__ import annotations

import subprocess
import sys

from workbench.jupyter.protocol import MIN_SECRET_LENGTH, SECRET_ENV, SECRET_HEADER
from workbench.jupyter.proxy import literal, setup_workbench_app


def test_the_app_gets_a_fresh_secret_in_its_environment_and_the_proxy_sends_it() -> None:
    first, second = setup_workbench_app(), setup_workbench_app()
    secret = first["environment"][SECRET_ENV]
    assert len(secret) >= MIN_SECRET_LENGTH
    assert first["request_headers_override"] == {SECRET_HEADER: secret}
    assert second["environment"][SECRET_ENV] != secret
    assert secret not in " ".join(first["command"]())  # never on a command line (visible in `ps`)
    assert first["unix_socket"] is True
    assert first["launcher_entry"] == {"enabled": False}  # the extension has its own tiles


def test_the_command_listens_on_the_proxy_socket_under_the_proxy_prefix() -> None:
    command = setup_workbench_app()["command"]()
    assert command[command.index("--unix-socket") + 1] == "{unix_socket}"
    assert command[command.index("--prefix") + 1] == "{base_url}workbench-app"
    # -P (3.11+): the Jupyter root, the app's working folder, cannot shadow our modules.
    assert ("-P" in command[: command.index("-m")]) == (sys.version_info >= (3, 11))
    assert literal("/data/{odd}").format() == "/data/{odd}"


def test_the_jupyter_server_side_imports_nothing_heavy() -> None:
    code = ("import sys, workbench.jupyter, workbench.jupyter.proxy, workbench.jupyter.handlers; "
            "print(sorted({'panel', 'bokeh', 'mlflow', 'optuna', 'dvc', 'shap'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"
