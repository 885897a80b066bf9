"""JGMMN on the paper's synthetic mixtures (latent codes with and without J2) and MNIST digits it generates.

What it shows
-------------
- ``JGMMNClustering`` on the 4- and the 9-component 2-D Gaussian mixtures of
  the JGMMN paper (section 5.1, 2,000 points each, 2-D codes, the paper's
  100-100 and 100-300 networks): ACC of ``predict``, and the latent codes
  ``transform(X)`` learned with the multi-modal regulariser J2 and without it
  (``regularization=0``, the paper's JGMMN-NR), as in the paper's figure 2:
  real samples, generated samples ``sample(2000)``, codes without J2, codes
  with J2. The figure is written to ``jgmmn_synthetic.png``.
- With ``--data-home DIR`` (a folder holding ``mnist/``, see
  :func:`skdeepgen.datasets.fetch_mnist`), JGMMN on a random 10,000-row subset
  of MNIST, its ACC and NMI beside KMeans', and an 8 x 8 grid of generated
  digits ``sample(64)``, sorted by the modality of their codes, written to
  ``jgmmn_mnist_samples.png``.

The figures need matplotlib (the optional ``plots`` extra,
``pip install "skdeepgen[plots]"``); without it the script prints the scores
and says that it skipped them.

How long it takes, and what to expect
-------------------------------------
The synthetic part: under a minute on 2 CPU cores (four fits; ACC 0.9995 or
1.0 for each). The MNIST part: 154 s on 2 cores with bf16 units (200 epochs
of autoencoder pretraining of the 784-500-500-2000-10 network on the 10,000
rows, then 60 JGMMN epochs at Adam 1e-3). It printed KMeans ACC 0.538 and
JGMMN ACC 0.601: a network pretrained on 10,000 rows is much weaker than one
pretrained on all 70,000 (JGMMN 0.91 +- 0.06 there, docs/benchmarks.md). The
digits it draws are noisy; some are recognisable (ones, nines, zeros).

Run it with ``python examples/jgmmn_synthetic_and_mnist.py [--data-home DIR]``.
"""

import argparse
import time

import numpy as np
from sklearn.cluster import KMeans

from skdeepgen import JGMMNClustering
from skdeepgen.datasets import make_jgmmn_gaussians
from skdeepgen.metrics import cluster_report

SEED = 0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-home", default=None, help="folder holding mnist/ (skips MNIST when not given)")
args = parser.parse_args()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

# ------------------------------------------------------------ synthetic
# The paper's networks: [100, 100, 2] for Data-1 and [100, 300, 2] for Data-2.
networks = {4: (100, 100), 9: (100, 300)}
panels = []
for k, layers in networks.items():
    X, y = make_jgmmn_gaussians(2000, n_components=k, random_state=SEED)
    fits = {}
    for name, weight in (("with J2", 1.0), ("without J2", 0.0)):
        model = JGMMNClustering(k, n_components=2, inference_layers=layers, generator_layers=layers,
                                regularization=weight, learning_rate=1e-3, max_epochs=100, tol=0.0,
                                random_state=SEED)
        start = time.perf_counter()
        model.fit(X)
        acc = cluster_report(y, model.labels_)["acc"]
        print(f"{k}-component mixture, {name}: ACC {acc:.4f} ({time.perf_counter() - start:.0f} s)")
        fits[name] = model
    panels.append((k, X, y, fits))

if plt is not None:
    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    for row, (k, X, y, fits) in zip(axes, panels):
        X_gen, y_gen = fits["with J2"].sample(2000)
        row[0].scatter(X[:, 0], X[:, 1], c=y, s=3, cmap="tab10")
        row[0].set_title(f"Data-{1 if k == 4 else 2}: real samples")
        row[1].scatter(X_gen[:, 0], X_gen[:, 1], c=y_gen, s=3, cmap="tab10")
        row[1].set_title("generated g(z), coloured by modality")
        for ax, name in zip(row[2:], ("without J2", "with J2")):
            codes = fits[name].transform(X)
            ax.scatter(codes[:, 0], codes[:, 1], c=y, s=3, cmap="tab10")
            ax.set_title(f"latent codes h(x), {name}")
    fig.tight_layout()
    fig.savefig("jgmmn_synthetic.png", dpi=80)
    print("wrote jgmmn_synthetic.png")
else:
    print("matplotlib is not installed: skipped the figures")

# ------------------------------------------------------------ MNIST
if args.data_home is not None:
    from skdeepgen.datasets import fetch_mnist

    X, y = fetch_mnist(data_home=args.data_home, subset="all", return_X_y=True)
    keep = np.random.RandomState(SEED).choice(len(X), 10_000, replace=False)
    X, y = X[keep], y[keep]
    kmeans = cluster_report(y, KMeans(10, n_init=10, random_state=SEED).fit_predict(X))
    start = time.perf_counter()
    # For samples the generator needs more and larger steps than the clustering
    # defaults give it (Adam 1e-4, stop once the labels settle): see docs/jgmmn.md.
    model = JGMMNClustering(10, learning_rate=1e-3, tol=0.0, max_epochs=60, precision="auto",
                            random_state=SEED).fit(X)
    report = cluster_report(y, model.labels_)
    print(f"MNIST 10,000 rows: KMeans ACC {kmeans['acc']:.4f} NMI {kmeans['nmi']:.4f}; "
          f"JGMMN ACC {report['acc']:.4f} NMI {report['nmi']:.4f} ({time.perf_counter() - start:.0f} s)")
    if plt is not None:
        images, modality = model.sample(64)
        order = np.argsort(modality, kind="stable")
        fig, axes = plt.subplots(8, 8, figsize=(6, 6))
        for ax, image in zip(axes.ravel(), images[order]):
            ax.imshow(image.reshape(28, 28), cmap="gray")
            ax.axis("off")
        fig.tight_layout()
        fig.savefig("jgmmn_mnist_samples.png", dpi=80)
        print("wrote jgmmn_mnist_samples.png (samples sorted by modality)")
