"""The config of one JupyterLab tab: discovered defaults < JupyterLab settings < the opened item.

The tab's URL carries the user's JupyterLab settings (``tracking_uri``, ``optuna_storage``,
``dvc_repo``, ``refresh_interval``) and optionally ``path``, a file-browser item relative to the
Jupyter root. Relative settings resolve against the root; items must stay inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError
from workbench.jupyter.items import inspect_item

SETTING_ARGS = ("tracking_uri", "optuna_storage", "dvc_repo", "refresh_interval")


def session_config(root: str | Path, args: Mapping[str, str], page: str | None) -> tuple[WorkbenchConfig, str | None]:
    """The config and page for a tab's URL query ``args`` (``page`` None: all pages in tabs)."""
    root_path = Path(root).resolve()
    overrides = settings_overrides(root_path, args)
    item_path = args.get("path")
    if item_path:
        item = inspect_item(root_path, item_path)
        overrides.update(item.overrides)
        page = page or item.page
    return WorkbenchConfig.load(discover_in=root_path, **overrides), page


def settings_overrides(root: Path, args: Mapping[str, str]) -> dict[str, Any]:
    """The JupyterLab settings present in ``args``, relative paths made absolute against ``root``."""
    overrides: dict[str, Any] = {}
    for name in SETTING_ARGS:
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if name == "refresh_interval":
            try:
                overrides[name] = float(value)
            except ValueError:
                raise ConfigError(f"The refresh interval '{value}' is not a number.",
                                  "set a number of seconds (0: off) in Settings → MLOps Workbench") from None
            if overrides[name] < 0:
                raise ConfigError("The refresh interval cannot be negative.",
                                  "set a number of seconds (0: off) in Settings → MLOps Workbench")
        elif name == "dvc_repo":
            overrides[name] = str((root / Path(value).expanduser()).resolve())
        else:
            overrides[name] = _absolute_store(root, value)
    return overrides


def _absolute_store(root: Path, value: str) -> str:
    """A store URI with a relative sqlite:/// file or local folder made absolute against ``root``."""
    if value.startswith("sqlite:///"):
        file_part = value[len("sqlite:///"):]
        if file_part and not file_part.startswith(("/", ":memory:")):
            return f"sqlite:///{(root / file_part).resolve()}"
        return value
    if "://" in value:
        return value
    return str((root / Path(value).expanduser()).resolve())
