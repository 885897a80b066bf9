"""AMMClustering and SAMMClassifier: the inference and synthesis triples, the
games and their losses, the public API (predict, transform, sample, score,
the Bayes classifier on the embedding), semi-supervised labels, errors,
persistence and composition.

Fits use 240 rows of three blobs with small networks, so each takes well
under a second.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skdeepgen import AMMClustering, SAMMClassifier
from skdeepgen.metrics import clustering_accuracy, scorers

SMALL = dict(latent_dim=2, encoder_layers=(16,), decoder_layers=(16,), discriminator_layers=(16,), max_epochs=3,
             batch_size=40, learning_rate=1e-3, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_blobs(240, centers=3, n_features=4, random_state=0)


def small(n_clusters=3, **params):
    return AMMClustering(n_clusters, **{**SMALL, **params})


def small_samm(**params):
    return SAMMClassifier(**{**SMALL, **params})


def partial(y, every=8):
    """y with all but every `every`-th row marked unlabelled (-1)."""
    return np.where(np.arange(len(y)) % every == 0, y, -1)


def refuse_training(monkeypatch, cls):
    """Make cls's fit fail loudly if it gets as far as initialising the networks."""
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(cls, "_initialize", no_training)


@pytest.fixture(scope="module")
def fitted(data):
    # On the CPU: the white-box tests below feed CPU tensors to module_.
    return small(max_epochs=5, device="cpu").fit(data[0])


# ------------------------------------------------------------ the model
def test_inferred_triples_follow_eqs_8_to_10(fitted):
    module = fitted.module_
    x = torch.randn(5, 4)
    noise_y, noise_z = torch.zeros(5, 3), torch.zeros(5, 2)
    y, z = module.infer(x, noise_y, noise_z)
    mean, _, features = module.y_logits(x)
    # Zero noise: y is the softmax of mu_y and z the mean of q(z | x, y).
    torch.testing.assert_close(y, torch.softmax(mean, dim=1))
    torch.testing.assert_close(z, module.infer_z(features, y, None))
    y2, z2 = module.infer(x, torch.randn(5, 3), torch.randn(5, 2))
    assert not torch.allclose(y2, y) and not torch.allclose(z2, z)


def test_prior_is_a_learned_gaussian_per_component(fitted):
    module = fitted.module_
    onehot = torch.eye(3)
    torch.testing.assert_close(module.prior_z(onehot, torch.zeros(3, 2)),
                               torch.from_numpy(fitted.cluster_means_).float())
    noise = torch.ones(3, 2)
    expected = fitted.cluster_means_ + fitted.cluster_stds_ * 1.0
    torch.testing.assert_close(module.prior_z(onehot, noise), torch.from_numpy(expected).float())
    assert fitted.cluster_stds_.shape == (3, 2) and np.all(fitted.cluster_stds_ > 0)


def test_fixed_prior_keeps_its_start(data, monkeypatch):
    starts = []
    original = AMMClustering._initialize

    def spy(self, ctx):
        original(self, ctx)
        starts.append(ctx.module.prior_means.weight.detach().T.clone().numpy())

    monkeypatch.setattr(AMMClustering, "_initialize", spy)
    fixed = small(prior="fixed", device="cpu").fit(data[0])
    np.testing.assert_array_equal(fixed.cluster_means_, starts[0])
    np.testing.assert_array_equal(fixed.cluster_stds_, np.ones((3, 2)))
    learned = small(device="cpu").fit(data[0])
    assert not np.allclose(learned.cluster_means_, starts[1])


def test_generator_step_leaves_the_discriminator_without_gradients(data, monkeypatch):
    grads = {}
    original = AMMClustering._training_step

    def spy(self, ctx, batch, step_name):
        out = original(self, ctx, batch, step_name)
        if step_name == "generator":
            ctx.module.zero_grad(set_to_none=True)
            out["loss"].backward(retain_graph=True)
            grads["d"] = [p.grad for m in (ctx.module.d_x, ctx.module.d_yz, ctx.module.d_joint)
                          for p in m.parameters()]
            grads["g"] = [p.grad for m in ctx.module.generators() for p in m.parameters()]
            ctx.module.zero_grad(set_to_none=True)
        return out

    monkeypatch.setattr(AMMClustering, "_training_step", spy)
    small(max_epochs=1).fit(data[0])
    assert all(g is None for g in grads["d"])
    # Every generator (encoders, prior, decoder) learns from the one game.
    assert all(g is not None and torch.any(g != 0) for g in grads["g"])


def test_discriminator_loss_and_gradient_penalty(data):
    model = small(gradient_penalty=5.0, max_epochs=2).fit(data[0])
    record = model.history_[-1]
    assert record["discriminator_penalty"] > 0
    assert record["discriminator_loss"] == pytest.approx(
        record["discriminator_adversarial"] + 5.0 * record["discriminator_penalty"], rel=1e-4)
    assert small(gradient_penalty=0.0, max_epochs=1).fit(data[0]).history_[-1]["discriminator_penalty"] == 0


def test_history_records_the_players_losses(fitted):
    assert fitted.n_iter_ == 5 == len(fitted.history_)
    for key in ("discriminator_loss", "discriminator_adversarial", "discriminator_penalty", "generator_loss"):
        assert np.isfinite(fitted.history_[-1][key])


def test_clusters_blobs():
    X, y = make_blobs(600, centers=3, n_features=5, random_state=0)
    # A light penalty: with the MNIST penalty of 10 the same fit gave 0.905 with 2 torch threads and
    # 0.79 with 1 (GAN runs amplify the thread count's rounding); with 1 it gave 1.0 under both.
    model = AMMClustering(3, latent_dim=4, gradient_penalty=1.0, max_epochs=40, batch_size=50,
                          random_state=0).fit(X)
    assert clustering_accuracy(y, model.labels_) > 0.9


def test_convolutional_networks_for_images():
    from sklearn.datasets import load_digits

    X = load_digits().data[:120] / 16.0
    model = small(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=(4, 8), max_epochs=2).fit(X)
    assert any(isinstance(m, torch.nn.Conv2d) for m in model.module_.trunk.modules())
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.module_.decoder)
    generated, components = model.sample(6)
    assert generated.shape == (6, 64) and generated.min() >= 0 and generated.max() <= 1
    assert model.predict_proba(X[:5]).shape == (5, 10)


def test_mlp_networks_for_images_with_conv_channels_none():
    """conv_channels=None keeps the MLPs: image_shape then only shapes the random transformations."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:120] / 16.0
    model = small(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=None, consistency=1.0,
                  max_epochs=1).fit(X)
    assert not any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in model.module_.modules())
    assert model.module_.trunk[0].in_features == 64
    samm = small_samm(image_shape=(1, 8, 8), conv_channels=None, label_shift=1, max_epochs=1).fit(X, partial(y[:120]))
    assert not any(isinstance(m, torch.nn.Conv2d) for m in samm.module_.modules())


def _posterior_only_networks_get_gradients(module, term):
    """log q(y | x) at the mean of h_y reads the trunk and G_y's head only: the rest of the model gets no gradient."""
    module.zero_grad(set_to_none=True)
    term.backward(retain_graph=True)
    others = (module.z_head, module.decoder, module.prior_means, module.prior_log_vars, module.d_x, module.d_yz,
              module.d_joint)
    assert all(p.grad is None for m in others for p in m.parameters())
    assert all(p.grad is not None for p in module.y_head.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.trunk.parameters())
    module.zero_grad(set_to_none=True)


@pytest.mark.parametrize("marginal", [1.0, 4.0])
def test_balance_is_the_information_term_of_the_encoders_posterior(data, monkeypatch, marginal):
    """balance = mu KL(mean q(. | x) || 1/K) + mean H(q(. | x)) on each minibatch, trains G_y only, and enters
    the generators' loss with its weight."""
    seen = []
    original = AMMClustering._training_step

    def spy(self, ctx, batch, step_name):
        out = original(self, ctx, batch, step_name)
        if step_name == "generator":
            with torch.no_grad():
                q = self._component_proba(ctx.module, batch).double()
            marginal_q = q.mean(dim=0)
            divergence = float(np.log(self.n_clusters) + torch.sum(marginal_q * torch.log(marginal_q)))
            entropy = float(-torch.sum(q * torch.log(q), dim=1).mean())
            seen.append((out["balance"].item(), self.balance_marginal * divergence + entropy))
            _posterior_only_networks_get_gradients(ctx.module, out["balance"])
        return out

    monkeypatch.setattr(AMMClustering, "_training_step", spy)
    model = small(balance=2.0, balance_marginal=marginal, max_epochs=1).fit(data[0])
    assert len(seen) == 6 and all(got == pytest.approx(want, abs=1e-5) for got, want in seen)
    record = model.history_[-1]
    assert record["generator_loss"] == pytest.approx(
        record["generator_adversarial"] + 2.0 * record["generator_balance"], rel=1e-4)
    monkeypatch.undo()
    assert "generator_balance" not in small(max_epochs=1).fit(data[0]).history_[-1]


def test_consistency_is_the_divergence_of_the_moved_images_posterior(monkeypatch, spy_consistency):
    """consistency = KL(q(. | x) || q(. | t(x))), t drawn by random_affine within the augment_* bounds; it
    trains G_y only and X is not modified."""
    from sklearn.datasets import load_digits

    X = load_digits().data[:120] / 16.0
    X_before = X.copy()
    calls, seen = spy_consistency(AMMClustering, _posterior_only_networks_get_gradients)
    model = small(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=None, consistency=3.0,
                  augment_rotation=15.0, augment_scale=0.1, augment_shift=1, max_epochs=1).fit(X)
    assert len(seen) == 3 and all(got == pytest.approx(want, abs=1e-5) and got > 0 for got, want in seen)
    assert all(c[:3] == ((40, 64), (1, 8, 8), (15.0, 0.1, 1)) for c in calls)
    np.testing.assert_array_equal(X, X_before)
    record = model.history_[-1]
    assert record["generator_loss"] == pytest.approx(
        record["generator_adversarial"] + 3.0 * record["generator_consistency"], rel=1e-4)


def test_balance_spreads_the_rows_over_the_components():
    """One broad blob beside two small ones: the plain game may merge components, the balance term spreads
    the rows over all three."""
    X, _ = make_blobs([400, 40, 40], n_features=4, cluster_std=[3.0, 0.5, 0.5], random_state=0)
    sizes = {b: np.bincount(small(balance=b, balance_marginal=4.0, max_epochs=4).fit(X).labels_, minlength=3)
             for b in (0.0, 5.0)}
    assert sizes[5.0].min() > sizes[0.0].min()


# ------------------------------------------------------------------ the API
def test_api_shapes_and_consistency(data, fitted):
    X, _ = data
    proba = fitted.predict_proba(X)
    assert proba.shape == (240, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X), proba.argmax(axis=1))
    np.testing.assert_array_equal(fitted.labels_, fitted.predict(X))
    Z = fitted.transform(X)
    assert Z.shape == (240, 2)
    assert list(fitted.get_feature_names_out()) == ["ammclustering0", "ammclustering1"]


def test_outputs_do_not_depend_on_the_batch(data, fitted):
    # scikit-learn's check_methods_subset_invariance, at float32 tolerance
    # (its atol of 1e-7 is a few ulps of latent codes of order 1).
    X, _ = data
    for method in (fitted.transform, fitted.predict_proba, fitted.embedding_proba):
        whole = method(X[:20])
        by_row = np.vstack([method(X[i:i + 1]) for i in range(20)])
        np.testing.assert_allclose(by_row, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.concatenate([fitted.predict(X[i:i + 1]) for i in range(20)]),
                                  fitted.predict(X[:20]))


def test_embedding_proba_is_the_bayes_classifier_of_the_prior(data, fitted):
    X, _ = data
    Z = fitted.transform(X[:20])
    proba = fitted.embedding_proba(X[:20])
    means, stds = fitted.cluster_means_, fitted.cluster_stds_
    from scipy.stats import multivariate_normal

    dens = np.stack([multivariate_normal(means[k], np.diag(stds[k] ** 2)).pdf(Z) for k in range(3)], axis=1)
    np.testing.assert_allclose(proba, dens / dens.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-8)


def test_inverse_transform_decodes_codes_with_their_bayes_component(data, fitted):
    X, _ = data
    Z = fitted.transform(X[:10])
    decoded = fitted.inverse_transform(Z)
    assert decoded.shape == (10, 4) and decoded.dtype == np.float32
    module = fitted.module_
    with torch.no_grad():
        y = torch.from_numpy(fitted.embedding_proba(X[:10])).float()
        expected = module.scaler.inverse(module.decode(y, torch.from_numpy(Z).float()))
    np.testing.assert_allclose(decoded, expected.numpy(), rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="latent_dim=2"):
        fitted.inverse_transform(np.zeros((2, 5)))


def test_sample_like_gaussian_mixture(fitted):
    X1, y1 = fitted.sample(300)
    X2, y2 = fitted.sample(300)
    assert X1.shape == (300, 4) and X1.dtype == np.float32
    assert y1.dtype == np.int64 and set(np.unique(y1)) == {0, 1, 2}
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)


def test_samples_are_on_the_data_scale(data):
    X, _ = data
    shifted = 1000.0 + 50.0 * X  # a GAN trained on raw values this large would not get anywhere
    model = small(device="cpu").fit(shifted)
    assert model.output_activation_ is None
    np.testing.assert_allclose(model.module_.scaler.shift.numpy(), shifted.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(model.module_.scaler.scale.numpy(), shifted.std(axis=0), rtol=1e-5)
    # The model is scale-free: the same data standardised beforehand gives the same fit, and its
    # samples mapped back to the data's scale are the shifted model's samples.
    scaler = StandardScaler().fit(shifted)
    standardised = small(device="cpu").fit(scaler.transform(shifted))
    np.testing.assert_array_equal(standardised.labels_, model.labels_)
    np.testing.assert_allclose(model.sample(50)[0], scaler.inverse_transform(standardised.sample(50)[0]),
                               rtol=1e-3, atol=0.05)
    unit = small().fit(MinMaxScaler().fit_transform(X))
    assert unit.output_activation_ == "sigmoid"
    generated, _ = unit.sample(100)
    assert generated.min() >= 0 and generated.max() <= 1


def test_score_is_minus_the_mmd_and_repeatable(data, fitted):
    X, _ = data
    score = fitted.score(X)
    assert score <= 1e-6 and score == fitted.score(X)
    assert score > fitted.score(X + 30.0)
    with pytest.raises(ValueError, match="at least 2"):
        fitted.score(X[:1])


def test_more_components_than_classes_and_bf16(data):
    model = small(6, precision="bf16", max_epochs=2).fit(data[0])
    assert model.predict_proba(data[0]).shape == (240, 6)
    assert np.isfinite(model.history_[-1]["discriminator_loss"])


def test_fit_ignores_y(data):
    X, y = data
    a, b = small().fit(X), small().fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# ---------------------------------------------------------------- SAMM
def test_samm_learns_from_a_few_labels():
    X, y = make_blobs(300, centers=3, n_features=4, random_state=0)
    model = small_samm(label_weight=1.0, max_epochs=20, batch_size=30).fit(X, partial(y, 10))
    # 30 labels; accuracy with classes matched by name, not by a Hungarian mapping.
    assert model.score(X, y) > 0.9


def test_label_weight_trains_the_classifier_on_the_labels(data, monkeypatch):
    """The paper's SAMM (label_weight=0) reaches G_y through the games only; the weight adds the labels'
    cross-entropy to the generators' loss."""
    X, y = data
    records = {w: small_samm(label_weight=w, max_epochs=2).fit(X, partial(y)).history_[-1] for w in (0.0, 2.0)}
    assert "generator_labels" not in records[0.0]
    r = records[2.0]
    assert r["generator_labels"] > 0
    assert r["generator_loss"] == pytest.approx(r["generator_adversarial"] + 2.0 * r["generator_labels"], rel=1e-4)


def test_sample_label_weight_adds_the_synthesised_rows_cross_entropy(data):
    X, y = data
    r = small_samm(label_weight=1.0, sample_label_weight=0.5, max_epochs=2).fit(X, partial(y)).history_[-1]
    assert r["generator_sample_labels"] > 0
    assert r["generator_loss"] == pytest.approx(
        r["generator_adversarial"] + r["generator_labels"] + 0.5 * r["generator_sample_labels"], rel=1e-4)
    only = small_samm(sample_label_weight=0.5, max_epochs=1).fit(X, partial(y)).history_[-1]
    assert "generator_labels" not in only and only["generator_sample_labels"] > 0


def test_sample_cross_entropy_trains_the_classifier_only(data):
    """The synthesised rows are detached: the term's gradient reaches G_y but not G_x or the prior."""
    from types import SimpleNamespace

    X, y = data
    model = small_samm(sample_label_weight=1.0, max_epochs=1, device="cpu").fit(X, partial(y))
    module = model.module_
    gen = torch.Generator().manual_seed(0)
    ctx = SimpleNamespace(module=module, device=torch.device("cpu"), generator=gen,
                          randn=lambda *shape: torch.randn(*shape, generator=gen),
                          categorical=lambda p, n: torch.multinomial(p, n, replacement=True, generator=gen))
    module.zero_grad(set_to_none=True)
    model._sample_cross_entropy(ctx, model._synthesized(ctx, 64)).backward()
    y_grads = [p.grad for p in module.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    assert y_grads, "the classifier got no gradient"
    decoder = list(module.decoder.parameters()) + [module.prior_means.weight, module.prior_log_vars.weight]
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in decoder)


def test_random_shift_translates_each_image_within_the_bound():
    from skdeepgen._augment import random_shift

    images = torch.zeros(200, 2, 12, 10)
    images[:, :, 5, 4] = torch.tensor([1.0, 2.0])  # one interior pixel per channel, far from the border
    shifted = random_shift(images.reshape(200, -1), (2, 12, 10), 3, torch.Generator().manual_seed(0))
    shifted = shifted.reshape(200, 2, 12, 10)
    moves = set()
    for image in shifted:
        (r, c), = (image[0] == 1).nonzero().tolist()
        assert image[1, r, c] == 2 and image.sum() == 3  # both channels move together; nothing else changes
        moves.add((r - 5, c - 4))
    assert moves <= {(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)}
    assert len(moves) > 30  # the shifts spread over the 7 x 7 offsets


def test_random_shift_fills_the_opened_border_from_the_edge():
    from skdeepgen._augment import random_shift

    images = torch.ones(50, 1, 6, 6)
    shifted = random_shift(images.reshape(50, -1), (1, 6, 6), 2, torch.Generator().manual_seed(1))
    assert torch.all(shifted == 1)


def test_random_warp_rotates_and_scales_about_the_centre():
    from skdeepgen._augment import random_warp

    gen = torch.Generator().manual_seed(0)
    images = torch.zeros(300, 1, 21, 21)
    images[:, 0, 10, 14] = 1.0  # one pixel 4 to the right of the centre
    ones = torch.ones(300, 2 * 21 * 21)
    # Rotation alone keeps the distance to the centre; the angles spread over the range.
    rotated = random_warp(images.reshape(300, -1), (1, 21, 21), 90.0, 0.0, gen).reshape(300, 21, 21)
    rows, cols = torch.meshgrid(torch.arange(21.0), torch.arange(21.0), indexing="ij")
    mass = rotated.sum(dim=(1, 2))
    r = (rotated * rows).sum(dim=(1, 2)) / mass - 10
    c = (rotated * cols).sum(dim=(1, 2)) / mass - 10
    np.testing.assert_allclose(torch.hypot(r, c).numpy(), 4.0, atol=0.25)
    angles = torch.rad2deg(torch.atan2(r, c))
    assert angles.abs().max() <= 90.5 and angles.min() < -60 and angles.max() > 60
    # Scaling alone keeps the direction and moves the pixel by the factor, within [0.5, 1.5].
    scaled = random_warp(images.reshape(300, -1), (1, 21, 21), 0.0, 0.5, gen).reshape(300, 21, 21)
    mass = scaled.sum(dim=(1, 2))
    r = (scaled * rows).sum(dim=(1, 2)) / mass - 10
    c = (scaled * cols).sum(dim=(1, 2)) / mass - 10
    np.testing.assert_allclose(r.numpy(), 0.0, atol=1e-4)
    assert c.min() >= 4 * 0.5 - 0.25 and c.max() <= 4 * 1.5 + 0.25 and c.max() - c.min() > 3
    # A constant image stays constant (the border fills what rotation brings in); channels move together.
    np.testing.assert_allclose(random_warp(ones, (2, 21, 21), 45.0, 0.3, gen).numpy(), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "helper, augment, expected",
    [
        ("random_shift", dict(label_shift=1), (1,)),
        ("random_warp", dict(label_rotation=10.0, label_scale=0.1), (10.0, 0.1)),
    ],
)
def test_labelled_augmentation_touches_only_the_labelled_rows(monkeypatch, helper, augment, expected):
    """Each augmentation parameter sends the supervised game's labelled images through its helper with the
    given bounds; the unsupervised game's rows are the data as given, and X itself is not modified."""
    from sklearn.datasets import load_digits

    import skdeepgen._augment as augmentation

    digits = load_digits()
    X, y = digits.data[:120] / 16.0, digits.target[:120]
    calls = []
    original = getattr(augmentation, helper)

    def spy(x, image_shape, *bounds_and_generator):
        calls.append((x.shape[0], image_shape, *bounds_and_generator[:-1]))
        return original(x, image_shape, *bounds_and_generator)

    monkeypatch.setattr(augmentation, helper, spy)
    params = dict(latent_dim=4, image_shape=(1, 8, 8), conv_channels=(4, 8), max_epochs=1, batch_size=40,
                  label_weight=1.0, random_state=0)
    X_before = X.copy()
    augmented = SAMMClassifier(**augment, **params).fit(X, partial(y, 4))
    assert calls and all(c == (40, (1, 8, 8), *expected) for c in calls)
    np.testing.assert_array_equal(X, X_before)
    calls.clear()
    plain = SAMMClassifier(**params).fit(X, partial(y, 4))
    assert not calls
    assert not np.allclose(augmented.predict_proba(X), plain.predict_proba(X))
    again = SAMMClassifier(**augment, **params).fit(X, partial(y, 4))
    np.testing.assert_array_equal(augmented.predict_proba(X), again.predict_proba(X))


def test_samm_classes_prior_and_predictions(data):
    X, y = data
    names = np.array(["a", "b", "c"], dtype=object)[y]
    y_partial = names.copy()
    y_partial[np.arange(len(y)) % 4 != 0] = -1
    model = small_samm(device="cpu").fit(X, y_partial)
    np.testing.assert_array_equal(model.classes_, ["a", "b", "c"])
    counts = np.array([np.sum(names[::4] == c) for c in "abc"])
    np.testing.assert_allclose(model.class_prior_, (counts + 1) / (counts.sum() + 3))
    np.testing.assert_allclose(np.exp(model.module_.log_prior.numpy()), model.class_prior_, rtol=1e-6)
    assert set(model.predict(X)) <= {"a", "b", "c"}
    np.testing.assert_array_equal(model.predict(X), model.classes_[model.predict_proba(X).argmax(axis=1)])
    X_new, y_new = model.sample(50)
    assert X_new.shape == (50, 4) and set(y_new) <= {"a", "b", "c"}
    assert model.transform(X).shape == (240, 2)
    assert 0 <= model.score(X, names) <= 1


def test_samm_string_labels_are_all_labelled(data):
    X, y = data
    names = np.array(["one", "two", "three"])[y]   # a string dtype cannot hold -1
    model = small_samm().fit(X, names)
    np.testing.assert_array_equal(model.classes_, ["one", "three", "two"])
    assert set(model.predict(X)) <= {"one", "two", "three"}
    assert model.predict(X).dtype == names.dtype


def test_samm_supervised_game_sees_only_labelled_rows(data, monkeypatch):
    X, y = data
    seen = []
    original = SAMMClassifier._labelled_triples

    def spy(self, ctx, m, step_name):
        out = original(self, ctx, m, step_name)
        seen.append((ctx.state["labelled_y"].cpu().numpy().copy(), out[0][1]))
        return out

    monkeypatch.setattr(SAMMClassifier, "_labelled_triples", spy)
    small_samm(max_epochs=1).fit(X, partial(y))
    labelled_y, onehot = seen[0]
    np.testing.assert_array_equal(labelled_y, y[::8])
    # The supervised game's inferred triples carry the observed labels, one-hot.
    assert set(torch.unique(onehot).tolist()) == {0.0, 1.0} and torch.all(onehot.sum(dim=1) == 1)


def test_samm_given_classes(data):
    X, y = data
    model = small_samm(classes=[0, 1, 2, 3]).fit(X, partial(y))
    assert list(model.classes_) == [0, 1, 2, 3] and model.predict_proba(X).shape == (240, 4)
    assert model.class_prior_[3] > 0
    with pytest.raises(ValueError, match="outside classes"):
        small_samm(classes=[0, 1]).fit(X, partial(y))


@pytest.mark.parametrize(
    "y, match",
    [
        (None, "requires y"),
        (np.full(240, -1), "no labelled row"),
        (np.zeros(100, dtype=int), "y has 100 entries"),
        (np.linspace(0, 1, 240), "Unknown label type"),
    ],
)
def test_samm_bad_targets_refused_before_training(data, monkeypatch, y, match):
    refuse_training(monkeypatch, SAMMClassifier)
    with pytest.raises(ValueError, match=match):
        small_samm().fit(data[0], y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(label_shift=2), r"label_shift=2 .*needs image_shape"),
        (dict(label_shift=4, image_shape=(1, 4, 4)), r"label_shift=4 must be smaller"),
        (dict(label_shift=-1), "label_shift"),
        (dict(label_rotation=5.0), r"label_rotation=5.0 .*needs image_shape"),
        (dict(label_scale=0.1), r"label_scale=0.1 .*needs image_shape"),
        (dict(label_rotation=200.0, image_shape=(1, 4, 4)), "label_rotation"),
        (dict(label_scale=1.0, image_shape=(1, 4, 4)), "label_scale"),
        (dict(label_scale=-0.1, image_shape=(1, 4, 4)), "label_scale"),
    ],
)
def test_samm_bad_label_shift_refused_before_training(data, monkeypatch, params, match):
    refuse_training(monkeypatch, SAMMClassifier)
    with pytest.raises(ValueError, match=match):
        small_samm(**params).fit(np.tile(data[0], 4), partial(data[1]))  # 16 features: a 4 x 4 image


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(prior="uniform"), "prior"),
        (dict(n_clusters=300), "n_clusters=300"),
        (dict(gradient_penalty=-1.0), "gradient_penalty"),
        (dict(dropout=1.0), "dropout"),
        (dict(betas=(0.5,)), "betas"),
        (dict(encoder_layers=()), "encoder_layers"),
        (dict(decoder_layers=(0,)), "decoder_layers"),
        (dict(discriminator_layers="big"), "discriminator_layers"),
        (dict(image_shape=(1, 2, 2)), "image_shape"),
        (dict(latent_dim=0), "latent_dim"),
        (dict(balance=-0.5), "balance"),
        (dict(balance_marginal=-1.0), "balance_marginal"),
        (dict(consistency=-1.0), "consistency"),
        (dict(consistency=1.0), r"consistency=1.0 transforms images and needs image_shape"),
        (dict(augment_rotation=181.0), "augment_rotation"),
        (dict(augment_scale=1.0), "augment_scale"),
        (dict(augment_shift=-1), "augment_shift"),
        (dict(conv_channels="wide"), "conv_channels"),
    ],
)
def test_bad_params_refused_before_training(data, monkeypatch, params, match):
    refuse_training(monkeypatch, AMMClustering)
    n_clusters = params.pop("n_clusters", 3)
    with pytest.raises((ValueError, TypeError), match=match):
        small(n_clusters, **params).fit(data[0])


def test_consistency_shift_must_fit_in_the_image(data, monkeypatch):
    refuse_training(monkeypatch, AMMClustering)
    with pytest.raises(ValueError, match=r"augment_shift=4 must be smaller"):
        small(consistency=1.0, image_shape=(1, 4, 4), conv_channels=None, augment_shift=4).fit(np.tile(data[0], 4))


def test_nan_loss_stops_the_fit(data):
    X = data[0].copy()
    with pytest.raises(Exception, match="(?i)nan|finite|diverg"):
        small(learning_rate=1e30, max_epochs=3).fit(X)


def test_input_left_unmodified_and_rng_untouched(data, assert_rng_untouched):
    X, y = data[0].copy(), partial(data[1])
    y_before = y.copy()
    a = small().fit(X)
    small_samm().fit(X, y)
    np.testing.assert_array_equal(X, data[0])
    np.testing.assert_array_equal(y, y_before)
    assert_rng_untouched(lambda: small().fit(X).sample(3))
    assert_rng_untouched(lambda: small_samm().fit(X, y).sample(3))
    b = small().fit(X)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(small(random_state=1).fit(X).predict_proba(X), a.predict_proba(X))


@pytest.mark.parametrize("make", [small, small_samm])
def test_pickle_and_save_load_round_trip(data, tmp_path, make):
    X, y = data
    model = make().fit(X, partial(y))
    model.save(tmp_path / "amm.pt")
    for copy in (pickle.loads(pickle.dumps(model)), type(model).load(tmp_path / "amm.pt")):
        np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(copy.sample(5)[0], model.sample(5)[0])
        np.testing.assert_array_equal(copy.predict(X), model.predict(X))


# ------------------------------------------------------------ composition
def test_in_a_pipeline(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), small())
    assert pipe.fit(X).predict(X).shape == (240,)
    samm = make_pipeline(StandardScaler(), small_samm()).fit(X, partial(y))
    assert samm.predict(X).shape == (240,)


def test_grid_search(data):
    X, y = data
    cv = KFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(small(max_epochs=1), {"prior": ["learned", "fixed"], "n_clusters": [2, 3]},
                          scoring=scorers["acc"], cv=cv).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    unsupervised = GridSearchCV(small(max_epochs=1), {"n_clusters": [2, 3]}, cv=2).fit(X)
    assert np.all(np.isfinite(unsupervised.cv_results_["mean_test_score"]))
    # SAMM: the default score is accuracy on the rows' labels.
    samm = GridSearchCV(small_samm(max_epochs=1), {"gradient_penalty": [0.0, 10.0]}, cv=cv).fit(X, y)
    assert np.all((samm.cv_results_["mean_test_score"] >= 0) & (samm.cv_results_["mean_test_score"] <= 1))


def test_clone_keeps_params():
    for model in (small(prior="fixed", betas=(0.4, 0.9)), small_samm(classes=[1, 2])):
        assert clone(model).get_params() == model.get_params()
