"""JGMMN on all of MNIST (70,000 rows) or USPS (9,298 rows), beside KMeans, AE+KMeans and DEC.

Usage (from the project root, data files in ../shared/data)::

    python benchmarks/bench_jgmmn.py run --dataset mnist --seeds 0 1 2 --precision bf16
    python benchmarks/bench_jgmmn.py run --dataset usps --seeds 0 1 2 --precision bf16
    python benchmarks/bench_jgmmn.py run --dataset mnist --seeds 0 1 2 --nr 0   # JGMMN-NR on seed 0 only
    python benchmarks/bench_jgmmn.py one --dataset usps --seed 0     # one seed, JSON line on stdout

Each seed runs in a fresh process (its own peak memory) and does, on the same
data: KMeans on the raw pixels (n_init=10); the Autoencoder pretraining that
``JGMMNClustering`` runs by default (its inference network, the paper's Table 3:
d-500-500-2000-10 on MNIST, d-100-100-500-10 on USPS, with the "auto" recipe:
SGD with momentum 0.9 at 1.0, batch 256, 200 epochs); AE+KMeans on its codes;
``DECClustering`` and ``JGMMNClustering`` with their default settings, both
reusing that pretrained network (``pretrained=ae``), as the paper gives every
DNN method the same architecture. ``--nr`` adds JGMMN-NR
(``regularization=0``) for every seed, ``--nr 0`` for seed 0 only. "Fit time including pretraining" is the pretraining
time plus the model's own fit.

``--cache DIR`` keeps each seed's pretrained Autoencoder (and its measured
pretraining seconds) in DIR and reuses it on the next run of the same seed,
dataset and precision, so that trying JGMMN settings does not pay for
pretraining again; the pretraining time reported is always the one measured
when the network was trained.
Results: ``benchmarks/results/jgmmn_{dataset}.json``.
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


def pretrain(args, X):
    """The seed's pretrained Autoencoder and its training seconds (from the cache when there)."""
    from skdeepgen import Autoencoder
    from skdeepgen._pretrain import pretraining_recipe
    from skdeepgen.jgmmn import _auto_layers

    layers = _auto_layers(X.shape[1])[0]
    optimizer, learning_rate = pretraining_recipe(X)
    name = f"ae_{args.dataset}_{args.precision}_seed{args.seed}_{'-'.join(map(str, layers))}.pt"
    path = os.path.join(args.cache, name) if args.cache else None
    if path and os.path.exists(path):
        with open(path + ".json") as fh:
            return Autoencoder.load(path), {**json.load(fh), "from_cache": path}
    start = time.perf_counter()
    ae = Autoencoder(encoder_layers=layers, max_epochs=args.pretrain_epochs, optimizer=optimizer,
                     learning_rate=learning_rate, precision=args.precision, random_state=args.seed,
                     n_iter_no_change=None).fit(X)
    info = {"seconds": time.perf_counter() - start, "epochs": ae.n_iter_, "layers": list(layers),
            "optimizer": optimizer, "learning_rate": learning_rate, "final_loss": ae.history_[-1]["loss"],
            "s_per_epoch": float(np.median([r["seconds"] for r in ae.history_][2:]))}
    if path:
        ae.save(path)
        with open(path + ".json", "w") as fh:
            json.dump(info, fh)
    return ae, info


def one(args):
    # Before any parallel torch work, so that torch's worker threads inherit it.
    torch.set_flush_denormal(True)
    from sklearn.cluster import KMeans

    from skdeepgen import DECClustering, JGMMNClustering

    X, y = load(args.dataset)
    out = start_run(args, X, y)
    ae, out["pretrain"] = pretrain(args, X)
    out["ae_kmeans"] = _report(y, KMeans(10, n_init=20, random_state=args.seed).fit_predict(ae.transform(X)))
    print("pretrain", out["pretrain"], out["ae_kmeans"], file=sys.stderr, flush=True)
    extra = json.loads(args.params)
    models = [("jgmmn", JGMMNClustering, extra)]
    if args.nr is not None:
        models.append(("jgmmn_nr", JGMMNClustering, {**extra, "regularization": 0.0}))
    if not args.no_dec:
        models.append(("dec", DECClustering, {}))
    for name, cls, params in models:
        start = time.perf_counter()
        model = cls(10, pretrained=ae, precision=args.precision, random_state=args.seed, **params).fit(X)
        seconds = time.perf_counter() - start
        entry = _report(y, model.labels_)
        entry.update({"fit_seconds": seconds, "fit_seconds_with_pretraining": seconds + out["pretrain"]["seconds"],
                      "epochs": model.n_iter_, "s_per_epoch": float(np.median([r["seconds"] for r in model.history_])),
                      "last_epoch": model.history_[-1], "params": params})
        out[name] = entry
        print(name, entry, file=sys.stderr, flush=True)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


def run(args):
    path = os.path.join(RESULTS, args.out or f"jgmmn_{args.dataset}.json")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "dataset": args.dataset,
              "precision": args.precision, "pretrain_epochs": args.pretrain_epochs, "params": args.params,
              "runs": []}
    os.makedirs(RESULTS, exist_ok=True)
    for seed in args.seeds:
        child = ["one", "--dataset", args.dataset, "--seed", str(seed), "--precision", args.precision,
                 "--pretrain-epochs", str(args.pretrain_epochs), "--params", args.params]
        with_nr = args.nr is not None and (not args.nr or seed in args.nr)
        child += ["--nr"] * with_nr + ["--no-dec"] * args.no_dec + (["--cache", args.cache] if args.cache else [])
        entry = run_child(__file__, child)
        result["runs"].append(entry)
        print(json.dumps(entry), flush=True)
        write_json(path, result)
    runs = result["runs"]
    rows = [r for r in ("kmeans", "ae_kmeans", "dec", "jgmmn", "jgmmn_nr") if any(r in run for run in runs)]
    # Each row over the seeds that ran it (JGMMN-NR may run on some seeds only).
    summary = {row: {k: _mean_std([r[row][k] for r in runs if row in r]) for k in ("acc", "nmi", "ari")}
               for row in rows}
    for row in set(rows) - {"kmeans", "ae_kmeans"}:
        for k in ("fit_seconds", "fit_seconds_with_pretraining", "epochs", "s_per_epoch"):
            summary[row][k] = _mean_std([r[row][k] for r in runs if row in r])
        summary[row]["seeds"] = [r["seed"] for r in runs if row in r]
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
    parser.add_argument("--params", default="{}", help="JSON dict of JGMMNClustering parameters (default: none)")
    parser.add_argument("--nr", type=int, nargs="*", default=None,
                        help="also fit JGMMN-NR (regularization=0): on every seed, or on the seeds listed")
    parser.add_argument("--no-dec", action="store_true", help="skip the DEC row")
    parser.add_argument("--cache", default=None, help="folder keeping pretrained autoencoders between runs")
    parser.add_argument("--out", default=None, help="file name under benchmarks/results")
    args = parser.parse_args()
    {"run": run, "one": one}[args.mode](args)


if __name__ == "__main__":
    main()
