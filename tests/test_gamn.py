"""GAMNGenerator: the generative adversarial mapping network and its mapper-free case, GMMN."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeepgen import GAMNGenerator
from skdeepgen.datasets import make_ring_gaussians
from skdeepgen.gamn import mmd
from skdeepgen.kernels import mmd2
from skdeepgen.metrics import inception_score, mode_coverage


@pytest.fixture(scope="module")
def ring():
    X, y, centers = make_ring_gaussians(512, random_state=0, return_centers=True)
    return X, y, centers


def small(**params):
    defaults = dict(latent_dim=2, generator_layers=(32,), mapper_layers=(32,), mapper_dim=4, n_mapper=2,
                    batch_size=64, max_epochs=3, learning_rate=1e-3, random_state=0)
    defaults.update(params)
    return GAMNGenerator(**defaults)


def test_fit_sample_transform_score(ring):
    X, _, _ = ring
    model = small().fit(X)
    samples = model.sample(50)
    assert samples.shape == (50, 2) and samples.dtype == np.float32
    np.testing.assert_array_equal(model.sample(50), samples)  # an int seed repeats its draws
    assert model.transform(X).shape == (len(X), 4)
    assert model.score(X) == model.score(X) <= 1e-6
    assert model.n_iter_ == 3 and len(model.history_) == 3
    assert {"mapper_loss", "mapper_mmd", "mapper_regularization", "generator_loss", "generator_mmd",
            "generator_data_mmd"} <= set(model.history_[0])
    assert model.get_feature_names_out().tolist() == [f"gamngenerator{i}" for i in range(4)]


def test_gmmn_has_no_mapper_and_no_transform(ring):
    X, _, _ = ring
    gmmn = small(mapper_dim=None).fit(X)
    assert gmmn.module_.mapper is None
    assert not hasattr(gmmn, "transform") and not hasattr(gmmn, "fit_transform")
    assert set(gmmn.history_[0]) == {"epoch", "loss", "mmd", "seconds"}
    assert gmmn.sample(10).shape == (10, 2)


def test_samples_are_on_the_data_scale():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=[100.0, -50.0], scale=[10.0, 0.5], size=(400, 2))
    model = small(max_epochs=30, mapper_dim=None).fit(X)
    assert model.output_activation_ is None
    samples = model.sample(400)
    np.testing.assert_allclose(samples.mean(axis=0), X.mean(axis=0), rtol=0.05)
    assert 0.2 < samples[:, 1].std() < 2.0


def test_sigmoid_output_for_data_in_the_unit_interval():
    X = np.random.RandomState(0).uniform(size=(100, 6))
    model = small(max_epochs=1).fit(X)
    assert model.output_activation_ == "sigmoid"
    samples = model.sample(20)
    assert samples.min() >= 0 and samples.max() <= 1


def test_training_learns_the_ring(ring):
    X, _, centers = ring
    gamn = GAMNGenerator(latent_dim=2, generator_layers=(64, 64), mapper_layers=(64, 64), n_mapper=2,
                         batch_size=128, max_epochs=60, learning_rate=1e-3, random_state=0).fit(X)
    untrained = GAMNGenerator(latent_dim=2, generator_layers=(64, 64), mapper_layers=(64, 64), max_epochs=1,
                              learning_rate=1e-9, random_state=0).fit(X)
    assert gamn.score(X) > untrained.score(X) / 5  # MMD^2 under a fifth of the untrained one
    captured, _ = mode_coverage(gamn.sample(1000), centers, std=0.2)
    assert captured >= 6


@pytest.mark.parametrize("regularization", ["gp", "l1", "l2", "l2_all"])
def test_regularizers_match_their_definitions(ring, regularization):
    X, _, _ = ring
    model = small(regularization=regularization, max_epochs=1).fit(X)
    module = model.module_
    ln = [p for m in module.mapper.modules() if isinstance(m, torch.nn.LayerNorm) for p in m.parameters()]
    expected = {"l1": sum(p.abs().sum() for p in ln), "l2": sum(p.pow(2).sum() for p in ln),
                "l2_all": sum(p.pow(2).sum() for p in module.mapper.parameters())}
    if regularization != "gp":
        from skdeepgen._training import TrainContext

        ctx = TrainContext(module=module, device=torch.device("cpu"), autocast_dtype=None,
                           generator=torch.Generator().manual_seed(0), rng=np.random.RandomState(0),
                           X=X.astype(np.float32))
        value = model._regularizer(ctx, None, None)
        torch.testing.assert_close(value, expected[regularization])
    assert model.regularization_strength_ == {"gp": 10.0, "l1": 1e-3, "l2": 1e-3, "l2_all": 1e-4}[regularization]
    assert model.data_mmd_weight_ == (1.0 if regularization == "gp" else 0.0)


def test_mapper_maximises_and_generator_minimises():
    """One mapper step raises the mapper-space MMD; one generator step lowers it."""
    X = np.random.RandomState(0).normal(size=(64, 3)).astype(np.float32) + 3.0
    model = small(max_epochs=1, n_mapper=1, batch_size=64, learning_rate=1e-2, regularization="l2_all",
                  regularization_strength=0.0, batch_norm=False, device="cpu").fit(X)
    module = model.module_.train()
    x_r = module.scaler(torch.from_numpy(X))
    z = 2 * torch.rand(64, 2, generator=torch.Generator().manual_seed(1)) - 1

    def distance():
        with torch.no_grad():
            return float(mmd(module.mapper(x_r), module.mapper(module.generator(z)), (1.0,)))

    before = distance()
    opt = torch.optim.SGD(module.mapper.parameters(), lr=0.1)
    (-mmd(module.mapper(x_r), module.mapper(module.generator(z).detach()), (1.0,))).backward()
    opt.step()
    after_mapper = distance()
    assert after_mapper > before
    module.zero_grad()
    opt = torch.optim.SGD(module.generator.parameters(), lr=0.1)
    mmd(module.mapper(x_r), module.mapper(module.generator(z)), (1.0,)).backward()
    opt.step()
    assert distance() < after_mapper


def test_mmd_is_the_square_root_of_mmd2():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 2, generator=g), torch.randn(20, 2, generator=g) + 1
    torch.testing.assert_close(mmd(x, y, (1.0, 4.0)) ** 2, mmd2(x, y, bandwidths=(1.0, 4.0)))


def test_same_seed_same_model_and_rng_untouched(ring, assert_rng_untouched):
    X, _, _ = ring
    a = small().fit(X)
    b = small().fit(X)
    np.testing.assert_array_equal(a.sample(20), b.sample(20))
    assert_rng_untouched(lambda: small(max_epochs=1).fit(X).sample(5))


def test_pipeline_and_grid_search(ring):
    X, _, _ = ring
    pipe = make_pipeline(StandardScaler(), small(max_epochs=1))
    assert pipe.fit(X).transform(X).shape == (len(X), 4)
    search = GridSearchCV(small(max_epochs=1), {"regularization": ["gp", "l2"], "mapper_dim": [2, 4]}, cv=2)
    search.fit(X)
    assert len(search.cv_results_["params"]) == 4 and np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("params, match", [
    ({"regularization": "l3"}, "regularization"),
    ({"mapper_dim": 0}, "mapper_dim"),
    ({"n_mapper": 0}, "n_mapper"),
    ({"n_generator": -1}, "n_generator"),
    ({"regularization_strength": -1.0}, "regularization_strength"),
    ({"data_mmd_weight": -0.5}, "data_mmd_weight"),
    ({"prior": "laplace"}, "prior"),
    ({"bandwidths": (1.0, -2.0)}, "bandwidths"),
    ({"generator_layers": (0,)}, "generator_layers"),
    ({"betas": (0.5, 1.5)}, "betas"),
    ({"batch_size": 1}, "batch_size"),
    ({"image_shape": (1, 4, 8)}, "image_shape"),
    ({"image_shape": (1, 2, 1)}, "multiples of 4"),
    ({"conv_channels": (0,)}, "conv_channels"),
])
def test_bad_parameters_are_refused_before_training(ring, params, match):
    X, _, _ = ring
    model = small(**params)
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(X)
    assert not hasattr(model, "module_")


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return load_digits().data[:256] / 16.0


@pytest.mark.parametrize("mapper_dim", [3, None])
def test_convolutional_networks_for_images(digits, mapper_dim):
    model = small(latent_dim=4, mapper_dim=mapper_dim, image_shape=(1, 8, 8), conv_channels=(4, 8),
                  max_epochs=1).fit(digits)
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.module_.generator)
    samples = model.sample(6)
    assert samples.shape == (6, 64) and samples.min() >= 0 and samples.max() <= 1  # sigmoid: pixels in [0, 1]
    if mapper_dim is None:
        assert model.module_.mapper is None
        return
    assert any(isinstance(m, torch.nn.Conv2d) for m in model.module_.mapper.modules())
    assert model.transform(digits[:5]).shape == (5, 3)
    norms = [m for m in model.module_.mapper.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert len(norms) == 1 and model.module_.norm_parameters() == list(norms[0].parameters())


def test_convolutional_gamn_learns_digits(digits):
    params = dict(latent_dim=8, mapper_dim=4, image_shape=(1, 8, 8), conv_channels=(8, 16), n_mapper=1,
                  batch_size=64, learning_rate=2e-3, random_state=0)
    trained = small(max_epochs=30, **params).fit(digits)
    untrained = small(max_epochs=1, **{**params, "learning_rate": 1e-9}).fit(digits)
    assert trained.score(digits) > untrained.score(digits) / 3  # MMD^2 under a third of the untrained one


def test_mode_coverage_and_inception_score():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.vstack([centers[0] + 0.01, centers[1] + [0.0, 0.5], [[50.0, 50.0]]])
    assert mode_coverage(X, centers, std=0.1) == (1, 1 / 3)
    assert mode_coverage(X, centers, std=0.2) == (2, 2 / 3)
    with pytest.raises(ValueError, match="std"):
        mode_coverage(X, centers, std=0)
    with pytest.raises(ValueError, match="features"):
        mode_coverage(X, centers[:, :1], std=1.0)

    class Fixed:
        def __init__(self, proba):
            self.proba = np.asarray(proba)

        def predict_proba(self, X):
            return self.proba

    # Confident and balanced over 4 classes: the maximum, 4. Uniform predictions: 1.
    assert inception_score(np.zeros((4, 1)), Fixed(np.eye(4)))[0] == pytest.approx(4.0)
    assert inception_score(np.zeros((4, 1)), Fixed(np.full((4, 4), 0.25)))[0] == pytest.approx(1.0)
    # All confident in one class: no diversity, 1.
    assert inception_score(np.zeros((4, 1)), Fixed(np.tile([1.0, 0, 0], (4, 1))))[0] == pytest.approx(1.0)
    score, std = inception_score(np.zeros((4, 1)), Fixed(np.eye(4)), n_splits=2)
    assert score == pytest.approx(2.0) and std == 0.0
    with pytest.raises(TypeError, match="predict_proba"):
        inception_score(np.zeros((2, 1)), object())
    with pytest.raises(ValueError, match="n_splits"):
        inception_score(np.zeros((2, 1)), Fixed(np.eye(2)), n_splits=0)
