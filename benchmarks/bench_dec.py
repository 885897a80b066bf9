"""DEC and IDEC on all of MNIST (70,000 rows) or USPS (9,298 rows), beside KMeans and AE+KMeans.

Usage (from the project root, data files in ../shared/data)::

    python benchmarks/bench_dec.py run --dataset mnist --seeds 0 1 2 --precision bf16
    python benchmarks/bench_dec.py run --dataset usps --seeds 0 1 2 --precision bf16
    python benchmarks/bench_dec.py one --dataset usps --seed 0 --precision bf16   # one seed, JSON line

Each seed runs in a fresh process (its own peak memory) and does, on the same
data: KMeans on the raw pixels (n_init=10); the Autoencoder pretraining that
``DECClustering`` runs with ``pretrain_optimizer="sgd", pretrain_learning_rate=1.0``
(the DEC reference code's MNIST recipe; d-500-500-2000-10, SGD with momentum 0.9,
batch 256, ``--pretrain-epochs``; ``--pretrain-optimizer adam --pretrain-lr 1e-3``
gives DEC's default pretraining); AE+KMeans on its codes (n_init=20, as DEC's
initialisation); then ``DECClustering`` and ``IDECClustering`` with their
default settings, both reusing that pretrained Autoencoder
(``pretrained=ae``), so the three deep rows share one pretraining. DEC's
"fit time including pretraining" is the pretraining time plus DEC's own fit.

Seconds per epoch are medians over epochs (pretraining: epochs 3 onwards),
in the units of ClustPy's figures (one pass over all rows, batch 256); a DEC
clustering epoch includes its target-distribution updates.
Results: ``benchmarks/results/dec_{dataset}.json``.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, HERE, machine, peak_rss_mb, run_child, write_json  # noqa: E402

RESULTS = os.path.join(HERE, "results")


def load(dataset):
    from skdeepgen.datasets import fetch_mnist, fetch_usps

    fetch = {"mnist": fetch_mnist, "usps": fetch_usps}[dataset]
    return fetch(data_home=DATA_HOME, subset="all", return_X_y=True)


def _report(y, labels):
    from skdeepgen.metrics import cluster_report

    r = cluster_report(y, labels)
    return {"acc": r["acc"], "nmi": r["nmi"], "ari": r["ari"]}


def start_run(args, X, y):
    """The record of one seed's run, opened with KMeans (n_init=10) on the raw pixels."""
    from sklearn.cluster import KMeans

    out = {"seed": args.seed, "precision": args.precision, "n_samples": len(X)}
    start = time.perf_counter()
    out["kmeans"] = _report(y, KMeans(10, n_init=10, random_state=args.seed).fit_predict(X))
    out["kmeans"]["seconds"] = time.perf_counter() - start
    print("kmeans", out["kmeans"], file=sys.stderr, flush=True)
    return out


def one(args):
    # Before any parallel torch work, so that torch's worker threads inherit it.
    torch.set_flush_denormal(True)
    from sklearn.cluster import KMeans

    from skdeepgen import Autoencoder, DECClustering, IDECClustering

    X, y = load(args.dataset)
    out = start_run(args, X, y)

    # The pretraining DECClustering runs with pretrain_optimizer / pretrain_learning_rate, done once and reused.
    start = time.perf_counter()
    ae = Autoencoder(max_epochs=args.pretrain_epochs, optimizer=args.pretrain_optimizer,
                     learning_rate=args.pretrain_lr, precision=args.precision,
                     random_state=args.seed, n_iter_no_change=None).fit(X)
    pretrain_seconds = time.perf_counter() - start
    epoch_seconds = [r["seconds"] for r in ae.history_]
    codes = ae.transform(X)
    out["ae_kmeans"] = _report(y, KMeans(10, n_init=20, random_state=args.seed).fit_predict(codes))
    out["pretrain"] = {"epochs": len(epoch_seconds), "seconds": pretrain_seconds,
                       "s_per_epoch": float(np.median(epoch_seconds[2:] or epoch_seconds)),
                       "final_loss": ae.history_[-1]["loss"], "optimizer": args.pretrain_optimizer,
                      "learning_rate": args.pretrain_lr}
    print("pretrain", out["pretrain"], out["ae_kmeans"], file=sys.stderr, flush=True)

    for name, cls in (("dec", DECClustering), ("idec", IDECClustering)):
        start = time.perf_counter()
        model = cls(10, pretrained=ae, precision=args.precision, random_state=args.seed).fit(X)
        seconds = time.perf_counter() - start
        clustering_epochs = [r["seconds"] for r in model.history_]
        entry = _report(y, model.labels_)
        entry.update({"fit_seconds": seconds, "fit_seconds_with_pretraining": seconds + pretrain_seconds,
                      "clustering_epochs": model.n_iter_,
                      "s_per_clustering_epoch": float(np.median(clustering_epochs)),
                      "final_label_change": model.history_[-1].get("label_change")})
        # predict is the model's own argmax q; check it agrees with labels_ on the training data.
        entry["predict_matches_labels"] = float(np.mean(model.predict(X) == model.labels_))
        out[name] = entry
        print(name, entry, file=sys.stderr, flush=True)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


def _mean_std(values):
    return [float(np.mean(values)), float(np.std(values))]


def run(args):
    path = os.path.join(RESULTS, args.out or f"dec_{args.dataset}.json")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "dataset": args.dataset,
              "precision": args.precision, "pretrain_epochs": args.pretrain_epochs,
              "pretrain_optimizer": args.pretrain_optimizer, "pretrain_lr": args.pretrain_lr, "runs": []}
    os.makedirs(RESULTS, exist_ok=True)
    for seed in args.seeds:
        child = ["one", "--dataset", args.dataset, "--seed", str(seed), "--precision", args.precision,
                 "--pretrain-epochs", str(args.pretrain_epochs), "--pretrain-optimizer", args.pretrain_optimizer,
                 "--pretrain-lr", str(args.pretrain_lr)]
        entry = run_child(__file__, child)
        result["runs"].append(entry)
        print(json.dumps(entry), flush=True)
        write_json(path, result)
    runs = result["runs"]
    summary = {}
    for row in ("kmeans", "ae_kmeans", "dec", "idec"):
        summary[row] = {k: _mean_std([r[row][k] for r in runs]) for k in ("acc", "nmi", "ari")}
    for row in ("dec", "idec"):
        for k in ("fit_seconds", "fit_seconds_with_pretraining", "s_per_clustering_epoch", "clustering_epochs"):
            summary[row][k] = _mean_std([r[row][k] for r in runs])
    summary["pretrain"] = {k: _mean_std([r["pretrain"][k] for r in runs]) for k in ("seconds", "s_per_epoch")}
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
    parser.add_argument("--pretrain-epochs", type=int, default=200)
    parser.add_argument("--pretrain-optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--pretrain-lr", type=float, default=1.0)
    parser.add_argument("--out", default=None, help="file name under benchmarks/results")
    args = parser.parse_args()
    {"run": run, "one": one}[args.mode](args)


if __name__ == "__main__":
    main()
