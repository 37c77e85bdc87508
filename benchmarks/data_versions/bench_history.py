"""Data versions benchmark (targets.md): history listing and content diff vs what DVC users run today.

    python benchmarks/data_versions/bench_history.py [--versions 31] [--rows 100000] [--commits 1000]
                                                     [--dir DIR] [--quick]

Reports side by side, in one run (medians of --repeat runs):
- history of a dataset listed from metadata (ours) vs ``dvc.api.read`` + ``pd.read_csv`` of every version;
- content diff of the last two versions (ours: schema, rows by key, drift) vs ``dvc diff`` (hash only);
- history of a 1,000-commit repository (target ≤ 2 s).
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from workload import build_long_history, build_versions  # noqa: E402

from workbench.analysis.data_versions.compare import compare_tables  # noqa: E402
from workbench.sources.dvc import DvcSource  # noqa: E402


def median_time(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def ours_history(repo: Path, path: str) -> pd.DataFrame:
    return DvcSource(repo).history(path)


def dvc_api_all_versions(repo: Path, path: str, tags: list[str]) -> list[int]:
    import dvc.api

    return [len(pd.read_csv(io.StringIO(dvc.api.read(path, repo=str(repo), rev=tag)))) for tag in tags]


def ours_diff(repo: Path, path: str, before: str, after: str):
    source = DvcSource(repo)
    return compare_tables(source.read(path, before), source.read(path, after))


def dvc_diff(repo: Path, before: str, after: str) -> str:
    dvc = Path(sys.executable).with_name("dvc")
    done = subprocess.run([str(dvc), "diff", before, after], cwd=repo, capture_output=True, text=True,
                          timeout=300, check=True)
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=31)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="build (or reuse) the workloads here")
    parser.add_argument("--quick", action="store_true", help="8 versions × 20,000 rows, 200 commits, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.versions, args.rows, args.commits, args.repeat = 8, 20_000, 200, 1
    base = args.dir or Path(tempfile.mkdtemp(prefix="wb-bench-dvc-"))
    versions_repo = base / f"versions-{args.versions}x{args.rows}"
    history_repo = base / f"history-{args.commits}"
    path = "data/table.csv"
    start = time.perf_counter()
    if not (versions_repo / ".dvc").is_dir():
        build_versions(versions_repo, args.versions, args.rows)
    if not (history_repo / ".dvc").is_dir():
        build_long_history(history_repo, args.commits)
    print(f"workloads ready in {time.perf_counter() - start:.1f} s under {base}")

    tags = [f"v{i}" for i in range(1, args.versions + 1)]
    ours, history = median_time(lambda: ours_history(versions_repo, path), args.repeat)
    assert len(history) == args.versions, len(history)
    theirs, counts = median_time(lambda: dvc_api_all_versions(versions_repo, path, tags), args.repeat)
    assert counts[::-1] == history["rows"].tolist(), "row counts differ from the metadata"
    one, _ = median_time(lambda: dvc_api_all_versions(versions_repo, path, tags[-1:]), args.repeat)
    before, after = tags[-2], tags[-1]
    diff_ours, comparison = median_time(lambda: ours_diff(versions_repo, path, before, after), args.repeat)
    diff_theirs, text = median_time(lambda: dvc_diff(versions_repo, before, after), args.repeat)
    long_ours, long_history = median_time(lambda: ours_history(history_repo, "data/big.csv"), args.repeat)
    assert len(long_history) == args.commits, len(long_history)

    rows = comparison.rows
    print(f"\nDataset: {args.versions} versions × ~{args.rows:,} rows; history repo: {args.commits} commits\n")
    print(f"{'what':58} {'ours':>9} {'today':>9} {'ratio':>8}")
    print(f"{'history of ' + str(args.versions) + ' versions (rows per version)':58} {ours:9.3f} {theirs:9.3f} "
          f"{theirs / ours:7.1f}x   (today: dvc.api.read + pd.read_csv per version)")
    print(f"{'  one version read with dvc.api.read + pd.read_csv':58} {'':9} {one:9.3f}")
    print(f"{'content diff ' + before + '→' + after + ' vs dvc diff (hash only)':58} {diff_ours:9.3f} "
          f"{diff_theirs:9.3f} {diff_theirs / diff_ours:7.1f}x")
    print(f"{'history of ' + str(args.commits) + ' commits':58} {long_ours:9.3f} {'':9}          target ≤ 2 s")
    print(f"\ndiff found: +{rows.added} −{rows.removed} ~{rows.changed} rows (key {rows.key}), "
          f"{(comparison.schema['change'] != 'same').sum()} schema change(s), top drift: "
          f"{comparison.drift.iloc[0]['column']} (PSI {comparison.drift.iloc[0]['psi']:.3f}); "
          f"dvc diff said: {text.strip().splitlines()[-1] if text.strip() else '(nothing)'}")
    targets = {"history ≤ 0.2 s": ours <= 0.2, "1,000-commit history ≤ 2 s": long_ours <= 2.0,
               "content diff no slower than dvc diff": diff_ours <= diff_theirs}
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
