"""Read-only reader for a local MLflow file store (``mlruns`` folder), read straight from the files.

MLflow's own ``FileStore`` creates folders when it opens (a ``.trash`` folder, a default experiment)
and refuses to open without ``MLFLOW_ALLOW_FILE_STORE``; this reader only ever opens files for reading.
Layout: ``<root>/<experiment id>/meta.yaml`` and ``<root>/<experiment id>/<run id>/{meta.yaml,
params/, metrics/, tags/}`` (keys may contain ``/``, i.e. nested files).
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import yaml

from workbench.errors import SourceUnavailable
from workbench.sources.mlflow_frames import INFO_COLUMNS, LONG_COLUMNS, RunBatch

RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


def file_store_root(uri: str) -> Path:
    """The folder of a ``file://`` URI or plain path."""
    if uri.startswith("file:"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))
    return Path(uri).expanduser()


def _meta(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) for every file under ``folder``; the key is the path relative to it."""
    if not folder.is_dir():
        return
    for file in folder.rglob("*"):
        if file.is_file():
            yield file.relative_to(folder).as_posix(), file


def _latest_metric(file: Path) -> float:
    best: tuple[int, int, float] | None = None
    for line in file.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        value = float(parts[1])
        entry = (int(parts[2]) if len(parts) > 2 else 0, int(parts[0]), value)
        if best is None or (entry[0], entry[1], _orderable(entry[2])) > (best[0], best[1], _orderable(best[2])):
            best = entry
    return math.nan if best is None else best[2]


def _orderable(value: float) -> float:
    return -math.inf if math.isnan(value) else value


class FileStoreReader:
    """Reads experiments, runs and histories from an ``mlruns`` folder without writing anything."""

    def __init__(self, uri: str) -> None:
        self.root = file_store_root(uri)
        self._paths: dict[str, Path] = {}
        if not self.root.is_dir():
            raise SourceUnavailable(f"The MLflow store folder '{self.root}' does not exist.",
                                    "check tracking_uri (a mlruns folder, sqlite:///file.db or http://server)")
        if not any((child / "meta.yaml").is_file() for child in self.root.iterdir() if child.is_dir()):
            raise SourceUnavailable(f"'{self.root}' is not an MLflow file store (no experiment folders).",
                                    "point tracking_uri at the mlruns folder your runs were logged to")

    def close(self) -> None:
        pass

    def experiments(self) -> pd.DataFrame:
        rows = []
        for folder in sorted(self.root.iterdir()):
            meta = _meta(folder / "meta.yaml") if folder.is_dir() else {}
            if meta and meta.get("lifecycle_stage", "active") == "active":
                rows.append((str(meta.get("experiment_id", folder.name)), meta.get("name"),
                             meta.get("artifact_location"), "active"))
        return pd.DataFrame(rows, columns=["experiment_id", "name", "artifact_location", "lifecycle_stage"])

    def _run_dirs(self, experiment_ids: Sequence[str]) -> Iterator[Path]:
        for experiment_id in experiment_ids:
            folder = self.root / str(experiment_id)
            if folder.is_dir():
                yield from (d for d in folder.iterdir() if (d / "meta.yaml").is_file())

    def run_infos(self, experiment_ids: Sequence[str]) -> pd.DataFrame:
        rows = []
        self._paths = {}
        for run_dir in self._run_dirs(experiment_ids):
            meta = _meta(run_dir / "meta.yaml")
            if not meta or meta.get("lifecycle_stage", "active") != "active":
                continue
            run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
            self._paths[run_id] = run_dir
            name = meta.get("run_name") or _read(run_dir / "tags" / "mlflow.runName")
            rows.append((run_id, name, str(meta.get("experiment_id")),
                         RUN_STATUS.get(meta.get("status", 1), "RUNNING"), meta.get("start_time"),
                         meta.get("end_time"), meta.get("artifact_uri")))
        return pd.DataFrame(rows, columns=INFO_COLUMNS)

    def run_data(self, infos: pd.DataFrame) -> RunBatch:
        params, metrics, tags = [], [], []
        for run_id in infos["run_id"]:
            run_dir = self._paths[run_id]
            params += [(run_id, key, _read(file)) for key, file in _files(run_dir / "params")]
            tags += [(run_id, key, _read(file)) for key, file in _files(run_dir / "tags")]
            metrics += [(run_id, key, _latest_metric(file)) for key, file in _files(run_dir / "metrics")]
        metric_frame = pd.DataFrame(metrics, columns=LONG_COLUMNS)
        metric_frame["value"] = metric_frame["value"].astype(float)
        return RunBatch(infos=infos, params=pd.DataFrame(params, columns=LONG_COLUMNS), metrics=metric_frame,
                        tags=pd.DataFrame(tags, columns=LONG_COLUMNS))

    def metric_history(self, run_ids: Sequence[str], keys: Sequence[str] | None = None) -> pd.DataFrame:
        rows = []
        for run_id in run_ids:
            run_dir = self._paths.get(run_id)
            if run_dir is None:
                continue
            for key, file in _files(run_dir / "metrics"):
                if keys and key not in keys:
                    continue
                for line in file.read_text(encoding="utf-8").splitlines():
                    parts = line.split()
                    if len(parts) >= 2:
                        rows.append((run_id, key, int(parts[2]) if len(parts) > 2 else 0, int(parts[0]),
                                     float(parts[1])))
        frame = pd.DataFrame(rows, columns=["run_id", "key", "step", "timestamp", "value"])
        return frame.sort_values(["run_id", "key", "step", "timestamp"], kind="stable", ignore_index=True)


def _read(file: Path) -> str | None:
    try:
        return file.read_text(encoding="utf-8")
    except OSError:
        return None
