"""VAE+KMeans on all of MNIST (70,000 rows) or USPS (9,298 rows), beside KMeans.

Usage (from the project root, data files in ../shared/data)::

    python benchmarks/bench_vae.py run --dataset mnist --seeds 0 1 2 --precision bf16
    python benchmarks/bench_vae.py one --dataset mnist --seed 0 --precision bf16   # one seed, JSON line

Each seed runs in a fresh process (its own peak memory): KMeans on the raw
pixels (n_init=10), then ``make_pipeline(VariationalAutoencoder(...),
KMeans(10, n_init=10))`` with the VAE's defaults (d-500-500-2000-10, Gaussian
likelihood, Adam 1e-3, batch 256, at most ``--max-epochs`` epochs with its
default early stopping). The AE+KMeans row of the same seeds is in
``dec_{dataset}.json`` (``bench_dec.py``).
Results: ``benchmarks/results/vae_{dataset}.json``.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, machine, peak_rss_mb, run_child, write_json  # noqa: E402
from bench_dec import _mean_std, _report, load, start_run  # noqa: E402

RESULTS = os.path.join(HERE, "results")


def one(args):
    # Before any parallel torch work, so that torch's worker threads inherit it.
    torch.set_flush_denormal(True)
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline

    from skdeepgen import VariationalAutoencoder

    X, y = load(args.dataset)
    out = start_run(args, X, y)

    vae = VariationalAutoencoder(max_epochs=args.max_epochs, precision=args.precision, random_state=args.seed)
    pipe = make_pipeline(vae, KMeans(10, n_init=10, random_state=args.seed))
    start = time.perf_counter()
    labels = pipe.fit_predict(X)
    seconds = time.perf_counter() - start
    entry = _report(y, labels)
    epochs = [r["seconds"] for r in vae.history_]
    entry.update({"fit_seconds": seconds, "epochs": vae.n_iter_,
                  "s_per_epoch": float(np.median(epochs[2:] or epochs)),
                  "final_kl": vae.history_[-1]["kl"], "elbo": vae.score(X)})
    out["vae_kmeans"] = entry
    out["peak_rss_mb"] = peak_rss_mb()
    print("vae_kmeans", entry, file=sys.stderr, flush=True)
    print(json.dumps(out), flush=True)


def run(args):
    path = os.path.join(RESULTS, f"vae_{args.dataset}.json")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "dataset": args.dataset,
              "precision": args.precision, "max_epochs": args.max_epochs, "runs": []}
    os.makedirs(RESULTS, exist_ok=True)
    for seed in args.seeds:
        child = ["one", "--dataset", args.dataset, "--seed", str(seed), "--precision", args.precision,
                 "--max-epochs", str(args.max_epochs)]
        entry = run_child(__file__, child)
        result["runs"].append(entry)
        print(json.dumps(entry), flush=True)
        write_json(path, result)
    runs = result["runs"]
    summary = {row: {k: _mean_std([r[row][k] for r in runs]) for k in ("acc", "nmi", "ari")}
               for row in ("kmeans", "vae_kmeans")}
    for k in ("fit_seconds", "epochs", "s_per_epoch", "elbo"):
        summary["vae_kmeans"][k] = _mean_std([r["vae_kmeans"][k] for r in runs])
    summary["peak_rss_mb"] = _mean_std([r["peak_rss_mb"] for r in runs])
    result["summary"] = summary
    print(json.dumps(summary, indent=1), flush=True)
    write_json(path, result)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("run", "one"))
    parser.add_argument("--dataset", choices=("mnist", "usps"), default="mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--max-epochs", type=int, default=100)
    args = parser.parse_args()
    {"run": run, "one": one}[args.mode](args)


if __name__ == "__main__":
    main()
