"""Closing the browser tab stops a Dask explanation: its tasks are cancelled on the cluster."""

from __future__ import annotations

import pytest
from explain_slow import slow_partitions
from helpers import wait_until
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def test_closing_the_page_cancels_its_tasks_on_the_cluster(tmp_path, serve_viewable, browser) -> None:
    from distributed import LocalCluster

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    pages = []
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        config = WorkbenchConfig(cache_dir=str(tmp_path), dask_scheduler=cluster.scheduler_address)

        def factory():  # 30 partitions of 0.5 s each: 15 s of work on the one worker thread
            pages.append(ExplainPage(model=model, X=slow_partitions(X, 30, seconds=0.5), y=y, config=config,
                                     first_rows=40))
            return pages[-1]

        url = serve_viewable(factory, check_unused_sessions_milliseconds=200,
                             unused_session_lifetime_milliseconds=200)
        context = browser.new_context()
        tab = context.new_page()
        tab.goto(url)
        tab.locator(".wb-explain-importance canvas").first.wait_for()
        tab.locator(".wb-explain-explainer").get_by_text("on 1 Dask worker").wait_for()  # the job's estimate
        wait_until(lambda: any(task.state == "processing" for task in cluster.scheduler.tasks.values()),
                   what="the job running on the cluster once the page loaded")
        context.close()  # the user closes the tab: the session ends
        wait_until(lambda: not cluster.scheduler.tasks, timeout=60, what="the job's tasks cancelled on the cluster")
        job = pages[-1].job
        job.wait(60)
        assert job.result is None and job.error is None  # stopped, not finished (nor failed)
