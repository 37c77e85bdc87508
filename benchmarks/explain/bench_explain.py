"""Explain benchmark: the targets.md workload, ours vs single-call ``shap.TreeExplainer.shap_values``.

Workload: synthetic regression (default 20,000 × 30), RandomForest (100 trees, depth 8) and
HistGradientBoosting; 10,000 rows explained. Measured side by side in one run:

- shap: ``TreeExplainer(model).shap_values(rows)`` in one call (what a user runs today);
- ours, first screen: ``ExplainPage(model=..., X=rows)`` built headless with its first sample shown;
- ours, full: until every row is explained (progressive, chunked over all cores);
- ours, full with warm workers: the same again without the cache, the worker processes already started
  (as in a served app after its first explanation);
- ours, second open: a new page on the same model + data (on-disk cache).

Each line also gives the CPU time of every process involved (this one and its worker processes) and
the load average before it: on 2 cores shared with other work, wall-clock ratios follow the load.

and, with ``--explainerdashboard PYTHON`` (a separate venv with explainerdashboard installed: it pins
Dash/plotly versions that must stay out of ours), explainerdashboard's
``ExplainerDashboard(RegressionExplainer(rf, 2,000 rows))`` build against ours on the same rows.

Run: ``.venv/bin/python benchmarks/explain/bench_explain.py`` (``--quick`` for a smaller check).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def workload(rows: int, features: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=rows, n_features=features, n_informative=min(10, features), noise=10.0,
                           random_state=seed)
    return pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(features)]), pd.Series(y, name="y")


def models(quick: bool):
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    trees = 30 if quick else 100
    yield f"RandomForest({trees} trees, depth 8)", RandomForestRegressor(
        n_estimators=trees, max_depth=8, n_jobs=-1, random_state=0)
    yield "HistGradientBoosting", HistGradientBoostingRegressor(random_state=0)
    try:  # optional (the test extra installs it): shap hands it to XGBoost's own multi-threaded TreeSHAP
        from xgboost import XGBRegressor
    except ImportError:
        return
    boosted = 60 if quick else 200
    yield f"XGBoost({boosted} trees, depth 6)", XGBRegressor(n_estimators=boosted, max_depth=6, random_state=0)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and every live child (the loky workers persist)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def bench(name: str, model, X: pd.DataFrame, y: pd.Series, explain_rows: int) -> dict[str, float]:
    import shap

    from workbench.apps.explain import ExplainPage
    from workbench.config import WorkbenchConfig

    started = time.perf_counter()
    model.fit(X, y)
    fit = time.perf_counter() - started
    rows = X.iloc[:explain_rows]

    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), cpu_seconds()
    reference = shap.TreeExplainer(model).shap_values(rows)
    single = time.perf_counter() - started
    single_cpu = cpu_seconds() - cpu

    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor(kill_workers=True).shutdown(wait=True)  # "complete" starts with no worker processes
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as cache:
        config = WorkbenchConfig(cache_dir=cache)
        load_ours = os.getloadavg()[0]
        started, cpu = time.perf_counter(), cpu_seconds()
        page = ExplainPage(model=model, X=rows, y=y.loc[rows.index], config=config)
        first = time.perf_counter() - started
        first_rows = len(page.first_shown.values)
        final = page.wait(timeout=3600)
        full = time.perf_counter() - started
        full_cpu = cpu_seconds() - cpu
        assert final is not None and final.complete, "the explanation did not complete"
        error = float(np.abs(final.values.to_numpy() - np.asarray(reference)).max())

        started = time.perf_counter()
        again = ExplainPage(model=model, X=rows, y=y.loc[rows.index], config=config)
        second = time.perf_counter() - started
        assert again.explanation.complete and "cache" in again.explanation.source

    with tempfile.TemporaryDirectory(prefix="bench-explain-warm-") as cache:  # no cache, worker processes warm
        load_warm = os.getloadavg()[0]
        started, cpu = time.perf_counter(), cpu_seconds()
        ExplainPage(model=model, X=rows, y=y.loc[rows.index], config=WorkbenchConfig(cache_dir=cache)).wait(3600)
        warm = time.perf_counter() - started
        warm_cpu = cpu_seconds() - cpu

    print(f"\n## {name}: {len(X):,} × {X.shape[1]} (fit {fit:.1f} s), {explain_rows:,} rows explained")
    print(f"  single-call shap.TreeExplainer.shap_values : {single:8.2f} s   (CPU {single_cpu:6.1f} s, "
          f"load before {load_before:.1f})")
    print(f"  ours: first useful screen ({first_rows:,} rows)    : {first:8.2f} s   ({single / first:6.1f}× sooner)")
    print(f"  ours: complete explanation                 : {full:8.2f} s   ({single / full:6.2f}× shap; CPU {full_cpu:6.1f} s "
          f"in all processes = {full_cpu / max(single_cpu, 1e-9):.2f}× shap's, load before {load_ours:.1f})")
    print(f"  ours: complete, worker processes warm      : {warm:8.2f} s   ({single / warm:6.2f}× shap; CPU {warm_cpu:6.1f} s "
          f"= {warm_cpu / max(single_cpu, 1e-9):.2f}× shap's, load before {load_warm:.1f})")
    print(f"  ours: second open (cache)                  : {second:8.2f} s   ({single / second:6.1f}× shap)")
    print(f"  max |ours − shap|                          : {error:.2e}")
    print(f"  worker processes                           : {workers_used(model, rows)}")
    return {"single": single, "first": first, "full": full, "second": second, "error": error,
            "single_cpu": single_cpu, "full_cpu": full_cpu, "warm": warm}


def workers_used(model, rows: pd.DataFrame) -> str:
    """Which worker processes explain the rows after the first screen (explanations_fast: light ones)."""
    from workbench.sources.explanations_live import make_spec

    spec = make_spec(model, rows)
    if spec.native_threads:
        return "none (the library's own multi-threaded TreeSHAP, in this process)"
    if spec.arrays is not None:
        return "light: shap's C extension + numpy, the trees sent as arrays (explanations_fast)"
    return "workers that import shap + scikit-learn + pandas"


DASHBOARD_SCRIPT = """
import sys, time
import pandas as pd
from explainerdashboard import ExplainerDashboard, RegressionExplainer
from sklearn.ensemble import RandomForestRegressor
data = pd.read_csv(sys.argv[1])
X, y = data.drop(columns=["y"]), data["y"]
model = RandomForestRegressor(n_estimators=100, max_depth=8, n_jobs=-1, random_state=0).fit(X, y)
started = time.perf_counter()
ExplainerDashboard(RegressionExplainer(model, X, y), mode="external")
print(time.perf_counter() - started)
"""


def versus_explainerdashboard(python: str, X: pd.DataFrame, y: pd.Series, rows: int = 2_000) -> None:
    """explainerdashboard's build vs our complete, usable panel on the same rows and forest settings."""
    from sklearn.ensemble import RandomForestRegressor

    from workbench.apps.explain import ExplainPage
    from workbench.config import WorkbenchConfig

    X_rows, y_rows = X.iloc[:rows], y.iloc[:rows]
    model = RandomForestRegressor(n_estimators=100, max_depth=8, n_jobs=-1, random_state=0).fit(X_rows, y_rows)
    with tempfile.TemporaryDirectory(prefix="bench-ed-") as folder:
        data = Path(folder) / "workload.csv"  # both sides fit the same forest on the same rows
        X_rows.assign(y=y_rows).to_csv(data, index=False)
        script = Path(folder) / "build.py"
        script.write_text(DASHBOARD_SCRIPT)
        result = subprocess.run([python, str(script), str(data)], capture_output=True, text=True, timeout=3600,
                                check=False)
        if result.returncode != 0:
            sys.exit(f"explainerdashboard failed: {result.stderr[-2000:]}")
        theirs = float(result.stdout.strip().splitlines()[-1])
        started = time.perf_counter()
        page = ExplainPage(model=model, X=X_rows, y=y_rows, config=WorkbenchConfig(cache_dir=folder))
        usable = time.perf_counter() - started
        page.wait(timeout=3600)
        full = time.perf_counter() - started
    print(f"\n## explainerdashboard workload: RandomForest(100, depth 8), {rows:,} rows")
    print(f"  explainerdashboard build                   : {theirs:8.2f} s")
    print(f"  ours: usable panel (first screen)          : {usable:8.2f} s   ({theirs / usable:6.1f}× faster)")
    print(f"  ours: every row explained                  : {full:8.2f} s   ({theirs / full:6.1f}× faster)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--explain-rows", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="4,000 × 30, 2,000 rows explained, a 30-tree forest")
    parser.add_argument("--repeat", type=int, default=1, help="measure each model this many times (the machine's "
                        "load changes between runs: each run is printed, with its CPU seconds and load)")
    parser.add_argument("--only", choices=["rf", "hgb", "xgb", "none"], help="run one model (none: only --explainerdashboard)")
    parser.add_argument("--explainerdashboard", metavar="PYTHON",
                        help="python of a venv with explainerdashboard: also time its build on 2,000 rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.explain_rows = 4_000, 2_000
    X, y = workload(args.rows, args.features)
    if args.explainerdashboard:
        versus_explainerdashboard(args.explainerdashboard, X, y)
    results = {}
    for name, model in models(args.quick):
        if args.only and not name.lower().startswith({"rf": "random", "hgb": "hist", "xgb": "xgb", "none": "-"}[args.only]):
            continue
        for run in range(max(args.repeat, 1)):
            results[f"{name} #{run + 1}" if args.repeat > 1 else name] = bench(
                name, model, X, y, min(args.explain_rows, len(X)))
    if not results:
        return
    print("\n## Targets (targets.md): first view ≤ 5 s · full ≥ 1.5× faster than single-call shap · second open ≤ 0.5 s")
    for name, r in results.items():
        print(f"  {name:38s} first {r['first']:.2f} s · full {r['single'] / r['full']:.2f}× "
              f"(warm workers {r['single'] / r['warm']:.2f}×) · second {r['second']:.2f} s")


if __name__ == "__main__":
    main()
