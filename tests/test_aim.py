"""AIMEncoder: adversarial inference by matching priors and conditionals."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skdeepgen import AIMEncoder
from skdeepgen._training import TrainContext, make_adam
from skdeepgen.aim import gaussian_nll
from skdeepgen.datasets import make_grid_gaussians
from skdeepgen.metrics import mode_coverage


@pytest.fixture(scope="module")
def grid():
    """Four well separated Gaussians (a 2 x 2 grid, std 0.1)."""
    return make_grid_gaussians(1000, n_per_axis=2, spacing=4.0, std=0.1, random_state=0, return_centers=True)


def small(**params):
    defaults = dict(n_components=2, generator_layers=(32, 32), discriminator_layers=(32, 32), encoder_layers=(32,),
                    batch_size=50, max_epochs=2, learning_rate=2e-3, random_state=0)
    defaults.update(params)
    return AIMEncoder(**defaults)


@pytest.fixture(scope="module")
def fitted(grid):
    X, _, _ = grid
    return small(max_epochs=10).fit(X)


def test_fit_transform_inverse_sample_score(grid, fitted):
    X, _, _ = grid
    Z = fitted.transform(X)
    assert Z.shape == (len(X), 2) and Z.dtype == np.float64
    assert fitted.transform(X.astype(np.float32)).dtype == np.float32
    R = fitted.inverse_transform(Z)
    assert R.shape == X.shape and R.dtype == np.float64
    assert fitted.score(X) == pytest.approx(-np.mean((R - X) ** 2), rel=1e-5)
    samples = fitted.sample(30)
    assert samples.shape == (30, 2) and samples.dtype == np.float32
    np.testing.assert_array_equal(fitted.sample(30), samples)   # an int seed repeats its draws
    assert fitted.conditional_sample(X[:4], 7).shape == (4, 7, 2)
    assert fitted.n_iter_ == 10 and len(fitted.history_) == 10
    assert {"discriminator_loss", "generator_loss", "generator_adversarial", "generator_encoder"} <= set(
        fitted.history_[0])
    assert fitted.nll_weight_ == 0.5   # "auto" is 1 / n_components
    assert fitted.get_feature_names_out().tolist() == ["aimencoder0", "aimencoder1"]
    with pytest.raises(ValueError, match="n_components=2"):
        fitted.inverse_transform(np.zeros((2, 3)))


def test_inference_recovers_the_modes(grid, fitted):
    # Reconstructions G(mu(x)) land on the mode of x; samples cover all four modes.
    X, y, centers = grid
    R = fitted.inverse_transform(fitted.transform(X))
    nearest = ((R[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (nearest == y).mean() > 0.95
    assert mode_coverage(fitted.sample(500), centers, std=0.1)[0] == 4
    # Rows drawn from q(z | x) of a row stay mostly on that row's mode.
    like = fitted.conditional_sample(X[:20], 20)
    modes = ((like[..., None, :] - centers) ** 2).sum(axis=-1).argmin(axis=-1)
    assert (modes == y[:20, None]).mean() > 0.8


def test_gaussian_nll_is_the_normal_log_likelihood():
    g = torch.Generator().manual_seed(0)
    z, mean = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    variance = torch.rand(5, 3, generator=g) + 0.1
    expected = -torch.distributions.Normal(mean, variance.sqrt()).log_prob(z).sum(dim=1)
    torch.testing.assert_close(gaussian_nll(z, mean, variance), expected)
    identity = 0.5 * ((z - mean) ** 2).sum(dim=1) + 1.5 * math.log(2 * math.pi)
    torch.testing.assert_close(gaussian_nll(z, mean, 1.0), identity)


def _step_gradients(model, X, step_name):
    model._check_params(X.astype(np.float32))
    model.n_features_in_ = X.shape[1]
    module = model._build_module()
    g = torch.Generator().manual_seed(0)
    ctx = TrainContext(module=module, device=torch.device("cpu"), autocast_dtype=None, generator=g,
                       rng=np.random.RandomState(0), X=X.astype(np.float32))
    model._initialize(ctx)
    losses = model._training_step(ctx, torch.from_numpy(X[:50].astype(np.float32)), step_name)
    losses["loss"].backward()
    return module, losses


@pytest.mark.parametrize("encoder", ["shared", "separate"])
def test_generator_step_trains_g_and_e_never_d(grid, encoder):
    X, _, _ = grid
    model = small(encoder=encoder)
    module, losses = _step_gradients(model, X, "generator")
    torch.testing.assert_close(losses["loss"], losses["adversarial"] + 0.5 * losses["encoder"])
    assert all(p.grad is None for p in [*module.d_features.parameters(), *module.d_head.parameters()])
    assert all(p.grad is not None for p in module.generator.parameters())
    assert all(p.grad is not None for p in [*module.mean_head.parameters(), *module.variance_head.parameters()])
    assert (module.e_features is None) == (encoder == "shared")
    if encoder == "separate":
        assert all(p.grad is not None for p in module.e_features.parameters())
    # The likelihood term alone reaches G: through D's (frozen) features for the shared encoder.
    module.zero_grad()
    z = torch.randn(8, 2)
    x = module.generator(z)
    mean, variance = module.encode(x)
    gaussian_nll(z, mean, variance).mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.generator.parameters())


def test_discriminator_step_trains_d_only(grid):
    X, _, _ = grid
    module, _ = _step_gradients(small(), X, "discriminator")
    assert all(p.grad is not None for p in [*module.d_features.parameters(), *module.d_head.parameters()])
    assert all(p.grad is None for p in module.generator.parameters())


def test_identity_and_spherical_covariances(grid):
    X, _, _ = grid
    aim_minus = small(covariance_type="identity", max_epochs=1).fit(X)
    assert aim_minus.module_.variance_head is None
    spherical = small(covariance_type="spherical", max_epochs=1).fit(X)
    assert spherical.module_.variance_head[-1].out_features == 1
    # AIM-'s posterior is N(mu(x), I): conditional codes spread like the prior around mu(x).
    mean = aim_minus.transform(X[:1])
    rng = np.random.RandomState(0)
    noise = rng.standard_normal((1, 4000, 2))
    expected = aim_minus.inverse_transform((mean[:, None, :] + noise).reshape(-1, 2).astype(np.float32))
    np.testing.assert_allclose(aim_minus.conditional_sample(X[:1], 4000)[0], expected, rtol=1e-5, atol=1e-5)


def test_learning_rate_schedule():
    model = small(learning_rate=0.01, learning_rate_schedule="invscaling")
    optimizer = make_adam([torch.nn.Parameter(torch.zeros(2))], lr=0.01)
    ctx = TrainContext(module=None, device=torch.device("cpu"), autocast_dtype=None, generator=None, rng=None,
                       X=None, optimizers={"generator": optimizer}, epoch=3)
    model._on_epoch_end(ctx, {})
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01 / 2)   # epoch 4 runs at lr / sqrt(4)
    small(learning_rate=0.01)._on_epoch_end(ctx, {})
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01 / 2)   # "constant" leaves it


def test_rows_on_the_data_scale():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=[100.0, -50.0], scale=[10.0, 0.5], size=(600, 2))
    model = small(max_epochs=15).fit(X)
    assert model.output_activation_ is None
    samples = model.sample(600)
    np.testing.assert_allclose(samples.mean(axis=0), X.mean(axis=0), rtol=0.05)
    assert 0.2 < samples[:, 1].std() < 2.0
    assert abs(model.score(X)) < 10.0 ** 2   # the reconstruction error is well under the first feature's variance
    unit = small(max_epochs=1).fit(rng.uniform(size=(100, 3)))
    assert unit.output_activation_ == "sigmoid"
    assert ((unit.sample(50) >= 0) & (unit.sample(50) <= 1)).all()


def test_convolutional_networks():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(64, 64))
    for encoder in ("shared", "separate"):
        model = AIMEncoder(n_components=3, image_shape=(1, 8, 8), conv_channels=(4, 8), encoder_layers=(8,),
                           encoder=encoder, batch_size=16, max_epochs=1, random_state=0).fit(X)
        assert model.transform(X).shape == (64, 3)
        assert model.sample(5).shape == (5, 64)
        assert np.isfinite(model.score(X))


def test_same_seed_same_model_and_rng_untouched(grid, assert_rng_untouched):
    X, _, _ = grid
    a, b = small().fit(X), small().fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.conditional_sample(X[:3], 4), b.conditional_sample(X[:3], 4))
    assert_rng_untouched(lambda: small(max_epochs=1).fit(X).sample(5))


def test_pickle_and_save_load_round_trip(grid, fitted, tmp_path):
    X, _, _ = grid
    fitted.save(tmp_path / "aim.pt")
    for copy in (pickle.loads(pickle.dumps(fitted)), AIMEncoder.load(tmp_path / "aim.pt")):
        np.testing.assert_array_equal(copy.transform(X), fitted.transform(X))
        np.testing.assert_array_equal(copy.sample(10), fitted.sample(10))


def test_pipeline_with_kmeans_and_grid_search(grid):
    X, y, _ = grid
    pipe = make_pipeline(small(max_epochs=10), KMeans(4, n_init=3, random_state=0))
    labels = pipe.fit(X).predict(X)
    assert labels.shape == (len(X),)
    search = GridSearchCV(small(max_epochs=1), {"covariance_type": ["diag", "identity"], "n_components": [1, 2]},
                          cv=2)
    search.fit(X)
    assert len(search.cv_results_["params"]) == 4 and np.isfinite(search.cv_results_["mean_test_score"]).all()
    clustering = GridSearchCV(make_pipeline(small(max_epochs=1), KMeans(4, n_init=1, random_state=0)),
                              {"aimencoder__n_components": [1, 2]}, cv=2)
    assert clustering.fit(X).best_params_["aimencoder__n_components"] in (1, 2)


@pytest.mark.parametrize("params, match", [
    ({"n_components": 0}, "n_components"),
    ({"nll_weight": 0.0}, "nll_weight"),
    ({"nll_weight": -1.0}, "nll_weight"),
    ({"covariance_type": "full"}, "covariance_type"),
    ({"encoder": "own"}, "encoder"),
    ({"learning_rate_schedule": "cosine"}, "learning_rate_schedule"),
    ({"generator_layers": (0,)}, "generator_layers"),
    ({"discriminator_layers": ()}, "discriminator_layers"),
    ({"image_shape": (1, 3, 3)}, "image_shape"),
    ({"gradient_penalty": -1.0}, "gradient_penalty"),
    ({"betas": (0.5, 1.5)}, "betas"),
])
def test_bad_parameters_are_refused_before_training(grid, params, match):
    X, _, _ = grid
    model = small(**params)
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(X)
    assert not hasattr(model, "module_")


def test_gradient_penalty_needs_a_discriminator_without_batch_norm():
    X = np.random.RandomState(0).uniform(size=(32, 64))
    with pytest.raises(ValueError, match="gradient_penalty"):
        AIMEncoder(image_shape=(1, 8, 8), gradient_penalty=1.0, max_epochs=1).fit(X)
    model = small(gradient_penalty=1.0, max_epochs=1).fit(X[:, :2])
    assert "discriminator_penalty" in model.history_[0]
