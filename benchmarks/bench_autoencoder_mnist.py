"""Autoencoder on all 70,000 MNIST rows: loop overhead, speed, AE+KMeans accuracy.

Usage (from the project root, MNIST files in ../shared/data/mnist)::

    python benchmarks/bench_autoencoder_mnist.py speed --epochs 6   # overhead ratio, s/epoch, FLOP/s, throughput
    python benchmarks/bench_autoencoder_mnist.py accuracy --epochs 50 --precisions fp32 bf16 --seeds 0 1 2
    python benchmarks/bench_autoencoder_mnist.py one --seed 0 --precision bf16 --epochs 50   # one run, JSON line

Results go to ``benchmarks/results/autoencoder_mnist_{speed,accuracy}.json``.

Speed: the Autoencoder through the shell against bare hand-written torch loops
on the same network (784-500-500-2000-10 and back), batch 256, Adam 1e-3, the
same data, in the same process, ``--epochs`` epochs each: a typical loop
(default Adam and float handling) and one doing the shell's work (fused Adam,
denormals flushed). Steady state is the median of epochs 3 onwards.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, HERE, machine, matmul_flops, peak_rss_mb, run_child, write_json  # noqa: E402

from skdeepgen import Autoencoder  # noqa: E402
from skdeepgen.autoencoder import AutoencoderModule  # noqa: E402
from skdeepgen.datasets import fetch_mnist  # noqa: E402
from skdeepgen.metrics import cluster_report  # noqa: E402
from skdeepgen.networks import mlp_flops  # noqa: E402

RESULTS = os.path.join(HERE, "results")
SIZES = (784, 500, 500, 2000, 10)


def load():
    return fetch_mnist(data_home=DATA_HOME, subset="all", return_X_y=True)


def bare_epoch_seconds(X, precision, fused, flush, epochs, seed=0):
    """Seconds of each epoch of a plain torch loop: what a user writes by hand.

    ``fused=False, flush=False`` is the typical hand-written loop (torch's
    default Adam, default float handling). ``fused=True, flush=True`` does the
    same work as the shell (fused Adam, denormals flushed to zero), so the
    ratio shell / that loop isolates the shell's own overhead.
    """
    torch.manual_seed(seed)
    torch.set_flush_denormal(flush)
    model = AutoencoderModule(784, (500, 500, 2000), 10, None, "relu", False, 0.0, None)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    data = torch.from_numpy(X)
    g = torch.Generator().manual_seed(seed)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(data), generator=g)
        running = 0.0
        for i in range(0, len(data), 256):
            xb = data[perm[i:i + 256]]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = F.mse_loss(model(xb).float(), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item() * len(xb)
        seconds.append(time.perf_counter() - start)
    torch.set_flush_denormal(False)
    return seconds


def shell_epoch_seconds(X, precision, epochs, seed=0):
    ae = Autoencoder(max_epochs=epochs, precision=precision, random_state=seed, n_iter_no_change=None).fit(X)
    return [r["seconds"] for r in ae.history_], ae


def _steady(seconds):
    # Denormals slow a loop down from about the third epoch on: report the
    # median of epochs 3.. as the steady state, beside the first epoch.
    return {"epochs": seconds, "first": seconds[0], "steady_median": float(np.median(seconds[2:]))}


def speed(args):
    if args.flush_at_start:
        # Before any parallel torch work: worker threads inherit the flag.
        torch.set_flush_denormal(True)
    X, y = load()
    result = {"machine": machine(), "command": " ".join(sys.argv), "flush_at_start": args.flush_at_start,
              "n_samples": len(X), "batch_size": 256,
              "architecture": SIZES, "epochs_per_config": args.epochs,
              "matmul_gflops": {"fp32": matmul_flops(torch.float32) / 1e9, "bf16": matmul_flops(torch.bfloat16) / 1e9}}
    flops_per_epoch = 3 * mlp_flops(SIZES) * 2 * len(X)  # encoder + mirrored decoder; backward ~ 2x forward
    for precision in ("fp32", "bf16"):
        typical = _steady(bare_epoch_seconds(X, precision, fused=False, flush=False, epochs=args.epochs))
        same_work = _steady(bare_epoch_seconds(X, precision, fused=True, flush=True, epochs=args.epochs))
        seconds, ae = shell_epoch_seconds(X, precision, args.epochs)
        shell = _steady(seconds)
        start = time.perf_counter()
        ae.transform(X)
        transform_rows = len(X) / (time.perf_counter() - start)
        entry = {
            "bare_typical_loop": typical, "bare_same_work_loop": same_work, "shell": shell,
            "overhead_ratio_vs_same_work_loop": shell["steady_median"] / same_work["steady_median"],
            "ratio_vs_typical_loop": shell["steady_median"] / typical["steady_median"],
            "achieved_gflops_shell": flops_per_epoch / shell["steady_median"] / 1e9,
            "transform_rows_per_s": transform_rows,
        }
        result[precision] = entry
        print(precision, entry, flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, "autoencoder_mnist_speed.json"), result)


def one(args):
    """One AE+KMeans run; prints a JSON line (run in a child for its own peak memory)."""
    import json

    X, y = load()
    start = time.perf_counter()
    ae = Autoencoder(max_epochs=args.epochs, precision=args.precision, random_state=args.seed,
                     n_iter_no_change=None).fit(X)
    ae_seconds = time.perf_counter() - start
    start = time.perf_counter()
    codes = ae.transform(X)
    transform_seconds = time.perf_counter() - start
    labels = KMeans(10, n_init=10, random_state=args.seed).fit_predict(codes)
    total = time.perf_counter() - start + ae_seconds
    report = cluster_report(y, labels)
    print(json.dumps({"seed": args.seed, "precision": args.precision, "epochs": args.epochs,
                      "acc": report["acc"], "nmi": report["nmi"], "ari": report["ari"],
                      "ae_fit_seconds": ae_seconds, "fit_seconds": total,
                      "s_per_epoch": float(np.median([r["seconds"] for r in ae.history_])),
                      "final_loss": ae.history_[-1]["loss"], "transform_rows_per_s": len(X) / transform_seconds,
                      "peak_rss_mb": peak_rss_mb()}))


def accuracy(args):
    path = os.path.join(RESULTS, args.out)
    result = {"machine": machine(), "command": " ".join(sys.argv), "runs": []}
    if not args.skip_kmeans:
        X, y = load()
        start = time.perf_counter()
        labels = [KMeans(10, n_init=10, random_state=s).fit_predict(X) for s in args.seeds]
        km = [cluster_report(y, lab) for lab in labels]
        result["kmeans_raw_pixels"] = {"acc": [r["acc"] for r in km], "nmi": [r["nmi"] for r in km],
                                       "seconds_total": time.perf_counter() - start}
        print("kmeans", result["kmeans_raw_pixels"], flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    for seed in args.seeds:
        for precision in args.precisions:
            child_args = ["one", "--seed", str(seed), "--precision", precision, "--epochs", str(args.epochs)]
            run = run_child(__file__, child_args)
            result["runs"].append(run)
            print(run, flush=True)
            write_json(path, result)
    for precision in args.precisions:
        runs = [r for r in result["runs"] if r["precision"] == precision]
        result[f"summary_{precision}"] = {
            k: [float(np.mean([r[k] for r in runs])), float(np.std([r[k] for r in runs]))]
            for k in ("acc", "nmi", "fit_seconds", "s_per_epoch", "peak_rss_mb")
        }
        print(precision, result[f"summary_{precision}"], flush=True)
    write_json(path, result)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("speed", "accuracy", "one"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--epochs", type=int, default=50, help="epochs per fit (speed: per config, default 6)")
    parser.add_argument("--out", default="autoencoder_mnist_accuracy.json", help="file name under benchmarks/results")
    parser.add_argument("--flush-at-start", action="store_true",
                        help="speed: torch.set_flush_denormal(True) before any torch work")
    parser.add_argument("--skip-kmeans", action="store_true", help="skip KMeans on raw pixels")
    args = parser.parse_args()
    {"speed": speed, "accuracy": accuracy, "one": one}[args.mode](args)


if __name__ == "__main__":
    main()
