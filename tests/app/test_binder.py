"""binder/postBuild and binder/start do on a fresh environment what Binder (repo2docker) does, offline.

Binder builds a conda environment from binder/environment.yml, copies the repository into $HOME, runs
binder/postBuild from the repository root, then starts JupyterLab through binder/start. Here:

- the environment is a fresh virtualenv of the same interpreter, whose site-packages also sees this
  project's virtualenv (the dependencies environment.yml lists) but NOT the workbench itself, and with
  the same console scripts (``jupyter ...``) as an environment that has JupyterLab installed;
- the repository is a copy of the tracked files plus the already built JavaScript of the extension
  (npm is told to skip: building it is what every install of the project does, see scripts/_setup.sh);
- pip may not reach an index: everything must come from what is installed;
- $HOME already holds a copy of the session's demo workspace, so postBuild's `workbench demo
  --build-only` takes its idempotent path instead of a second real build of a minute or more (the
  build itself is what the ``demo_workspace`` fixture and the demo tests run).

Then the test checks what a Binder user relies on: the workbench imports from the copy, JupyterLab lists
the extension as enabled, the server extension is enabled, the demo workspace is built, and the
quickstart notebook executes (in a kernel of that environment) without error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 300


def copy_repository(target: Path) -> Path:
    """The tracked (and untracked, not ignored) files of the repository, plus the built extension."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True, timeout=60).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    built = ROOT / "workbench" / "labextension"
    assert (built / "package.json").is_file(), "the JupyterLab extension is not built: run scripts/test.sh"
    shutil.copytree(built, target / "workbench" / "labextension")
    return target


def make_environment(venv: Path) -> Path:
    """A fresh virtualenv that sees the project's dependencies, like Binder's conda environment."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=STEP_TIMEOUT)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    # A plain path line: the dependencies become importable, but the .pth files in that folder (this
    # project's own editable install among them) are not processed, so `workbench` is not.
    Path(purelib, "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    project_bin = Path(sys.executable).parent
    for script in project_bin.glob("jupyter*"):
        lines = script.read_text(errors="replace").splitlines(keepends=True)
        if lines and lines[0].startswith("#!") and "python" in lines[0]:
            copy = venv / "bin" / script.name
            copy.write_text(f"#!{python}\n" + "".join(lines[1:]))
            copy.chmod(0o755)
    return python


def binder_env(venv: Path, home: Path) -> dict[str, str]:
    project_bin = str(Path(sys.executable).parent)
    path = [str(venv / "bin"), *(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != project_bin)]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WORKBENCH_", "JUPYTER", "PYTHON", "VIRTUAL_ENV", "PIP_", "MLFLOW_"))}
    env.update(PATH=os.pathsep.join(path), HOME=str(home), PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               # pip's odd spelling for --no-build-isolation: use the installed hatchling, fetch nothing
               PIP_NO_BUILD_ISOLATION="0", HATCH_JUPYTER_BUILDER_SKIP_NPM="1")
    return env


QUICKSTART_RUNNER = textwrap.dedent("""
    import json, os, sys
    import nbformat
    from nbclient import NotebookClient

    path = sys.argv[1]
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import json, sys, workbench; print(json.dumps({'prefix': sys.prefix, 'workbench': workbench.__file__}))"))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    panels = sum("application/vnd.holoviews_exec.v0+json" in o.get("data", {})
                 for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    last = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    print(json.dumps({"errors": [f"{e.ename}: {e.evalue}" for e in errors], "panels": panels,
                      "kernel": json.loads(last.strip().splitlines()[-1]) if last.strip() else None}))
""")


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_binder_postbuild_and_start_give_a_working_jupyterlab(tmp_path: Path, demo_workspace: Path) -> None:
    repo = copy_repository(tmp_path / "home" / "repo")
    home = tmp_path / "home"
    demo = home / "workbench-demo"
    shutil.copytree(demo_workspace, demo, symlinks=True)
    venv = tmp_path / "env"
    python = make_environment(venv)
    env = binder_env(venv, home)
    assert subprocess.run([str(python), "-c", "import workbench"], cwd=home, env=env, capture_output=True,
                          timeout=60).returncode != 0, "the fresh environment must not see the workbench yet"

    built = run(["bash", "binder/postBuild"], cwd=repo, env=env)
    assert f"Demo workspace ready: {demo}" in built.stdout, built.stdout

    # The workbench is installed from the repository, in the environment (not the project's venv).
    where = run([str(python), "-c", "import workbench; print(workbench.__file__)"], cwd=home, env=env).stdout
    assert Path(where.strip()).resolve().is_relative_to(repo.resolve())
    scripts = venv / "bin" / "workbench"
    assert scripts.is_file()

    # JupyterLab lists the prebuilt extension as enabled and OK, from the environment's share folder.
    listed = run([str(venv / "bin" / "jupyter"), "labextension", "list"], cwd=home, env=env)
    output = (listed.stdout + listed.stderr).replace("\x1b[32m", "").replace("\x1b[0m", "")
    line = next((x for x in output.splitlines() if "jupyterlab-workbench" in x), "")
    assert "enabled" in line and "OK" in line, output
    assert (venv / "share" / "jupyter" / "labextensions" / "jupyterlab-workbench" / "package.json").is_file()
    server = run([str(venv / "bin" / "jupyter"), "server", "extension", "list"], cwd=home, env=env)
    server_output = (server.stdout + server.stderr).replace("\x1b[32m", "").replace("\x1b[0m", "")
    assert any("workbench.jupyter" in x and "enabled" in x for x in server_output.splitlines()), server_output

    # The demo workspace is where binder/start points, complete.
    for name in ("workbench.toml", "mlflow.db", "optuna.db", "data/cancer.csv.dvc", ".git", ".dvc"):
        assert (demo / name).exists(), f"the demo workspace lacks {name}"

    # binder/start points the workbench at it: `workbench check` (no --config) reads the demo's settings.
    checked = run(["bash", str(repo / "binder" / "start"), str(venv / "bin" / "workbench"), "check"], cwd=home, env=env)
    assert f"settings from {demo / 'workbench.toml'}" in checked.stdout, checked.stdout

    # The quickstart opens on it: binder/start sets the variables, the kernel is the environment's.
    runner = tmp_path / "run_quickstart.py"
    runner.write_text(QUICKSTART_RUNNER)
    notebook = repo / "notebooks" / "quickstart.ipynb"
    result = run(["bash", "binder/start", str(python), str(runner), str(notebook)], cwd=repo, env=env)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["panels"] >= 1
    assert Path(report["kernel"]["prefix"]).resolve() == venv.resolve()
    assert Path(report["kernel"]["workbench"]).resolve().is_relative_to(repo.resolve())
    assert not (repo / "notebooks" / "workbench-demo").exists(), "the quickstart rebuilt the demo instead of using Binder's"
