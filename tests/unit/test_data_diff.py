"""Content diffs of versions read from a real git+DVC repo, checked against pandas on the same files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import snapshot

from workbench.analysis.data_versions.diff import file_diff, guess_key, row_diff, schema_diff
from workbench.analysis.data_versions.stats import column_stats, stats_comparison
from workbench.sources.dvc import DvcSource
from workbench.sources.dvc_build import RepoBuilder


def _v1() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"id": np.arange(200), "amount": rng.normal(10, 2, 200).round(3),
                         "city": rng.choice(["Oslo", "Lima", "Pune"], 200), "flag": rng.integers(0, 2, 200)})


def _v2(v1: pd.DataFrame) -> pd.DataFrame:
    v2 = v1.drop(index=range(0, 10)).copy()  # 10 removed
    v2.loc[20:29, "amount"] = v2.loc[20:29, "amount"] + 1  # 10 changed
    v2.loc[25:34, "city"] = "Rome"  # 5 more changed (25..29 overlap)
    v2["score"] = v2["amount"] * 2  # column added
    v2 = v2.drop(columns="flag")  # column removed
    extra = pd.DataFrame({"id": np.arange(500, 507), "amount": 1.0, "city": "Oslo", "score": 2.0})
    return pd.concat([v2, extra], ignore_index=True)  # 7 added


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff") / "repo"
    builder = RepoBuilder(root)
    v1 = _v1()
    builder.version("data/t.csv", v1, "v1", tag="v1")
    builder.version("data/t.csv", _v2(v1), "v2", tag="v2")
    builder.version("data/t.csv", pd.concat([_v2(v1), _v2(v1).head(3)], ignore_index=True), "dups", tag="v3")
    builder.version("data/files", {"a.txt": b"1", "b.txt": b"2"}, "files 1", tag="f1")
    builder.version("data/files", {"a.txt": b"1", "b.txt": b"22", "c.txt": b"3"}, "files 2", tag="f2")
    builder.push()
    builder.close()
    return root


def test_key_diff_counts_match_pandas(repo):
    before_snapshot = snapshot(repo)
    source = DvcSource(repo)
    old, new = source.read("data/t.csv", "v1"), source.read("data/t.csv", "v2")
    assert guess_key(old, new) == "id"
    diff = row_diff(old, new, key="id")
    merged = old.merge(new, on="id", how="outer", indicator=True, suffixes=("_o", "_n"))
    assert diff.added == (merged["_merge"] == "right_only").sum() == 7
    assert diff.removed == (merged["_merge"] == "left_only").sum() == 10
    both = merged[merged["_merge"] == "both"]
    changed = (both["amount_o"] != both["amount_n"]) | (both["city_o"] != both["city_n"])
    assert diff.changed == changed.sum() == 15
    assert diff.unchanged == len(both) - 15
    assert diff.changed_cells.to_dict() == {"amount": 10, "city": 10}
    assert diff.compared_columns == ["amount", "city"]
    assert len(diff.changed_after) == len(diff.changed_mask) == 15
    assert diff.changed_mask.sum().to_dict() == {"amount": 10, "city": 10}
    assert set(diff.added_rows["id"]) == set(range(500, 507))
    assert snapshot(repo) == before_snapshot


def test_hash_diff_counts_match_pandas_multisets(repo):
    source = DvcSource(repo)
    old, new = source.read("data/t.csv", "v2"), source.read("data/t.csv", "v3")
    diff = row_diff(old, new, key=None)
    assert diff.method == "row-hash"
    assert (diff.added, diff.removed) == (3, 0)
    old2, new2 = source.read("data/t.csv", "v1"), source.read("data/t.csv", "v2")
    by_hash = row_diff(old2, new2)
    shared = ["id", "amount", "city"]
    merged = old2[shared].merge(new2[shared], how="outer", indicator=True)
    assert by_hash.added == (merged["_merge"] == "right_only").sum() == 22
    assert by_hash.removed == (merged["_merge"] == "left_only").sum() == 25


def test_non_unique_key_falls_back_to_row_hash(repo):
    source = DvcSource(repo)
    old, new = source.read("data/t.csv", "v2"), source.read("data/t.csv", "v3")
    diff = row_diff(old, new, key="id")
    assert diff.method == "row-hash" and "not a unique" in diff.note
    assert row_diff(old, new, key="nope").note.startswith("'nope' is not a column")


def test_schema_diff_reports_added_removed_retyped():
    old = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [1.0, 2.0]})
    new = pd.DataFrame({"a": ["1", "2"], "c": [1.0, 3.0], "d": [True, False]})
    schema = schema_diff(old, new).set_index("column")
    assert schema["change"].to_dict() == {"a": "retyped", "b": "removed", "c": "same", "d": "added"}
    assert schema.loc["a", "type before"] == "int" and schema.loc["a", "type after"] == "string"
    diff = row_diff(old.assign(k=[1, 2]), new.assign(k=[1, 2]), key="k")
    assert diff.changed == 1 and diff.changed_cells.to_dict() == {"a": 0, "c": 1}


def test_nan_equals_nan_in_cell_comparison():
    old = pd.DataFrame({"k": [1, 2], "v": [np.nan, 1.0]})
    new = pd.DataFrame({"k": [1, 2], "v": [np.nan, 2.0]})
    assert row_diff(old, new, key="k").changed == 1


def test_stats_match_pandas(repo):
    source = DvcSource(repo)
    old, new = source.read("data/t.csv", "v1"), source.read("data/t.csv", "v2")
    stats = column_stats(old).set_index("column")
    assert stats.loc["amount", "mean"] == pytest.approx(old["amount"].mean())
    assert stats.loc["amount", "std"] == pytest.approx(old["amount"].std())
    assert stats.loc["city", "unique"] == old["city"].nunique()
    both = stats_comparison(old, new).set_index("column")
    assert both.loc["score", "count before"] != both.loc["score", "count before"]  # NaN: not in v1
    assert both.loc["id", "count after"] == len(new)


def test_directory_file_diff(repo):
    source = DvcSource(repo)
    diff = file_diff(source.files("data/files", "f1"), source.files("data/files", "f2")).set_index("relpath")
    assert diff["change"].to_dict() == {"c.txt": "added", "b.txt": "modified", "a.txt": "unchanged"}
    assert diff.loc["b.txt", "size before"] == 1 and diff.loc["b.txt", "size after"] == 2
