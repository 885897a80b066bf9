"""Grid search over an AE+KMeans pipeline, scored by clustering accuracy.

What it shows
-------------
- ``Pipeline(Autoencoder, KMeans)`` in :class:`~sklearn.model_selection.GridSearchCV`:
  the autoencoder's parameters are plain values (ints, tuples of layer sizes)
  addressed as ``autoencoder__<name>``;
- :data:`skdeepgen.metrics.scorers`, the external clustering scores (ACC,
  NMI, ARI, purity) as scikit-learn scorers: each fold calls the pipeline's
  ``predict`` on its held-out rows and compares the clusters with ``y``, so
  ``y`` is given to ``search.fit`` (it is never used for training);
- ``refit="acc"`` to pick the best setting by ACC while recording all scores.

How long it takes
-----------------
A few seconds on a CPU (about 5 s on one idle core): 4 settings x 2 folds
of a small autoencoder trained for 20 epochs, plus the refit, on
scikit-learn's digits.

Run it with ``python examples/grid_search.py``.
"""

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skdeepgen import Autoencoder
from skdeepgen.metrics import scorers

X, y = load_digits(return_X_y=True)
X = X / 16.0

pipe = make_pipeline(
    Autoencoder(encoder_layers=(64,), max_epochs=20, batch_size=64, random_state=0),
    KMeans(10, n_init=10, random_state=0),
)
search = GridSearchCV(
    pipe,
    {
        "autoencoder__n_components": [5, 10],
        "autoencoder__encoder_layers": [(64,), (128, 64)],
    },
    scoring=scorers,  # {"acc", "nmi", "ari", "purity"}; scorers["acc"] alone works too
    refit="acc",
    cv=KFold(2, shuffle=True, random_state=0),
)
search.fit(X, y)

results = search.cv_results_
print(f"{'n_components':>12}  {'encoder_layers':<15}{'ACC':>8}{'NMI':>8}{'rank':>6}")
for params, acc, nmi, rank in zip(results["params"], results["mean_test_acc"],
                                  results["mean_test_nmi"], results["rank_test_acc"]):
    layers = str(params["autoencoder__encoder_layers"])
    print(f"{params['autoencoder__n_components']:>12}  {layers:<15}{acc:>8.4f}{nmi:>8.4f}{rank:>6}")
print("best:", search.best_params_, f"ACC {search.best_score_:.4f}")
labels = search.predict(X)  # the refitted pipeline labels new rows like KMeans
