"""Autoencoder pretraining speed: skdeepgen against ClustPy, in one process.

ClustPy (the closest peer library) pretrains DEC's 784-500-500-2000-10
autoencoder with its ``FeedforwardAutoencoder.fit``; we time that and our
``Autoencoder.fit`` on all 70,000 MNIST rows, batch 256, Adam 1e-3,
alternating the two so that machine load hits both alike, for fp32 and for
our bf16 option. Seconds per epoch are the fit's wall time divided by the
epochs (ClustPy reports no per-epoch time).

ClustPy is not a dependency. Install it apart, without its dependencies
(its torchvision requirement would replace torch), e.g.::

    pip install --no-deps --target /tmp/cpsite clustpy==0.0.3
    pip install --target /tmp/cpsite tqdm matplotlib
    PYTHONPATH=/tmp/cpsite python benchmarks/bench_vs_clustpy.py

ClustPy imports torchvision at import time but its feed-forward pretraining
never uses it; where torchvision cannot be imported (PyPI's torchvision does
not import beside a CPU torch 2.13 wheel), the script registers an empty
stand-in module so that ``import clustpy.deep`` succeeds. The timed code is
ClustPy's own.
"""

import argparse
import os
import sys
import time
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, HERE, machine, write_json  # noqa: E402

from skdeepgen import Autoencoder  # noqa: E402
from skdeepgen.datasets import fetch_mnist  # noqa: E402


def _import_clustpy_autoencoder():
    try:
        import torchvision  # noqa: F401
    except Exception:
        stub = types.ModuleType("torchvision")
        models = types.ModuleType("torchvision.models")
        api = types.ModuleType("torchvision.models._api")
        api.Weights = api.WeightsEnum = type("Unavailable", (), {})
        stub.models, models._api = models, api
        sys.modules.update({"torchvision": stub, "torchvision.models": models, "torchvision.models._api": api})
    import clustpy
    from clustpy.deep.neural_networks import FeedforwardAutoencoder

    return FeedforwardAutoencoder, getattr(clustpy, "__version__", "unknown")


def clustpy_seconds(X, epochs, seed):
    FeedforwardAutoencoder, _ = _import_clustpy_autoencoder()
    torch.manual_seed(seed)
    ae = FeedforwardAutoencoder(layers=[X.shape[1], 500, 500, 2000, 10])
    start = time.perf_counter()
    ae.fit(n_epochs=epochs, optimizer_params={"lr": 1e-3}, batch_size=256, data=X)
    return (time.perf_counter() - start) / epochs


def ours_seconds(X, epochs, seed, precision):
    start = time.perf_counter()
    Autoencoder(max_epochs=epochs, precision=precision, random_state=seed, n_iter_no_change=None).fit(X)
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed fit")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    X, _ = fetch_mnist(data_home=DATA_HOME, return_X_y=True)
    _, version = _import_clustpy_autoencoder()
    times = {"clustpy_fp32": [], "skdeepgen_fp32": [], "skdeepgen_bf16": []}
    for repeat in range(args.repeats):
        times["clustpy_fp32"].append(clustpy_seconds(X, args.epochs, repeat))
        times["skdeepgen_fp32"].append(ours_seconds(X, args.epochs, repeat, "fp32"))
        times["skdeepgen_bf16"].append(ours_seconds(X, args.epochs, repeat, "bf16"))
        print({k: v[-1] for k, v in times.items()}, flush=True)
    medians = {k: float(np.median(v)) for k, v in times.items()}
    result = {
        "machine": machine(), "clustpy_version": version, "n_samples": len(X), "batch_size": 256,
        "epochs_per_fit": args.epochs, "s_per_epoch": times, "median_s_per_epoch": medians,
        "ratio_fp32_vs_clustpy": medians["skdeepgen_fp32"] / medians["clustpy_fp32"],
        "ratio_bf16_vs_clustpy": medians["skdeepgen_bf16"] / medians["clustpy_fp32"],
    }
    print(result, flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    write_json(os.path.join(HERE, "results", "vs_clustpy.json"), result)


if __name__ == "__main__":
    main()
