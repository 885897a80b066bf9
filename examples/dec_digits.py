"""DEC on scikit-learn's digits: pretrain once, grid-search the clustering.

What it shows
-------------
- pretraining one :class:`~skdeepgen.Autoencoder` on the digits and saving it
  with ``Autoencoder.save``;
- :class:`~skdeepgen.DECClustering` reusing that file through
  ``pretrained=path``: a path is a plain parameter value, so
  :class:`~sklearn.model_selection.GridSearchCV` clones it unchanged and no
  fit of the search pays for pretraining again (``pretrain_history_`` stays
  empty);
- a grid search over ``n_clusters`` in {8, 10, 12} scored by clustering
  accuracy (:data:`skdeepgen.metrics.scorers` ``["acc"]``): each fold fits
  DEC on half the rows and calls ``predict`` on the other half, so ``y`` is
  given to ``search.fit`` only for scoring;
- the refitted best DEC beside KMeans on the pixels and AE+KMeans (KMeans on
  the same pretrained codes, i.e. DEC before its clustering phase), by ACC
  and NMI.

The autoencoder is pretrained on all 1,797 rows, held-out folds included, as
is usual for unsupervised clustering benchmarks: the labels are never seen,
only the pixels.

How long it takes
-----------------
About 20 s on one idle CPU core: 50 epochs of a 64-256-256-512-10
autoencoder (about 7 s), then 3 settings x 2 folds of DEC plus the refit
(about 6 s), each DEC fit running up to 50 clustering epochs. The data ship
with scikit-learn, nothing is downloaded. On a machine whose cores are busy
with other jobs, set ``OMP_NUM_THREADS=1``.

Digits is a small data set: in one run DEC reached ACC 0.815 / NMI 0.829
against 0.792 / 0.743 for KMeans on the pixels; do not expect the papers'
MNIST gaps. Run it with ``python examples/dec_digits.py``.
"""

import os
import tempfile
import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, KFold

from skdeepgen import Autoencoder, DECClustering
from skdeepgen.metrics import cluster_report, scorers

SEED = 0

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]

with tempfile.TemporaryDirectory() as folder:
    # 1. Pretrain once and save. DEC would otherwise pretrain at every fit.
    path = os.path.join(folder, "digits_autoencoder.pt")
    start = time.perf_counter()
    ae = Autoencoder(n_components=10, encoder_layers=(256, 256, 512), max_epochs=50, batch_size=64,
                     n_iter_no_change=None, random_state=SEED).fit(X)
    ae.save(path)
    print(f"autoencoder: {ae.n_iter_} epochs, reconstruction MSE {ae.history_[-1]['loss']:.4f} "
          f"({time.perf_counter() - start:.1f} s), saved to {os.path.basename(path)}")

    # 2. Grid search over n_clusters; every candidate starts from the saved weights.
    dec = DECClustering(pretrained=path, batch_size=256, update_interval=30, max_epochs=50,
                        n_init=10, random_state=SEED)
    search = GridSearchCV(dec, {"n_clusters": [8, 10, 12]}, scoring=scorers["acc"],
                          cv=KFold(2, shuffle=True, random_state=SEED))
    start = time.perf_counter()
    search.fit(X, y)
    search_seconds = time.perf_counter() - start

results = search.cv_results_
print(f"\ngrid search ({search_seconds:.1f} s), held-out ACC of each setting:")
print(f"{'n_clusters':>10}{'ACC':>8}{'std':>8}{'rank':>6}")
for params, mean, std, rank in zip(results["params"], results["mean_test_score"],
                                   results["std_test_score"], results["rank_test_score"]):
    print(f"{params['n_clusters']:>10}{mean:>8.4f}{std:>8.4f}{rank:>6}")
best = search.best_estimator_
print(f"best: {search.best_params_}; refit on all rows in {best.n_iter_} clustering epochs, "
      f"pretraining epochs run by the search: {len(best.pretrain_history_)}")

# 3. The refitted DEC (labels_ of all rows) beside the baselines.
kmeans_labels = KMeans(10, n_init=10, random_state=SEED).fit_predict(X)
ae_kmeans_labels = KMeans(10, n_init=10, random_state=SEED).fit_predict(ae.transform(X))
print(f"\n{'method':<24}{'ACC':>8}{'NMI':>8}")
for name, labels in (("KMeans (pixels)", kmeans_labels),
                     ("AE+KMeans (codes)", ae_kmeans_labels),
                     (f"DEC (n_clusters={best.n_clusters})", best.labels_)):
    report = cluster_report(y, labels)
    print(f"{name:<24}{report['acc']:>8.4f}{report['nmi']:>8.4f}")
