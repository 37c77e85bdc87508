"""WorkbenchConfig: layers, precedence, path resolution and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.config import WorkbenchConfig, discover_defaults
from workbench.errors import ConfigError


def write_toml(folder: Path, text: str) -> Path:
    path = folder / "workbench.toml"
    path.write_text(text)
    return path


def test_precedence_is_arguments_then_environment_then_file(tmp_path: Path) -> None:
    config_file = write_toml(tmp_path, 'study_name = "from-file"\nexperiments = ["a", "b"]\ntitle = "file"\n')
    env = {"WORKBENCH_STUDY_NAME": "from-env", "WORKBENCH_TITLE": "env"}
    config = WorkbenchConfig.load(config_file=config_file, env=env, title="argument")
    assert config.title == "argument"
    assert config.study_name == "from-env"
    assert config.experiments == ["a", "b"]
    assert "environment" in config.source and "arguments" in config.source


def test_relative_paths_in_the_file_resolve_against_its_folder(tmp_path: Path, monkeypatch) -> None:
    config_file = write_toml(tmp_path, 'tracking_uri = "sqlite:///mlflow.db"\noptuna_storage = "journal.log"\n'
                                       'dvc_repo = "."\n')
    monkeypatch.chdir("/")
    config = WorkbenchConfig.load(config_file=config_file, env={})
    assert config.tracking_uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert config.optuna_storage == str(tmp_path.resolve() / "journal.log")
    assert config.dvc_repo == str(tmp_path.resolve())


def test_urls_are_left_alone(tmp_path: Path) -> None:
    config_file = write_toml(tmp_path, 'tracking_uri = "http://127.0.0.1:5000"\n'
                                       'optuna_storage = "postgresql://u@localhost/db"\n'
                                       'model = "runs:/abc/model"\n')
    config = WorkbenchConfig.load(config_file=config_file, env={})
    assert config.tracking_uri == "http://127.0.0.1:5000"
    assert config.optuna_storage == "postgresql://u@localhost/db"
    assert config.model == "runs:/abc/model"


def test_environment_values_are_coerced() -> None:
    env = {"WORKBENCH_EXPERIMENTS": "one, two", "WORKBENCH_TRUSTED": "yes", "WORKBENCH_REFRESH_INTERVAL": "2.5"}
    config = WorkbenchConfig.load(env=env)
    assert config.experiments == ["one", "two"]
    assert config.trusted is True
    assert config.refresh_interval == 2.5


def test_bad_boolean_names_the_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        WorkbenchConfig.load(env={"WORKBENCH_READ_ONLY": "maybe"})
    assert "read_only" in caught.value.message and "WORKBENCH_READ_ONLY" in caught.value.message
    assert "true or false" in caught.value.hint


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="trackinguri"):
        WorkbenchConfig.load(config_file=write_toml(tmp_path, 'trackinguri = "x"\n'), env={})


def test_invalid_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        WorkbenchConfig.load(config_file=write_toml(tmp_path, "tracking_uri = \n"), env={})
    with pytest.raises(ConfigError, match="does not exist"):
        WorkbenchConfig.load(config_file=tmp_path / "missing.toml", env={})


def test_unknown_argument_is_refused() -> None:
    with pytest.raises(ConfigError, match="Unknown setting"):
        WorkbenchConfig.load(env={}, colour="red")


def test_config_round_trips_through_toml(tmp_path: Path) -> None:
    config = WorkbenchConfig(tracking_uri="http://host:5000", experiments=["x"], trusted=True, refresh_interval=5)
    path = write_toml(tmp_path, config.to_toml())
    again = WorkbenchConfig.load(config_file=path, env={})
    for name in ("tracking_uri", "experiments", "trusted", "refresh_interval"):
        assert getattr(again, name) == getattr(config, name)


def test_discovery_finds_stores_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "mlflow.db").write_bytes(b"")
    (tmp_path / "optuna.db").write_bytes(b"")
    (tmp_path / ".dvc").mkdir()
    found = discover_defaults(tmp_path)
    assert found["tracking_uri"].endswith("mlflow.db")
    assert found["optuna_storage"].endswith("optuna.db")
    assert found["dvc_repo"] == str(tmp_path.resolve())
    config = WorkbenchConfig.load(env={}, discover_in=tmp_path)
    assert config.dvc_repo == str(tmp_path.resolve())


def test_discovery_reads_a_workbench_toml_in_the_folder(tmp_path: Path) -> None:
    write_toml(tmp_path, 'study_name = "found"\n')
    assert WorkbenchConfig.load(env={}, discover_in=tmp_path).study_name == "found"


def test_relative_arguments_resolve_against_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = WorkbenchConfig.load(env={}, tracking_uri="sqlite:///runs.db", dvc_repo="repo")
    assert config.tracking_uri == f"sqlite:///{tmp_path.resolve() / 'runs.db'}"
    assert config.dvc_repo == str(tmp_path.resolve() / "repo")


@pytest.mark.parametrize(("name", "value"), [("REFRESH_INTERVAL", "-1"), ("DVC_REMOTE_TIMEOUT", "0")])
def test_out_of_range_numbers_are_config_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        WorkbenchConfig.load(env={f"WORKBENCH_{name}": value})
    assert name.lower() in caught.value.message and "environment" in caught.value.hint
