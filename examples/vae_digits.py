"""VAE+KMeans against KMeans on scikit-learn's digits, and samples from the VAE.

What it shows
-------------
- ``make_pipeline(VariationalAutoencoder(...), KMeans(10))``: the VAE+KMeans
  baseline of the deep clustering literature, fitted like any scikit-learn
  pipeline (KMeans runs on the posterior means);
- KMeans on the raw pixels for comparison, with ACC (Hungarian-matched
  accuracy) and NMI from :func:`skdeepgen.metrics.cluster_report`;
- ``score(X)``, the mean evidence lower bound (ELBO) per sample in nats;
- ``sample(16)``: decoder means of 16 draws from the prior. A 4x4 grid of
  them is written to ``vae_digits_samples.png`` (or to the path given as the
  first command-line argument) only when matplotlib (the optional ``plots``
  extra, ``pip install "skdeepgen[plots]"``) can be imported; otherwise the
  script prints the scores and says that it skipped the figure.

How long it takes
-----------------
A few seconds on a CPU (30 epochs of a 64-256-128-(2 x 10) encoder and its
mirrored decoder on 1,797 rows took about 2 s on one core); the data ship
with scikit-learn, nothing is downloaded. On a machine whose cores are busy with other jobs, torch's
threads can slow it down many times; setting ``OMP_NUM_THREADS=1`` then
helps.

On a data set this small the example is about the API, not about which
method wins. With the Gaussian likelihood on pixels in [0, 1] the ELBO, a
log-density, is positive (about 21 nats per sample here); see docs/vae.md.

Run it with ``python examples/vae_digits.py [figure.png]``.
"""

import sys
import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline

from skdeepgen import VariationalAutoencoder
from skdeepgen.metrics import cluster_report

SEED = 0
FIGURE = sys.argv[1] if len(sys.argv) > 1 else "vae_digits_samples.png"

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]

start = time.perf_counter()
kmeans_labels = KMeans(10, n_init=10, random_state=SEED).fit_predict(X)
kmeans_seconds = time.perf_counter() - start

vae_kmeans = make_pipeline(
    VariationalAutoencoder(n_components=10, encoder_layers=(256, 128), max_epochs=30,
                           batch_size=128, random_state=SEED),
    KMeans(10, n_init=10, random_state=SEED),
)
start = time.perf_counter()
vae_labels = vae_kmeans.fit_predict(X)
vae_seconds = time.perf_counter() - start
vae = vae_kmeans[0]

print(f"{'method':<12}{'ACC':>8}{'NMI':>8}{'seconds':>10}")
for name, labels, seconds in (("KMeans", kmeans_labels, kmeans_seconds),
                              ("VAE+KMeans", vae_labels, vae_seconds)):
    report = cluster_report(y, labels)
    print(f"{name:<12}{report['acc']:>8.4f}{report['nmi']:>8.4f}{seconds:>10.1f}")
last = vae.history_[-1]
print(f"VAE: {vae.n_iter_} epochs, last epoch reconstruction {last['reconstruction']:.2f}, "
      f"KL {last['kl']:.2f} nats per sample")
print(f"VAE score(X), the mean ELBO per sample: {vae.score(X):.2f} nats")

samples = vae.sample(16)  # (16, 64): the same 16 at every call, as random_state is an int
print(f"samples: shape {samples.shape}, pixel range [{samples.min():.2f}, {samples.max():.2f}]")

try:
    import matplotlib
except ImportError:
    print("matplotlib is not installed: figure skipped (pip install matplotlib).")
else:
    matplotlib.use("Agg")  # write a file, open no window
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 4, figsize=(5, 5))
    for ax, image in zip(axes.ravel(), samples):
        # Gaussian decoder means can leave [0, 1] slightly; vmin/vmax clip the display.
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("VariationalAutoencoder.sample(16) on digits")
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=100)
    print(f"figure written to {FIGURE}")
