"""DEC and IDEC clustering-phase speed: skdeepgen against ClustPy, in one process.

Seconds per clustering epoch (one pass over all 70,000 MNIST rows, batch 256,
784-500-500-2000-10) of ClustPy's ``DEC`` and ``IDEC`` and of our
``DECClustering`` and ``IDECClustering`` (fp32 and bf16). ClustPy reports no
per-epoch time, so its figure is the difference between a fit with
``--long`` clustering epochs and one with 1, divided by ``--long - 1``: the
pretraining (1 epoch) and the K-means initialisation cancel out. Ours is the
median of ``history_[i]["seconds"]`` over a fit of ``--long`` epochs with
``tol=0`` (no early stop), which includes the target-distribution updates.
The pretraining-epoch comparison is ``bench_vs_clustpy.py``.

Install ClustPy apart, as for ``bench_vs_clustpy.py``::

    PYTHONPATH=/tmp/cpsite python benchmarks/bench_dec_vs_clustpy.py
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, HERE, machine, write_json  # noqa: E402
from bench_vs_clustpy import _import_clustpy_autoencoder  # noqa: E402

from skdeepgen import Autoencoder, DECClustering, IDECClustering  # noqa: E402
from skdeepgen.datasets import fetch_mnist  # noqa: E402


def clustpy_fit_seconds(name, X, clustering_epochs, seed):
    FeedforwardAutoencoder, _ = _import_clustpy_autoencoder()
    import clustpy.deep

    torch.manual_seed(seed)
    network = FeedforwardAutoencoder(layers=[X.shape[1], 500, 500, 2000, 10])
    model = getattr(clustpy.deep, name)(n_clusters=10, batch_size=256, pretrain_epochs=1,
                                        clustering_epochs=clustering_epochs, neural_network=network,
                                        random_state=seed)
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def ours_epoch_seconds(cls, ae, X, epochs, precision):
    model = cls(10, pretrained=ae, max_epochs=epochs, tol=0.0, precision=precision, random_state=0).fit(X)
    return float(np.median([r["seconds"] for r in model.history_]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--long", type=int, default=3, help="clustering epochs of the long fits")
    parser.add_argument("--n-samples", type=int, default=None, help="first rows only (a smoke test)")
    parser.add_argument("--out", default="dec_vs_clustpy.json", help="file name under benchmarks/results")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    X, _ = fetch_mnist(data_home=DATA_HOME, return_X_y=True)
    X = X[:args.n_samples]
    _, version = _import_clustpy_autoencoder()
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "clustpy_version": version,
              "n_samples": len(X), "batch_size": 256, "long": args.long}
    ae = Autoencoder(max_epochs=1, random_state=0).fit(X)
    for name, cls in (("DEC", DECClustering), ("IDEC", IDECClustering)):
        short = clustpy_fit_seconds(name, X, 1, 0)
        long = clustpy_fit_seconds(name, X, args.long, 0)
        entry = {"clustpy_fp32": (long - short) / (args.long - 1),
                 "clustpy_fit_seconds": {"1": short, str(args.long): long}}
        for precision in ("fp32", "bf16"):
            entry[f"skdeepgen_{precision}"] = ours_epoch_seconds(cls, ae, X, args.long, precision)
        for precision in ("fp32", "bf16"):
            entry[f"ratio_{precision}_vs_clustpy"] = entry[f"skdeepgen_{precision}"] / entry["clustpy_fp32"]
        result[name] = entry
        print(name, entry, flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    write_json(os.path.join(HERE, "results", args.out), result)


if __name__ == "__main__":
    main()
