"""MLOps Workbench: MLflow runs, Optuna studies, DVC data versions and SHAP explanations in one place.

The notebook API — each call returns a Panel component that renders inline::

    import workbench as wb
    wb.app(config="workbench-demo/workbench.toml")          # all four panels in tabs
    wb.experiments(tracking_uri="sqlite:///mlflow.db", experiments=["baseline"])
    wb.tuning(storage="sqlite:///optuna.db", study_name="search")
    wb.explain(model, X, y)                                  # a fitted model and its data
    wb.data_versions(repo=".", path="data/train.csv")
    wb.lineage_view(run_id)                                  # data version → run → model → explanation

Settings not given fall back to ``WORKBENCH_*`` environment variables, then to ``config`` (a
workbench.toml path or a ``WorkbenchConfig``), then to what the working directory holds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["app", "experiments", "tuning", "explain", "data_versions", "lineage_view", "load_config", "__version__"]

if TYPE_CHECKING:
    import pandas as pd
    from panel.viewable import Viewable

    from workbench.config import WorkbenchConfig

_notebook_ready = False


def load_config(config: str | os.PathLike[str] | WorkbenchConfig | None = None, **settings: Any) -> WorkbenchConfig:
    """A ``WorkbenchConfig`` from a file path or object, overridden by ``settings`` (None means "not given")."""
    from workbench.config import WorkbenchConfig

    if isinstance(config, WorkbenchConfig):
        return config.with_overrides(**settings)
    return WorkbenchConfig.load(config_file=config, discover_in=None if config else Path.cwd(), **settings)


def app(config: str | os.PathLike[str] | WorkbenchConfig | None = None, **settings: Any) -> Viewable:
    """The whole workbench (Experiments, Tuning, Explain, Data versions) in tabs."""
    from workbench.apps.main import create_app

    _prepare_notebook()
    return create_app(load_config(config, **settings))


def experiments(tracking_uri: str | None = None, experiments: list[str] | None = None,
                config: str | os.PathLike[str] | WorkbenchConfig | None = None, **settings: Any) -> Viewable:
    """Compare the MLflow runs of ``experiments`` (names; all when omitted) in ``tracking_uri``."""
    from workbench.apps.main import create_app

    _prepare_notebook()
    return create_app(load_config(config, tracking_uri=tracking_uri, experiments=experiments, **settings),
                      page="experiments")


def tuning(storage: str | None = None, study_name: str | None = None,
           config: str | os.PathLike[str] | WorkbenchConfig | None = None, **settings: Any) -> Viewable:
    """Visualise the Optuna study ``study_name`` in ``storage`` (an RDB URL or a journal file)."""
    from workbench.apps.main import create_app

    _prepare_notebook()
    return create_app(load_config(config, optuna_storage=storage, study_name=study_name, **settings),
                      page="tuning")


def explain(model: Any = None, X: pd.DataFrame | None = None, y: pd.Series | None = None,
            config: str | os.PathLike[str] | WorkbenchConfig | None = None, **settings: Any) -> Viewable:
    """Explain a fitted ``model`` on ``X`` (and ``y``) with SHAP; or the model a config names.

    In a notebook you run your own code, so the page is trusted: it may load the model it explains.
    """
    from workbench.apps.main import build_page

    _prepare_notebook()
    settings.setdefault("trusted", True)
    extra = {} if model is None else {"model": model, "X": X, "y": y}
    return build_page("explain", load_config(config, **settings), **extra)


def data_versions(repo: str | os.PathLike[str] | None = None, path: str | None = None,
                  config: str | os.PathLike[str] | WorkbenchConfig | None = None, **settings: Any) -> Viewable:
    """Browse the versions of the DVC-tracked dataset ``path`` in the git+DVC repository ``repo``."""
    from workbench.apps.main import create_app

    _prepare_notebook()
    repo_path = None if repo is None else str(Path(repo).expanduser().resolve())
    return create_app(load_config(config, dvc_repo=repo_path, dvc_path=path, **settings), page="data_versions")


def lineage_view(run_id: str | None = None, config: str | os.PathLike[str] | WorkbenchConfig | None = None,
            **settings: Any) -> Viewable:
    """The lineage graph of one run (data version → run → model → explanation, with its Optuna trial), or,
    without ``run_id``, a metric per data version chart: "did the data change help?".

    (``workbench.lineage`` is the module training scripts use: ``log_run_context``.)"""
    from workbench.sources.lineage import LineageSource
    from workbench.views.lineage.panels import RunLineagePanel, VersionsPanel

    _prepare_notebook()
    source = LineageSource(load_config(config, **settings))
    return RunLineagePanel(source=source, run_id=run_id) if run_id else VersionsPanel(source=source)


def _prepare_notebook() -> None:
    """Load Panel's notebook support once, with inline resources (works offline)."""
    global _notebook_ready
    if _notebook_ready:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    import panel as pn
    from holoviews.ipython import notebook_extension

    # Every later extension load (hvplot's on import, a page's pn.extension) must embed its JavaScript
    # too: notebooks are often offline, and the CDN default then renders nothing.
    notebook_extension.inline = True
    pn.config.inline = True
    import hvplot.pandas  # noqa: F401 - registers .hvplot now, so its own notebook load happens here

    pn.extension("tabulator", inline=True)
    _notebook_ready = True
