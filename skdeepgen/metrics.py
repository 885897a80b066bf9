"""External clustering metrics and ready-made scikit-learn scorers.

Clustering labels are arbitrary: cluster ``3`` of a model has no reason to
correspond to class ``3`` of the ground truth.  The metrics here compare a
partition with reference labels while ignoring the names of the clusters:

- :func:`clustering_accuracy` finds the best *one-to-one* mapping from
  clusters to classes (Hungarian algorithm), the "ACC" reported by DEC,
  VaDE and most deep clustering papers;
- :func:`purity_score` lets every cluster vote for its majority class
  (*many-to-one*), so it can only increase with the number of clusters;
- :func:`cluster_report` bundles ACC, NMI, ARI and purity;
- :data:`scorers` wraps them as scikit-learn scorers for
  :class:`~sklearn.model_selection.GridSearchCV` and
  :func:`~sklearn.model_selection.cross_validate`.

For generative models, :func:`mode_coverage` counts the modes of a known
mixture that generated samples capture and the share of high-quality
samples, and :func:`inception_score` is the classifier-based inception score.

NMI and ARI are scikit-learn's own
:func:`~sklearn.metrics.normalized_mutual_info_score` and
:func:`~sklearn.metrics.adjusted_rand_score`.

Examples
--------
>>> from sklearn.cluster import KMeans
>>> from sklearn.datasets import make_blobs
>>> from sklearn.model_selection import GridSearchCV
>>> from skdeepgen.metrics import scorers
>>> X, y = make_blobs(n_samples=60, centers=3, random_state=0)
>>> search = GridSearchCV(
...     KMeans(n_init=3, random_state=0),
...     {"n_clusters": [2, 3, 4]},
...     scoring=scorers,
...     refit="acc",
...     cv=3,
... ).fit(X, y)
>>> search.best_params_
{'n_clusters': 3}
"""

from numbers import Integral, Real

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    make_scorer,
    normalized_mutual_info_score,
)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import check_array, check_consistent_length, column_or_1d

__all__ = [
    "cluster_report",
    "clustering_accuracy",
    "inception_score",
    "mode_coverage",
    "purity_score",
    "scorers",
]


def _check_clusterings(y_true, y_pred):
    """Validate a pair of label vectors and return them as 1-D arrays.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    y_true, y_pred : ndarray of shape (n_samples,)
        The labels as 1-D arrays.

    Raises
    ------
    ValueError
        If an input is not 1-D (a column vector is accepted), if the lengths
        differ, or if the inputs are empty.
    """
    if y_true is None or y_pred is None:
        # Scorers receive y=None when GridSearchCV.fit is called without y;
        # say so instead of failing deep inside numpy.
        raise ValueError(
            "External clustering metrics need reference labels: "
            f"got y_true={'None' if y_true is None else 'array'}, "
            f"y_pred={'None' if y_pred is None else 'array'}. "
            "Pass y to fit / GridSearchCV.fit when scoring with these metrics."
        )
    # column_or_1d keeps the dtype (strings stay strings) and accepts (n, 1).
    y_true = column_or_1d(y_true, input_name="y_true")
    y_pred = column_or_1d(y_pred, input_name="y_pred")
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError(
            "Clustering metrics need at least one sample; got empty labels."
        )
    return y_true, y_pred


def _contingency(y_true, y_pred):
    """Contingency table of validated labels, shape (n_classes, n_clusters)."""
    y_true, y_pred = _check_clusterings(y_true, y_pred)
    try:
        cont = contingency_matrix(y_true, y_pred)
    except TypeError as exc:
        # np.unique cannot sort mixed types such as [1, "a"].
        raise ValueError(
            "Labels must be mutually comparable (e.g. all ints or all "
            f"strings) within y_true and within y_pred: {exc}"
        ) from exc
    return np.asarray(cont), y_true.shape[0]


def clustering_accuracy(y_true, y_pred):
    """Clustering accuracy under the best one-to-one cluster-to-class map.

    The contingency table between classes and clusters is solved as a
    linear assignment problem (Hungarian algorithm,
    :func:`scipy.optimize.linear_sum_assignment`), and the accuracy is the
    fraction of samples whose cluster is mapped to their class.  The map is
    injective: when there are more clusters than classes the unmatched
    clusters count as errors, and when there are fewer clusters than
    classes the unmatched classes are errors.  Hence the score is 1.0 only
    for a partition identical to the reference up to a renaming.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class labels.  Any hashable, mutually comparable values
        (integers, possibly negative or non-contiguous, strings, ...).
    y_pred : array-like of shape (n_samples,)
        Cluster labels, with the same freedom as ``y_true``; the label sets
        need not have the same size nor share any value.

    Returns
    -------
    accuracy : float
        Best accuracy in ``[0, 1]``.

    Raises
    ------
    ValueError
        If the inputs are empty, of different lengths or not 1-D.

    See Also
    --------
    purity_score : Many-to-one variant, where clusters may share a class.
    sklearn.metrics.normalized_mutual_info_score : Information-based score.
    sklearn.metrics.adjusted_rand_score : Pair-counting score.

    Notes
    -----
    Also called "unsupervised clustering accuracy" (ACC) in the deep
    clustering literature, e.g. Xie et al., "Unsupervised Deep Embedding for
    Clustering Analysis", ICML 2016.

    Examples
    --------
    >>> from skdeepgen.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> clustering_accuracy(["a", "a", "b", "b"], [5, 5, 5, 7])
    0.75
    >>> # Three clusters for two classes: one cluster stays unmatched.
    >>> clustering_accuracy([0, 0, 0, 1, 1, 1], [0, 0, 1, 2, 2, 2])
    0.8333333333333334
    """
    cont, n_samples = _contingency(y_true, y_pred)
    # Rectangular tables are fine: scipy matches min(n_classes, n_clusters)
    # pairs, which is exactly the injective map we want.
    rows, cols = linear_sum_assignment(cont, maximize=True)
    return float(cont[rows, cols].sum() / n_samples)


def purity_score(y_true, y_pred):
    """Purity: fraction of samples in the majority class of their cluster.

    Each cluster is assigned the class most frequent in it (several
    clusters may pick the same class), and the score is the fraction of
    samples whose class is that of their cluster.  Purity is 1.0 for
    singleton clusters, so compare it only across equal numbers of
    clusters.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class labels (any hashable, comparable values).
    y_pred : array-like of shape (n_samples,)
        Cluster labels (any hashable, comparable values).

    Returns
    -------
    purity : float
        Purity in ``(0, 1]``.

    Raises
    ------
    ValueError
        If the inputs are empty, of different lengths or not 1-D.

    See Also
    --------
    clustering_accuracy : One-to-one variant.

    Examples
    --------
    >>> from skdeepgen.metrics import purity_score
    >>> purity_score([0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 1, 1])
    0.6666666666666666
    >>> purity_score([0, 0, 1, 1], [0, 1, 2, 3])
    1.0
    """
    cont, n_samples = _contingency(y_true, y_pred)
    # Column max = size of the majority class inside each cluster.
    return float(cont.max(axis=0).sum() / n_samples)


def cluster_report(y_true, y_pred):
    """Compute accuracy, NMI, ARI and purity in one call.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    report : dict
        ``{"acc": float, "nmi": float, "ari": float, "purity": float}``,
        with ``acc`` from :func:`clustering_accuracy`, ``nmi`` from
        :func:`sklearn.metrics.normalized_mutual_info_score` (arithmetic
        normalization), ``ari`` from
        :func:`sklearn.metrics.adjusted_rand_score` and ``purity`` from
        :func:`purity_score`.

    Raises
    ------
    ValueError
        If the inputs are empty, of different lengths or not 1-D.

    Examples
    --------
    >>> from skdeepgen.metrics import cluster_report
    >>> report = cluster_report([0, 0, 1, 1], [1, 1, 0, 0])
    >>> sorted(report)
    ['acc', 'ari', 'nmi', 'purity']
    >>> report["acc"], report["ari"]
    (1.0, 1.0)
    """
    y_true, y_pred = _check_clusterings(y_true, y_pred)
    return {
        "acc": clustering_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "purity": purity_score(y_true, y_pred),
    }


def mode_coverage(X_generated, centers, std):
    """Modes captured and share of high-quality samples on a known Gaussian mixture.

    The mode-collapse measures of VEEGAN (Srivastava et al., 2017), used by
    the AIM and GAMN benchmarks: a generated sample is *high quality* when it
    lies within three standard deviations of its nearest mixture mean, and a
    mode is *captured* when its mean is the nearest mean of at least one
    high-quality sample.

    Parameters
    ----------
    X_generated : array-like of shape (n_samples, n_features)
        Generated samples.
    centers : array-like of shape (n_modes, n_features)
        Means of the mixture's components.
    std : float
        Standard deviation of the (isotropic) components, > 0.

    Returns
    -------
    n_captured : int
        Number of modes captured, between 0 and ``n_modes``.
    high_quality : float
        Share of the samples that are high quality, in [0, 1].

    Examples
    --------
    >>> from skdeepgen.metrics import mode_coverage
    >>> mode_coverage([[0.0, 0.1], [0.05, 0.0], [5.0, 5.0]], [[0, 0], [1, 1]], std=0.1)
    (1, 0.6666666666666666)
    """
    X = check_array(X_generated, dtype=np.float64)
    centers = check_array(centers, dtype=np.float64)
    if centers.shape[1] != X.shape[1]:
        raise ValueError(f"centers have {centers.shape[1]} features but X_generated has {X.shape[1]}.")
    if isinstance(std, bool) or not isinstance(std, Real) or not np.isfinite(std) or std <= 0:
        raise ValueError(f"std must be a positive number; got std={std!r}.")
    distances = np.sqrt(((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(X)), nearest] <= 3 * std
    return int(len(np.unique(nearest[good]))), float(good.mean())


def inception_score(X_generated, classifier, n_splits=1):
    """Classifier-based inception score of generated samples.

    ``exp(E_x KL(p(y | x) || p(y)))`` (Salimans et al., 2016) with the class
    probabilities of a fitted classifier in place of the Inception network:
    high when each sample is confidently one class and the classes are
    balanced; at most the number of classes. On MNIST-like data the
    classifier is one fitted on real digits (the AIM and GAMN benchmarks fit
    one on MNIST's training rows).

    Parameters
    ----------
    X_generated : array-like of shape (n_samples, n_features)
        Generated samples, in the classifier's input space.
    classifier : fitted estimator with ``predict_proba``
        Gives p(y | x).
    n_splits : int, default=1
        Compute the score on this many equal consecutive parts of the samples
        and return their mean and standard deviation (Salimans et al. use 10).

    Returns
    -------
    score : float
        The mean over the parts.
    std : float
        Their standard deviation (0 for one part).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdeepgen.metrics import inception_score
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> clf = LogisticRegression(C=100).fit(X, [0, 0, 1, 1])
    >>> round(inception_score(X, clf)[0], 2)
    1.72
    """
    if not hasattr(classifier, "predict_proba"):
        raise TypeError(f"classifier must have predict_proba; got {type(classifier).__name__}.")
    if isinstance(n_splits, bool) or not isinstance(n_splits, Integral) or n_splits < 1:
        raise ValueError(f"n_splits must be a positive integer; got n_splits={n_splits!r}.")
    proba = np.asarray(classifier.predict_proba(X_generated), dtype=np.float64)
    if n_splits > len(proba):
        raise ValueError(f"n_splits={n_splits} is larger than the number of samples ({len(proba)}).")
    scores = []
    for part in np.array_split(proba, n_splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(np.clip(part, 1e-12, None)) - np.log(np.clip(marginal, 1e-12, None)))).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


# Scorers call ``estimator.predict(X)`` on the held-out fold and compare the
# result with ``y``.  ``response_method="predict"`` is spelled out because
# clusterers without ``predict`` (AgglomerativeClustering, DBSCAN, ...)
# cannot label unseen data and must fail loudly rather than be refit.
scorers = {
    "acc": make_scorer(clustering_accuracy, response_method="predict"),
    "nmi": make_scorer(normalized_mutual_info_score, response_method="predict"),
    "ari": make_scorer(adjusted_rand_score, response_method="predict"),
    "purity": make_scorer(purity_score, response_method="predict"),
}
"""dict of str to callable: scikit-learn scorers for external clustering scores.

Keys are ``"acc"`` (:func:`clustering_accuracy`), ``"nmi"``
(:func:`~sklearn.metrics.normalized_mutual_info_score`), ``"ari"``
(:func:`~sklearn.metrics.adjusted_rand_score`) and ``"purity"``
(:func:`purity_score`); higher is better for all of them.

Each scorer calls ``estimator.predict(X)`` and compares the predicted
clusters with ``y``, so the estimator (or the last step of a pipeline) must
implement ``predict`` and ``y`` must be given to ``fit`` of the search.  Use
one scorer, ``GridSearchCV(scoring=scorers["acc"])``, or all of them,
``GridSearchCV(scoring=scorers, refit="acc")``; see the module examples.
"""
