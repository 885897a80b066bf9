"""AE+KMeans against KMeans on scikit-learn's digits.

What it shows
-------------
- ``make_pipeline(Autoencoder(...), KMeans(10))``: the AE+KMeans baseline of
  the deep clustering literature, fitted like any scikit-learn pipeline;
- KMeans on the raw pixels for comparison;
- ACC (Hungarian-matched accuracy) and NMI from
  :func:`skdeepgen.metrics.cluster_report`;
- a 2-D picture: the first two principal components of the raw pixels and of
  the autoencoder's codes, coloured by the clusters found. It is written to
  ``ae_kmeans_digits.png`` only when matplotlib (the optional ``plots`` extra,
  ``pip install "skdeepgen[plots]"``) can be imported; otherwise the script
  prints the scores and says that it skipped the figure.

How long it takes
-----------------
A few seconds on a CPU (30 epochs of a 64-256-256-512-10 autoencoder on
1,797 rows took about 3 s on one idle core); the data ship with
scikit-learn, nothing is downloaded. On a machine whose cores are busy with
other jobs, torch's threads can slow it down many times; setting
``OMP_NUM_THREADS=1`` then helps.

On a data set this small AE+KMeans and KMeans score about the same; the
example is about the API, not about which method wins.

Run it with ``python examples/plot_ae_kmeans_digits.py``.
"""

import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline

from skdeepgen import Autoencoder
from skdeepgen.metrics import cluster_report

SEED = 0

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]

start = time.perf_counter()
kmeans_labels = KMeans(10, n_init=10, random_state=SEED).fit_predict(X)
kmeans_seconds = time.perf_counter() - start

ae_kmeans = make_pipeline(
    Autoencoder(n_components=10, encoder_layers=(256, 256, 512), max_epochs=30,
                batch_size=128, random_state=SEED),
    KMeans(10, n_init=10, random_state=SEED),
)
start = time.perf_counter()
ae_labels = ae_kmeans.fit_predict(X)
ae_seconds = time.perf_counter() - start
ae = ae_kmeans[0]

print(f"{'method':<12}{'ACC':>8}{'NMI':>8}{'seconds':>10}")
for name, labels, seconds in (("KMeans", kmeans_labels, kmeans_seconds),
                              ("AE+KMeans", ae_labels, ae_seconds)):
    report = cluster_report(y, labels)
    print(f"{name:<12}{report['acc']:>8.4f}{report['nmi']:>8.4f}{seconds:>10.1f}")
print(f"autoencoder: {ae.n_iter_} epochs, final reconstruction MSE "
      f"{ae.history_[-1]['loss']:.4f}")

try:
    import matplotlib
except ImportError:
    print("matplotlib is not installed: figure skipped (pip install matplotlib).")
else:
    matplotlib.use("Agg")  # write a file, open no window
    import matplotlib.pyplot as plt

    pixels_2d = PCA(2, random_state=SEED).fit_transform(X)
    codes_2d = PCA(2, random_state=SEED).fit_transform(ae.transform(X))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    panels = ((axes[0], pixels_2d, kmeans_labels, "KMeans on pixels (PCA of pixels)"),
              (axes[1], codes_2d, ae_labels, "AE+KMeans (PCA of the codes)"))
    for ax, points, labels, title in panels:
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=6)
        acc = cluster_report(y, labels)["acc"]
        ax.set_title(f"{title}\nACC = {acc:.3f}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig("ae_kmeans_digits.png", dpi=100)
    print("figure written to ae_kmeans_digits.png")
