"""AMM on handwritten digits: random generations per component and an interpolation between two digits.

What it shows
-------------
- ``AMMClustering`` fitted on digits scaled to [0, 1]: scikit-learn's
  bundled 8 x 8 digits by default (no download), or, with ``--data-home
  DIR`` (a folder holding ``mnist/``, see
  :func:`skdeepgen.datasets.fetch_mnist`), a random ``--mnist-rows`` subset
  of MNIST. Its ACC and purity beside KMeans'.
- A grid of ``sample`` draws with one row per mixture component (the
  paper's figure 2a), written to ``amm_generations.png``.
- Interpolations between pairs of digits (figure 2d): the codes
  ``transform(x1)`` and ``transform(x2)`` joined by a straight line and
  decoded with ``inverse_transform``, the originals at both ends, written to
  ``amm_interpolation.png``.
- The Bayes classifier on the embedding (eq. 19, ``embedding_proba``) beside
  the encoder's ``predict``: how often they agree.

The figures need matplotlib (the optional ``plots`` extra,
``pip install "skdeepgen[plots]"``); without it the script prints the scores
and says that it skipped them.

How long it takes, and what to expect
-------------------------------------
The digits run: about half a minute on 2 CPU cores (1,797 rows, 100 epochs). The
MNIST run: about 12 s per epoch of 20,000 rows. The clusters are far from
the paper's on MNIST at these budgets (``docs/benchmarks.md`` has the
measured figures): expect components that each generate a few kinds of
digit.

Run it with ``python examples/amm_mnist.py [--data-home DIR]``.
"""

import argparse

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepgen import AMMClustering
from skdeepgen.metrics import cluster_report

SEED = 0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-home", default=None, help="folder holding mnist/ (default: the bundled 8x8 digits)")
parser.add_argument("--mnist-rows", type=int, default=20000, help="MNIST rows to fit on (default 20000)")
parser.add_argument("--epochs", type=int, default=None, help="epochs (default 100 on digits, 10 on MNIST)")
args = parser.parse_args()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

if args.data_home is None:
    X, y = load_digits(return_X_y=True)
    X, side, epochs = X / 16.0, 8, args.epochs or 100
    # On 1,797 rows the paper's MNIST step (2e-4) and penalty (10) learn too slowly (docs/cli.md).
    small_data = {"learning_rate": 1e-3, "gradient_penalty": 1.0}
else:
    from skdeepgen.datasets import fetch_mnist

    X, y = fetch_mnist(data_home=args.data_home, return_X_y=True)
    keep = np.random.RandomState(SEED).choice(len(X), args.mnist_rows, replace=False)
    X, y, side, epochs = X[keep], y[keep], 28, args.epochs or 10
    small_data = {}

model = AMMClustering(10, max_epochs=epochs, random_state=SEED, **small_data).fit(X)
kmeans = KMeans(10, n_init=10, random_state=SEED).fit_predict(X)
ours, theirs = cluster_report(y, model.labels_), cluster_report(y, kmeans)
print(f"{len(X)} rows: AMM ACC {ours['acc']:.3f} purity {ours['purity']:.3f}; "
      f"KMeans ACC {theirs['acc']:.3f} purity {theirs['purity']:.3f}")
bayes = model.embedding_proba(X).argmax(axis=1)
print(f"the Bayes classifier on the codes agrees with predict on {np.mean(bayes == model.labels_):.1%} of the rows")

if plt is None:
    print("matplotlib is not installed: figures skipped (pip install 'skdeepgen[plots]')")
else:
    n_per = 10
    generated, components = model.sample(4000)
    fig, axes = plt.subplots(10, n_per, figsize=(n_per, 10))
    for k in range(10):
        rows = generated[components == k][:n_per]
        for j, ax in enumerate(axes[k]):
            if j < len(rows):
                ax.imshow(rows[j].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_axis_off()
    fig.suptitle("AMM: random generations, one row per mixture component")
    fig.savefig("amm_generations.png", dpi=80)

    pairs = np.random.RandomState(SEED).choice(len(X), size=(5, 2), replace=False)
    steps = np.linspace(0, 1, 8)
    fig, axes = plt.subplots(len(pairs), len(steps) + 2, figsize=(len(steps) + 2, len(pairs)))
    for row, (a, b) in zip(axes, pairs):
        za, zb = model.transform(X[[a, b]])
        decoded = model.inverse_transform(np.outer(1 - steps, za) + np.outer(steps, zb))
        images = [X[a], *decoded, X[b]]
        for ax, image in zip(row, images):
            ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_axis_off()
    fig.suptitle("AMM: interpolations between two digits (originals at the ends)")
    fig.savefig("amm_interpolation.png", dpi=80)
    print("wrote amm_generations.png and amm_interpolation.png")
