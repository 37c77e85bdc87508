"""The wheel built from a clean checkout ships the prebuilt extension; installed, it works without Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import start_lab

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
LABEXT = "share/jupyter/labextensions/jupyterlab-workbench"


def clean_checkout(destination: Path) -> Path:
    """The files a fresh clone has: tracked ones plus untracked ones git does not ignore (no builds)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True, text=True, timeout=60).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not name.startswith("workbench-demo/"):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = clean_checkout(tmp_path_factory.mktemp("checkout"))
    assert not (source / "workbench" / "labextension").exists()
    assert not (source / "extensions" / "jupyterlab-workbench" / "node_modules").exists()
    return source


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel .`` of the clean checkout: npm install + TypeScript + @jupyter/builder via the hook."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(checkout)],
                   check=True, timeout=900)
    (built,) = dist.glob("mlops_workbench-*.whl")
    return built


def test_the_frontend_unit_tests_pass(wheel: Path, checkout: Path) -> None:
    """jest on the frontend logic, in the checkout whose node_modules the wheel build installed."""
    result = subprocess.run(["npm", "test", "--", "--ci"], cwd=checkout / "extensions" / "jupyterlab-workbench",
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stderr.lower()
    assert " passed" in result.stderr


def test_the_wheel_ships_the_prebuilt_extension_and_its_config(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        data = next(name.split("/")[0] for name in names if name.endswith(".data/data/" + LABEXT + "/package.json"))
        prefix = f"{data}/data/{LABEXT}"
        assert {f"{prefix}/package.json", f"{prefix}/install.json", f"{prefix}/static/style.js",
                f"{prefix}/schemas/jupyterlab-workbench/plugin.json"} <= names
        assert any(name.startswith(f"{prefix}/static/remoteEntry.") for name in names)
        config = json.loads(archive.read(f"{data}/data/etc/jupyter/jupyter_server_config.d/mlops-workbench.json"))
        assert config == {"ServerApp": {"jpserver_extensions": {"workbench.jupyter": True}}}
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        assert "workbench-app = workbench.jupyter.proxy:setup_workbench_app" in entry_points
        assert not any("node_modules" in name or name.endswith(".ts") for name in names)


@pytest.fixture(scope="module")
def wheel_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; its dependencies come from the test environment."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # A plain path entry: the dependencies, but not the editable checkout (its .pth is not processed).
    (purelib / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=300)
    # The other server extensions' enabling files (jupyterlab, jupyter-server-proxy), not ours.
    config_d = venv / "etc" / "jupyter" / "jupyter_server_config.d"
    for file in (Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d").glob("*.json"):
        if not (config_d / file.name).exists():
            (config_d / file.name).symlink_to(file)
    return venv


@pytest.mark.jupyter
@pytest.mark.ui
def test_the_installed_wheel_shows_the_launcher_tiles(wheel_env: Path, lab_workspace: Path, page,
                                                      tmp_path: Path) -> None:
    python = str(wheel_env / "bin" / "python")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    code = "import workbench, sys; print(workbench.__file__)"
    assert subprocess.run([python, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout.startswith(str(wheel_env))
    listing = subprocess.run([python, "-m", "jupyterlab.labextensions", "list"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True, timeout=120)
    output = listing.stdout + listing.stderr
    line = next((line for line in output.splitlines() if "jupyterlab-workbench" in line), output)
    assert "enabled" in line and "OK" in line and "mlops-workbench" in line
    assert str(wheel_env) in output

    lab_dir = {"JUPYTERLAB_DIR": str(Path(sys.prefix) / "share" / "jupyter" / "lab")}  # JupyterLab's own assets
    with start_lab(python, lab_workspace, tmp_path / "home", extra_env=lab_dir) as lab:
        page.goto(f"{lab.url}/lab?reset&token={lab.token}")
        title = page.locator(".jp-Launcher-sectionTitle", has_text="MLOps Workbench")
        cards = page.locator(".jp-Launcher-section", has=title).locator(".jp-LauncherCard")
        cards.first.wait_for(timeout=60_000)
        assert cards.count() == 5
        cards.filter(has_text="Experiments").click()
        frame = page.frame_locator('[id="workbench-experiments"] iframe')
        frame.locator(".tabulator-row").first.wait_for(timeout=90_000)
