"""Workbench settings: one ``WorkbenchConfig`` from arguments, ``WORKBENCH_*`` variables and a TOML file.

Precedence (highest first): explicit arguments > environment variables > ``workbench.toml`` >
defaults discovered in the working directory > built-in defaults.

A ``workbench.toml`` holds flat keys named like the parameters below::

    tracking_uri = "sqlite:///mlflow.db"      # relative paths resolve against the file's folder
    experiments = ["cancer-baselines"]
    optuna_storage = "sqlite:///optuna.db"
    study_name = "cancer-gb-tuning"
    dvc_repo = "."
    dvc_path = "data/cancer.csv"
    model = "runs:/<run id>/model"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import param

from workbench.access import AccessPolicy, Scope
from workbench.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_PREFIX = "WORKBENCH_"
CONFIG_FILE_NAME = "workbench.toml"
URI_SCHEMES_WITH_PATHS = ("sqlite:///",)


def default_cache_dir() -> Path:
    """The per-user cache folder (``$XDG_CACHE_HOME/mlops-workbench``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlops-workbench"


class WorkbenchConfig(param.Parameterized):
    """Where the workbench finds its stores and how it may treat them."""

    tracking_uri = param.String(
        default=None, allow_None=True,
        doc="MLflow tracking URI: sqlite:///file.db, postgresql://..., a local mlruns folder or http(s)://server.",
    )
    experiments = param.List(default=[], item_type=str, doc="MLflow experiment names to open (empty: all).")
    optuna_storage = param.String(
        default=None, allow_None=True,
        doc="Optuna storage: an RDB URL (sqlite:///, postgresql://, mysql://) or a JournalStorage file path.",
    )
    study_name = param.String(default=None, allow_None=True, doc="Optuna study to open first.")
    dvc_repo = param.String(default=None, allow_None=True, doc="Path of a git repository with DVC initialised.")
    dvc_path = param.String(default=None, allow_None=True, doc="DVC-tracked dataset (path inside dvc_repo) to open first.")
    model = param.String(
        default=None, allow_None=True,
        doc="Model to explain: runs:/<run id>/<artifact path> or models:/<name>/<version>.",
    )
    explain_data = param.String(
        default=None, allow_None=True,
        doc="Data to explain the model on (CSV/Parquet path); defaults to what the model's run stored.",
    )
    dask_scheduler = param.String(
        default=None, allow_None=True,
        doc="Explain on a Dask cluster: a scheduler address (tcp://host:8786), or \"local\" for a LocalCluster "
            "on this machine; unset: worker processes on this machine.",
    )
    explain_worker_memory = param.Number(default=None, allow_None=True, bounds=(0, None), inclusive_bounds=(False, True),
                                         doc="MB one explaining worker may use: the memory_limit of a \"local\" Dask "
                                             "worker, and what one chunk may add to a worker process (unset: 2048).")
    dvc_remote_timeout = param.Number(default=None, allow_None=True, bounds=(0, None), inclusive_bounds=(False, True),
                                      doc="Seconds to wait for a DVC remote before saying it does not answer "
                                          "(unset: 15).")
    cache_dir = param.String(default=str(default_cache_dir()), doc="Folder for the workbench's own caches.")
    read_only = param.Boolean(default=True, doc="Open every store read-only at the connection level.")
    trusted = param.Boolean(
        default=False,
        doc="Allow unpickling models from stores (notebooks and `serve --trusted` on your own stores only).",
    )
    refresh_interval = param.Number(default=0, bounds=(0, None), doc="Seconds between live refreshes (0: off).")
    title = param.String(default="MLOps Workbench", doc="Title of the served app.")
    auth = param.Dict(default=None, allow_None=True,
                      doc="OAuth/OIDC sign-in for `workbench serve`: the [auth] table (see workbench/oauth.py).")
    access = param.Dict(default=None, allow_None=True,
                        doc="Per-user access rules: the [access] table of workbench.toml (see workbench/access.py).")
    scope = param.ClassSelector(class_=Scope, default=None, allow_None=True,
                                doc="What this session may see (set per signed-in user from `access`; None: all).")

    source = param.String(default="defaults", doc="Where the settings came from, for messages.")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def setting_names(cls) -> list[str]:
        return [name for name in cls.param if name not in ("name", "source")]

    @classmethod
    def load(
        cls,
        config_file: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        discover_in: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> WorkbenchConfig:
        """Merge the layers by precedence; ``None`` overrides are ignored (they mean "not given")."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        sources: list[str] = []
        if discover_in is not None:
            values.update(discover_defaults(Path(discover_in)))
            if values:
                sources.append(f"found in {discover_in}")
        file_path = config_file or env.get(f"{ENV_PREFIX}CONFIG")
        if file_path is None and discover_in is not None and (Path(discover_in) / CONFIG_FILE_NAME).is_file():
            file_path = Path(discover_in) / CONFIG_FILE_NAME
        if file_path is not None:
            values.update(read_config_file(Path(file_path)))
            sources.append(str(file_path))
        from_env = read_env(env)
        if from_env:
            values.update(from_env)
            sources.append("environment")
        given = {key: value for key, value in overrides.items() if value is not None}
        unknown = set(given) - set(cls.setting_names())
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}.",
                              f"known settings are: {', '.join(cls.setting_names())}")
        values.update(_resolve_paths(given, Path.cwd()))
        if given:
            sources.append("arguments")
        source = " < ".join(sources) or "defaults"
        try:
            return cls(**values, source=source)
        except (ValueError, TypeError) as error:  # param's bounds and type checks
            raise ConfigError(f"Invalid setting: {error}".replace("WorkbenchConfig.", ""),
                              f"fix the value (settings from {source})") from None

    def to_toml(self) -> str:
        """The settings that differ from the defaults, as a workbench.toml text."""
        lines = []
        for name in self.setting_names():
            value = getattr(self, name)
            if value == self.param[name].default or value is None or name in ("access", "scope", "auth"):
                continue
            lines.append(f"{name} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"

    def with_overrides(self, **overrides: Any) -> WorkbenchConfig:
        """A copy with some settings replaced (``None`` values are ignored)."""
        values = {name: getattr(self, name) for name in self.setting_names()}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return type(self)(**values, source=self.source)


# -- layers ---------------------------------------------------------------------------------------
def read_config_file(path: Path) -> dict[str, Any]:
    """Settings from a workbench.toml; relative paths resolve against the file's folder."""
    if not path.is_file():
        raise ConfigError(f"Config file '{path}' does not exist.",
                          "pass the path of an existing workbench.toml with --config (or WORKBENCH_CONFIG)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file '{path}' is not valid TOML: {exc}.",
                          "fix the syntax (see the example in the README)") from exc
    if isinstance(raw.get("workbench"), dict):  # allow a [workbench] table too
        raw = {**{k: v for k, v in raw.items() if k != "workbench"}, **raw["workbench"]}
    known = set(WorkbenchConfig.setting_names())
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"Config file '{path}' has unknown setting(s): {', '.join(unknown)}.",
                          f"known settings are: {', '.join(sorted(known))}")
    values = {key: _coerce(key, value, origin=str(path)) for key, value in raw.items()}
    return _resolve_paths(values, path.parent.resolve())


def read_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings from WORKBENCH_<NAME> variables (lists comma-separated, booleans true/false)."""
    values: dict[str, Any] = {}
    for name in WorkbenchConfig.setting_names():
        raw = env.get(f"{ENV_PREFIX}{name.upper()}")
        if raw is not None and raw != "":
            values[name] = _coerce(name, raw, origin=f"{ENV_PREFIX}{name.upper()}")
    return _resolve_paths(values, Path.cwd())


def discover_defaults(directory: Path) -> dict[str, Any]:
    """Sensible defaults from a working directory: mlflow.db / mlruns, optuna.db, a DVC repo."""
    directory = directory.resolve()
    found: dict[str, Any] = {}
    if (directory / "mlflow.db").is_file():
        found["tracking_uri"] = f"sqlite:///{directory / 'mlflow.db'}"
    elif (directory / "mlruns").is_dir():
        found["tracking_uri"] = str(directory / "mlruns")
    if (directory / "optuna.db").is_file():
        found["optuna_storage"] = f"sqlite:///{directory / 'optuna.db'}"
    if (directory / ".dvc").is_dir():
        found["dvc_repo"] = str(directory)
    return found


# -- helpers --------------------------------------------------------------------------------------
_BOOLEAN_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _coerce(name: str, value: Any, origin: str) -> Any:
    parameter = WorkbenchConfig.param[name]
    try:
        if name == "scope":  # derived per user, never configured
            raise TypeError
        if isinstance(parameter, param.Dict):
            if not isinstance(value, dict):
                raise TypeError
            if name == "access":
                AccessPolicy.from_table(value, origin=origin)  # clear errors for bad rules, at load time
            return value
        if isinstance(parameter, param.Boolean):
            if isinstance(value, bool):
                return value
            return _BOOLEAN_WORDS[str(value).strip().lower()]
        if isinstance(parameter, param.List):
            if isinstance(value, str):
                return [item.strip() for item in value.split(",") if item.strip()]
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return value
            raise TypeError
        if isinstance(parameter, param.Number):
            return float(value)
        if isinstance(value, (str, os.PathLike)):
            return str(value)
        raise TypeError
    except (KeyError, TypeError, ValueError):
        expected = {param.Boolean: "true or false", param.List: "a list of names",
                    param.Number: "a number"}.get(type(parameter), "a string")
        raise ConfigError(f"Setting '{name}' from {origin} has the invalid value {value!r}.",
                          f"give {expected}") from None


def _resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make relative file paths and sqlite:/// URIs absolute against ``base``."""
    resolved = dict(values)
    for name in ("dvc_repo", "cache_dir", "explain_data"):
        if resolved.get(name):
            resolved[name] = str((base / Path(resolved[name]).expanduser()).resolve())
    for name in ("tracking_uri", "optuna_storage"):
        value = resolved.get(name)
        if not value:
            continue
        if value.startswith("sqlite:///"):
            file_part = value[len("sqlite:///"):]
            if file_part and not file_part.startswith("/") and not file_part.startswith(":memory:"):
                resolved[name] = f"sqlite:///{(base / file_part).resolve()}"
        elif "://" not in value and not value.startswith(("runs:", "models:")):
            resolved[name] = str((base / Path(value).expanduser()).resolve())
    return resolved


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
