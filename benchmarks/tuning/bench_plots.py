"""Tuning benchmark (targets.md): every tuning plot render-ready, ours vs ``optuna.visualization``.

    python benchmarks/tuning/bench_plots.py [--trials 10000] [--dir DIR] [--skip-optuna] [--grow 100]

One run, side by side, on the same SQLite study (N trials × 8 params):
- ours: read the study (OptunaSource), build each plot, render it to Bokeh models and serialise what a
  browser receives (``bokeh.embed.json_item``) — first in this process (incl. datashader's JIT) and warm;
- Optuna: ``load_study`` + each ``optuna.visualization`` function + ``fig.to_json()`` (plotly is needed
  for this side only: ``pip install plotly``);
- refresh after the study grows by ``--grow`` trials: only the new trials are read.
Prints seconds and bytes per plot and the ratios (targets: ≥ 10× faster, ≥ 50× smaller).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import optuna  # noqa: E402
import panel as pn  # noqa: E402
from bokeh.embed import json_item  # noqa: E402
from workload import DISTRIBUTIONS, STUDY, build_workload, check_workload  # noqa: E402

from workbench.sources.optuna import open_optuna_source  # noqa: E402
from workbench.views.tuning import plots  # noqa: E402
from workbench.views.tuning.history import HistoryView  # noqa: E402
from workbench.views.tuning.trials_table import TrialsTable  # noqa: E402

PAIR = ("x0", "x1")


def wire_bytes(viewable) -> int:
    """Bytes of the JSON a browser receives for this viewable (Bokeh document of its models)."""
    return len(json.dumps(json_item(pn.panel(viewable).get_root())))


def our_plots(data) -> dict:
    """name → zero-argument builder of a renderable object."""
    builders = {
        "optimization_history": lambda: HistoryView(data=data),
        "intermediate_values": lambda: plots.intermediate_plot(data),
        "parallel_coordinate": lambda: plots.parallel_plot(data),
        "slice (8 params)": lambda: pn.Column(*[plots.slice_plot(data, p) for p in data.param_names]),
        "contour (2 params)": lambda: plots.contour_plot(data, *PAIR),
        "edf": lambda: plots.edf_plot([data]),
        "rank (2 params)": lambda: plots.rank_plot(data, *PAIR),
        "param_importances": lambda: plots.importance_plot(data),
        "timeline": lambda: plots.timeline_plot(data),
        "trials table (page 1)": lambda: TrialsTable(data=data),
    }
    return builders


def run_ours(url: str) -> tuple[dict, float]:
    """{plot: (seconds, bytes)} and the seconds to read the study."""
    start = time.perf_counter()
    data = open_optuna_source(url).study(STUDY)
    read = time.perf_counter() - start
    results = {}
    for name, build in our_plots(data).items():
        start = time.perf_counter()
        size = wire_bytes(build())
        results[name] = (time.perf_counter() - start, size)
    return results, read


def run_optuna(url: str) -> tuple[dict, float]:
    import optuna.visualization as vis

    start = time.perf_counter()
    study = optuna.load_study(study_name=STUDY, storage=url)
    study.trials_dataframe()
    read = time.perf_counter() - start
    figures = {
        "optimization_history": lambda: vis.plot_optimization_history(study),
        "intermediate_values": lambda: vis.plot_intermediate_values(study),
        "parallel_coordinate": lambda: vis.plot_parallel_coordinate(study),
        "slice (8 params)": lambda: vis.plot_slice(study),
        "contour (2 params)": lambda: vis.plot_contour(study, params=list(PAIR)),
        "edf": lambda: vis.plot_edf(study),
        "rank (2 params)": lambda: vis.plot_rank(study, params=list(PAIR)),
        "param_importances": lambda: vis.plot_param_importances(study),
        "timeline": lambda: vis.plot_timeline(study),
    }
    results = {}
    for name, make in figures.items():
        start = time.perf_counter()
        size = len(make().to_json())
        results[name] = (time.perf_counter() - start, size)
        print(f"  optuna {name}: {results[name][0]:.2f} s, {results[name][1] / 1e6:.2f} MB", flush=True)
    return results, read


def grow_and_refresh(url: str, grow: int) -> tuple[float, float, int]:
    """(seconds of a full first read, seconds of the refresh after growing, trials fetched by it)."""
    source = open_optuna_source(url)
    start = time.perf_counter()
    source.study(STUDY)
    first = time.perf_counter() - start
    read_before = source.trial_rows_read
    study = optuna.load_study(study_name=STUDY, storage=url)
    template = study.trials[0]
    study.add_trials([optuna.trial.create_trial(value=1.0 + i, params=template.params, distributions=DISTRIBUTIONS)
                      for i in range(grow)])
    start = time.perf_counter()
    source.refresh(STUDY)
    return first, time.perf_counter() - start, source.trial_rows_read - read_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite study is written")
    parser.add_argument("--skip-optuna", action="store_true", help="only our side (e.g. at 100,000 trials)")
    parser.add_argument("--grow", type=int, default=100, help="trials added before the refresh measurement")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-tuning-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = build_workload(folder / f"optuna-{args.trials}.db", args.trials)
    check_workload(url, args.trials)
    print(f"workload: {args.trials:,} trials × {len(DISTRIBUTIONS)} params in {url}", flush=True)

    cold, cold_read = run_ours(url)
    warm, warm_read = run_ours(url)
    ours_cold = cold_read + sum(t for t, _ in cold.values())
    ours_warm = warm_read + sum(t for t, _ in warm.values())
    ours_bytes = sum(b for _, b in warm.values())
    print(f"{'plot':24} {'ours cold s':>11} {'ours warm s':>11} {'ours KB':>9}")
    print(f"{'read study':24} {cold_read:11.2f} {warm_read:11.2f}")
    for name in warm:
        print(f"{name:24} {cold[name][0]:11.2f} {warm[name][0]:11.2f} {warm[name][1] / 1e3:9.1f}")
    print(f"ours: all plots render-ready {ours_cold:.2f} s cold / {ours_warm:.2f} s warm, {ours_bytes / 1e6:.2f} MB")

    if not args.skip_optuna:
        theirs, their_read = run_optuna(url)
        their_time = their_read + sum(t for t, _ in theirs.values())
        their_bytes = sum(b for _, b in theirs.values())
        print(f"optuna: load_study + trials_dataframe {their_read:.2f} s; all plots {their_time:.2f} s, "
              f"{their_bytes / 1e6:.2f} MB")
        print(f"{'plot':24} {'speed-up':>9} {'smaller':>9}")
        for name, (seconds, size) in theirs.items():
            print(f"{name:24} {seconds / warm[name][0]:8.1f}× {size / warm[name][1]:8.1f}×")
        print(f"RATIO time: {their_time / ours_cold:.1f}× (cold) / {their_time / ours_warm:.1f}× (warm) faster; "
              f"bytes: {their_bytes / ours_bytes:.1f}× smaller (targets: ≥ 10×, ≥ 50×)")

    first, refresh, fetched = grow_and_refresh(url, args.grow)
    print(f"refresh after +{args.grow} trials: {refresh:.3f} s, {fetched} trials fetched "
          f"(full read {first:.2f} s of {args.trials:,} trials)")


if __name__ == "__main__":
    main()
