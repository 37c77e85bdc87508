"""The per-user access policy: parsing the [access] table, scopes per user and group, narrowing a config."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.access import AccessPolicy, narrow
from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError

TABLE = {
    "groups": {"reviewers": ["alice", "bob"]},
    "allow": {
        "reviewers": {"experiments": ["baselines"], "studies": ["s1"]},
        "bob": {"experiments": ["tuning"], "datasets": ["*"]},
        "admins": {"experiments": ["*"], "studies": ["*"], "datasets": ["*"]},
    },
}


def test_scopes_are_the_union_of_the_rules_naming_the_user_or_their_groups() -> None:
    policy = AccessPolicy.from_table(TABLE)
    alice = policy.scope_for("alice")
    assert alice.experiments == {"baselines"} and alice.studies == {"s1"} and alice.datasets == frozenset()
    bob = policy.scope_for("bob")
    assert bob.experiments == {"baselines", "tuning"} and bob.datasets is None  # "*" = all
    root = policy.scope_for("root", user_groups=["admins"])  # a group from the users file
    assert root.experiments is None and root.studies is None and root.datasets is None
    nobody = policy.scope_for("mallory")
    assert nobody.empty and not nobody.allows("experiments", "baselines")
    assert policy.scope_for(None).empty  # not signed in: nothing


def test_no_access_table_means_no_policy() -> None:
    assert AccessPolicy.from_table(None) is None
    config = WorkbenchConfig(experiments=["a"])
    assert narrow(config, None, "anyone") is config


@pytest.mark.parametrize("table", [
    {"allow": {"x": {"experiment": ["typo"]}}},
    {"allow": {"x": {"experiments": "not-a-list-of-names", "studies": [1]}}},
    {"groups": ["not", "a", "table"]},
    {"roles": {}},
])
def test_bad_rules_are_config_errors_with_a_hint(table: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        AccessPolicy.from_table(table)
    assert caught.value.hint


def test_config_file_access_table(tmp_path: Path) -> None:
    path = tmp_path / "workbench.toml"
    path.write_text('experiments = ["baselines", "tuning"]\nstudy_name = "s2"\n'
                    '[access.groups]\nreviewers = ["alice"]\n'
                    '[access.allow.reviewers]\nexperiments = ["baselines"]\nstudies = ["s1"]\n')
    config = WorkbenchConfig.load(config_file=path, env={})
    assert config.access["allow"]["reviewers"]["studies"] == ["s1"]
    narrowed = narrow(config, AccessPolicy.from_table(config.access), "alice")
    assert narrowed.experiments == ["baselines"] and narrowed.study_name is None
    assert narrowed.with_overrides(model="runs:/x/model").scope == narrowed.scope  # copies keep the scope
    assert config.scope is None and "access" not in config.to_toml()
    path.write_text('[access.allow.x]\nexperimentz = ["a"]\n')
    with pytest.raises(ConfigError, match="experimentz"):
        WorkbenchConfig.load(config_file=path, env={})
    with pytest.raises(ConfigError):
        WorkbenchConfig.load(config_file=None, env={"WORKBENCH_SCOPE": "everything"})
