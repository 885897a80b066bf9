"""GAMN and GMMN on the paper's three toy sets, and GAMN's generated MNIST digits.

What it shows
-------------
- ``GAMNGenerator`` (the generative adversarial mapping network) and the same
  class with ``mapper_dim=None`` (GMMN) on the 8-Gaussian ring, the
  25-Gaussian grid and the Swiss roll at Gulrajani et al.'s scale, each
  trained for ``--steps`` generator steps on 10,000 rows: the modes captured
  and the share of high-quality samples on the two mixtures
  (:func:`skdeepgen.metrics.mode_coverage`), and a figure of real (grey) and
  generated (colour) points per set and model, the paper's figure 1, written
  to ``gamn_toys.png``.
- With ``--data-home DIR`` (a folder holding ``mnist/``), GAMN on a random
  ``--mnist-rows`` subset of MNIST and a 10 x 10 grid of generated digits,
  written to ``gamn_mnist_samples.png``. ``--conv`` fits the paper's
  DCGAN-type networks instead of the MLPs (``image_shape=(1, 28, 28)``,
  batch 64, one mapper step per generator step: the benchmark's settings).

The figures need matplotlib (``pip install "skdeepgen[plots]"``); without it
the script prints the measures and says that it skipped them.

How long it takes, and what to expect
-------------------------------------
See ``docs/benchmarks.md`` (GAMN) for the figures measured with the
benchmark's settings (20,000 rows, 1,000 generator steps, 3 seeds): after
so few steps the samples surround the right modes but are much wider than
them, and GMMN's MMD is lower than GAMN's. The toy part here trains
``--steps`` generator steps (default 500) per fit, about 7 minutes in all on
2 CPU cores (the benchmark measured about 2 minutes per 1,000 GAMN steps and
2.5 per 1,000 GMMN steps at batch 1,000); the MNIST part about 25 s per
epoch of 20,000 rows (``--mnist-epochs``, default 5), and its digits are
noisy (the benchmark's inception score: 5.9 against 9.7 for real digits).
With ``--conv`` an epoch of 20,000 rows takes about 50 s and the digits
are much cleaner (the benchmark, on all 70,000 rows for 5 epochs: 8.4).

Run it with ``python examples/gamn_toys_and_mnist.py [--data-home DIR [--conv]]``.
"""

import argparse
import math

import numpy as np

from skdeepgen import GAMNGenerator
from skdeepgen.datasets import make_grid_gaussians, make_ring_gaussians, make_swiss_roll_2d
from skdeepgen.metrics import mode_coverage

SEED = 0
N_ROWS = 10000

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=500, help="generator steps per toy fit (default 500)")
parser.add_argument("--data-home", default=None, help="folder holding mnist/ (skips MNIST when not given)")
parser.add_argument("--mnist-rows", type=int, default=20000, help="MNIST rows to fit on (default 20000)")
parser.add_argument("--mnist-epochs", type=int, default=5, help="GAMN epochs on MNIST (default 5)")
parser.add_argument("--conv", action="store_true", help="convolutional networks for MNIST (the paper's)")
args = parser.parse_args()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

# ------------------------------------------------------------------- toys
# Gulrajani et al.'s toy sets at their scale (the ring and grid divided by 1.414 and 2.828).
ring, _, ring_centers = make_ring_gaussians(N_ROWS, radius=2 / 1.414, std=0.02 / 1.414, random_state=SEED,
                                            return_centers=True)
grid, _, grid_centers = make_grid_gaussians(N_ROWS, spacing=2 / 2.828, std=0.05 / 2.828, random_state=SEED,
                                            return_centers=True)
swiss, _ = make_swiss_roll_2d(N_ROWS, random_state=SEED)
toys = {"8 Gaussians": (ring, ring_centers, 0.02 / 1.414), "25 Gaussians": (grid, grid_centers, 0.05 / 2.828),
        "Swiss roll": (swiss, None, None)}
# GAMN at its default batch (256); GMMN at the GMMN paper's batch of 1000.
models = {"GAMN": ({}, 256), "GMMN": ({"mapper_dim": None}, 1000)}

fig, axes = (plt.subplots(len(models), len(toys), figsize=(12, 8)) if plt is not None else (None, None))
for j, (name, (X, centers, std)) in enumerate(toys.items()):
    for i, (model_name, (params, batch)) in enumerate(models.items()):
        epochs = math.ceil(args.steps / (len(X) // batch))
        model = GAMNGenerator(**params, batch_size=batch, max_epochs=epochs, random_state=SEED).fit(X)
        samples = model.sample(2000)
        line = f"{name:>12} {model_name}: score {model.score(X[:2000]):.5f}"
        if centers is not None:
            modes, quality = mode_coverage(samples, centers, std)
            line += f", {modes}/{len(centers)} modes, {quality:.1%} high quality"
        print(line, flush=True)
        if plt is not None:
            ax = axes[i, j]
            ax.scatter(X[:2000, 0], X[:2000, 1], s=2, c="0.7")
            ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:orange")
            ax.set_title(f"{model_name}: {name}")
            ax.set_aspect("equal")
if plt is not None:
    fig.tight_layout()
    fig.savefig("gamn_toys.png", dpi=80)
    print("wrote gamn_toys.png")
else:
    print("matplotlib is not installed: skipped the figures")

# ------------------------------------------------------------------ MNIST
if args.data_home is not None:
    from skdeepgen.datasets import fetch_mnist

    X, _ = fetch_mnist(data_home=args.data_home, subset="all", return_X_y=True)
    X = X[np.random.RandomState(SEED).choice(len(X), args.mnist_rows, replace=False)]
    conv = {"image_shape": (1, 28, 28), "batch_size": 64, "n_mapper": 1} if args.conv else {}
    model = GAMNGenerator(**conv, max_epochs=args.mnist_epochs, random_state=SEED, verbose=1).fit(X)
    if plt is not None:
        digits = model.sample(100)
        fig, axes = plt.subplots(10, 10, figsize=(8, 8))
        for ax, digit in zip(axes.ravel(), digits):
            ax.imshow(digit.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
        fig.suptitle("GAMN: generated MNIST digits")
        fig.savefig("gamn_mnist_samples.png", dpi=80)
        print("wrote gamn_mnist_samples.png")
