"""Resolve lineage links, read-only: run → data version / Optuna trial / model / stored explanation,
trial → runs, data version → runs.

Every resolution returns a :class:`Link` (or a :class:`RunSet`) whose ``status`` is ``linked``,
``missing`` (recorded, but the target cannot be found or reached: the reason says why) or ``absent``
(nothing was recorded). Missing lineage never raises; only an unreadable MLflow store does, because
then there are no runs to link. The stores are read through the other sources (MlflowSource,
OptunaSource, DvcSource, explanations_runs), which never write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench.access import allowed
from workbench.config import WorkbenchConfig
from workbench.errors import NotFound, WorkbenchError
from workbench.sources.lineage_tags import (
    TAG_COMMIT,
    TAG_MD5,
    TAG_PATH,
    TAG_STUDY,
    TAG_TRIAL,
    TAG_VERSION,
    TRIAL_RUN_ATTR,
)

LINKED, MISSING, ABSENT = "linked", "missing", "absent"
KINDS = ("data", "trial", "model", "explanation")
MODEL_NAME = "model"
EXPLANATION_FILES = ("explain/meta.json", "explain/shap_values.parquet", "explain/features.parquet")
HELPER_HINT = "call workbench.lineage.log_run_context() in the training script (see docs/lineage.md)"
_MD5 = re.compile(r"^[0-9a-f]{32}(\.dir)?$")


@dataclass(frozen=True)
class Link:
    """One lineage link: where it points (``target``) or why it cannot (``reason``)."""

    kind: str
    status: str
    label: str
    reason: str = ""
    target: Mapping[str, Any] = field(default_factory=dict)
    blocked: str = ""  # the link resolves, but following it is not allowed here (e.g. untrusted mode)

    @property
    def ok(self) -> bool:
        return self.status == LINKED

    @property
    def followable(self) -> bool:
        return self.ok and not self.blocked

    @property
    def tooltip(self) -> str:
        return self.blocked or self.reason


@dataclass(frozen=True)
class RunLineage:
    """A run and its four links."""

    run_id: str
    run_name: str
    experiment: str
    data: Link
    trial: Link
    model: Link
    explanation: Link

    def links(self) -> dict[str, Link]:
        return {kind: getattr(self, kind) for kind in KINDS}

    @property
    def broken(self) -> list[Link]:
        """Links that were recorded but do not resolve."""
        return [link for link in self.links().values() if link.status == MISSING]


@dataclass(frozen=True)
class RunSet:
    """Runs found for a trial or a data version, or the reason there are none."""

    runs: pd.DataFrame
    reason: str = ""
    target: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.runs.empty


def _link(kind: str, status: str, label: str, reason: str = "", **target: Any) -> Link:
    return Link(kind, status, label, reason, target)


def _explain(error: WorkbenchError) -> str:
    return f"{error.message} ({error.hint})" if error.hint else error.message


def _tag(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(f"tags.{key}")
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value) in ("", "nan", "None", "<NA>"):
        return None
    return str(value)


class LineageSource:
    """Lineage of the runs of one workspace (the config's MLflow store, Optuna storage and DVC repo)."""

    def __init__(self, config: WorkbenchConfig, mlflow: Any = None, optuna: Any = None, dvc: Any = None,
                 timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout
        self._sources: dict[str, Any] = {"mlflow": mlflow, "optuna": optuna, "dvc": dvc}
        self._errors: dict[str, WorkbenchError] = {}
        self._memo: dict[tuple, Any] = {}
        self._trial_index: dict[str, tuple[str, int]] | None = None

    # -- the underlying sources (opened lazily; failures remembered as reasons) ----------------
    def _open(self, name: str, factory: Callable[[], Any]) -> Any:
        if self._sources.get(name) is None and name not in self._errors:
            try:
                self._sources[name] = factory()
            except WorkbenchError as error:
                self._errors[name] = error
        if name in self._errors:
            raise self._errors[name]
        return self._sources[name]

    @property
    def mlflow(self) -> Any:
        from workbench.sources.mlflow import MlflowSource

        return self._open("mlflow", lambda: MlflowSource.from_config(self.config))

    @property
    def optuna(self) -> Any:
        from workbench.errors import ConfigError
        from workbench.sources.optuna import open_optuna_source

        def factory() -> Any:
            if not self.config.optuna_storage:
                raise ConfigError("No Optuna storage is configured.", "set optuna_storage (e.g. sqlite:///optuna.db)")
            return open_optuna_source(self.config.optuna_storage, timeout=self.timeout,
                                      allowed_studies=allowed(self.config, "studies"))

        return self._open("optuna", factory)

    @property
    def dvc(self) -> Any:
        from workbench.sources.dvc import DvcSource

        return self._open("dvc", lambda: DvcSource(self.config.dvc_repo, timeout=self.timeout,
                                                   allowed_datasets=allowed(self.config, "datasets")))

    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- runs --------------------------------------------------------------------------------------
    def runs(self, refresh: bool = False) -> pd.DataFrame:
        """The tidy runs frame of the configured experiments (raises when the MLflow store is unreadable)."""
        source = self.mlflow
        return source.runs(source.experiment_ids(self.config.experiments or None), refresh=refresh)

    def _row(self, run_id: str) -> dict[str, Any]:
        runs = self.runs()
        match = runs[runs["run_id"] == run_id]
        if match.empty and self.config.experiments:  # e.g. the model's run, logged to another experiment
            every = self.mlflow.runs(None)
            match = every[every["run_id"] == run_id]
        if match.empty:
            raise NotFound(f"Run '{run_id}' is not in the configured experiments.",
                           "pick a run from the Experiments table")
        return match.iloc[0].to_dict()

    def refresh(self) -> pd.DataFrame:
        """Forget resolved links and re-read what changed in the stores; returns the runs."""
        self._memo.clear()
        self._trial_index = None
        if self._sources.get("optuna") is not None:
            for study in self._sources["optuna"].study_names():
                self._sources["optuna"].refresh(study)
        return self.runs(refresh=True)

    def run_lineage(self, run_id: str) -> RunLineage:
        """All four links of one run (``NotFound`` only when the run itself does not exist)."""
        return self._lineage(self._row(run_id))

    def _lineage(self, row: Mapping[str, Any]) -> RunLineage:
        run_id = str(row["run_id"])
        return RunLineage(
            run_id=run_id, run_name=str(row.get("run_name") or run_id), experiment=str(row.get("experiment") or ""),
            data=self.data_link(row), trial=self.trial_link(row), model=self.model_link(run_id),
            explanation=self.explanation_link(run_id),
        )

    def lineage_table(self) -> pd.DataFrame:
        """One row per run: ``<kind>_status``, ``<kind>_label``, ``<kind>_reason`` for each link kind."""
        rows = []
        for record in self.runs().to_dict("records"):
            lineage = self._lineage(record)
            run_id = lineage.run_id
            row = {"run_id": run_id, "run_name": lineage.run_name, "experiment": lineage.experiment}
            for kind, link in lineage.links().items():
                row.update({f"{kind}_status": link.status, f"{kind}_label": link.label, f"{kind}_reason": link.reason})
            rows.append(row)
        columns = ["run_id", "run_name", "experiment",
                   *[f"{kind}_{part}" for kind in KINDS for part in ("status", "label", "reason")]]
        return pd.DataFrame(rows, columns=columns)

    def run_link(self, model_uri: str | None) -> Link:
        """The run a model URI (``runs:/<id>/model`` or ``models:/<name>/<version>``) comes from — what an
        explanation explains; follow it with ``run_lineage(link.target["run_id"])``."""
        from workbench.sources.explanations_runs import parse_model_uri, run_artifact_root

        if not model_uri:
            return _link("run", ABSENT, "no model", "No model is configured (setting model).")
        try:
            run_id, _root = run_artifact_root(self.config.tracking_uri, parse_model_uri(model_uri), self.timeout)
            row = self._row(run_id)
        except WorkbenchError as error:
            return _link("run", MISSING, str(model_uri), _explain(error), uri=model_uri)
        return _link("run", LINKED, str(row.get("run_name") or run_id), run_id=run_id, uri=model_uri,
                     experiment=row.get("experiment"))

    # -- run → data version ---------------------------------------------------------------------
    def data_link(self, row: Mapping[str, Any]) -> Link:
        """The data version a run trained on, from its ``workbench.data.*`` tags."""
        path, commit, md5, version = (_tag(row, key) for key in (TAG_PATH, TAG_COMMIT, TAG_MD5, TAG_VERSION))
        if not (md5 or (path and commit)):
            path, commit, md5, version = self._input_lineage(str(row.get("run_id")))
        if not (md5 or (path and commit)):
            return _link("data", ABSENT, "no data version",
                         f"The run recorded no data version (tags {TAG_MD5} / {TAG_COMMIT}); {HELPER_HINT}.")
        def resolve() -> Link:
            try:
                return self._resolve_data(path, commit, md5, version)
            except WorkbenchError as error:  # git or the DVC cache failed half-way
                return _link("data", MISSING, f"{path or 'data'} @ {version or ''}", _explain(error))

        return self._cached(("data", path, commit, md5, version), resolve)

    def _input_lineage(self, run_id: str) -> tuple[str | None, str | None, str | None, str | None]:
        """(path, commit, md5, version) from the run's MLflow dataset inputs (input tags, else a DVC-md5 digest)."""
        from workbench.sources.lineage_inputs import dataset_inputs

        def read() -> pd.DataFrame:
            try:
                return dataset_inputs(self.config.tracking_uri or "", self.runs()["run_id"].tolist(), self.timeout)
            except WorkbenchError:
                return pd.DataFrame(columns=["run_id", "name", "digest", "source", "tags"])

        inputs = self._cached(("inputs",), read)
        for item in inputs[inputs["run_id"] == run_id].to_dict("records"):
            tags = item["tags"]
            if tags.get(TAG_MD5) or tags.get(TAG_COMMIT):
                return (tags.get(TAG_PATH) or item["name"], tags.get(TAG_COMMIT), tags.get(TAG_MD5),
                        tags.get(TAG_VERSION))
            if isinstance(item["digest"], str) and _MD5.match(item["digest"]):
                return item["name"], None, item["digest"], None
        return None, None, None, None

    def _resolve_data(self, path: str | None, commit: str | None, md5: str | None, version: str | None) -> Link:
        label = f"{path or 'data'} @ {version or (commit or md5 or '')[:8]}"
        try:
            dvc = self.dvc
            path = path or dvc.default_dataset(self.config.dvc_path)
        except WorkbenchError as error:
            return _link("data", MISSING, label, f"The data repository cannot be read: {_explain(error)}")
        record, found_commit, sha = None, None, None
        if commit:
            sha = dvc.git.resolve(commit)
            if sha is None:
                return _link("data", MISSING, label,
                             f"Commit {commit[:12]} is not in the repository '{dvc.root}' (was it pushed and fetched?).",
                             path=path, commit=commit, md5=md5)
            try:
                record, found_commit = dvc.version(path, sha), sha
            except NotFound as error:
                if not md5:
                    return _link("data", MISSING, label, _explain(error), path=path, commit=sha)
        if md5 and (record is None or record.md5 != md5):  # uncommitted data: find the commit that recorded it
            history = self._history(path)
            match = history[history["md5"] == md5] if history is not None else pd.DataFrame()
            if match.empty:
                return self._unrecorded(label, path, commit, md5)
            found_commit = str(match.iloc[-1]["commit"])
            record = dvc.version(path, found_commit)
        stored = self._where(record.md5, record.hash_name)
        row = self._version_row(path, record.md5, found_commit)
        tag = str(row["tags"]).split(", ")[0] if row is not None and row["tags"] else None
        version_commit = str(row["commit"]) if row is not None else found_commit
        target = {"path": path, "commit": version_commit, "run_commit": sha, "md5": record.md5,
                  "version": tag or version or version_commit[:7], "stored": stored, "rows": record.rows,
                  "columns": record.columns}
        label = f"{path} @ {target['version']}"
        if stored == "missing":
            return Link("data", MISSING, label, f"The data ({record.md5[:8]}) is neither in the DVC cache nor in the "
                        "remote: run `dvc push` where it was trained.", target)
        return Link("data", LINKED, label, "", target)

    def _unrecorded(self, label: str, path: str, commit: str | None, md5: str) -> Link:
        where = self._where(md5, "md5")
        return _link("data", MISSING, label, f"No commit of the repository records {path} with md5 {md5[:8]} "
                     f"(the data is {'in the DVC ' + where if where != 'missing' else 'not stored'}); commit the "
                     ".dvc file after `dvc add` and before training.", path=path, commit=commit, md5=md5, stored=where)

    def _history(self, path: str) -> pd.DataFrame | None:
        def read() -> pd.DataFrame | None:
            try:
                return self.dvc.history(path)
            except WorkbenchError:
                return None

        return self._cached(("history", path), read)

    def _version_row(self, path: str, md5: str, commit: str) -> pd.Series | None:
        """The history entry (commit that introduced the data) of ``md5``: ``commit`` itself, else the newest."""
        history = self._history(path)
        if history is None:
            return None
        match = history[history["md5"] == md5]
        if match.empty:
            return None
        exact = match[match["commit"] == commit]
        return (exact if len(exact) else match).iloc[0]

    def _where(self, md5: str, hash_name: str | None) -> str:
        from workbench.sources.dvc_cache import ObjectRef

        def where() -> str:
            try:
                return self.dvc.store.where(ObjectRef(md5, hash_name))
            except WorkbenchError:  # an unreadable DVC config: the data may well be there
                return "unknown"

        return self._cached(("where", md5), where)

    # -- run → trial ---------------------------------------------------------------------------
    def trial_link(self, row: Mapping[str, Any]) -> Link:
        """The Optuna trial (or study, for a study's parent run) that produced a run."""
        try:
            return self._resolve_trial(row)
        except WorkbenchError as error:  # the storage failed half-way
            return _link("trial", MISSING, "trial", f"The Optuna storage cannot be read: {_explain(error)}")

    def _resolve_trial(self, row: Mapping[str, Any]) -> Link:
        study, number = _tag(row, TAG_STUDY), _tag(row, TAG_TRIAL)
        run_id = str(row.get("run_id"))
        if study is None:
            found = self._runs_to_trials().get(run_id) or self._callback_trial(row)
            if found is None:
                return _link("trial", ABSENT, "no trial", f"The run is not an Optuna trial (no {TAG_STUDY} tag).")
            study, number = found[0], str(found[1])
        try:
            names = self._cached(("studies",), lambda: self.optuna.study_names())
        except WorkbenchError as error:
            return _link("trial", MISSING, f"{study} #{number}", f"The Optuna storage cannot be read: {_explain(error)}")
        if study not in names:
            return _link("trial", MISSING, f"{study}", f"Study '{study}' is not in the Optuna storage.", study=study)
        if number is None:
            return _link("trial", LINKED, f"study {study}", study=study, number=None)
        trial = self._trials_by_number(study).get(number)
        if trial is None:
            return _link("trial", MISSING, f"{study} #{number}",
                         f"Study '{study}' has no trial number {number}.", study=study)
        return _link("trial", LINKED, f"{study} #{number}", study=study, number=int(number), **trial)

    def _trials_by_number(self, study: str) -> dict[str, dict[str, Any]]:
        """trial number (text) → {state, trial_run_id} of one study."""
        def read() -> dict[str, dict[str, Any]]:
            trials = self.optuna.trials(study)
            attrs = trials.get(f"user_attrs_{TRIAL_RUN_ATTR}", pd.Series(None, index=trials.index, dtype=object))
            return {str(number): {"state": str(state), "trial_run_id": attr if isinstance(attr, str) else None}
                    for number, state, attr in zip(trials["number"], trials["state"], attrs, strict=True)}

        return self._cached(("trials", study), read)

    def _callback_trial(self, row: Mapping[str, Any]) -> tuple[str, int] | None:
        """optuna_integration.MLflowCallback logs to an experiment named after the study, with tag ``number``."""
        number, experiment = _tag(row, "number"), row.get("experiment")
        if number is None or not number.isdigit() or not isinstance(experiment, str):
            return None
        try:
            names = self._cached(("studies",), lambda: self.optuna.study_names())
        except WorkbenchError:
            return None
        return (experiment, int(number)) if experiment in names else None

    def _runs_to_trials(self) -> dict[str, tuple[str, int]]:
        """run id → (study, trial number) from the trials' ``mlflow_run_id`` user attributes."""
        if self._trial_index is None:
            index: dict[str, tuple[str, int]] = {}
            try:
                for study in self.optuna.study_names():
                    trials = self.optuna.trials(study)
                    column = f"user_attrs_{TRIAL_RUN_ATTR}"
                    if column in trials:
                        for number, run in zip(trials["number"], trials[column], strict=True):
                            if isinstance(run, str):
                                index.setdefault(run, (study, int(number)))
            except WorkbenchError:
                pass
            self._trial_index = index
        return self._trial_index

    # -- trial → runs ----------------------------------------------------------------------------
    def trial_runs(self, study: str, number: int | None = None) -> RunSet:
        """Runs tagged with the trial (or all runs of the study), plus the run its user attribute names."""
        runs = self.runs()
        def tag(key: str) -> pd.Series:
            return runs.get(f"tags.{key}", pd.Series(index=runs.index, dtype=object))

        mask = tag(TAG_STUDY) == study
        callback = (runs["experiment"] == study) & tag("number").notna()  # optuna_integration.MLflowCallback
        if number is not None:
            mask &= tag(TAG_TRIAL) == str(number)
            callback &= tag("number") == str(number)
            linked = [run for run, found in self._runs_to_trials().items() if found == (study, int(number))]
            mask |= runs["run_id"].isin(linked)
        mask |= callback
        found = runs[mask].reset_index(drop=True)
        what = f"trial {number} of study '{study}'" if number is not None else f"study '{study}'"
        reason = "" if len(found) else (f"No run of the configured experiments is tagged with {what}; "
                                        f"log runs with workbench.lineage.log_run_context(trial=trial).")
        return RunSet(found, reason, {"study": study, "number": number})

    # -- run → model / explanation ---------------------------------------------------------------
    def model_link(self, run_id: str) -> Link:
        """The run's logged model ``runs:/<id>/model`` (located, never loaded)."""
        from workbench.sources.explanations_runs import RunRef, locate_model

        uri = f"runs:/{run_id}/{MODEL_NAME}"
        tracking = self.config.tracking_uri or ""
        if not tracking.startswith("sqlite:") and "://" in tracking and not tracking.startswith("file:"):
            return self._remote_model(run_id, uri)
        try:
            folder = locate_model(tracking, RunRef(run_id=run_id, artifact_path=MODEL_NAME), timeout=self.timeout)
        except NotFound:
            return _link("model", ABSENT, "no model", "The run logged no model (mlflow.<flavor>.log_model).")
        except WorkbenchError as error:
            return _link("model", MISSING, "model", _explain(error), uri=uri)
        blocked = "" if self.config.trusted else "Loading a model runs its code: open it in Explain in trusted mode."
        return Link("model", LINKED, f"model of run {run_id[:8]}", "", {"uri": uri, "folder": str(folder)}, blocked)

    def _remote_model(self, run_id: str, uri: str) -> Link:
        from workbench.sources.explanations_runs import with_timeout

        def search() -> list:
            from mlflow import MlflowClient

            return MlflowClient(self.config.tracking_uri).search_logged_models(
                filter_string=f"source_run_id = '{run_id}'", max_results=5)

        try:
            models = with_timeout(search, self.timeout, f"The tracking server '{self.config.tracking_uri}'")
        except WorkbenchError as error:
            return _link("model", MISSING, "model", _explain(error), uri=uri)
        except Exception as error:  # noqa: BLE001 - the server's own errors
            return _link("model", MISSING, "model", f"The tracking server did not list the run's models: {error}")
        if not models:
            return _link("model", ABSENT, "no model", "The run logged no model (mlflow.<flavor>.log_model).")
        blocked = "" if self.config.trusted else "Loading a model runs its code: open it in Explain in trusted mode."
        return Link("model", LINKED, f"model of run {run_id[:8]}", "", {"uri": uri}, blocked)

    def explanation_link(self, run_id: str) -> Link:
        """The stored explanation (``explain/*.parquet`` + ``meta.json``), safe to open untrusted."""
        try:
            listing = self.mlflow.list_artifacts(run_id, "explain")
        except NotFound:
            listing = pd.DataFrame(columns=["path"])
        except WorkbenchError as error:
            return _link("explanation", MISSING, "explanation", _explain(error))
        present = set(listing["path"])
        missing = [name for name in EXPLANATION_FILES if name not in present]
        if len(missing) == len(EXPLANATION_FILES):
            return _link("explanation", ABSENT, "no stored explanation",
                         "The run stored no explanation (explain/shap_values.parquet, features.parquet, meta.json); "
                         "explain its model live in trusted mode.")
        if missing:
            return _link("explanation", MISSING, "explanation",
                         f"The stored explanation is incomplete: {', '.join(missing)} missing.")
        return _link("explanation", LINKED, "stored SHAP values", uri=f"runs:/{run_id}/{MODEL_NAME}",
                     run_id=run_id)

    # -- data version → runs ---------------------------------------------------------------------
    def run_data_md5(self, path: str | None = None) -> pd.Series:
        """The md5 of ``path`` each run trained on (index: run_id; NaN when the run recorded none)."""
        runs = self.runs()
        path = path or self.config.dvc_path
        md5s = pd.Series(index=runs["run_id"].to_numpy(), dtype=object)
        for position, row in enumerate(runs.to_dict("records")):
            if path and _tag(row, TAG_PATH) not in (None, path):
                continue
            link = self.data_link(row)
            if link.target.get("md5"):
                md5s.iloc[position] = link.target["md5"]
        return md5s

    def version_runs(self, version: str, path: str | None = None) -> RunSet:
        """Every run trained on one version of ``path`` (a tag, commit or md5), with its metrics."""
        try:
            dvc = self.dvc
            path = dvc.default_dataset(path or self.config.dvc_path)
            if _MD5.match(version):
                md5, commit = version, None
            else:
                commit = dvc.commit(version)
                md5 = dvc.version(path, commit).md5
        except WorkbenchError as error:
            return RunSet(self.runs().iloc[0:0], _explain(error), {"version": version, "path": path})
        md5s = self.run_data_md5(path)
        runs = self.runs()
        found = runs[(md5s == md5).to_numpy()].reset_index(drop=True)
        target = {"version": version, "path": path, "md5": md5, "commit": commit}
        reason = "" if len(found) else (f"No run of the configured experiments recorded training on {path} "
                                        f"@ {version}; {HELPER_HINT}.")
        return RunSet(found, reason, target)

    def versions(self, path: str | None = None) -> pd.DataFrame:
        """The version history of ``path`` (DvcSource.history), oldest first; raises when unreadable."""
        dvc = self.dvc
        return dvc.history(dvc.default_dataset(path or self.config.dvc_path)).iloc[::-1].reset_index(drop=True)
