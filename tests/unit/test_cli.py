"""The command line: clear one-line errors with a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from workbench.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_clear_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.lstrip().startswith("error: ")
    for fragment in fragments:
        assert fragment in result.output


def test_serve_with_a_missing_store_fails_clearly(tmp_path: Path) -> None:
    assert_clear_error(run("serve", "--tracking-uri", f"sqlite:///{tmp_path}/missing.db"),
                       "tracking_uri", "does not exist")
    assert not (tmp_path / "missing.db").exists()


def test_serve_with_a_dvc_repo_without_dvc_fails_clearly(tmp_path: Path) -> None:
    assert_clear_error(run("serve", "--dvc-repo", str(tmp_path)), "dvc_repo", "not a DVC repository")


def test_serve_on_a_public_address_without_auth_is_refused() -> None:
    assert_clear_error(run("serve", "--address", "0.0.0.0"), "without authentication", "--users")


def test_serve_on_a_port_in_use_fails_clearly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_clear_error(run("serve", "--port", str(port)), f"Port {port}", "already in use")


def test_serve_with_a_missing_config_file_fails_clearly(tmp_path: Path) -> None:
    assert_clear_error(run("serve", "--config", str(tmp_path / "nope.toml")), "does not exist")


def test_demo_refuses_to_clobber_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    result = run("demo", "--dir", str(tmp_path), "--build-only")
    assert_clear_error(result)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_check_reports_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "workbench.toml"
    config.write_text('tracking_uri = "sqlite:///gone.db"\ndvc_repo = "nowhere"\n')
    result = run("check", "--config", str(config))
    assert_clear_error(result, "tracking_uri", "dvc_repo")


def test_check_passes_on_the_demo(demo_workspace: Path) -> None:
    result = run("check", "--config", str(demo_workspace / "workbench.toml"))
    assert result.exit_code == 0, result.output
    assert "look usable" in result.output


def test_the_console_script_is_installed_and_fails_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("workbench")
    completed = subprocess.run([str(script), "serve", "--optuna-storage", str(tmp_path / "none.log")],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "optuna_storage" in completed.stderr and "Traceback" not in completed.stderr
