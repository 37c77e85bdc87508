"""The package's metadata and environment files agree with each other."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
# conda-forge spells a few PyPI names differently.
CONDA_NAMES = {"duckdb": "python-duckdb", "jupyter-bokeh": "jupyter_bokeh", "psycopg2-binary": "psycopg2"}
CONDA_ONLY = {"python", "nodejs", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!;\[~]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_packages_as_pyproject() -> None:
    pypi = {CONDA_NAMES.get(_name(req), _name(req)) for req in _pyproject()["project"]["dependencies"]}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(dep) for dep in environment["dependencies"] if isinstance(dep, str)} - CONDA_ONLY
    assert pypi - conda == set(), "in pyproject.toml but not environment.yml"
    assert conda - pypi == set(), "in environment.yml but not pyproject.toml"


def test_binder_environment_matches_the_top_level_one() -> None:
    top = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    binder = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())["dependencies"]
    strings = lambda deps: sorted(d for d in deps if isinstance(d, str))  # noqa: E731
    assert strings(binder) == strings(top)


def test_console_script_and_required_folders_exist() -> None:
    project = _pyproject()["project"]
    assert project["name"] == "mlops-workbench"
    assert project["scripts"]["workbench"] == "workbench.cli:main"
    assert project["requires-python"] == ">=3.10"
    for folder in ("workbench", "extensions", "notebooks", "tests", "binder", "benchmarks"):
        assert any((ROOT / folder).iterdir()), f"{folder}/ is empty"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test.sh" in readme
    assert "./scripts/demo.sh" in readme
    assert re.search(r"^\./scripts/test\.sh\s*$", ci, re.MULTILINE)
