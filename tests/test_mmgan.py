"""MMGANClustering: the latent mixture, the three adversarial losses, the
training step, the public API (predict, transform, sample, score), errors,
persistence and composition.

Fits use 200 rows of scikit-learn's moons with small networks, so each takes
well under a second.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch.nn import functional as F

from skdeepgen import MMGANClustering
from skdeepgen._training import TrainContext
from skdeepgen.metrics import scorers
from skdeepgen.mmgan import MIN_STD, cube_vertices


@pytest.fixture(scope="module")
def moons():
    return make_moons(200, noise=0.05, random_state=0)


def small(n_clusters=2, **params):
    defaults = dict(latent_dim=3, generator_layers=(16,), discriminator_layers=(16,), max_epochs=3,
                    batch_size=32, learning_rate=1e-3, random_state=0)
    defaults.update(params)
    return MMGANClustering(n_clusters, **defaults)


@pytest.fixture(scope="module")
def fitted(moons):
    # On the CPU: the white-box tests below feed CPU tensors to module_.
    return small(max_epochs=5, device="cpu").fit(moons[0])


# ---------------------------------------------------------- the latent mixture
def test_cube_vertices_are_distinct_vertices():
    for dim, n in ((3, 8), (10, 50), (40, 30)):
        v = cube_vertices(n, dim, random_state=0)
        assert v.shape == (n, dim)
        assert set(np.unique(v)) == {-1.0, 1.0}
        assert len({row.tobytes() for row in v}) == n
    np.testing.assert_array_equal(cube_vertices(5, 4, 1), cube_vertices(5, 4, 1))
    with pytest.raises(ValueError, match="has 4 vertices; 5"):
        cube_vertices(5, 2)


def test_means_start_at_distinct_vertices_and_stds_at_init_std(moons, monkeypatch):
    starts = []
    original = MMGANClustering._initialize

    def spy(self, ctx):
        original(self, ctx)
        starts.append((ctx.module.means.weight.detach().T.clone(), ctx.module.stds.weight.detach().clone()))

    monkeypatch.setattr(MMGANClustering, "_initialize", spy)
    small(5, latent_dim=4, init_std=0.7, max_epochs=1, device="cpu").fit(moons[0])
    means, stds = starts[0]
    assert set(np.unique(means.numpy())) == {-1.0, 1.0}
    assert len({tuple(row) for row in means.tolist()}) == 5
    assert torch.all(stds == 0.7)


def test_stds_never_fall_below_the_bound(moons):
    # Starting on the bound with a large step: the projection must hold them there.
    model = small(init_std=MIN_STD, learning_rate=1e-2, max_epochs=5).fit(moons[0])
    assert np.all(model.cluster_stds_ >= MIN_STD)
    assert model.cluster_stds_.shape == (2,) and model.cluster_means_.shape == (2, 3)


def test_generator_uses_the_mixture_component_of_the_one_hot(fitted):
    module = fitted.module_
    onehot = F.one_hot(torch.tensor([0, 1, 1]), 2).float()
    noise = torch.randn(3, 3)
    expected = torch.from_numpy(fitted.cluster_means_[[0, 1, 1]]).float() + torch.from_numpy(
        fitted.cluster_stds_[[0, 1, 1]]).float()[:, None] * noise
    torch.testing.assert_close(module.latent(onehot, noise), expected)


# --------------------------------------------------------------- the losses
def test_crasgan_compares_with_the_average_of_the_same_cluster():
    model = MMGANClustering(2, loss="crasgan")
    real = torch.tensor([1.0, 2.0, 3.0])
    fake = torch.tensor([0.0, -1.0, 4.0])
    real_clusters = torch.tensor([0, 0, 1])
    fake_clusters = torch.tensor([0, 1, 1])
    d_loss, g_loss = model._adversarial_losses(real, fake, real_clusters, fake_clusters)
    # Reals of cluster 0 against the mean fake of cluster 0 (0.0), the real of cluster 1 against
    # the mean fake of cluster 1 (1.5); fakes against the mean real of their cluster (1.5, 3, 3).
    real_rel = torch.tensor([1.0 - 0.0, 2.0 - 0.0, 3.0 - 1.5])
    fake_rel = torch.tensor([0.0 - 1.5, -1.0 - 3.0, 4.0 - 3.0])
    expected_d = -F.logsigmoid(real_rel).mean() - torch.log1p(-torch.sigmoid(fake_rel)).mean()
    expected_g = -F.logsigmoid(fake_rel).mean() - torch.log1p(-torch.sigmoid(real_rel)).mean()
    torch.testing.assert_close(d_loss, expected_d)
    torch.testing.assert_close(g_loss, expected_g)


@pytest.mark.parametrize("loss", ["sgan", "rsgan"])
def test_sgan_and_rsgan_losses(loss):
    real = torch.tensor([1.0, -2.0])
    fake = torch.tensor([0.5, 3.0])
    clusters = torch.tensor([0, 1])
    d_loss, g_loss = MMGANClustering(2, loss=loss)._adversarial_losses(real, fake, clusters, clusters)
    if loss == "sgan":
        torch.testing.assert_close(d_loss, -F.logsigmoid(real).mean() - F.logsigmoid(-fake).mean())
        torch.testing.assert_close(g_loss, -F.logsigmoid(fake).mean())
    else:  # pairs: real i against fake i
        torch.testing.assert_close(d_loss, -F.logsigmoid(real - fake).mean())
        torch.testing.assert_close(g_loss, -F.logsigmoid(fake - real).mean())


class _Ctx:
    """What _draw_clusters reads from a TrainContext: its generator, rand and categorical."""

    def __init__(self, seed=0):
        self.generator = torch.Generator().manual_seed(seed)
        self.device = torch.device("cpu")

    def rand(self, *shape):
        return torch.rand(*shape, generator=self.generator)

    categorical = TrainContext.categorical


def test_paired_clusters_are_drawn_from_the_encoder_posterior():
    model = MMGANClustering(3)
    certain = F.one_hot(torch.tensor([2, 0, 1, 1]), 3).float()
    assert torch.equal(model._draw_clusters(_Ctx(), certain, 4), torch.tensor([2, 0, 1, 1]))
    proba = torch.tensor([[0.2, 0.0, 0.8]]).repeat(20000, 1)
    counts = torch.bincount(model._draw_clusters(_Ctx(), proba, 20000), minlength=3).numpy() / 20000
    np.testing.assert_allclose(counts, [0.2, 0.0, 0.8], atol=0.01)
    uniform = torch.bincount(model._draw_clusters(_Ctx(), None, 30000), minlength=3).numpy() / 30000
    np.testing.assert_allclose(uniform, [1 / 3] * 3, atol=0.01)


def test_pairing_starts_after_the_warmup(moons, monkeypatch):
    draws = []
    original = MMGANClustering._draw_clusters

    def spy(self, ctx, proba, n):
        draws.append((ctx.epoch, proba is not None))
        return original(self, ctx, proba, n)

    monkeypatch.setattr(MMGANClustering, "_draw_clusters", spy)
    small(max_epochs=3, pairing_warmup=1).fit(moons[0])
    # Per minibatch: B1 in the discriminator step, then B1 and B2 in the generator step.
    assert {paired for epoch, paired in draws if epoch == 1} == {False}
    assert any(paired for epoch, paired in draws if epoch > 1)
    draws.clear()
    small(max_epochs=2, pairing=False).fit(moons[0])
    assert not any(paired for _, paired in draws)


def test_generator_step_leaves_the_discriminator_without_gradients(moons, monkeypatch):
    grads = {}
    original = MMGANClustering._training_step

    def spy(self, ctx, batch, step_name):
        out = original(self, ctx, batch, step_name)
        if step_name == "generator":
            ctx.module.zero_grad(set_to_none=True)  # the discriminator's own step left its gradients
            out["loss"].backward(retain_graph=True)
            grads["d"] = [p.grad for p in ctx.module.discriminator.parameters()]
            grads["e"] = [p.grad for p in ctx.module.encoder.parameters()]
            ctx.module.zero_grad(set_to_none=True)
        return out

    monkeypatch.setattr(MMGANClustering, "_training_step", spy)
    small(max_epochs=1).fit(moons[0])
    assert all(g is None for g in grads["d"])
    assert all(g is not None for g in grads["e"])


def test_gradient_penalty_enters_the_discriminator_loss(moons):
    model = small(gradient_penalty=5.0, max_epochs=2).fit(moons[0])
    record = model.history_[-1]
    assert record["discriminator_penalty"] >= 0
    assert record["discriminator_loss"] == pytest.approx(
        record["discriminator_adversarial"] + 5.0 * record["discriminator_penalty"], rel=1e-4)
    assert "discriminator_penalty" not in small(max_epochs=1).fit(moons[0]).history_[-1]


def assert_trains_encoder_only(module, term):
    """Real rows do not depend on G: a term on them gives E a gradient and G and D none."""
    module.zero_grad(set_to_none=True)
    term.backward(retain_graph=True)
    assert all(p.grad is None for p in module.generator.parameters())
    assert all(p.grad is None for p in module.discriminator.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.encoder.parameters())
    module.zero_grad(set_to_none=True)


@pytest.mark.parametrize("marginal", [1.0, 4.0])
def test_balance_is_log_k_minus_the_information_between_real_rows_and_clusters(moons, monkeypatch, marginal):
    """balance_marginal=1 gives log K - I(x_r; y); another weight scales the divergence part alone."""
    seen = []
    original = MMGANClustering._training_step

    def spy(self, ctx, batch, step_name):
        out = original(self, ctx, batch, step_name)
        if step_name == "generator":
            with torch.no_grad():
                posterior = self._cluster_proba(ctx.module, batch).double()
            marginal = posterior.mean(dim=0)
            divergence = float(np.log(self.n_clusters) + torch.sum(marginal * torch.log(marginal)))
            entropy = float(-torch.sum(posterior * torch.log(posterior), dim=1).mean())
            expected = self.balance_marginal * divergence + entropy
            seen.append((out["balance"].item(), expected))
            assert_trains_encoder_only(ctx.module, out["balance"])
        return out

    monkeypatch.setattr(MMGANClustering, "_training_step", spy)
    model = small(3, balance=2.0, balance_marginal=marginal, max_epochs=1).fit(moons[0])
    assert seen and all(got == pytest.approx(want, abs=1e-5) and got >= -1e-6 for got, want in seen)
    record = model.history_[-1]
    assert record["generator_loss"] == pytest.approx(
        record["generator_adversarial"] + record["generator_encoder"] + 2.0 * record["generator_balance"], rel=1e-4)
    monkeypatch.undo()
    assert "generator_balance" not in small(max_epochs=1).fit(moons[0]).history_[-1]


def test_consistency_is_the_divergence_of_the_moved_images_posterior(monkeypatch, spy_consistency):
    """The term is KL(p_E(. | x) || p_E(. | t(x))) with t drawn by random_affine within the augment_* bounds,
    the first posterior held fixed: it trains E alone, and X is not modified."""
    from sklearn.datasets import load_digits

    X = load_digits().data[:120] / 16.0
    X_before = X.copy()
    calls, seen = spy_consistency(MMGANClustering, assert_trains_encoder_only)
    model = small(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=(4, 8), max_epochs=1, batch_size=40,
                  consistency=3.0, augment_rotation=15.0, augment_scale=0.1, augment_shift=1).fit(X)
    assert len(seen) == 3 and all(got == pytest.approx(want, abs=1e-5) and got > 0 for got, want in seen)
    assert all(c[:3] == ((40, 64), (1, 8, 8), (15.0, 0.1, 1)) for c in calls)
    assert not torch.equal(calls[0][3], torch.from_numpy(X[:1]).float())  # the images did move
    np.testing.assert_array_equal(X, X_before)
    record = model.history_[-1]
    assert record["generator_loss"] == pytest.approx(
        record["generator_adversarial"] + record["generator_encoder"] + 3.0 * record["generator_consistency"],
        rel=1e-4)
    monkeypatch.undo()
    assert "generator_consistency" not in small(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=(4, 8),
                                                max_epochs=1).fit(X).history_[-1]


def test_consistency_needs_images_and_a_shift_inside_them(monkeypatch):
    from sklearn.datasets import load_digits

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(MMGANClustering, "_initialize", no_training)
    X = load_digits().data[:50] / 16.0
    with pytest.raises(ValueError, match="consistency=1.0 transforms images and needs image_shape"):
        small(consistency=1.0).fit(X)
    with pytest.raises(ValueError, match="augment_shift=8 must be smaller"):
        small(consistency=1.0, image_shape=(1, 8, 8), augment_shift=8).fit(X)
    # Without the term the augmentation bounds are never used, so they need no image.
    monkeypatch.undo()
    small(augment_shift=8, max_epochs=1).fit(X)


def test_balance_spreads_the_real_rows_over_the_clusters():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(300, centers=[[0, 0], [4, 0], [0, 4]], cluster_std=0.5, random_state=0)
    largest = {b: np.bincount(small(3, balance=b, max_epochs=4).fit(X).labels_, minlength=3).max()
               for b in (0.0, 5.0)}
    assert largest[5.0] < largest[0.0]


def test_convolutional_networks_for_images():
    from sklearn.datasets import load_digits

    X = load_digits().data[:120] / 16.0
    model = small(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=(4, 8), max_epochs=2).fit(X)
    assert isinstance(model.module_.discriminator[1], torch.nn.Conv2d)
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.module_.generator)
    generated, clusters = model.sample(6)
    assert generated.shape == (6, 64) and clusters.shape == (6,)
    assert model.predict_proba(X[:5]).shape == (5, 10)


def test_history_records_the_players_losses(fitted):
    assert fitted.n_iter_ == 5 == len(fitted.history_)
    record = fitted.history_[-1]
    for key in ("discriminator_loss", "generator_loss", "generator_adversarial", "generator_encoder", "seconds"):
        assert np.isfinite(record[key])
    assert record["generator_loss"] == pytest.approx(
        record["generator_adversarial"] + record["generator_encoder"], rel=1e-4)


# ------------------------------------------------------------------ the API
def test_api_shapes_and_consistency(moons, fitted):
    X, _ = moons
    proba = fitted.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X), proba.argmax(axis=1))
    np.testing.assert_array_equal(fitted.labels_, fitted.predict(X))
    assert fitted.labels_.dtype == np.int64
    # transform is the posterior mean sum_k p_E(k | x) mu_k.
    np.testing.assert_allclose(fitted.transform(X), proba @ fitted.cluster_means_, rtol=1e-4, atol=1e-5)
    assert list(fitted.get_feature_names_out()) == [f"mmganclustering{i}" for i in range(3)]


def test_clusters_the_moons():
    X, y = make_moons(400, noise=0.05, random_state=0)
    model = MMGANClustering(2, latent_dim=2, generator_layers=(64, 64), discriminator_layers=(64, 64),
                            max_epochs=40, learning_rate=1e-3, random_state=0).fit(X)
    assert scorers["acc"](model, X, y) > 0.8


def test_sample_like_gaussian_mixture(fitted):
    X1, y1 = fitted.sample(300)
    X2, y2 = fitted.sample(300)
    assert X1.shape == (300, 2) and X1.dtype == np.float32
    assert y1.dtype == np.int64 and set(np.unique(y1)) == {0, 1}
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)


def test_samples_are_on_the_data_scale(moons):
    X, _ = moons
    shifted = 1000.0 + 50.0 * X  # a GAN trained on raw values this large would not get anywhere
    model = small(max_epochs=20, device="cpu").fit(shifted)
    assert model.output_activation_ is None
    np.testing.assert_allclose(model.module_.scaler.shift.numpy(), shifted.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(model.module_.scaler.scale.numpy(), shifted.std(axis=0), rtol=1e-5)
    generated, _ = model.sample(500)
    np.testing.assert_allclose(generated.mean(axis=0), shifted.mean(axis=0), atol=0.5 * shifted.std(axis=0).max())
    # The same data standardised beforehand gives the same labels: the model is scale-free.
    scaled = StandardScaler().fit_transform(shifted)
    np.testing.assert_array_equal(small(max_epochs=20, device="cpu").fit(scaled).labels_, model.labels_)


def test_sigmoid_output_for_unit_interval_data(moons):
    X = MinMaxScaler().fit_transform(moons[0])
    model = small().fit(X)
    assert model.output_activation_ == "sigmoid"
    generated, _ = model.sample(100)
    assert generated.min() >= 0 and generated.max() <= 1
    assert torch.all(model.module_.scaler.scale == 1) and torch.all(model.module_.scaler.shift == 0)


def test_score_is_minus_the_mmd_and_repeatable(moons, fitted):
    X, _ = moons
    score = fitted.score(X)
    assert score <= 1e-6 and score == fitted.score(X)
    # A model scores its training data above data from elsewhere.
    assert score > fitted.score(X + np.array([3.0, 3.0]))
    with pytest.raises(ValueError, match="at least 2"):
        fitted.score(X[:1])


@pytest.mark.parametrize("loss", ["sgan", "rsgan", "crasgan"])
def test_every_loss_and_bf16_fit(moons, loss):
    model = small(loss=loss, precision="bf16", max_epochs=2).fit(moons[0])
    assert np.isfinite(model.history_[-1]["discriminator_loss"])
    assert model.predict(moons[0]).shape == (200,)


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(loss="wgan"), "loss"),
        (dict(n_clusters=9), "n_clusters=9 needs latent_dim >= 4"),
        (dict(n_clusters=300), "n_clusters=300"),
        (dict(alpha=0.0), "alpha"),
        (dict(alpha=-1.0), "alpha"),
        (dict(balance=-0.5), "balance"),
        (dict(balance_marginal=-1.0), "balance_marginal"),
        (dict(consistency=-1.0), "consistency"),
        (dict(augment_rotation=200.0), "augment_rotation"),
        (dict(augment_scale=1.0), "augment_scale"),
        (dict(augment_shift=-1), "augment_shift"),
        (dict(init_std=1.5), "init_std"),
        (dict(init_std=0.05), "init_std"),
        (dict(betas=(0.5,)), "betas"),
        (dict(betas=(0.5, 1.0)), "betas"),
        (dict(generator_layers=(0,)), "generator_layers"),
        (dict(encoder_layers="big"), "encoder_layers"),
        (dict(pairing="yes"), "pairing"),
        (dict(pairing_warmup=-1), "pairing_warmup"),
        (dict(gradient_penalty=-1.0), "gradient_penalty"),
        (dict(image_shape=(1, 10, 20)), "image_shape"),
        (dict(image_shape=(1, 2, 1)), "multiples of 4"),
        (dict(conv_channels=()), "conv_channels"),
    ],
)
def test_bad_params_refused_before_training(moons, monkeypatch, params, match):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(MMGANClustering, "_initialize", no_training)
    n_clusters = params.pop("n_clusters", 2)
    with pytest.raises((ValueError, TypeError), match=match):
        small(n_clusters, **params).fit(moons[0])


def test_input_left_unmodified_and_rng_untouched(moons, assert_rng_untouched):
    X = moons[0].copy()
    a = small().fit(X)
    np.testing.assert_array_equal(X, moons[0])
    assert_rng_untouched(lambda: small().fit(X).sample(3))
    b = small().fit(X)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_[-1]["generator_loss"] == b.history_[-1]["generator_loss"]
    assert not np.array_equal(small(random_state=1).fit(X).predict_proba(X), a.predict_proba(X))


def test_pickle_and_save_load_round_trip(moons, fitted, tmp_path):
    X, _ = moons
    fitted.save(tmp_path / "mmgan.pt")
    for copy in (pickle.loads(pickle.dumps(fitted)), MMGANClustering.load(tmp_path / "mmgan.pt")):
        np.testing.assert_array_equal(copy.predict_proba(X), fitted.predict_proba(X))
        np.testing.assert_array_equal(copy.sample(5)[0], fitted.sample(5)[0])
        np.testing.assert_array_equal(copy.cluster_stds_, fitted.cluster_stds_)
        assert copy.score(X) == pytest.approx(fitted.score(X))


# ------------------------------------------------------------ composition
def test_in_a_pipeline(moons):
    X, _ = moons
    pipe = make_pipeline(StandardScaler(), small())
    assert pipe.fit(X).predict(X).shape == (200,)
    assert pipe.fit_predict(X).shape == (200,)


def test_grid_search_over_loss_and_n_clusters(moons):
    X, y = moons
    search = GridSearchCV(small(max_epochs=1), {"loss": ["rsgan", "crasgan"], "n_clusters": [2, 3]},
                          scoring=scorers["acc"], cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.labels_.shape == (200,)
    # Without labels, the default scorer is score(): -MMD^2.
    unsupervised = GridSearchCV(small(max_epochs=1), {"n_clusters": [2, 3]}, cv=2).fit(X)
    assert np.all(np.isfinite(unsupervised.cv_results_["mean_test_score"]))


def test_clone_keeps_params():
    model = small(loss="sgan", pairing=False, betas=(0.4, 0.9))
    assert clone(model).get_params() == model.get_params()
