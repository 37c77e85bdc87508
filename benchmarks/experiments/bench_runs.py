"""Experiments benchmark (targets.md): a render-ready comparison view vs what MLflow users run today.

    python benchmarks/experiments/bench_runs.py [--runs 5000] [--curves 100] [--repeat 3] [--dir DIR]

Side by side, in one process, medians of --repeat runs (imports done before timing, for both;
the last lines time both in fresh processes, each importing only what it needs, medians too):
- theirs: ``mlflow.search_runs(max_results=100000)`` + ``MlflowClient.get_metric_history`` of 100 runs;
- ours (cold: a new source, no cache): runs read + table, parallel coordinates and curves of 100 runs
  built down to Bokeh models (what a browser would receive), and the bytes of that document;
- ours warm: a refresh of the open dashboard when nothing changed (target ≤ 0.2 s).
Use ``--runs 500`` for a quick check, ``--runs 50000 --ours-only`` for the large variant.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import panel as pn  # noqa: E402
from bokeh.document import Document  # noqa: E402
from theirs import theirs  # noqa: E402
from workload import HISTORY_RUNS, build_store  # noqa: E402

from workbench.sources.mlflow import MlflowSource  # noqa: E402
from workbench.views.experiments.dashboard import ExperimentsDashboard  # noqa: E402


def render_bytes(*viewables) -> int:
    """Size of the Bokeh document JSON of the viewables (what the browser is sent)."""
    document = Document()
    for viewable in viewables:
        model = pn.panel(viewable).get_root(document)
        if model not in document.roots:
            document.add_root(model)
    return len(json.dumps(document.to_json(deferred=False)))  # binary buffers inlined as base64


def ours_cold(uri: str, curves: int) -> tuple[ExperimentsDashboard, int, int]:
    dashboard = ExperimentsDashboard(source=MlflowSource(uri))
    runs = dashboard.runs
    dashboard.curves.metric = "loss"
    dashboard.curves.selection = runs[runs["metrics.loss"].notna()]["run_id"].head(curves).tolist()
    size = render_bytes(dashboard.table, dashboard.parallel, dashboard.curves)
    return dashboard, len(runs), size


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def fresh_process(module: str, which: str, uri: str, curves: int) -> tuple[float, float]:
    """(wall, CPU) seconds for a new Python process to import ``module`` (only what ``which`` needs:
    MLflow for theirs; Panel, HoloViews and the workbench for ours) and run ``which``. CPU seconds
    (all threads) barely move with the machine's load, so they show the ratio a quiet machine would."""
    code = (f"import sys, time; t = time.perf_counter(); c = time.process_time(); "
            f"sys.path.insert(0, {str(Path(__file__).parent)!r}); import {module}; "
            f"{module}.{which}({uri!r}, {curves}); print(time.perf_counter() - t, time.process_time() - c)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5_000)
    parser.add_argument("--curves", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ours-only", action="store_true", help="skip MLflow's side (e.g. for 50,000 runs)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "wb-bench-experiments")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    curves = min(args.curves, HISTORY_RUNS)
    print(f"workload: {args.runs:,} runs × 20 params × 10 metrics, {HISTORY_RUNS} with 500-step loss", flush=True)
    build_time, uri = timed(build_store, args.dir / f"mlflow-{args.runs}.db", args.runs)
    print(f"store ready in {build_time:.1f} s: {uri}", flush=True)

    import mlflow  # noqa: F401 - imported before timing, like ours

    ours_cold(uri, 5)  # warm the imports / first-render caches of Panel and HoloViews (not the data)
    theirs_times, ours_times, refresh_times, sizes = [], [], [], []
    for round_ in range(args.repeat):
        t_theirs, (n_theirs, points) = (float("nan"), (args.runs, 0)) if args.ours_only else timed(theirs, uri, curves)
        t_ours, (dashboard, n_ours, size) = timed(ours_cold, uri, curves)
        t_refresh, _ = timed(dashboard.refresh)
        theirs_times.append(t_theirs)
        ours_times.append(t_ours)
        refresh_times.append(t_refresh)
        sizes.append(size)
        assert n_theirs == n_ours == args.runs, (n_theirs, n_ours)
        print(f"  round {round_ + 1}: theirs {t_theirs:.2f} s ({points:,} history points) | ours cold "
              f"{t_ours:.2f} s | warm refresh {t_refresh * 1000:.0f} ms | {size / 1e6:.2f} MB", flush=True)
    theirs_median, ours_median = statistics.median(theirs_times), statistics.median(ours_times)
    process, process_cpu = median_pair([fresh_process("bench_runs", "ours_cold", uri, curves)
                                        for _ in range(args.repeat)])
    process_theirs, process_theirs_cpu = (float("nan"), float("nan")) if args.ours_only else median_pair(
        [fresh_process("theirs", "theirs", uri, curves) for _ in range(args.repeat)])
    print()
    print(f"mlflow.search_runs + get_metric_history({curves} runs): {theirs_median:.2f} s")
    print(f"ours, cold, table + parallel coordinates + {curves} curves render-ready: {ours_median:.2f} s")
    print(f"ratio (theirs / ours): {theirs_median / ours_median:.1f}x   (target ≥ 5x)")
    print(f"in a fresh process, imports (and our first render) included: theirs {process_theirs:.2f} s, "
          f"ours {process:.2f} s, ratio {process_theirs / process:.1f}x; in CPU seconds: theirs "
          f"{process_theirs_cpu:.2f} s, ours {process_cpu:.2f} s, ratio {process_theirs_cpu / process_cpu:.1f}x")
    print(f"warm refresh, nothing changed: {statistics.median(refresh_times) * 1000:.0f} ms   (target ≤ 200 ms)")
    print(f"bytes to the browser (Bokeh document JSON): {statistics.median(sizes) / 1e6:.2f} MB "
          "(MLflow REST runs/search for 5,000 runs: 21 MB per targets.md)")


if __name__ == "__main__":
    main()
