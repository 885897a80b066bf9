"""AIM on the 25-Gaussian grid (the paper's figure 3) and MNIST's 2-D latent space (figure 4).

What it shows
-------------
- ``AIMEncoder`` with a 2-D code on the 25-Gaussian grid (means on
  {-4, -2, 0, 2, 4}^2, standard deviation 0.05): the modes captured and the
  share of high-quality samples (:func:`skdeepgen.metrics.mode_coverage`),
  the share of held-out points whose reconstruction lands on their own mode,
  and a figure with the real points, their latent codes (``transform``),
  their reconstructions (``inverse_transform(transform(X))``) and generated
  points (``sample``), written to ``aim_grid.png``.
- With ``--data-home DIR`` (a folder holding ``mnist/``), the paper's
  convolutional AIM with a 2-D code on ``--mnist-rows`` training digits: the
  codes of 5,000 test digits coloured by their label, the digits decoded
  from a grid of codes on [-2, 2]^2 (figure 4), and rows generated from the
  posterior q(z | x) of eight test digits (``conditional_sample``, figure 9),
  written to ``aim_mnist.png``. The labels only colour the plot.

The figures need matplotlib (``pip install "skdeepgen[plots]"``); without it
the script prints the measures and says that it skipped them.

How long it takes, and what to expect
-------------------------------------
On 2 CPU cores the grid part takes about 70 s (50,000 points, 20
epochs); the benchmark's longer fits (``docs/benchmarks.md``, AIM) capture
more of the modes more sharply. The MNIST part takes about 75 s per epoch
of 20,000 rows (``--mnist-epochs``, default 2); after so few epochs the
digits cluster by class in the code space but many decoded digits are
blurred.

Run it with ``python examples/aim_grid_and_mnist.py [--data-home DIR]``.
"""

import argparse

import numpy as np

from skdeepgen import AIMEncoder
from skdeepgen.datasets import make_grid_gaussians
from skdeepgen.metrics import mode_coverage

SEED = 0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--grid-rows", type=int, default=50000, help="grid points to fit on (default 50000)")
parser.add_argument("--grid-epochs", type=int, default=20, help="epochs on the grid (default 20)")
parser.add_argument("--data-home", default=None, help="folder holding mnist/ (skips MNIST when not given)")
parser.add_argument("--mnist-rows", type=int, default=20000, help="MNIST rows to fit on (default 20000)")
parser.add_argument("--mnist-epochs", type=int, default=2, help="epochs on MNIST (default 2)")
args = parser.parse_args()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

# ------------------------------------------------------------------- grid
X, _, centers = make_grid_gaussians(args.grid_rows, random_state=SEED, return_centers=True)
X_test, y_test = make_grid_gaussians(2500, random_state=SEED + 1)
# The benchmark's grid settings (a larger step, decayed as learning_rate / sqrt(epoch), and a 256-unit
# discriminator), with fewer epochs.
aim = AIMEncoder(n_components=2, learning_rate=5e-4, learning_rate_schedule="invscaling",
                 discriminator_layers=(256, 256, 256), max_epochs=args.grid_epochs, random_state=SEED).fit(X)
codes = aim.transform(X_test)
reconstructions = aim.inverse_transform(codes)
samples = aim.sample(2500)
modes, quality = mode_coverage(samples, centers, std=0.05)
right = (((reconstructions[:, None, :] - centers) ** 2).sum(axis=2).argmin(axis=1) == y_test).mean()
print(f"grid: {modes}/25 modes, {quality:.1%} high-quality samples, {right:.1%} of reconstructions on their mode")
if plt is not None:
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    panels = [("test points", X_test, True), ("latent codes", codes, False),
              ("reconstructions", reconstructions, True), ("generated", samples, True)]
    for ax, (title, points, data_space) in zip(axes, panels):
        if title == "generated":
            ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:orange")
        else:
            ax.scatter(points[:, 0], points[:, 1], s=2, c=y_test, cmap="tab20")
        if data_space:
            ax.set_xlim(-5, 5)
            ax.set_ylim(-5, 5)
        ax.set_title(title)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig("aim_grid.png", dpi=80)
    print("wrote aim_grid.png")
else:
    print("matplotlib is not installed: skipped the figures")

# ------------------------------------------------------------------ MNIST
if args.data_home is not None:
    from skdeepgen.datasets import fetch_mnist

    X, _ = fetch_mnist(data_home=args.data_home, subset="train", return_X_y=True)
    X_test, y_test = fetch_mnist(data_home=args.data_home, subset="test", return_X_y=True)
    X = X[np.random.RandomState(SEED).choice(len(X), args.mnist_rows, replace=False)]
    mnist = AIMEncoder(n_components=2, image_shape=(1, 28, 28), max_epochs=args.mnist_epochs, random_state=SEED,
                       verbose=1).fit(X)
    print(f"MNIST: test reconstruction error per pixel {-mnist.score(X_test):.4f}")
    if plt is not None:
        fig = plt.figure(figsize=(18, 6))
        ax = fig.add_subplot(1, 3, 1)
        codes = mnist.transform(X_test[:5000])
        scatter = ax.scatter(codes[:, 0], codes[:, 1], s=2, c=y_test[:5000], cmap="tab10")
        ax.legend(*scatter.legend_elements(), fontsize=7, loc="upper right")
        ax.set_title("codes of 5,000 test digits")
        steps = np.linspace(-2, 2, 15)
        grid_codes = np.array([(a, b) for b in steps[::-1] for a in steps], dtype=np.float32)
        decoded = mnist.inverse_transform(grid_codes).reshape(15, 15, 28, 28)
        ax = fig.add_subplot(1, 3, 2)
        ax.imshow(decoded.transpose(0, 2, 1, 3).reshape(15 * 28, 15 * 28), cmap="gray")
        ax.set_title("decoded from codes on [-2, 2]^2")
        ax.axis("off")
        rows = X_test[:8]
        like = mnist.conditional_sample(rows, 9)
        panel = np.concatenate([rows[:, None, :], like], axis=1).reshape(8, 10, 28, 28)
        ax = fig.add_subplot(1, 3, 3)
        ax.imshow(panel.transpose(0, 2, 1, 3).reshape(8 * 28, 10 * 28), cmap="gray")
        ax.set_title("test digit, then rows from its q(z | x)")
        ax.axis("off")
        fig.tight_layout()
        fig.savefig("aim_mnist.png", dpi=80)
        print("wrote aim_mnist.png")
