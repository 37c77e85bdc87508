"""Reader for a remote MLflow tracking server (``http(s)://``) through ``MlflowClient``.

Refreshes ask the server only for runs started since the newest known run, for runs that were
still running, and for the list of deleted runs (deleted runs leave the table; restored ones return).

Every call runs with a short request timeout and no retries (MLflow reads these settings from
``MLFLOW_HTTP_REQUEST_TIMEOUT`` / ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` at call time); a server that
does not answer becomes ``SourceUnavailable`` within the timeout.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import pandas as pd

from workbench.errors import SourceUnavailable
from workbench.sources.mlflow_frames import INFO_COLUMNS, LONG_COLUMNS, RunBatch

PAGE = 10_000
_ENV_LOCK = threading.Lock()
# A server that did not answer is not asked again for this long: a new session (or another page)
# shows the banner at once instead of waiting for the timeout while a hung server holds the request.
SILENT_SECONDS = 15.0
_silent_since: dict[str, float] = {}  # uri -> monotonic time it last failed to answer
T = TypeVar("T")


_process_wide = False  # set by serve_with_short_requests(): no per-call environment swaps, no lock


def _settings(timeout: float) -> dict[str, str]:
    return {"MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, round(timeout))), "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}


def serve_with_short_requests(timeout: float = 5.0) -> None:
    """For a process that only serves the workbench (``workbench serve``): give MLflow our timeout and no
    retries once, for the whole process. Per-call swaps hold a lock for the length of each request, so
    one request to a hung server would make every other session's request wait behind it."""
    global _process_wide
    os.environ.update(_settings(timeout))
    _process_wide = True


@contextmanager
def short_requests(timeout: float) -> Iterator[None]:
    """Temporarily give MLflow's HTTP layer our timeout and no retries (in a notebook, where the user's
    own MLflow calls must keep their settings); in a served process they are set once for all."""
    if _process_wide:
        yield
        return
    settings = _settings(timeout)
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class RestRunsReader:
    """Reads a tracking server; the run list and run data come from the same search pages."""

    def __init__(self, uri: str, timeout: float = 5.0) -> None:
        self.uri = uri.rstrip("/")
        self.timeout = timeout
        self._probe()
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=self.uri)
        self._runs: dict[str, object] = {}
        self._known: dict[tuple[str, ...], dict[str, object]] = {}
        self._deleted: dict[tuple[str, ...], set[str]] = {}
        self.last_fetched = 0  # runs sent by the server on the last listing

    def close(self) -> None:
        self._runs.clear()
        self._known.clear()
        self._deleted.clear()

    def _probe(self) -> None:
        raise_if_silent(self.uri)
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            raise SourceUnavailable(f"The MLflow tracking server {self.uri} answered HTTP {exc.code}.",
                                    "check tracking_uri points at an MLflow tracking server") from exc
        except (OSError, ValueError) as exc:  # refused, timed out, DNS, malformed URL
            if is_timeout(exc):  # hung: others are spared the wait (refused connections fail fast anyway)
                note_silent(self.uri)
            reason = getattr(exc, "reason", None) or exc
            raise SourceUnavailable(
                f"The MLflow tracking server {self.uri} does not answer ({type(reason).__name__}).",
                "start it (mlflow server ...) or fix tracking_uri; the workbench retries on refresh") from exc
        note_answered(self.uri)

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            with short_requests(self.timeout):
                answer = fn()
        except SourceUnavailable:
            raise
        except Exception as exc:  # MlflowException, requests errors: the server is the problem
            if is_timeout(exc):
                note_silent(self.uri)
            raise SourceUnavailable(f"The MLflow tracking server {self.uri} failed: {exc}",
                                    "check the server is running and reachable, then refresh") from exc
        note_answered(self.uri)
        return answer

    def experiments(self) -> pd.DataFrame:
        found = self._call(lambda: self._client.search_experiments(max_results=50_000))
        return pd.DataFrame(
            [(e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage) for e in found],
            columns=["experiment_id", "name", "artifact_location", "lifecycle_stage"])

    def _search(self, experiment_ids: Sequence[str], filter_string: str = "", deleted: bool = False) -> list:
        from mlflow.entities import ViewType

        view = ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY
        runs, token = [], None
        while True:
            page = self._call(lambda t=token: self._client.search_runs(
                list(experiment_ids), filter_string=filter_string, run_view_type=view, max_results=PAGE,
                page_token=t))
            runs += list(page)
            token = page.token
            if not token:
                return runs

    def run_infos(self, experiment_ids: Sequence[str]) -> pd.DataFrame:
        """All runs the first time; afterwards only runs started since the newest known one, runs that
        were still running and runs restored from the bin are fetched again (finished runs are not
        re-sent by the server); runs deleted since are dropped."""
        key = tuple(sorted(experiment_ids))
        known = self._known.get(key)
        deleted = {run.info.run_id for run in self._search(experiment_ids, deleted=True)}
        if known is None:
            fetched = self._search(experiment_ids)
            known = {}
        else:
            newest = max((run.info.start_time or 0 for run in known.values()), default=0)
            fetched = self._search(experiment_ids, f"attributes.start_time >= {newest}")
            running = [run_id for run_id, run in known.items() if run.info.status == "RUNNING"]
            restored = sorted(self._deleted.get(key, set()) - deleted)
            for ids in _chunks([*running, *restored], 100):
                fetched += self._search(experiment_ids, f"attributes.run_id IN ({ids})")
        self.last_fetched = len(fetched)
        self._deleted[key] = deleted
        known = {run_id: run for run_id, run in {**known, **{run.info.run_id: run for run in fetched}}.items()
                 if run_id not in deleted}
        self._known[key] = known
        runs = list(known.values())
        self._runs = known
        return pd.DataFrame(
            [(r.info.run_id, r.info.run_name, r.info.experiment_id, r.info.status, r.info.start_time,
              r.info.end_time, r.info.artifact_uri) for r in runs], columns=INFO_COLUMNS)

    def run_data(self, infos: pd.DataFrame) -> RunBatch:
        runs = [self._runs[run_id] for run_id in infos["run_id"]]

        def long(attr: str) -> pd.DataFrame:
            rows = [(r.info.run_id, key, value) for r in runs for key, value in getattr(r.data, attr).items()]
            return pd.DataFrame(rows, columns=LONG_COLUMNS)

        metrics = long("metrics")
        metrics["value"] = metrics["value"].astype(float)
        return RunBatch(infos=infos, params=long("params"), metrics=metrics, tags=long("tags"))

    def metric_history(self, run_ids: Sequence[str], keys: Sequence[str] | None = None) -> pd.DataFrame:
        rows = []
        for run_id in run_ids:
            run_keys = keys if keys else list(self._call(lambda r=run_id: self._client.get_run(r)).data.metrics)
            for key in run_keys:
                history = self._call(lambda r=run_id, k=key: self._client.get_metric_history(r, k))
                rows += [(run_id, key, m.step, m.timestamp, m.value) for m in history]
        return pd.DataFrame(rows, columns=["run_id", "key", "step", "timestamp", "value"])


def _chunks(run_ids: Sequence[str], size: int) -> Iterator[str]:
    """``'id1', 'id2', ...`` groups of at most ``size`` run ids for an ``IN (...)`` filter."""
    for start in range(0, len(run_ids), size):
        yield ", ".join(f"'{run_id}'" for run_id in run_ids[start:start + size])


def raise_if_silent(uri: str) -> None:
    """Fail at once for a server that did not answer in the last ``SILENT_SECONDS``."""
    since = _silent_since.get(uri.rstrip("/"))
    if since is not None and time.monotonic() - since < SILENT_SECONDS:
        raise SourceUnavailable(
            f"The MLflow tracking server {uri} does not answer (no answer {time.monotonic() - since:.0f} s ago; "
            f"asked again after {SILENT_SECONDS:.0f} s).",
            "start it (mlflow server ...) or fix tracking_uri; the workbench retries on refresh")


def note_silent(uri: str) -> None:
    _silent_since[uri.rstrip("/")] = time.monotonic()


def note_answered(uri: str) -> None:
    _silent_since.pop(uri.rstrip("/"), None)


def is_timeout(error: BaseException | None) -> bool:
    """Whether ``error`` (or an error it was raised from) is a read/connect timeout."""
    while error is not None:
        if isinstance(error, TimeoutError) or "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower():
            return True
        error = error.__cause__ or error.__context__
    return False
