"""Loading logged models: refused in stakeholder mode (nothing unpickled), real loading when trusted."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from test_explain_stored import shared_store

from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError, NotFound, UntrustedOperation
from workbench.sources.models import load_explain_data, load_model


@pytest.fixture
def store(tmp_path_factory) -> dict:
    return shared_store(tmp_path_factory)


def test_untrusted_load_is_refused_without_unpickling(store):
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model")
    with pytest.raises(UntrustedOperation) as info:
        load_model(config)
    assert "--trusted" in info.value.hint
    assert not store["marker"].exists()


def test_trusted_load_returns_the_logged_model(store):
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['bare']}/model", trusted=True)
    model = load_model(config)
    X = store["X"].iloc[:20]
    np.testing.assert_allclose(model.predict_proba(X), store["model"].predict_proba(X))


def test_the_bomb_is_real(store, tmp_path):
    """Control: loading the planted model in trusted mode does write the marker (so the other tests can fail)."""
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['explained']}/model", trusted=True)
    with contextlib.suppress(Exception):  # the bomb is not a model; only the marker matters
        load_model(config)
    assert store["marker"].exists()
    store["marker"].unlink()


def test_run_without_a_model(store):
    config = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['no-model']}/model", trusted=True)
    with pytest.raises(NotFound, match="has no logged model"):
        load_model(config)


def test_missing_model_and_explain_data(store, tmp_path):
    config = WorkbenchConfig(tracking_uri=store["uri"], model="runs:/0123456789abcdef/model", trusted=True)
    with pytest.raises(NotFound):
        load_model(config)
    data = tmp_path / "rows.csv"
    store["X"].iloc[:10].assign(target=store["y"].iloc[:10]).to_csv(data, index=False)
    X, y = load_explain_data(config.with_overrides(explain_data=str(data)), target="target")
    assert list(X.columns) == list(store["X"].columns) and y.tolist() == store["y"].iloc[:10].tolist()
    with pytest.raises(ConfigError, match="does not exist"):
        load_explain_data(config.with_overrides(explain_data=str(tmp_path / "nope.csv")))
    bare = WorkbenchConfig(tracking_uri=store["uri"], model=f"runs:/{store['ids']['bare']}/model", trusted=True)
    with pytest.raises(ConfigError, match="No data"):
        load_explain_data(bare)
    explained = bare.with_overrides(model=f"runs:/{store['ids']['explained']}/model")
    X, y = load_explain_data(explained)
    assert len(X) == len(store["rows"]) and y is None
