"""The query box language: MLflow's filter syntax (same rows as MLflow) plus OR, NOT and parentheses."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from workbench.analysis.experiments.query import QueryError, filter_runs, tokenize
from workbench.sources.mlflow import MlflowSource


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    uri = f"sqlite:///{tmp_path_factory.mktemp('query') / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("q")
    for i in range(20):
        run = client.create_run(experiment_id, run_name=f"run-{i:02d}", start_time=1_700_000_000_000 + i * 1000,
                                tags={"team": "vision" if i % 3 == 0 else "NLP", "f1 score": str(i)})
        client.log_metric(run.info.run_id, "acc", i / 20)
        if i % 4:
            client.log_metric(run.info.run_id, "f1 score", i / 10)
        client.log_param(run.info.run_id, "model", ["rf", "gb", "lr"][i % 3])
        client.log_param(run.info.run_id, "lr", str(0.01 * (i + 1)))
        client.set_terminated(run.info.run_id, status="FAILED" if i == 7 else "FINISHED")
    return uri


@pytest.fixture(scope="module")
def runs(store: str):
    return MlflowSource(store).runs()


def mlflow_names(uri: str, query: str) -> set[str]:
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        found = mlflow.search_runs(search_all_experiments=True, filter_string=query)
    finally:
        mlflow.set_tracking_uri(previous)
    return set(found["tags.mlflow.runName"]) if len(found) else set()


@pytest.mark.parametrize("query", [
    "metrics.acc > 0.5",
    "metrics.acc >= 0.5 AND params.model = 'rf'",
    "params.model != 'gb'",
    "tags.team = 'vision'",
    "tags.team LIKE 'vis%'",
    "tags.team ILIKE '%nlp%'",
    "attributes.status = 'FAILED'",
    "attributes.run_name LIKE 'run-1%'",
    "metrics.`f1 score` < 1",
    "tags.\"f1 score\" = '3'",
    "attributes.status != 'FAILED' AND metrics.acc < 0.4",
    "attributes.start_time > 1700000010000",
    "metrics.acc <= 0.25 and params.model = \"gb\"",
])
def test_same_rows_as_mlflow(store: str, runs, query: str) -> None:
    expected = mlflow_names(store, query)
    assert set(filter_runs(runs, query)["run_name"]) == expected
    assert 0 < len(expected) < len(runs) or query.startswith("attributes.status")


def test_or_not_and_parentheses(store: str, runs) -> None:
    either = filter_runs(runs, "(metrics.acc > 0.8 OR params.model = 'rf') AND NOT tags.team = 'NLP'")
    expected = (mlflow_names(store, "metrics.acc > 0.8 AND tags.team != 'NLP'")
                | mlflow_names(store, "params.model = 'rf' AND tags.team != 'NLP'"))
    assert set(either["run_name"]) == expected and expected
    assert len(filter_runs(runs, "metrics.acc < 0.1 OR metrics.acc > 0.9")) == 3


def test_in_lists(runs) -> None:
    assert set(filter_runs(runs, "params.model IN ('rf', 'lr')")["params.model"]) == {"rf", "lr"}
    assert set(filter_runs(runs, "params.model NOT IN ('rf', 'lr')")["params.model"]) == {"gb"}
    assert len(filter_runs(runs, "metrics.acc IN (0, 0.05)")) == 2


def test_param_with_number_compares_numerically(runs) -> None:
    assert set(filter_runs(runs, "params.lr < 0.025")["run_name"]) == {"run-00", "run-01"}


def test_missing_values_never_match(runs) -> None:
    assert len(filter_runs(runs, "metrics.`f1 score` >= 0")) == 15
    assert len(filter_runs(runs, "metrics.`f1 score` IS NULL")) == 5


def test_empty_query_keeps_all(runs) -> None:
    assert len(filter_runs(runs, "  ")) == len(runs)


@pytest.mark.parametrize("query, bad", [
    ("metrics.acc >", None),
    ("metrics.acc > 0.5 AND", None),
    ("(metrics.acc > 0.5", None),
    ("metrics.acc > 0.5)", ")"),
    ("metrics.acc ? 1", "?"),
    ("metrics.accuracy > 1", "metrics.accuracy"),
    ("foo = 1", "foo"),
    ("metrics.acc > 'high'", ">"),
    ("metrics.acc > 0.5 params.model = 'rf'", "params.model"),
])
def test_errors_point_at_the_bad_token(runs, query: str, bad: str | None) -> None:
    with pytest.raises(QueryError) as info:
        filter_runs(runs, query)
    error = info.value
    position = len(query) if bad is None else query.index(bad)
    assert error.position == position, (error.position, position)
    assert error.hint and "⟦" in error.message


def test_unknown_column_suggests_close_names(runs) -> None:
    with pytest.raises(QueryError) as info:
        filter_runs(runs, "metrics.accc > 1")
    assert "metrics.acc" in info.value.hint


def test_tokenizer_keeps_quoted_keys() -> None:
    tokens = tokenize("metrics.`a b` >= -1e-3 OR tags.x = 'it''s'")
    assert [t.kind for t in tokens] == ["word", "op", "number", "word", "word", "op", "string"]


def test_store_untouched(store: str) -> None:
    path = Path(store[len("sqlite:///"):])
    before = path.read_bytes()
    source = MlflowSource(store)
    filter_runs(source.runs(), "metrics.acc > 0")
    assert path.read_bytes() == before
