"""The demo workspace: real training on scikit-learn's bundled breast-cancer data.

``build_demo(directory, force=False, progress=None)`` writes a git + DVC repository with five data
versions, an MLflow store (``mlflow.db``), Optuna studies (``optuna.db``), a stored SHAP explanation
of the best model and a ``workbench.toml``; it returns the path of that file.
"""

from workbench.demo.workspace import (
    CONFIG_FILE,
    FORMAT_VERSION,
    MARKER,
    PARTIAL_MARKER,
    build_demo,
    is_complete,
)

__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "MARKER", "PARTIAL_MARKER", "build_demo", "is_complete"]
