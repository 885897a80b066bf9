"""JGMMNClustering: the refinement rule, initialisation, the two losses, the
public API (predict, transform, sample, score), errors, persistence and composition.

Fits use the 2-D 4-component mixture of the paper's section 5.1 with 200
rows, 2-D codes and small networks, so each takes well under a second.
"""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdeepgen import Autoencoder, JGMMNClustering
from skdeepgen.datasets import make_jgmmn_gaussians
from skdeepgen.dec import target_distribution
from skdeepgen.jgmmn import PAPER_BANDWIDTHS, refine_assignment
from skdeepgen.kernels import joint_mmd2
from skdeepgen.metrics import clustering_accuracy, scorers


@pytest.fixture(scope="module")
def toy():
    return make_jgmmn_gaussians(200, n_components=4, random_state=0)


def small(n_clusters=4, **params):
    defaults = dict(n_components=2, inference_layers=(16,), generator_layers=(16,), pretrain_epochs=30,
                    pretrain_learning_rate=1e-2, max_epochs=4, batch_size=50, n_init=3, update_interval=4,
                    learning_rate=1e-3, random_state=0)
    defaults.update(params)
    return JGMMNClustering(n_clusters, **defaults)


@pytest.fixture(scope="module")
def fitted(toy):
    # On the CPU: the white-box tests below feed CPU tensors to module_.
    return small(device="cpu").fit(toy[0])


# ------------------------------------------------------------ the maths
def test_refine_assignment_rules_by_hand():
    p = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], dtype=torch.float64)
    f = p.sum(dim=0)
    dec = p**2 / f
    depict = p / f.sqrt()
    torch.testing.assert_close(refine_assignment(p, "dec"), dec / dec.sum(dim=1, keepdim=True))
    torch.testing.assert_close(refine_assignment(p, "depict"), depict / depict.sum(dim=1, keepdim=True))
    torch.testing.assert_close(refine_assignment(p), target_distribution(p))
    with pytest.raises(ValueError, match="target"):
        refine_assignment(p, "kl")


def test_refinement_favours_the_smaller_cluster():
    # Equal confidence towards a big and a small cluster: dividing by the
    # frequency tips the target towards the small one, for both rules.
    p = torch.tensor([[0.5, 0.5]] + [[0.9, 0.1]] * 8, dtype=torch.float64)
    for target in ("dec", "depict"):
        assert refine_assignment(p, target)[0, 1] > 0.5


def test_initialisation_is_kmeans_on_prior_scaled_codes(toy):
    X, _ = toy
    # A vanishing step: the fitted networks are the initialised ones.
    model = small(learning_rate=1e-12, max_epochs=1).fit(X)
    codes = model.transform(X)
    # Centred, and one common scale matching U[-1, 1] (std 1/sqrt(3)).
    np.testing.assert_allclose(codes.mean(axis=0), 0, atol=1e-3)
    assert codes.std() == pytest.approx(1 / np.sqrt(3), rel=1e-3)
    # The softmax layer is K-means' nearest-centre posterior: same partition.
    kmeans = KMeans(4, n_init=10, random_state=0).fit(codes)
    assert adjusted_rand_score(kmeans.labels_, model.labels_) == 1.0
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_training_step_losses_are_the_papers_j1_and_j2(toy, monkeypatch):
    X, _ = toy
    seen = []
    original = JGMMNClustering._training_step

    def spy(self, ctx, batch, step_name):
        out = original(self, ctx, batch, step_name)
        seen.append((ctx, batch, {k: float(v.detach()) for k, v in out.items()}))
        return out

    monkeypatch.setattr(JGMMNClustering, "_training_step", spy)
    model = small(max_epochs=1, regularization=0.5).fit(X)
    ctx, batch, losses = seen[-1]
    assert losses["loss"] == pytest.approx(losses["j1"] + 0.5 * losses["j2"], rel=1e-5)
    assert losses["j1"] > 0 and losses["j2"] >= 0
    assert model.bandwidths_x_ == PAPER_BANDWIDTHS
    # "auto" code bandwidths: the prior's mean squared distance 2d/3 times the multipliers.
    assert model.bandwidths_z_ == pytest.approx(tuple(4 / 3 * m for m in (0.25, 0.5, 1, 2, 4)))


def test_history_records_j1_j2_and_label_change(fitted):
    for record in fitted.history_:
        assert {"loss", "j1", "j2", "seconds", "epoch"} <= set(record)
    # The first refinement (iteration 0) has nothing to compare with.
    assert "label_change" not in fitted.history_[0]
    assert all("label_change" in record for record in fitted.history_[1:])
    assert fitted.n_iter_ == len(fitted.history_)


def test_large_tol_stops_at_the_second_refinement(toy):
    model = small(tol=1.0, max_epochs=20, update_interval=4).fit(toy[0])
    # 200 rows / 50 = 4 minibatches per epoch: refinements at iterations 0 and 4.
    assert model.n_iter_ == 2


def test_j1_decreases_without_the_regulariser(toy):
    model = small(regularization=0.0, max_epochs=30, tol=0.0).fit(toy[0])
    j1 = [r["j1"] for r in model.history_]
    assert np.mean(j1[-5:]) < 0.7 * np.mean(j1[:3])
    assert "j2" not in model.history_[0]


def test_nr_predicts_kmeans_on_the_final_codes(toy):
    X, _ = toy
    model = small(regularization=0.0, max_epochs=10).fit(X)
    kmeans = KMeans(4, n_init=10, random_state=1).fit(model.transform(X))
    assert adjusted_rand_score(kmeans.labels_, model.labels_) > 0.98


# ------------------------------------------------------------ the API
def test_clusters_the_toy_mixture_and_api_shapes(toy, fitted):
    X, y = toy
    assert fitted.labels_.dtype == np.int64 and fitted.labels_.shape == (200,)
    assert clustering_accuracy(y, fitted.labels_) > 0.95
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    proba = fitted.predict_proba(X)
    assert proba.shape == (200, 4)
    np.testing.assert_array_equal(proba.argmax(axis=1), fitted.labels_)
    assert fitted.transform(X).shape == (200, 2)
    assert fitted.predict(X[:1]).shape == (1,)
    assert fitted.get_feature_names_out().tolist() == ["jgmmnclustering0", "jgmmnclustering1"]


def test_outputs_of_a_row_do_not_depend_on_its_batch(toy, fitted):
    # scikit-learn's check_methods_subset_invariance, at float32 tolerance
    # (its atol of 1e-7 is a few ulps of JGMMN's codes of order 1).
    X, _ = toy
    for method in (fitted.transform, fitted.predict_proba):
        whole = method(X[:20])
        by_row = np.vstack([method(X[i:i + 1]) for i in range(20)])
        np.testing.assert_allclose(by_row, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.concatenate([fitted.predict(X[i:i + 1]) for i in range(20)]),
                                  fitted.predict(X[:20]))


def test_fit_predict_equals_labels(toy):
    X, _ = toy
    np.testing.assert_array_equal(small().fit_predict(X), small().fit(X).labels_)


def test_sample_like_gaussian_mixture(fitted):
    X_new, y_new = fitted.sample(30)
    assert X_new.shape == (30, 2) and X_new.dtype == np.float32
    assert y_new.shape == (30,) and y_new.dtype == np.int64
    assert set(y_new) <= set(range(4))
    # An int random_state makes the draws repeatable.
    X_again, y_again = fitted.sample(30)
    np.testing.assert_array_equal(X_new, X_again)
    np.testing.assert_array_equal(y_new, y_again)
    # The label of a sample is the softmax layer's modality of its code.
    with torch.no_grad():
        z = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, (30, 2)).astype(np.float32))
        np.testing.assert_array_equal(fitted.module_.modes(z).argmax(dim=1).numpy(), y_new)
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)


def test_sample_is_in_unit_interval_with_sigmoid_output(toy):
    X = MinMaxScaler().fit_transform(toy[0])
    model = small(max_epochs=1).fit(X)
    assert model.output_activation_ == "sigmoid"
    X_new, _ = model.sample(50)
    assert X_new.min() >= 0 and X_new.max() <= 1
    assert small(max_epochs=1).fit(toy[0]).output_activation_ is None


def test_score_is_minus_the_joint_mmd(toy, fitted):
    X, _ = toy
    score = fitted.score(X)
    assert score == fitted.score(X)  # the prior draws are seeded
    Z = np.random.RandomState(0).uniform(-1, 1, (200, 2)).astype(np.float32)
    with torch.no_grad():
        generated = fitted.module_.generator(torch.from_numpy(Z))
    j1 = joint_mmd2(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(fitted.transform(X)), generated,
                    torch.from_numpy(Z), bandwidths_x=fitted.bandwidths_x_, bandwidths_z=fitted.bandwidths_z_)
    assert score == pytest.approx(-float(j1), rel=1e-4)


def test_score_prefers_the_training_distribution_to_noise(toy):
    X, _ = toy
    # J1 alone (JGMMN-NR): J2 pulls the codes into modes, away from the
    # uniform prior, which J1 then counts against every X alike.
    model = small(max_epochs=150, regularization=0.0).fit(X)
    noise = np.random.RandomState(1).uniform(X.min(), X.max(), X.shape)
    assert model.score(X) > model.score(noise)


@pytest.mark.parametrize("kernel", ["laplacian", "imq"])
def test_other_kernels_fit(toy, kernel):
    X, y = toy
    model = small(kernel=kernel, bandwidths_x="median").fit(X)
    assert clustering_accuracy(y, model.labels_) > 0.9
    assert np.isfinite(model.score(X))
    if kernel == "laplacian":
        assert model.bandwidths_z_ == pytest.approx(tuple(np.sqrt(4 / 3) * m for m in (0.25, 0.5, 1, 2, 4)))


def test_depict_target_and_bf16(toy):
    X, y = toy
    model = small(target="depict", precision="bf16").fit(X)
    assert clustering_accuracy(y, model.labels_) > 0.9


# ------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_clusters=500), "n_clusters=500"),
        (dict(bandwidths_x=()), "bandwidths_x"),
        (dict(bandwidths_x=(2.0, -1.0)), "bandwidths_x"),
        (dict(bandwidths_z=(0.0,)), "bandwidths_z"),
        (dict(bandwidths_z="mean"), "bandwidths_z"),
        (dict(kernel="linear"), "kernel"),
        (dict(target="kl"), "target"),
        (dict(regularization=-1.0), "regularization"),
        (dict(inference_layers=(0,)), "inference_layers"),
        (dict(generator_layers="big"), "generator_layers"),
    ],
)
def test_bad_params_refused_before_training(toy, monkeypatch, params, match):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Autoencoder, "fit", no_training)
    n_clusters = params.pop("n_clusters", 4)
    with pytest.raises((ValueError, TypeError), match=match):
        small(n_clusters, **params).fit(toy[0])


def test_input_and_pretrained_left_unmodified(toy):
    X, _ = toy
    X_copy = X.copy()
    ae = Autoencoder(2, encoder_layers=(16,), max_epochs=20, learning_rate=1e-2, random_state=0).fit(X)
    state = {k: v.clone() for k, v in ae.module_.state_dict().items()}
    model = small(pretrained=ae, n_components=5, inference_layers=(99,)).fit(X)
    np.testing.assert_array_equal(X, X_copy)
    assert all(torch.equal(state[k], v) for k, v in ae.module_.state_dict().items())
    # The architecture of h comes from the pretrained network.
    assert model.inference_params_["encoder_layers"] == (16,) and model.transform(X).shape == (200, 2)
    assert model.pretrain_history_ == []
    with pytest.raises(ValueError, match="features"):
        small(pretrained=ae).fit(np.hstack([X, X]))


# ------------------------------------------------ reproducibility, persistence
def test_same_seed_same_fit_and_rng_untouched(toy, assert_rng_untouched):
    X, _ = toy
    a = small().fit(X)
    assert_rng_untouched(lambda: small().fit(X))
    b = small().fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.history_[-1]["loss"] == b.history_[-1]["loss"]


def test_pickle_and_save_load_round_trip(toy, fitted, tmp_path):
    X, _ = toy
    for clone in (pickle.loads(pickle.dumps(fitted)), None):
        if clone is None:
            fitted.save(tmp_path / "jgmmn.pt")
            clone = JGMMNClustering.load(tmp_path / "jgmmn.pt")
        np.testing.assert_array_equal(clone.predict(X), fitted.predict(X))
        np.testing.assert_allclose(clone.transform(X), fitted.transform(X))
        np.testing.assert_array_equal(clone.sample(5)[0], fitted.sample(5)[0])
        assert clone.score(X) == pytest.approx(fitted.score(X))


# ------------------------------------------------------------ composition
def test_in_a_pipeline_with_minmax_scaler(toy):
    X, y = toy
    pipe = make_pipeline(MinMaxScaler(), small(learning_rate=1e-3))
    labels = pipe.fit(X).predict(X)
    assert clustering_accuracy(y, labels) > 0.9


def test_grid_search_over_kernel_and_n_clusters(toy):
    X, y = toy
    search = GridSearchCV(small(max_epochs=1, pretrain_epochs=5),
                          {"kernel": ["gaussian", "laplacian"], "n_clusters": [3, 4]},
                          scoring=scorers["acc"], cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.labels_.shape == (200,)
    # Without labels, the default scorer is score(): -J1.
    unsupervised = GridSearchCV(small(max_epochs=1, pretrain_epochs=5), {"n_clusters": [3, 4]}, cv=2).fit(X)
    assert np.all(np.isfinite(unsupervised.cv_results_["mean_test_score"]))


def test_clone_params_roundtrip():
    model = JGMMNClustering(3, bandwidths_x=(1.0, 4.0), bandwidths_z="median", kernel="imq")
    params = copy.deepcopy(model.get_params())
    assert JGMMNClustering(**params).get_params() == params
