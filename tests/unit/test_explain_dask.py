"""Explaining on a real local ``dask.distributed`` cluster: a Dask DataFrame (data larger than memory)
explained partition by partition equals the single-machine explanation; the config's dask_scheduler
reaches the page; "local" starts a LocalCluster."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError, WorkbenchError
from workbench.sources import explanations_dask
from workbench.sources.explanations_dask import (
    LOCAL,
    close_local_cluster,
    explain_partitions,
    is_dask_frame,
)

pytestmark = pytest.mark.slow  # a cluster start costs a second or two


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def forest(cancer):
    X, y = cancer
    return RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def reference(cancer, forest):
    """shap's own single-machine values for every row (positive class)."""
    return pd.DataFrame(np.asarray(shap.TreeExplainer(forest).shap_values(cancer[0]))[:, :, 1],
                        index=cancer[0].index, columns=cancer[0].columns)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_partitions_explained_on_the_cluster_equal_the_single_machine_values(cancer, forest, reference, cluster,
                                                                            tmp_path):
    X, y = cancer
    data = dd.from_pandas(X, npartitions=4)
    assert is_dask_frame(data) and not is_dask_frame(X)
    result = explain_partitions(forest, data, cluster, sample_rows=100, output_dir=tmp_path / "values", y=y)
    assert (result.rows, result.partitions) == (len(X), 4)
    every = result.read_values()  # written by the workers, one file per partition
    assert len(list((tmp_path / "values").glob("part.*.parquet"))) == 4
    np.testing.assert_allclose(every.loc[X.index].to_numpy(), reference.to_numpy())
    np.testing.assert_allclose(result.importance.to_numpy(), reference.abs().mean().to_numpy())
    sample = result.sample
    assert len(sample.values) == 100 and sample.values.index.is_unique and sample.values.index.isin(X.index).all()
    assert len(set(np.searchsorted([143, 285, 427], sample.values.index, side="right"))) == 4  # from every partition
    np.testing.assert_allclose(sample.values.to_numpy(), reference.loc[sample.values.index].to_numpy())
    np.testing.assert_allclose(sample.output, forest.predict_proba(X.loc[sample.values.index])[:, 1], atol=1e-9)
    assert sample.y.tolist() == y.loc[sample.values.index].tolist()
    assert sample.rows_total == len(X) and "4 partitions" in sample.source


def test_parquet_files_read_lazily_with_restarting_index(cancer, forest, reference, cluster, tmp_path):
    X, _ = cancer
    folder = tmp_path / "rows"
    folder.mkdir()
    for number, start in enumerate(range(0, len(X), 200)):  # each file's rows are numbered from 0 again
        X.iloc[start:start + 200].reset_index(drop=True).to_parquet(folder / f"{number}.parquet", index=False)
    data = dd.read_parquet(str(folder))
    result = explain_partitions(forest, data, cluster, sample_rows=len(X))
    assert result.sample.values.index.is_unique and len(result.sample.values) == len(X)
    np.testing.assert_allclose(result.sample.values.to_numpy(), reference.to_numpy())
    np.testing.assert_allclose(result.importance.to_numpy(), reference.abs().mean().to_numpy())


def test_bad_partitions_give_one_clear_message(cancer, forest, cluster):
    X, _ = cancer
    with pytest.raises(ConfigError, match="do not match"):
        explain_partitions(forest, dd.from_pandas(X.iloc[:, :5], npartitions=2), cluster)
    boosting = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, cancer[1])  # cannot take NaN
    holes = X.copy()
    holes.iloc[-1, 0] = np.nan  # only in the last partition: seen by a worker, not by the head check
    with pytest.raises(WorkbenchError, match="missing values"):
        explain_partitions(boosting, dd.from_pandas(holes, npartitions=3), cluster)


def test_notebook_api_takes_a_dask_frame_and_the_config_scheduler(cancer, forest, reference, cluster, tmp_path):
    X, y = cancer
    config = WorkbenchConfig(cache_dir=str(tmp_path), dask_scheduler=cluster)
    page = ExplainPage(model=forest, X=dd.from_pandas(X, npartitions=3), y=y, config=config, first_rows=50)
    first = page.first_shown  # the first rows, explained here before the cluster is done
    assert len(first.values) == 50 and not first.complete and first.rows_total is None
    np.testing.assert_allclose(first.values.to_numpy(), reference.iloc[:50].to_numpy())
    page.wait(120)
    assert page.job.error is None and page.explanation.complete and page.explanation.rows_total == len(X)
    assert page.progress == 100 and page.status == ""
    page.importance.top = X.shape[1]
    importance = page.importance.frame().set_index("feature")["importance"]  # over all rows, not the sample
    np.testing.assert_allclose(importance.loc[X.columns].to_numpy(), reference.abs().mean().to_numpy())
    assert f"{len(X):,} rows" in page.importance._plot().object.opts.get().kwargs["title"]
    page.whatif.__panel__().get_root()
    assert page.whatif.result() is not None  # what-if explains edited rows with the model
    page.__panel__().get_root()
    import workbench as wb

    shown = wb.explain(forest, dd.from_pandas(X, npartitions=2), y, dask_scheduler=cluster, cache_dir=str(tmp_path))
    assert isinstance(shown, ExplainPage) and shown.config.dask_scheduler == cluster
    shown.wait(120)
    assert shown.explanation.rows_total == len(X)
    live = ExplainPage(model=forest, X=X, y=y, config=config, first_rows=100)  # a pandas frame: chunks on the cluster
    assert live.job.dask_scheduler == cluster
    final = live.wait(120)
    assert live.job.error is None
    np.testing.assert_allclose(final.values.loc[X.index].to_numpy(), reference.to_numpy())


def test_local_starts_a_cluster_on_this_machine(cancer, forest, reference, monkeypatch):
    X, _ = cancer
    monkeypatch.setattr(explanations_dask, "local_workers", lambda: 1)  # one worker process is enough to prove it
    assert WorkbenchConfig.load(env={"WORKBENCH_DASK_SCHEDULER": LOCAL}).dask_scheduler == LOCAL
    try:
        result = explain_partitions(forest, dd.from_pandas(X.iloc[:120], npartitions=2), LOCAL, sample_rows=120)
        cluster = explanations_dask._LOCAL_CLUSTER
        assert cluster is not None and len(cluster.workers) == 1 and cluster.processes
    finally:
        close_local_cluster()
    np.testing.assert_allclose(result.sample.values.to_numpy(), reference.iloc[:120].to_numpy())


def test_unreachable_scheduler_for_a_dask_frame_is_an_alert(cancer, forest, tmp_path):
    import panel as pn
    from helpers import free_port

    X, y = cancer
    address = f"tcp://127.0.0.1:{free_port()}"
    page = ExplainPage(model=forest, X=dd.from_pandas(X, npartitions=2), y=y, first_rows=30,
                       config=WorkbenchConfig(cache_dir=str(tmp_path), dask_scheduler=address))
    assert len(page.first_shown.values) == 30  # the first screen does not wait for the cluster
    page.__panel__()
    page.wait(60)
    assert page.job.error is not None and "did not answer" in str(page.job.error)
    alert = page._layout[0]
    assert isinstance(alert, pn.pane.Alert) and address in alert.object
