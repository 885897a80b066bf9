"""MMGAN on scikit-learn's moons (the three losses) and on all of MNIST (70,000 rows), beside KMeans.

Usage (from the project root, MNIST files in ../shared/data)::

    python benchmarks/bench_mmgan.py moons --seeds 0 1 2              # 3 losses x 3 seeds
    python benchmarks/bench_mmgan.py mnist --seeds 0 1 2              # the default loss (crasgan)
    python benchmarks/bench_mmgan.py mnist --seeds 0 --no-pairing --out mmgan_mnist_no_pairing.json
    python benchmarks/bench_mmgan.py one --seed 0                      # one MNIST seed, JSON on stdout
    python benchmarks/bench_mmgan.py trace --seed 0 --params '{"init_std": 0.1}' --out mmgan_trace_std01.json
    python benchmarks/bench_mmgan.py summary --files mmgan_trace_balance_seed0.json mmgan_trace_balance_seed1.json \
        mmgan_trace_balance_seed2.json --out mmgan_mnist_balance.json   # mean +- std of traces, beside KMeans

Moons: ``make_moons(n_samples, noise, random_state=0)`` (defaults 2,000 rows,
noise 0.1), every loss fitted with each seed, and KMeans (n_init=10) on the
same rows. Each fit uses ``MMGANClustering(2, latent_dim=2, loss=...)`` with
the parameters in ``--params``.

MNIST: each seed runs in a fresh process (its own peak memory) and fits KMeans
on the raw pixels (n_init=10) and ``MMGANClustering(10, ...)`` with the
parameters in ``--params`` on the same 70,000 rows in [0, 1]. ``--no-pairing``
sets ``pairing=False`` (the paper's Table 2 ablation). Results:
``benchmarks/results/mmgan_moons.json`` and ``mmgan_mnist.json`` (or ``--out``).

Trace (a diagnosis of the MNIST runs, one seed): the same MNIST fit, and
after every epoch two views of the model. E on real rows: ACC, NMI, ARI and
cluster sizes of argmax p_E on a fixed draw of ``--trace-rows`` rows
(default 10,000). G's own clusters: 200 rows generated from each cluster
(fixed noise) are labelled by the benchmarks' MNIST classifier
(``_common.classifier_and_data``; test accuracy 0.98), giving each cluster's
purity (share of its most frequent digit), its dominant digit, the number of
distinct digits the K clusters stand for, and E's accuracy on those fakes.
A clustering of real digits can only be as good as the digits G's clusters
stand for and as E's transfer from fakes to real rows.

Summary: the mean +- std over seeds of trace files (ACC, NMI, ARI on all
70,000 rows after the fit, fit seconds, peak memory), beside KMeans of the
same seeds on the same rows, read from ``--kmeans-from`` (``KMeans(10,
n_init=10, random_state=seed)`` on the pixels is deterministic, so a trace
need not refit it).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, peak_rss_mb, run_child, write_json  # noqa: E402
from bench_dec import RESULTS, _mean_std, _report, load, start_run  # noqa: E402

#: The MNIST settings of the reported runs (the estimator's defaults plus these).
MNIST_PARAMS = {"image_shape": [1, 28, 28], "gradient_penalty": 10.0, "max_epochs": 10}
#: The moons settings of the reported runs.
MOONS_PARAMS = {"latent_dim": 2, "learning_rate": 5e-4, "batch_size": 128, "max_epochs": 600}


def moons(args):
    torch.set_flush_denormal(True)
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_moons

    from skdeepgen import MMGANClustering

    X, y = make_moons(args.n_samples, noise=args.noise, random_state=0)
    params = {**MOONS_PARAMS, **json.loads(args.params)}
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "n_samples": args.n_samples,
              "noise": args.noise, "params": params, "kmeans": [], "runs": []}
    for seed in args.seeds:
        result["kmeans"].append(_report(y, KMeans(2, n_init=10, random_state=seed).fit_predict(X)))
    for loss in args.losses:
        for seed in args.seeds:
            start = time.perf_counter()
            model = MMGANClustering(2, loss=loss, random_state=seed, **params).fit(X)
            entry = {"loss": loss, "seed": seed, **_report(y, model.labels_),
                     "seconds": time.perf_counter() - start, "cluster_stds": model.cluster_stds_.tolist()}
            result["runs"].append(entry)
            print(json.dumps(entry), flush=True)
    summary = {"kmeans": {k: _mean_std([r[k] for r in result["kmeans"]]) for k in ("acc", "nmi", "ari")}}
    for loss in args.losses:
        runs = [r for r in result["runs"] if r["loss"] == loss]
        summary[loss] = {k: _mean_std([r[k] for r in runs]) for k in ("acc", "nmi", "ari", "seconds")}
    result["summary"] = summary
    print(json.dumps(summary, indent=1), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, args.out or "mmgan_moons.json"), result)


def one(args):
    # Before any parallel torch work, so that torch's worker threads inherit it.
    torch.set_flush_denormal(True)
    from skdeepgen import MMGANClustering

    X, y = load("mnist")
    out = start_run(args, X, y)
    params = {**MNIST_PARAMS, **json.loads(args.params)}
    if args.no_pairing:
        params["pairing"] = False
    start = time.perf_counter()
    model = MMGANClustering(10, precision=args.precision, random_state=args.seed, **params).fit(X)
    seconds = time.perf_counter() - start
    entry = _report(y, model.labels_)
    entry.update({"fit_seconds": seconds, "epochs": model.n_iter_,
                  "s_per_epoch": float(np.median([r["seconds"] for r in model.history_])),
                  "last_epoch": model.history_[-1], "params": params,
                  "cluster_sizes": np.bincount(model.labels_, minlength=10).tolist(),
                  "cluster_stds": model.cluster_stds_.tolist()})
    out["mmgan"] = entry
    print("mmgan", entry, file=sys.stderr, flush=True)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


def trace(args):
    torch.set_flush_denormal(True)
    from _common import classifier_and_data

    from skdeepgen import MMGANClustering
    from skdeepgen.metrics import purity_score

    clf, clf_info, _, _ = classifier_and_data()
    X, y = load("mnist")
    params = {**MNIST_PARAMS, **json.loads(args.params)}
    rows = np.random.RandomState(0).permutation(len(X))[:args.trace_rows]
    epochs = []

    class Traced(MMGANClustering):
        def _on_epoch_end(self, ctx, record):
            module = ctx.module
            labels = self._forward_array(self._cluster_proba, X[rows], module=module).argmax(1)
            fakes = self._forward_array(self._generate, inputs, module=module)
            fake_labels = self._forward_array(self._cluster_proba, fakes, module=module).argmax(1)
            digits = clf.predict(fakes).astype(int)
            dominant = [int(np.bincount(digits[clusters == k], minlength=10).argmax()) for k in range(K)]
            entry = {"epoch": ctx.epoch, **_report(y[rows], labels),
                     "real_cluster_sizes": np.bincount(labels, minlength=K).tolist(),
                     "generated_purity": float(purity_score(digits, clusters)),
                     "generated_dominant_digit": dominant,
                     "generated_distinct_digits": len(set(dominant)),
                     "encoder_accuracy_on_fakes": float((fake_labels == clusters).mean()),
                     **{k: v for k, v in record.items() if k != "epoch"}}
            epochs.append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            return False

    model = Traced(10, precision=args.precision, random_state=args.seed, **params)
    # 200 fakes per cluster from fixed noise, in the (one-hot, noise) layout of the model's generator input.
    K, per = model.n_clusters, 200
    clusters = np.repeat(np.arange(K), per)
    noise = np.random.RandomState(1).standard_normal((K * per, model.latent_dim)).astype(np.float32)
    inputs = np.hstack([np.eye(K, dtype=np.float32)[clusters], noise])
    start = time.perf_counter()
    model.fit(X)
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "seed": args.seed,
              "params": params, "classifier": clf_info, "trace_rows": len(rows), "fit_seconds":
              time.perf_counter() - start, "final_all_rows": _report(y, model.labels_), "epochs": epochs,
              "peak_rss_mb": peak_rss_mb()}
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, args.out or "mmgan_trace.json"), result)


def mnist(args):
    path = os.path.join(RESULTS, args.out or "mmgan_mnist.json")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "precision": args.precision,
              "params": {**MNIST_PARAMS, **json.loads(args.params)}, "pairing": not args.no_pairing, "runs": []}
    os.makedirs(RESULTS, exist_ok=True)
    for seed in args.seeds:
        child = ["one", "--seed", str(seed), "--precision", args.precision, "--params", args.params]
        entry = run_child(__file__, child + ["--no-pairing"] * args.no_pairing)
        result["runs"].append(entry)
        print(json.dumps(entry), flush=True)
        write_json(path, result)
    runs = result["runs"]
    summary = {row: {k: _mean_std([r[row][k] for r in runs]) for k in ("acc", "nmi", "ari")}
               for row in ("kmeans", "mmgan")}
    for k in ("fit_seconds", "s_per_epoch"):
        summary["mmgan"][k] = _mean_std([r["mmgan"][k] for r in runs])
    summary["peak_rss_mb"] = _mean_std([r["peak_rss_mb"] for r in runs])
    result["summary"] = summary
    print(json.dumps(summary, indent=1), flush=True)
    write_json(path, result)


def summary(args):
    traces = [json.load(open(os.path.join(RESULTS, name))) for name in args.files]
    kmeans_runs = {r["seed"]: r["kmeans"] for r in json.load(open(os.path.join(RESULTS, args.kmeans_from)))["runs"]}
    seeds = [t["seed"] for t in traces]
    missing = sorted(set(seeds) - set(kmeans_runs))
    if missing:
        raise SystemExit(f"{args.kmeans_from} has no KMeans run for seeds {missing}")
    per_seed = [{"seed": t["seed"], "file": name, **t["final_all_rows"], "fit_seconds": t["fit_seconds"],
                 "s_per_epoch": float(np.median([e["seconds"] for e in t["epochs"]])),
                 "peak_rss_mb": t["peak_rss_mb"], "kmeans": kmeans_runs[t["seed"]]}
                for name, t in zip(args.files, traces)]
    result = {"command": " ".join(["python", *sys.argv]), "machines": [t["machine"] for t in traces],
              "params": [t["params"] for t in traces], "kmeans_from": args.kmeans_from, "runs": per_seed,
              "summary": {
                  "mmgan": {k: _mean_std([r[k] for r in per_seed]) for k in ("acc", "nmi", "ari", "fit_seconds",
                                                                               "s_per_epoch", "peak_rss_mb")},
                  "kmeans": {k: _mean_std([r["kmeans"][k] for r in per_seed]) for k in ("acc", "nmi", "ari")}}}
    print(json.dumps(result["summary"], indent=1), flush=True)
    write_json(os.path.join(RESULTS, args.out or "mmgan_mnist_summary.json"), result)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("moons", "mnist", "one", "trace", "summary"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--losses", nargs="+", default=["sgan", "rsgan", "crasgan"])
    parser.add_argument("--n-samples", type=int, default=2000, help="moons rows (default 2000)")
    parser.add_argument("--noise", type=float, default=0.1, help="moons noise (default 0.1)")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--params", default="{}", help="JSON dict of extra MMGANClustering parameters")
    parser.add_argument("--no-pairing", action="store_true", help="pairing=False (MNIST)")
    parser.add_argument("--trace-rows", type=int, default=10000, help="real rows scored each epoch (trace)")
    parser.add_argument("--files", nargs="+", default=[], help="trace files under benchmarks/results (summary)")
    parser.add_argument("--kmeans-from", default="mmgan_mnist.json", help="MNIST results with KMeans per seed")
    parser.add_argument("--out", default=None, help="file name under benchmarks/results")
    args = parser.parse_args()
    {"moons": moons, "mnist": mnist, "one": one, "trace": trace, "summary": summary}[args.mode](args)


if __name__ == "__main__":
    main()
