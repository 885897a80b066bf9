"""AMM clustering on all of MNIST (70,000 rows) and SAMM with 1,000 labels, beside KMeans.

Usage (from the project root, MNIST files in ../shared/data)::

    python benchmarks/bench_amm.py amm --seeds 0 1 2                       # K = 10
    python benchmarks/bench_amm.py amm --seeds 0 --n-clusters 20 --out amm_mnist_k20.json
    python benchmarks/bench_amm.py samm --seeds 0 1 2                      # 100 labels per class
    python benchmarks/bench_amm.py one --seed 0 [--samm]                   # one seed, JSON on stdout
    python benchmarks/bench_amm.py trace --seed 0 --params '{"max_epochs": 60}' --out amm_trace_60epochs.json
    python benchmarks/bench_amm.py trace --seed 0 --params '{"max_epochs": 1000}' --time-budget 300  # e.g. on a GPU

AMM: each seed runs in a fresh process (its own peak memory), fits KMeans on
the raw pixels (n_init=10) and ``AMMClustering(K, ...)`` with the parameters
in ``AMM_PARAMS`` and ``--params`` on the same 70,000 rows in [0, 1], and
reports ACC, NMI, ARI and purity of ``labels_`` (purity is the figure for
K > 10, where ACC's one-to-one mapping leaves clusters unmatched).

Trace (how ACC moves with the epoch budget, one seed): the same AMM fit,
scored after every epoch on a fixed draw of ``--trace-rows`` real rows
(default 10,000): ACC, NMI, ARI, purity and cluster sizes of ``argmax
G_y(x)``, beside the epoch's losses; then the scores on all 70,000 rows.
With ``--time-budget S`` the fit stops after the first epoch that ends more
than S seconds after the fit began (for runs with a fixed device lease).

SAMM: the 60,000 training rows, of which 100 per class (drawn with the
seed) keep their labels and the rest are marked -1, then accuracy of
``predict`` on the 10,000 test rows; KMeans is fitted on the training rows
and scored (ACC, Hungarian mapping) on the test rows. Results:
``benchmarks/results/amm_mnist.json``, ``samm_mnist.json`` (or ``--out``).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, machine, peak_rss_mb, run_child, write_json  # noqa: E402
from bench_dec import RESULTS, _mean_std, load  # noqa: E402

#: The settings of the reported runs (the estimators' defaults plus these).
AMM_PARAMS = {"max_epochs": 20}
SAMM_PARAMS = {"max_epochs": 12}


def _report(y, labels):
    from skdeepgen.metrics import cluster_report

    r = cluster_report(y, labels)
    return {k: r[k] for k in ("acc", "nmi", "ari", "purity")}


def _fit_record(model, seconds):
    return {"fit_seconds": seconds, "epochs": model.n_iter_,
            "s_per_epoch": float(np.median([r["seconds"] for r in model.history_])),
            "last_epoch": model.history_[-1]}


def labelled_rows(y, seed, per_class):
    """Indices of the rows that keep their labels: `per_class` of each digit, drawn with `seed`."""
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)])


def one(args):
    # Before any parallel torch work, so that torch's worker threads inherit it.
    torch.set_flush_denormal(True)
    from sklearn.cluster import KMeans

    from skdeepgen import AMMClustering, SAMMClassifier
    from skdeepgen.datasets import fetch_mnist

    out = {"seed": args.seed, "precision": args.precision}
    if args.samm:
        params = {**SAMM_PARAMS, **json.loads(args.params)}
        X, y = fetch_mnist(data_home=DATA_HOME, subset="train", return_X_y=True)
        X_test, y_test = fetch_mnist(data_home=DATA_HOME, subset="test", return_X_y=True)
        keep = labelled_rows(y, args.seed, args.labels_per_class)
        y_partial = np.full_like(y, -1)
        y_partial[keep] = y[keep]
        start = time.perf_counter()
        kmeans = KMeans(10, n_init=10, random_state=args.seed).fit(X)
        out["kmeans_test"] = _report(y_test, kmeans.predict(X_test))
        out["kmeans_test"]["seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        model = SAMMClassifier(precision=args.precision, random_state=args.seed, **params).fit(X, y_partial)
        seconds = time.perf_counter() - start
        accuracy = model.score(X_test, y_test)
        out["samm"] = {"test_accuracy": accuracy, "test_error": 1 - accuracy, "n_labelled": int(len(keep)),
                       "train_unlabelled_accuracy": float(np.mean(model.predict(X[y_partial == -1])
                                                                  == y[y_partial == -1])),
                       "bayes_test_accuracy": float(np.mean(model.classes_[model.embedding_proba(X_test)
                                                                           .argmax(axis=1)] == y_test)),
                       **_fit_record(model, seconds), "params": params}
        print("samm", out["samm"], file=sys.stderr, flush=True)
    else:
        params = {**AMM_PARAMS, **json.loads(args.params)}
        X, y = load("mnist")
        out["n_samples"] = len(X)
        start = time.perf_counter()
        out["kmeans"] = _report(y, KMeans(args.n_clusters, n_init=10, random_state=args.seed).fit_predict(X))
        out["kmeans"]["seconds"] = time.perf_counter() - start
        print("kmeans", out["kmeans"], file=sys.stderr, flush=True)
        start = time.perf_counter()
        model = AMMClustering(args.n_clusters, precision=args.precision, random_state=args.seed, **params).fit(X)
        seconds = time.perf_counter() - start
        bayes = model.embedding_proba(X).argmax(axis=1)
        out["amm"] = {**_report(y, model.labels_), **_fit_record(model, seconds), "params": params,
                      "bayes_embedding": _report(y, bayes),
                      "cluster_sizes": np.bincount(model.labels_, minlength=args.n_clusters).tolist()}
        print("amm", out["amm"], file=sys.stderr, flush=True)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


def trace(args):
    torch.set_flush_denormal(True)
    from skdeepgen import AMMClustering

    X, y = load("mnist")
    params = {**AMM_PARAMS, **json.loads(args.params)}
    rows = np.random.RandomState(0).permutation(len(X))[:args.trace_rows]
    epochs = []

    class Traced(AMMClustering):
        def _on_epoch_end(self, ctx, record):
            labels = self._forward_array(self._cluster_proba, X[rows], module=ctx.module).argmax(1)
            entry = {"epoch": ctx.epoch, **_report(y[rows], labels),
                     "real_cluster_sizes": np.bincount(labels, minlength=args.n_clusters).tolist(),
                     **{k: v for k, v in record.items() if k != "epoch"}}
            epochs.append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            over = args.time_budget is not None and time.perf_counter() - start > args.time_budget
            return super()._on_epoch_end(ctx, record) or over

    model = Traced(args.n_clusters, precision=args.precision, random_state=args.seed, **params)
    start = time.perf_counter()
    model.fit(X)
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "seed": args.seed,
              "params": params, "trace_rows": len(rows), **_fit_record(model, time.perf_counter() - start),
              "final_all_rows": _report(y, model.labels_),
              "cluster_sizes": np.bincount(model.labels_, minlength=args.n_clusters).tolist(),
              "epochs_trace": epochs, "peak_rss_mb": peak_rss_mb()}
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, args.out or "amm_trace.json"), result)


def _many(args, samm):
    default = "samm_mnist.json" if samm else "amm_mnist.json"
    path = os.path.join(RESULTS, args.out or default)
    params = {**(SAMM_PARAMS if samm else AMM_PARAMS), **json.loads(args.params)}
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "precision": args.precision,
              "params": params, "runs": []}
    if samm:
        result["labels_per_class"] = args.labels_per_class
    else:
        result["n_clusters"] = args.n_clusters
    os.makedirs(RESULTS, exist_ok=True)
    for seed in args.seeds:
        child = ["one", "--seed", str(seed), "--precision", args.precision, "--params", args.params,
                 "--n-clusters", str(args.n_clusters), "--labels-per-class", str(args.labels_per_class)]
        entry = run_child(__file__, child + ["--samm"] * samm)
        result["runs"].append(entry)
        print(json.dumps(entry), flush=True)
        write_json(path, result)
    runs = result["runs"]
    if samm:
        keys = {"samm": ("test_accuracy", "test_error", "bayes_test_accuracy", "fit_seconds", "s_per_epoch"),
                "kmeans_test": ("acc", "nmi", "ari")}
    else:
        keys = {"amm": ("acc", "nmi", "ari", "purity", "fit_seconds", "s_per_epoch"),
                "kmeans": ("acc", "nmi", "ari", "purity")}
    summary = {row: {k: _mean_std([r[row][k] for r in runs]) for k in ks} for row, ks in keys.items()}
    summary["peak_rss_mb"] = _mean_std([r["peak_rss_mb"] for r in runs])
    result["summary"] = summary
    print(json.dumps(summary, indent=1), flush=True)
    write_json(path, result)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("amm", "samm", "one", "trace"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samm", action="store_true", help="with one: the SAMM run")
    parser.add_argument("--n-clusters", type=int, default=10)
    parser.add_argument("--labels-per-class", type=int, default=100)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--params", default="{}", help="JSON dict of extra estimator parameters")
    parser.add_argument("--trace-rows", type=int, default=10000, help="real rows scored each epoch (trace)")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="trace: stop after the epoch that ends past this many seconds of fitting")
    parser.add_argument("--out", default=None, help="file name under benchmarks/results")
    args = parser.parse_args()
    if args.mode == "one":
        one(args)
    elif args.mode == "trace":
        trace(args)
    else:
        _many(args, samm=args.mode == "samm")


if __name__ == "__main__":
    main()
