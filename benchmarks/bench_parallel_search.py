"""A 4-candidate GridSearchCV run sequentially, on two loky workers and on a Dask LocalCluster.

Usage (from the project root; needs ``pip install .[distributed]`` for the Dask run)::

    python benchmarks/bench_parallel_search.py            # -> results/parallel_search.json
    python benchmarks/bench_parallel_search.py --repeats 3    # and time sequential / loky 3 times each

The search: ``JGMMNClustering`` on scikit-learn's digits (1,797 rows in
[0, 1]) over ``kernel`` in {gaussian, imq} and ``n_clusters`` in {8, 10},
2-fold CV, scored by clustering accuracy (``scorers["acc"]``): 8 fits per
search. It runs four ways, one after the other, each timed with its worker
start-up included:

* ``sequential``: ``n_jobs=1`` in this process, with torch's default threads
  (all cores);
* ``sequential_1_thread``: the same under ``threadpoolctl.threadpool_limits(1)``,
  i.e. with the thread count each parallel worker gets, to show that the
  parallel scores are bitwise those of a sequential search run with the same
  threads per fit;
* ``loky``: ``n_jobs=2`` on joblib's default backend (each worker gets
  cores // 2 torch threads from joblib);
* ``dask``: ``n_jobs=2`` inside ``joblib.parallel_config(backend="dask")``
  with a ``dask.distributed`` ``LocalCluster`` of two single-threaded worker
  processes (cluster start-up included).

The refitted best model comes back to this process in every case and its
``predict`` is compared with the sequential one.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, write_json  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
GRID = {"kernel": ["gaussian", "imq"], "n_clusters": [8, 10]}


def search(n_jobs, max_epochs):
    from sklearn.model_selection import GridSearchCV

    from skdeepgen import JGMMNClustering
    from skdeepgen.metrics import scorers

    est = JGMMNClustering(max_epochs=max_epochs, random_state=0)
    return GridSearchCV(est, GRID, cv=2, scoring=scorers["acc"], n_jobs=n_jobs)


def run(name, make, X, y, context=None):
    import contextlib

    start = time.perf_counter()
    with context() if context else contextlib.nullcontext():
        fitted = make().fit(X, y)
    seconds = time.perf_counter() - start
    split = np.column_stack([fitted.cv_results_[f"split{i}_test_score"] for i in range(fitted.n_splits_)])
    print(f"{name:>22}: {seconds:7.1f} s  mean scores {np.round(fitted.cv_results_['mean_test_score'], 4)}",
          file=sys.stderr, flush=True)
    return fitted, {"seconds": seconds, "split_scores": split.tolist(),
                    "mean_test_score": fitted.cv_results_["mean_test_score"].tolist(),
                    "params": [str(p) for p in fitted.cv_results_["params"]],
                    "best_params": fitted.best_params_}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1,
                        help="time the sequential and loky searches this many times in all, alternating, and "
                             "report mean +- std of the wall times and of their ratio")
    parser.add_argument("--out", default="parallel_search.json")
    args = parser.parse_args()

    from sklearn.datasets import load_digits
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    out = {"machine": machine(), "grid": GRID, "cv": 2, "max_epochs": args.max_epochs, "runs": {}}
    fitted = {}
    fitted["sequential"], out["runs"]["sequential"] = run("sequential", lambda: search(1, args.max_epochs), X, y)
    fitted["sequential_1_thread"], out["runs"]["sequential_1_thread"] = run(
        "sequential_1_thread", lambda: search(1, args.max_epochs), X, y, lambda: threadpool_limits(1))
    fitted["loky"], out["runs"]["loky"] = run("loky n_jobs=2", lambda: search(2, args.max_epochs), X, y)
    try:
        import contextlib

        import joblib
        from dask.distributed import Client, LocalCluster

        @contextlib.contextmanager
        def dask_backend():
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    Client(cluster), joblib.parallel_config(backend="dask"):
                yield

        fitted["dask"], out["runs"]["dask"] = run("dask LocalCluster", lambda: search(2, args.max_epochs), X, y,
                                                  dask_backend)
    except ImportError as exc:
        out["runs"]["dask"] = {"skipped": str(exc)}
    reference = np.array(out["runs"]["sequential_1_thread"]["split_scores"])
    for name, record in out["runs"].items():
        if "split_scores" in record:
            diff = np.abs(np.array(record["split_scores"]) - reference)
            record["max_abs_diff_vs_sequential_1_thread"] = float(diff.max())
            record["bitwise_equal_to_sequential_1_thread"] = bool((diff == 0).all())
            record["best_predict_equal_to_sequential_1_thread"] = bool(np.array_equal(
                fitted[name].predict(X), fitted["sequential_1_thread"].predict(X)))
    times = {"sequential": [out["runs"]["sequential"]["seconds"]], "loky": [out["runs"]["loky"]["seconds"]]}
    for _ in range(args.repeats - 1):
        times["sequential"].append(run("sequential (repeat)", lambda: search(1, args.max_epochs), X, y)[1]["seconds"])
        times["loky"].append(run("loky n_jobs=2 (repeat)", lambda: search(2, args.max_epochs), X, y)[1]["seconds"])
    ratios = np.array(times["sequential"]) / np.array(times["loky"])
    out["timing_repeats"] = {**times, "ratio_sequential_over_loky": ratios.tolist(),
                             "mean_std": {k: [float(np.mean(v)), float(np.std(v))]
                                          for k, v in {**times, "ratio": ratios}.items()}}
    seq = out["runs"]["sequential"]["seconds"]
    for name in ("loky", "dask"):
        if "seconds" in out["runs"][name]:
            out["runs"][name]["speedup_vs_sequential"] = seq / out["runs"][name]["seconds"]
    write_json(os.path.join(RESULTS, args.out), out)
    print(f"wrote {os.path.join(RESULTS, args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
