"""DECClustering and IDECClustering: the maths, the training phases, reuse of a
pretrained Autoencoder, persistence and composition.

Networks are tiny (6 -> 16 -> 2 on the 120-row ``blobs``), so every fit takes
a few tens of milliseconds on one core.
"""

import copy
import math
import pathlib
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdeepgen import Autoencoder, DECClustering, IDECClustering
from skdeepgen.dec import student_t_assignment, target_distribution
from skdeepgen.metrics import clustering_accuracy, scorers

MODELS = [DECClustering, IDECClustering]


def small(cls=DECClustering, n_clusters=3, **params):
    # pretrain_learning_rate=1e-2: 20 epochs are then enough for a code space
    # in which K-means separates the three blobs for every seed tried.
    defaults = dict(n_components=2, encoder_layers=(16,), pretrain_epochs=20, pretrain_learning_rate=1e-2,
                    max_epochs=5, batch_size=16, n_init=3, update_interval=5, random_state=0)
    defaults.update(params)
    return cls(n_clusters, **defaults)


def fitted_autoencoder(X, **params):
    defaults = dict(encoder_layers=(16,), max_epochs=20, learning_rate=1e-2, batch_size=16, random_state=0)
    defaults.update(params)
    return Autoencoder(2, **defaults).fit(X)


def cloned_state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def kl_by_hand(q):
    """Mean over rows of KL(P || Q), P the DEC target of Q, in numpy float64."""
    q = np.asarray(q, dtype=np.float64)
    weight = q**2 / q.sum(axis=0)
    p = weight / weight.sum(axis=1, keepdims=True)
    return float(np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1)))


# ------------------------------------------------------------ the formulas
def test_student_t_assignment_by_hand():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    centers = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    # alpha=1: (1 + d^2)^-1 ; squared distances are [[0, 4], [1, 1]].
    q = student_t_assignment(z, centers, alpha=1.0)
    expected = np.array([[1.0, 0.2], [0.5, 0.5]])
    np.testing.assert_allclose(q.numpy(), expected / expected.sum(1, keepdims=True), rtol=1e-12)
    # alpha=2: (1 + d^2 / 2)^-1.5
    q2 = student_t_assignment(z, centers, alpha=2.0)
    expected2 = np.array([[1.0, 3.0**-1.5], [1.5**-1.5, 1.5**-1.5]])
    np.testing.assert_allclose(q2.numpy(), expected2 / expected2.sum(1, keepdims=True), rtol=1e-12)
    # A smaller alpha has heavier tails: the far centre keeps more mass.
    assert q[0, 1] > q2[0, 1]


@pytest.mark.parametrize("alpha", [1.0, 2.0, 0.5])
def test_student_t_assignment_random_against_formula(alpha):
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    centers = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    q = student_t_assignment(z, centers, alpha=alpha).numpy()
    d2 = ((z.numpy()[:, None, :] - centers.numpy()[None, :, :]) ** 2).sum(-1)
    kernel = (1 + d2 / alpha) ** (-(alpha + 1) / 2)
    np.testing.assert_allclose(q, kernel / kernel.sum(1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-12)
    # The nearest centre always gets the most mass.
    np.testing.assert_array_equal(q.argmax(1), d2.argmin(1))


def test_target_distribution_formula_and_sharpening():
    q = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], dtype=torch.float64)
    p = target_distribution(q).numpy()
    qn = q.numpy()
    f = qn.sum(0)  # [2.6, 1.4]
    weight = qn**2 / f
    np.testing.assert_allclose(p, weight / weight.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p[0], np.array([0.81 / 2.6, 0.01 / 1.4]) / (0.81 / 2.6 + 0.01 / 1.4), rtol=1e-12)

    # With equally big clusters p_ij is q_ij^2 renormalised: every row is
    # sharpened (its largest entry grows) and keeps its argmax.
    balanced = torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.6, 0.4], [0.4, 0.6]], dtype=torch.float64)
    pb = target_distribution(balanced).numpy()
    assert np.all(pb.max(1) > balanced.numpy().max(1))
    np.testing.assert_array_equal(pb.argmax(1), balanced.numpy().argmax(1))
    np.testing.assert_allclose(pb[2], [0.36 / 0.52, 0.16 / 0.52], rtol=1e-12)
    # Confident rows are sharpened even in unbalanced data...
    assert np.all(p[:3].max(1) > qn[:3].max(1))
    # ...but the frequency division can flatten a hesitant row of the big
    # cluster (0.6 -> 0.548 here): sharpening is not row-wise in general.
    assert p[3, 0] < qn[3, 0]


def test_target_distribution_divides_by_cluster_frequency():
    # Column 0 is the bigger cluster (f = [2.5, 0.5] before the last row).
    q = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.7, 0.3], [0.5, 0.5]], dtype=torch.float64)
    p = target_distribution(q)
    # A row undecided between the two clusters is pushed towards the smaller one.
    assert p[3, 0] < 0.5 < p[3, 1]
    # Same q row, column swapped: no frequency effect when clusters are equally big.
    balanced = target_distribution(torch.tensor([[0.5, 0.5], [0.9, 0.1], [0.1, 0.9]], dtype=torch.float64))
    torch.testing.assert_close(balanced[0], torch.tensor([0.5, 0.5], dtype=torch.float64))


# ------------------------------------------------------------- clustering
@pytest.mark.parametrize("cls", MODELS)
def test_clusters_blobs_and_api_shapes(blobs, cls):
    X, y = blobs
    model = small(cls, tol=0.0, max_epochs=10).fit(X)
    assert model.n_iter_ == 10  # tol=0: the clustering phase really ran
    assert clustering_accuracy(y, model.labels_) >= 0.9
    assert adjusted_rand_score(y, model.labels_) >= 0.8

    labels = model.predict(X)
    assert model.labels_.dtype == np.int64 and labels.dtype == np.int64
    np.testing.assert_array_equal(model.labels_, labels)
    assert model.labels_.min() >= 0 and model.labels_.max() < 3

    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(proba.argmax(1), labels)

    Z = model.transform(X)
    assert Z.shape == (len(X), 2)
    assert model.cluster_centers_.shape == (3, 2)
    # predict_proba is the Student's t kernel between the codes and the centres.
    expected = student_t_assignment(torch.from_numpy(Z), torch.from_numpy(model.cluster_centers_).double())
    np.testing.assert_allclose(proba, expected.numpy(), rtol=1e-4, atol=1e-6)

    assert model.predict(X[:1]).shape == (1,)
    assert model.predict_proba(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="X has 5 features"):
        model.predict(X[:, :5])


def test_fit_predict_equals_labels(blobs):
    X, _ = blobs
    labels = small().fit_predict(X)
    np.testing.assert_array_equal(labels, small().fit(X).labels_)


@pytest.mark.parametrize("cls", MODELS)
def test_score_is_minus_kl_of_predict_proba(blobs, cls):
    X, _ = blobs
    model = small(cls).fit(X)
    score = model.score(X)
    assert isinstance(score, float) and math.isfinite(score)
    assert score <= 0.0  # a KL divergence is never negative
    assert score == pytest.approx(-kl_by_hand(model.predict_proba(X)), rel=1e-9, abs=1e-12)
    assert model.score(X[:40]) == pytest.approx(-kl_by_hand(model.predict_proba(X[:40])), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("cls", MODELS)
def test_kl_decreases_while_target_is_fixed(blobs, cls):
    # With one target update (at the first minibatch), the clustering phase is
    # plain gradient descent on KL(p || q) with p fixed: the KL must go down.
    X, _ = blobs
    model = small(cls, tol=0.0, max_epochs=10, update_interval=10**6).fit(X)
    key = "kl" if cls is IDECClustering else "loss"
    kl = [record[key] for record in model.history_]
    # IDEC also minimises the reconstruction error (gamma=0.1): a slower descent.
    assert kl[-1] < (0.8 if cls is IDECClustering else 0.5) * kl[0]


def test_kmeans_initialises_the_centres_and_training_moves_them(blobs, monkeypatch):
    X, _ = blobs
    ae = fitted_autoencoder(X)
    initial = {}
    original = DECClustering._initialize

    def spy(self, ctx):
        original(self, ctx)
        initial["centers"] = ctx.module.centers.detach().cpu().clone().numpy()
        initial["encoder"] = cloned_state(ctx.module.encoder)

    monkeypatch.setattr(DECClustering, "_initialize", spy)
    dec = small(pretrained=ae, tol=0.0, max_epochs=5).fit(X)

    # Step 2: the initial centres are the K-means centres of the pretrained codes.
    from sklearn.cluster import KMeans

    reference = KMeans(3, n_init=3, random_state=0).fit(ae.transform(X).astype(np.float32)).cluster_centers_
    order = lambda c: c[np.lexsort(c.T[::-1])]  # noqa: E731
    np.testing.assert_allclose(order(initial["centers"]), order(reference), rtol=1e-4, atol=1e-5)
    assert states_equal(initial["encoder"], cloned_state(ae.module_.encoder))
    # Step 4 trains both the centres and the encoder.
    assert not np.allclose(dec.cluster_centers_, initial["centers"])
    assert not states_equal(cloned_state(dec.module_.encoder), initial["encoder"])


# ------------------------------------------------------- the target updates
@pytest.mark.parametrize("cls", MODELS)
def test_target_recomputed_every_update_interval_minibatches(blobs, monkeypatch, cls):
    X, _ = blobs
    updates, targets = [], []
    update, loss = DECClustering._update_target, DECClustering._clustering_loss

    def counting_update(self, ctx):
        updates.append(ctx.iteration)
        update(self, ctx)

    def recording_loss(self, ctx, batch):
        value = loss(self, ctx, batch)
        targets.append((ctx.iteration, id(ctx.state["target"])))
        return value

    monkeypatch.setattr(DECClustering, "_update_target", counting_update)
    monkeypatch.setattr(DECClustering, "_clustering_loss", recording_loss)
    # 120 rows in batches of 17: 7 full batches, the last single row dropped.
    model = small(cls, batch_size=17, update_interval=5, tol=0.0, max_epochs=3).fit(X)
    total = 3 * 7
    assert model.n_iter_ == 3 and len(targets) == total
    assert len(updates) == math.ceil(total / 5)
    assert updates == [0, 5, 10, 15, 20]
    # The target is held fixed between two updates and replaced at each.
    for (it, target), (_, previous) in zip(targets[1:], targets[:-1]):
        assert (target != previous) == (it % 5 == 0)


def test_minibatch_loss_uses_the_target_rows_of_the_batch(blobs, monkeypatch):
    X, _ = blobs
    checked = []
    loss = DECClustering._clustering_loss

    def checking_loss(self, ctx, z):
        value = loss(self, ctx, z)
        index = ctx.batch_index.numpy()
        with torch.no_grad():
            # The codes handed in are the encoder's, of exactly the batch's rows.
            expected = ctx.module.encoder(torch.from_numpy(X.astype(np.float32)[index]))
            torch.testing.assert_close(z.detach(), expected)
            q = student_t_assignment(expected, ctx.module.centers, self.alpha).double()
            p = ctx.state["target"][ctx.batch_index].double()
            by_hand = (p * (p.log() - q.log())).sum(1).mean()
        torch.testing.assert_close(value.detach().double(), by_hand, rtol=1e-4, atol=1e-7)
        checked.append(len(index))
        return value

    monkeypatch.setattr(DECClustering, "_clustering_loss", checking_loss)
    small(tol=0.0, max_epochs=2, batch_size=32, device="cpu").fit(X)
    assert checked == [32, 32, 32, 24] * 2


# ------------------------------------------------------- label-change stop
@pytest.mark.parametrize("cls", MODELS)
def test_large_tol_stops_at_the_second_update(blobs, monkeypatch, cls):
    X, _ = blobs
    calls = []
    update = DECClustering._update_target

    def counting_update(self, ctx):
        calls.append(ctx.iteration)
        update(self, ctx)

    monkeypatch.setattr(DECClustering, "_update_target", counting_update)
    model = small(cls, tol=0.5, update_interval=1, max_epochs=20).fit(X)
    assert model.n_iter_ < 20
    assert model.n_iter_ == 1 and calls == [0, 1]  # stopped after the minibatch of the 2nd update
    assert 0.0 <= model.history_[-1]["label_change"] < 0.5


@pytest.mark.parametrize("cls", MODELS)
def test_zero_tol_runs_max_epochs_and_records_label_change(blobs, cls):
    X, _ = blobs
    model = small(cls, tol=0.0, update_interval=1, max_epochs=6).fit(X)
    assert model.n_iter_ == 6 == len(model.history_)
    assert [r["epoch"] for r in model.history_] == list(range(1, 7))
    assert all(0.0 <= r["label_change"] <= 1.0 for r in model.history_)
    assert all(math.isfinite(r["loss"]) for r in model.history_)


def test_idec_keeps_decoder_and_records_both_losses(blobs):
    X, _ = blobs
    idec = small(IDECClustering, gamma=0.5, tol=0.0, max_epochs=3, device="cpu").fit(X)
    assert idec.module_.decoder is not None
    Z = torch.from_numpy(idec.transform(X).astype(np.float32))
    with torch.no_grad():
        assert idec.module_.decoder(Z).shape == X.shape
    for record in idec.history_:
        assert {"loss", "kl", "reconstruction", "label_change", "seconds", "epoch"} <= set(record)
        assert record["loss"] == pytest.approx(record["reconstruction"] + 0.5 * record["kl"], rel=1e-4)

    dec = small(tol=0.0, max_epochs=3, device="cpu").fit(X)
    assert dec.module_.decoder is None
    assert "reconstruction" not in dec.history_[0] and "kl" not in dec.history_[0]


def test_pretraining_runs_pretrain_epochs(blobs):
    X, _ = blobs
    dec = small(pretrain_epochs=7).fit(X)
    assert len(dec.pretrain_history_) == 7
    assert dec.pretrain_history_[-1]["loss"] < dec.pretrain_history_[0]["loss"]
    assert dec.autoencoder_params_ == dict(n_components=2, encoder_layers=(16,), decoder_layers=None,
                                           activation="relu", output_activation=None, batch_norm=False,
                                           dropout=0.0)


# ------------------------------------------------------ pretrained reuse
@pytest.mark.parametrize("cls", MODELS)
def test_pretrained_autoencoder_is_reused_not_modified(blobs, monkeypatch, tmp_path, cls):
    X, _ = blobs
    ae = fitted_autoencoder(X, decoder_layers=(8,), output_activation="sigmoid")
    state, history, params = cloned_state(ae.module_), copy.deepcopy(ae.history_), ae.get_params()
    path = tmp_path / "ae.pt"
    ae.save(path)

    def no_pretraining(self, *args, **kwargs):
        raise AssertionError("Autoencoder.fit called although a pretrained one was given")

    monkeypatch.setattr(Autoencoder, "fit", no_pretraining)
    # The DEC's own architecture parameters are ignored: they come from ae.
    model = small(cls, pretrained=ae, n_components=7, encoder_layers=(99,)).fit(X)

    assert states_equal(state, cloned_state(ae.module_))
    assert ae.history_ == history and ae.get_params() == params
    assert model.module_.encoder is not ae.module_.encoder
    assert model.pretrain_history_ == []
    assert model.autoencoder_params_ == dict(n_components=2, encoder_layers=(16,), decoder_layers=(8,),
                                             activation="relu", output_activation="sigmoid", batch_norm=False,
                                             dropout=0.0)
    assert model.transform(X).shape == (len(X), 2)
    assert model.cluster_centers_.shape == (3, 2)
    if cls is IDECClustering:
        assert isinstance(model.module_.decoder[-1], torch.nn.Sigmoid)

    # A saved file and a FrozenEstimator give the very same fit as the instance.
    for other in (str(path), FrozenEstimator(ae)):
        again = small(cls, pretrained=other, n_components=7, encoder_layers=(99,)).fit(X)
        assert again.pretrain_history_ == []
        np.testing.assert_array_equal(again.labels_, model.labels_)
        np.testing.assert_array_equal(again.cluster_centers_, model.cluster_centers_)
        np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert states_equal(state, cloned_state(ae.module_))


def test_clone_keeps_frozen_and_path_but_not_a_plain_instance(blobs, tmp_path):
    # Why the docs recommend a path (or FrozenEstimator) for grid searches:
    # clone() re-creates an estimator-valued parameter unfitted.
    X, _ = blobs
    ae = fitted_autoencoder(X)
    path = tmp_path / "ae.pt"
    ae.save(path)
    clone(small(pretrained=str(path))).fit(X)
    clone(small(pretrained=FrozenEstimator(ae))).fit(X)
    with pytest.raises(NotFittedError, match="pretrained"):
        clone(small(pretrained=ae)).fit(X)


def test_grid_search_with_pretrained_path_never_pretrains(blobs, monkeypatch, tmp_path):
    X, y = blobs
    path = tmp_path / "ae.pt"
    fitted_autoencoder(X).save(path)

    def no_pretraining(self, *args, **kwargs):
        raise AssertionError("Autoencoder.fit called inside the grid search")

    monkeypatch.setattr(Autoencoder, "fit", no_pretraining)
    search = GridSearchCV(small(pretrained=str(path)), {"n_clusters": [2, 3, 4]}, scoring=scorers["acc"],
                          cv=KFold(2, shuffle=True, random_state=0), error_score="raise")
    search.fit(X, y)
    assert list(search.cv_results_["param_n_clusters"]) == [2, 3, 4]
    assert search.best_params_ == {"n_clusters": 3}
    assert search.best_score_ >= 0.9
    assert search.best_estimator_.pretrain_history_ == []
    assert search.best_estimator_.pretrained == str(path)


# -------------------------------------------------------------- bad input
def _no_training(monkeypatch):
    def fail(self, ctx):
        raise AssertionError("training started before the bad input was refused")

    monkeypatch.setattr(DECClustering, "_initialize", fail)


@pytest.mark.parametrize(
    "cls, params, name, value",
    [
        (DECClustering, {"update_interval": 0}, "update_interval", "0"),
        (DECClustering, {"tol": -0.1}, "tol", "-0.1"),
        (DECClustering, {"tol": 2}, "tol", "2"),
        (DECClustering, {"alpha": 0}, "alpha", "0"),
        (DECClustering, {"alpha": -1.0}, "alpha", "-1.0"),
        (DECClustering, {"n_init": 0}, "n_init", "0"),
        (DECClustering, {"n_clusters": 0}, "n_clusters", "0"),
        (DECClustering, {"n_clusters": 121}, "n_clusters", "121"),
        (DECClustering, {"optimizer": "rmsprop"}, "optimizer", "rmsprop"),
        (DECClustering, {"pretrain_epochs": 0}, "pretrain_epochs", "0"),
        (DECClustering, {"pretrain_learning_rate": 0.0}, "pretrain_learning_rate", "0.0"),
        (DECClustering, {"encoder_layers": (0,)}, "encoder_layers", "0"),
        (IDECClustering, {"gamma": 0}, "gamma", "0"),
        (IDECClustering, {"optimizer": "rmsprop"}, "optimizer", "rmsprop"),
        (IDECClustering, {"n_clusters": 121}, "n_clusters", "121"),
    ],
)
def test_bad_params_refused_before_training(blobs, monkeypatch, cls, params, name, value):
    X, _ = blobs
    _no_training(monkeypatch)
    model = small(cls, **params)
    with pytest.raises((ValueError, TypeError)) as info:
        model.fit(X)
    assert name in str(info.value) and value in str(info.value)
    assert not hasattr(model, "module_") and not hasattr(model, "labels_")


def test_bad_pretrained_refused_before_training(blobs, monkeypatch):
    X, _ = blobs
    other_width = fitted_autoencoder(X[:, :5])
    _no_training(monkeypatch)

    with pytest.raises(FileNotFoundError, match="not-a-file.pt"):
        small(pretrained="not-a-file.pt").fit(X)
    with pytest.raises(NotFittedError, match="'pretrained' Autoencoder is not fitted"):
        small(pretrained=Autoencoder(2)).fit(X)
    with pytest.raises(NotFittedError, match="'pretrained' Autoencoder is not fitted"):
        small(pretrained=FrozenEstimator(Autoencoder(2))).fit(X)
    with pytest.raises(TypeError, match="pretrained=42"):
        small(pretrained=42).fit(X)
    with pytest.raises(TypeError, match="pretrained=KMeans"):
        from sklearn.cluster import KMeans

        small(pretrained=KMeans(3)).fit(X)
    with pytest.raises(ValueError, match="pretrained Autoencoder was fitted on 5 features, but X has 6"):
        small(pretrained=other_width).fit(X)


def test_pretrained_file_of_another_class_refused(blobs, tmp_path):
    X, _ = blobs
    path = tmp_path / "dec.pt"
    small().fit(X).save(path)
    with pytest.raises(ValueError, match="holds a DECClustering, not a Autoencoder"):
        small(pretrained=str(path)).fit(X)


@pytest.mark.parametrize("ae_params", [{"batch_norm": True}, {"dropout": 0.2}])
def test_pretrained_with_batch_norm_or_dropout(blobs, ae_params):
    # Either the layers are carried over, or the input is refused with a
    # message that names `pretrained`; a torch state_dict error is neither.
    X, y = blobs
    ae = fitted_autoencoder(X, **ae_params)
    try:
        model = small(pretrained=ae).fit(X)
    except ValueError as exc:
        assert "pretrained" in str(exc)
    else:
        assert clustering_accuracy(y, model.labels_) >= 0.9


# ------------------------------------------------ determinism, persistence
@pytest.mark.parametrize("cls", MODELS)
def test_same_seed_gives_identical_fits(blobs, cls):
    X, _ = blobs
    a = small(cls, tol=0.0).fit(X)
    b = small(cls, tol=0.0).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.history_[-1]["loss"] == b.history_[-1]["loss"]
    assert states_equal(cloned_state(a.module_), cloned_state(b.module_))
    c = small(cls, tol=0.0, random_state=1).fit(X)
    assert not np.array_equal(a.cluster_centers_, c.cluster_centers_)


@pytest.mark.parametrize("random_state", [None, 3, np.random.RandomState(1)])
def test_fit_leaves_global_rng_state_alone(blobs, random_state, assert_rng_untouched):
    X, _ = blobs
    assert_rng_untouched(lambda: small(IDECClustering, random_state=random_state).fit(X))


@pytest.mark.parametrize("cls", MODELS)
def test_pickle_round_trip(blobs, cls):
    X, _ = blobs
    model = small(cls).fit(X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(again.transform(X), model.transform(X))
    assert again.history_ == model.history_ and again.pretrain_history_ == model.pretrain_history_
    assert (again.module_.decoder is None) == (cls is DECClustering)


@pytest.mark.parametrize("cls", MODELS)
def test_save_load_round_trip(blobs, tmp_path, cls):
    X, _ = blobs
    model = small(cls).fit(X)
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = cls.load(path)
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.labels_, model.labels_)
    np.testing.assert_array_equal(loaded.cluster_centers_, model.cluster_centers_)
    assert loaded.labels_.dtype == np.int64
    assert loaded.get_params() == model.get_params()
    assert loaded.autoencoder_params_ == model.autoencoder_params_
    assert loaded.history_ == model.history_ and loaded.pretrain_history_ == model.pretrain_history_
    assert (loaded.module_.decoder is None) == (cls is DECClustering)
    other = IDECClustering if cls is DECClustering else DECClustering
    with pytest.raises(ValueError, match=f"holds a {cls.__name__}"):
        other.load(path)


def test_save_load_of_a_fit_on_a_pretrained_instance_or_path(blobs, tmp_path):
    X, _ = blobs
    ae = fitted_autoencoder(X)
    ae_path = tmp_path / "ae.pt"
    ae.save(ae_path)

    on_instance = small(pretrained=ae).fit(X)
    on_instance.save(tmp_path / "a.pt")
    loaded = DECClustering.load(tmp_path / "a.pt")
    assert loaded.pretrained is None  # an estimator-valued parameter is stored as None
    assert on_instance.pretrained is ae
    np.testing.assert_array_equal(loaded.predict_proba(X), on_instance.predict_proba(X))
    assert loaded.autoencoder_params_ == on_instance.autoencoder_params_

    on_path = small(pretrained=str(ae_path)).fit(X)
    on_path.save(tmp_path / "b.pt")
    ae_path.unlink()  # the model file is self-contained
    loaded = DECClustering.load(tmp_path / "b.pt")
    assert loaded.pretrained == str(ae_path)
    np.testing.assert_array_equal(loaded.predict_proba(X), on_path.predict_proba(X))


def test_save_after_fit_on_a_pathlib_path(blobs, tmp_path):
    X, _ = blobs
    ae_path = tmp_path / "ae.pt"
    fitted_autoencoder(X).save(ae_path)
    model = small(pretrained=pathlib.Path(ae_path)).fit(X)
    model.save(tmp_path / "dec.pt")
    loaded = DECClustering.load(tmp_path / "dec.pt")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ------------------------------------------------------------ composition
@pytest.mark.parametrize("cls", MODELS)
def test_in_a_pipeline_with_minmax_scaler(blobs, cls):
    X, y = blobs
    X_raw = 50.0 * X - 3.0  # out of [0, 1]: the scaler brings it back
    pipe = make_pipeline(MinMaxScaler(), small(cls, tol=0.0)).fit(X_raw)
    labels = pipe.predict(X_raw)
    np.testing.assert_array_equal(labels, pipe[-1].labels_)
    assert clustering_accuracy(y, labels) >= 0.9
    assert pipe.predict_proba(X_raw).shape == (len(X), 3)
    np.testing.assert_array_equal(pipe.fit_predict(X_raw), labels)


@pytest.mark.parametrize("cls", MODELS)
def test_outputs_of_a_row_do_not_depend_on_the_rows_order(blobs, cls):
    # scikit-learn's check_methods_sample_order_invariance, at float32 tolerance
    # (its rtol of 1e-7 is about one ulp of a probability near 0.5).
    X, _ = blobs
    model = small(cls).fit(X)
    order = np.random.RandomState(0).permutation(len(X))
    for method in (model.predict_proba, model.transform):
        np.testing.assert_allclose(method(X[order]), method(X)[order], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X[order]), model.predict(X)[order])
