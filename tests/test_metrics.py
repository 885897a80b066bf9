"""Tests for skdeepgen.metrics."""

import itertools
import pickle
from collections import Counter

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeepgen.metrics import (
    cluster_report,
    clustering_accuracy,
    purity_score,
    scorers,
)


def _brute_force_accuracy(y_true, y_pred):
    """Best accuracy over all injective maps, by enumeration.

    Independent of the implementation: counts pairs directly, and maps the
    smaller label set injectively into the larger one (a one-to-one
    matching between clusters and classes seen from either side).
    """
    counts = Counter(zip(y_true, y_pred))
    classes = sorted(set(y_true), key=repr)
    clusters = sorted(set(y_pred), key=repr)
    best = 0
    if len(clusters) <= len(classes):
        for image in itertools.permutations(classes, len(clusters)):
            hits = sum(counts[(cls, clu)] for clu, cls in zip(clusters, image))
            best = max(best, hits)
    else:
        for image in itertools.permutations(clusters, len(classes)):
            hits = sum(counts[(cls, clu)] for cls, clu in zip(classes, image))
            best = max(best, hits)
    return best / len(y_true)


def _brute_force_purity(y_true, y_pred):
    """Purity by hand: majority count of each cluster."""
    total = 0
    for clu in set(y_pred):
        members = [t for t, p in zip(y_true, y_pred) if p == clu]
        total += Counter(members).most_common(1)[0][1]
    return total / len(y_true)


# (n_classes, n_clusters): equal, more clusters, fewer clusters.
@pytest.mark.parametrize(
    "n_classes, n_clusters",
    [(3, 3), (4, 4), (6, 6), (3, 5), (2, 6), (4, 6), (5, 3), (6, 2), (6, 4)],
)
@pytest.mark.parametrize("seed", range(15))
def test_accuracy_matches_brute_force(n_classes, n_clusters, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    y_true = rng.integers(n_classes, size=n)
    y_pred = rng.integers(n_clusters, size=n)
    expected = _brute_force_accuracy(y_true.tolist(), y_pred.tolist())
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(expected)
    assert purity_score(y_true, y_pred) == pytest.approx(
        _brute_force_purity(y_true.tolist(), y_pred.tolist())
    )


@pytest.mark.parametrize("seed", range(20))
def test_accuracy_arbitrary_label_values(seed):
    # Negative, non-contiguous ints and strings; sizes differ.
    rng = np.random.default_rng(seed)
    class_values = np.array(["cat", "dog", "emu", "yak"])
    cluster_values = np.array([-7, 0, 3, 100, 42])
    n = 25
    y_true = class_values[rng.integers(4, size=n)]
    y_pred = cluster_values[rng.integers(5, size=n)]
    expected = _brute_force_accuracy(y_true.tolist(), y_pred.tolist())
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(expected)
    assert clustering_accuracy(y_pred, y_true) == pytest.approx(expected)
    # Lists of Python objects too.
    assert clustering_accuracy(list(y_true), list(y_pred)) == pytest.approx(expected)


def test_accuracy_invariant_to_relabeling():
    rng = np.random.default_rng(0)
    y_true = rng.integers(4, size=50)
    y_pred = rng.integers(5, size=50)
    relabel = np.array([10, -3, 8, 2, 99])
    assert clustering_accuracy(y_true, relabel[y_pred]) == pytest.approx(
        clustering_accuracy(y_true, y_pred)
    )


def test_accuracy_simple_cases():
    assert clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert clustering_accuracy([0, 1, 2], [0, 1, 2]) == 1.0
    # One cluster for everything: only the largest class is matched.
    assert clustering_accuracy([0, 0, 0, 1, 2], [7, 7, 7, 7, 7]) == 0.6
    # Singletons: only one per class can be matched.
    assert clustering_accuracy([0, 0, 1, 1], [0, 1, 2, 3]) == 0.5
    assert clustering_accuracy([1], [5]) == 1.0
    # Column vectors are accepted.
    assert clustering_accuracy(np.array([[0], [1]]), np.array([[1], [0]])) == 1.0


def test_accuracy_returns_python_float():
    assert type(clustering_accuracy([0, 1], [0, 1])) is float
    assert type(purity_score([0, 1], [0, 1])) is float
    report = cluster_report([0, 1, 1], [0, 1, 0])
    assert all(type(v) is float for v in report.values())


def test_accuracy_is_at_most_purity():
    rng = np.random.default_rng(1)
    for _ in range(30):
        y_true = rng.integers(3, size=30)
        y_pred = rng.integers(rng.integers(1, 8), size=30)
        assert (
            clustering_accuracy(y_true, y_pred) <= purity_score(y_true, y_pred) + 1e-12
        )


def test_purity_hand_count():
    y_true = ["a", "a", "b", "b", "b", "c", "c", "c", "c", "a"]
    y_pred = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    # cluster 0: a,a,b -> 2; cluster 1: b,b,c -> 2; cluster 2: c,c,c,a -> 3.
    assert purity_score(y_true, y_pred) == pytest.approx(7 / 10)
    # Accuracy here coincides: the majorities a, b, c are distinct.
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(7 / 10)
    # Two clusters voting for the same class: purity counts both.
    assert purity_score([0, 0, 0, 0, 1], [0, 0, 1, 1, 1]) == pytest.approx(4 / 5)
    assert clustering_accuracy([0, 0, 0, 0, 1], [0, 0, 1, 1, 1]) == (
        pytest.approx(3 / 5)
    )
    # Singleton clusters are perfectly pure.
    assert purity_score([0, 1, 0, 1], [0, 1, 2, 3]) == 1.0


def test_cluster_report_uses_sklearn():
    rng = np.random.default_rng(3)
    y_true = rng.integers(3, size=40)
    y_pred = rng.integers(4, size=40)
    report = cluster_report(y_true, y_pred)
    assert set(report) == {"acc", "nmi", "ari", "purity"}
    assert report["acc"] == clustering_accuracy(y_true, y_pred)
    assert report["purity"] == purity_score(y_true, y_pred)
    assert report["nmi"] == pytest.approx(normalized_mutual_info_score(y_true, y_pred))
    assert report["ari"] == pytest.approx(adjusted_rand_score(y_true, y_pred))


@pytest.mark.parametrize("func", [clustering_accuracy, purity_score, cluster_report])
def test_bad_input(func):
    with pytest.raises(ValueError, match="empty"):
        func([], [])
    with pytest.raises(ValueError, match="inconsistent"):
        func([0, 1, 2], [0, 1])
    with pytest.raises(ValueError):
        func(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="reference labels"):
        func(None, [0, 1])


def test_mixed_label_types_rejected():
    with pytest.raises(ValueError, match="comparable"):
        clustering_accuracy(np.array([0, "a", 1], dtype=object), [0, 1, 1])


# ---------------------------------------------------------------- scorers


@pytest.fixture(scope="module")
def blobs():
    # Far-apart centers so that KMeans with k=3 is exactly right.
    centers = [[-6.0, 0.0], [6.0, 0.0], [0.0, 9.0]]
    return make_blobs(n_samples=90, centers=centers, cluster_std=0.5, random_state=0)


def test_scorers_keys_and_pickle():
    assert set(scorers) == {"acc", "nmi", "ari", "purity"}
    restored = pickle.loads(pickle.dumps(scorers))
    assert set(restored) == set(scorers)


def test_scorers_values_on_fitted_kmeans(blobs):
    X, y = blobs
    km = KMeans(n_clusters=3, n_init=3, random_state=0).fit(X)
    labels = km.predict(X)
    assert scorers["acc"](km, X, y) == pytest.approx(clustering_accuracy(y, labels))
    assert scorers["purity"](km, X, y) == pytest.approx(purity_score(y, labels))
    assert scorers["nmi"](km, X, y) == pytest.approx(
        normalized_mutual_info_score(y, labels)
    )
    assert scorers["ari"](km, X, y) == pytest.approx(adjusted_rand_score(y, labels))
    assert scorers["acc"](km, X, y) == 1.0


@pytest.mark.parametrize("use_pipeline", [False, True])
def test_scorers_single_metric_grid_search(blobs, use_pipeline):
    X, y = blobs
    if use_pipeline:
        est = make_pipeline(StandardScaler(), KMeans(n_init=3, random_state=0))
        grid = {"kmeans__n_clusters": [2, 3, 5]}
        key = "kmeans__n_clusters"
    else:
        est = KMeans(n_init=3, random_state=0)
        grid = {"n_clusters": [2, 3, 5]}
        key = "n_clusters"
    search = GridSearchCV(est, grid, scoring=scorers["acc"], cv=3, error_score="raise")
    search.fit(X, y)
    assert search.best_params_[key] == 3
    assert search.best_score_ == pytest.approx(1.0)
    # 2 clusters for 3 balanced classes: at most 2/3 can be matched.
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] <= 2 / 3 + 1e-9


@pytest.mark.parametrize("use_pipeline", [False, True])
def test_scorers_multi_metric_grid_search(blobs, use_pipeline):
    X, y = blobs
    if use_pipeline:
        est = make_pipeline(StandardScaler(), KMeans(n_init=3, random_state=0))
        grid = {"kmeans__n_clusters": [2, 3, 5]}
    else:
        est = KMeans(n_init=3, random_state=0)
        grid = {"n_clusters": [2, 3, 5]}
    search = GridSearchCV(
        est, grid, scoring=scorers, refit="acc", cv=3, error_score="raise"
    )
    search.fit(X, y)
    for name in ("acc", "nmi", "ari", "purity"):
        assert f"mean_test_{name}" in search.cv_results_
    assert search.best_index_ == 1
    # Refit on "acc" gives a usable clusterer.
    assert clustering_accuracy(y, search.predict(X)) == 1.0
    # Purity favors more clusters, accuracy does not.
    purity = search.cv_results_["mean_test_purity"]
    acc = search.cv_results_["mean_test_acc"]
    assert purity[2] >= acc[2]


def test_scorers_cross_validate(blobs):
    X, y = blobs
    res = cross_validate(
        KMeans(n_clusters=3, n_init=3, random_state=0),
        X,
        y,
        scoring=scorers,
        cv=3,
        error_score="raise",
    )
    for name in scorers:
        assert np.all(res[f"test_{name}"] > 0.9)


def test_scorers_need_predict(blobs):
    X, y = blobs
    est = AgglomerativeClustering(n_clusters=3).fit(X)
    with pytest.raises(AttributeError):
        scorers["acc"](est, X, y)


def test_scorers_need_y(blobs):
    X, _ = blobs
    km = KMeans(n_clusters=3, n_init=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="reference labels"):
        scorers["acc"](km, X, None)
