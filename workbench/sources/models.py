"""Loading a logged model and the data to explain it on — trusted mode only (loading unpickles)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench.config import WorkbenchConfig
from workbench.errors import (
    ConfigError,
    MissingDependency,
    NotFound,
    SourceUnavailable,
    UntrustedOperation,
)
from workbench.sources.explanations import EXPLAIN_DIR
from workbench.sources.explanations_runs import locate_model, locate_run_artifact, parse_model_uri

TRUST_HINT = ("loading a logged model unpickles it, which runs code: start `workbench serve --trusted` on your own "
              "stores, or load it yourself in a notebook and call wb.explain(model, X, y)")


def require_trusted(config: WorkbenchConfig, what: str) -> None:
    """Refuse (UntrustedOperation) unless the config is trusted."""
    if not config.trusted:
        raise UntrustedOperation(f"{what} needs trusted mode; this workbench runs in stakeholder (untrusted) mode.",
                                 TRUST_HINT)


# MLflow flavors we load, in order of preference: flavor name -> the mlflow module that loads it
FLAVORS = {"sklearn": "mlflow.sklearn", "xgboost": "mlflow.xgboost", "lightgbm": "mlflow.lightgbm"}
# import name -> pip package, for the "not installed" message
PIP_NAMES = {"sklearn": "scikit-learn", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost"}


def model_flavor(mlmodel: str) -> str | None:
    """The first flavor of ``FLAVORS`` an MLmodel file (YAML text) declares, or None."""
    import yaml

    try:
        flavors = (yaml.safe_load(mlmodel) or {}).get("flavors") or {}
    except yaml.YAMLError:
        return None
    return next((name for name in FLAVORS if name in flavors), None)


def load_model(config: WorkbenchConfig, timeout: float = 60.0):
    """The model behind ``config.model`` (only when ``config.trusted``): a scikit-learn model, or an
    XGBoost/LightGBM one (their own MLflow flavors, or pickled inside the sklearn flavor)."""
    require_trusted(config, f"Loading the model '{config.model}'")
    ref = parse_model_uri(config.model)
    folder = locate_model(config.tracking_uri, ref, timeout=timeout)
    flavor = model_flavor((folder / "MLmodel").read_text(encoding="utf-8"))
    if flavor is None:
        raise ConfigError(f"The model '{config.model}' is not a scikit-learn, XGBoost or LightGBM model.",
                          "load it yourself in a notebook and call wb.explain(model, X, y)")
    import importlib

    try:
        return importlib.import_module(FLAVORS[flavor]).load_model(str(folder))
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        package = PIP_NAMES.get(missing, missing)
        if package:
            raise MissingDependency(
                f"The model '{config.model}' needs the package '{package}', which is not installed here.",
                f"install it with: pip install {package} (the versions the model was logged with are in its "
                "requirements.txt)") from exc
        raise MissingDependency(f"Loading '{config.model}' needs a package that is not installed: {exc}.",
                                "install the packages in the model's requirements.txt") from exc
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad model file for the user
        raise SourceUnavailable(f"The model '{config.model}' could not be loaded: {type(exc).__name__}: {exc}.",
                                "check the model was logged with compatible library versions") from exc


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"The explain_data file '{path}' does not exist.", "set explain_data to a CSV or Parquet file")
    try:
        return pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The explain_data file '{path}' cannot be read: {exc}.", "give a CSV or Parquet file") from exc


def load_explain_data(config: WorkbenchConfig, target: str | None = None, features: list[str] | None = None,
                      timeout: float = 30.0) -> tuple[pd.DataFrame, pd.Series | None]:
    """(X, y) to explain ``config.model`` on: ``explain_data`` if set, else the rows the run stored.

    The column named ``target`` becomes ``y``; without one, a single column beyond the model's
    ``features`` does.
    """
    if config.explain_data:
        frame = read_table(config.explain_data)
    else:
        try:
            frame = pd.read_parquet(locate_run_artifact(config.tracking_uri, parse_model_uri(config.model),
                                                        f"{EXPLAIN_DIR}/features.parquet", timeout=timeout))
        except NotFound:
            raise ConfigError("No data to explain the model on.",
                              "set explain_data to a CSV or Parquet file with the model's feature columns") from None
    if (not target or target not in frame.columns) and features is not None:
        known = set(features)  # LightGBM's names have "_" for spaces
        extra = [name for name in frame.columns if str(name) not in known and re.sub(r"\s", "_", str(name)) not in known]
        target = extra[0] if len(extra) == 1 else None
    if not target or target not in frame.columns:
        return frame, None
    return frame.drop(columns=[target]), frame[target]
