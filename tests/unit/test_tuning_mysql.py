"""The Optuna source on a real MariaDB (MySQL) server: same answers as Optuna, read-only, clear errors."""

from __future__ import annotations

import optuna
import panel as pn
import pytest
import sqlalchemy as sa
from conftest_mysql import new_mysql_database
from helpers import free_port
from test_optuna_postgres import (  # noqa: F401 - the same checks, collected here against MariaDB
    test_pareto_set_is_optunas_best_trials,
    test_studies_listing_matches_optuna,
    test_trial_detail_reads_system_attrs,
    test_trials_equal_what_optuna_reports,
)
from test_optuna_source import DISTS, make_trials

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig
from workbench.errors import SourceUnavailable
from workbench.sources.optuna import open_optuna_source

optuna.logging.set_verbosity(optuna.logging.ERROR)


def bare(url: str) -> str:
    """The URL as users write it (``mysql://``): the workbench picks the installed driver itself."""
    return url.replace("mysql+pymysql://", "mysql://", 1)


# The PostgreSQL tests' store, study by study: (name, its trials, directions).
STUDIES = [
    ("single", lambda: make_trials(300), ["minimize"]),
    ("multi", lambda: make_trials(120, seed=1, multi=True), ["minimize", "maximize"]),
    ("empty", list, ["maximize"]),
]


@pytest.fixture(scope="module")
def mysql_store(mysql_server) -> str:
    """A MariaDB database written by Optuna itself: 300 single-objective trials (some pruned, failed
    and one running), a multi-objective study and an empty one."""
    url = new_mysql_database(mysql_server, "optuna_read")
    storage = optuna.storages.RDBStorage(url)
    for name, trials, directions in STUDIES:
        optuna.create_study(study_name=name, storage=storage, directions=directions).add_trials(trials())
    optuna.load_study(study_name="single", storage=storage).ask({"x": DISTS["x"]})  # stays RUNNING
    storage.remove_session()
    storage.engine.dispose()
    return url


@pytest.fixture
def store(mysql_store, mysql_unchanged):
    """The store's URL (the checks imported from the PostgreSQL tests run on it); its data must be
    identical after each test."""
    with mysql_unchanged("optuna_read", "trials"):
        yield mysql_store


def test_refresh_fetches_only_new_and_unfinished_trials(mysql_server):
    url = new_mysql_database(mysql_server, "optuna_live")
    writer = optuna.create_study(study_name="live", storage=url)
    writer.add_trials(make_trials(30))
    running = writer.ask({"x": DISTS["x"]})
    source = open_optuna_source(bare(url))
    assert len(source.study("live").trials) == 31 and source.trial_rows_read == 31
    assert len(source.refresh("live").trials) == 31
    assert source.trial_rows_read == 32  # only the running trial was fetched again
    writer.tell(running, 0.25)
    writer.add_trials(make_trials(4, seed=3))
    trials = source.refresh("live").trials.set_index("number")
    assert source.trial_rows_read == 32 + 1 + 4
    assert len(trials) == 35 and trials.loc[running.number, "value"] == 0.25
    source.close()


def test_connection_is_read_only(store):
    source = open_optuna_source(bare(store))
    source.studies()
    assert source._engine.dialect.driver == "pymysql"
    with source._engine.connect() as connection:  # the very engine the source reads through
        assert connection.execute(sa.text("SELECT @@session.tx_read_only")).scalar() == 1
        with pytest.raises(sa.exc.SQLAlchemyError, match="READ ONLY"):
            connection.execute(sa.text("DELETE FROM trials"))
    source.close()


def test_tuning_page_builds_on_mysql(store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=bare(store), study_name="single"))
    assert not [a.object for a in page.__panel__().select(pn.pane.Alert) if a.alert_type == "danger"]
    assert page.dashboard.study == "single" and len(page.dashboard.data.trials) == 301
    page.dashboard.refresh()
    assert not page.dashboard._status.objects
    page.__panel__().get_root()


def test_unreachable_server_is_source_unavailable():
    url = f"mysql://wb:secret@127.0.0.1:{free_port()}/optuna"
    with pytest.raises(SourceUnavailable) as info:
        open_optuna_source(url, timeout=2).studies()
    assert "127.0.0.1" in info.value.message and "secret" not in info.value.message
    assert "running and reachable" in info.value.hint
