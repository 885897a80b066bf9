"""VariationalAutoencoder: the ELBO's terms, both likelihoods, sampling, scoring,
persistence and composition.

Networks are tiny (6 -> 16 -> 2 on the 120-row ``blobs``).
"""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeepgen import VariationalAutoencoder
from skdeepgen.vae import _kl_standard_normal


def small(**params):
    defaults = dict(n_components=2, encoder_layers=(16,), max_epochs=30, learning_rate=1e-2, batch_size=16,
                    random_state=0)
    defaults.update(params)
    return VariationalAutoencoder(**defaults)


def test_kl_matches_closed_form_by_hand():
    mean = torch.tensor([[0.5, -1.0]])
    log_var = torch.tensor([[math.log(0.25), math.log(4.0)]])
    # KL(N(m, v) || N(0, 1)) = (m^2 + v - 1 - log v) / 2 per dimension.
    expected = 0.5 * ((0.25 + 0.25 - 1 - math.log(0.25)) + (1.0 + 4.0 - 1 - math.log(4.0)))
    assert _kl_standard_normal(mean, log_var).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_score_samples_matches_elbo_by_hand(blobs, likelihood):
    X, _ = blobs
    vae = small(likelihood=likelihood, max_epochs=5, device="cpu").fit(X)
    module = vae.module_
    x = torch.from_numpy(X.astype(np.float32)).double()
    with torch.no_grad():
        h = module.encoder(x.float()).double()
        mean, log_var = h[:, :2], h[:, 2:]
        loglik = torch.zeros(len(X), dtype=torch.float64)
        # Sigma points mean +- sqrt(2) sigma_j e_j, weight 1/4 each.
        for j in range(2):
            for sign in (1, -1):
                z = mean.clone()
                z[:, j] += sign * math.sqrt(2) * torch.exp(0.5 * log_var[:, j])
                out = module.decoder(z.float()).double()
                if likelihood == "bernoulli":
                    p = torch.sigmoid(out)
                    ll = (x * torch.log(p) + (1 - x) * torch.log1p(-p)).sum(1)
                else:
                    var = math.exp(module.log_variance.item())
                    ll = (-0.5 * ((x - out) ** 2 / var + math.log(2 * math.pi * var))).sum(1)
                loglik += ll / 4
        kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
    np.testing.assert_allclose(vae.score_samples(X), (loglik - kl).numpy(), rtol=1e-4, atol=1e-4)
    assert vae.score(X) == pytest.approx(float((loglik - kl).mean()), rel=1e-4)


def test_expectation_is_exact_for_quadratics():
    from skdeepgen.vae import _expectation

    mean = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    log_var = torch.log(torch.tensor([[0.5, 2.0, 1.5]], dtype=torch.float64))
    # E[sum z^2] = sum (mean^2 + var).
    got = _expectation(lambda z: (z**2).sum(dim=1), mean, log_var)
    assert got.item() == pytest.approx(1 + 4 + 0.25 + 0.5 + 2 + 1.5)


def test_gaussian_variance_is_the_fitted_mean_squared_residual(blobs):
    X, _ = blobs
    vae = small().fit(X)
    variance = math.exp(vae.module_.log_variance.item())
    residual = np.mean((vae.inverse_transform(vae.transform(X)) - X) ** 2)
    # Averaged over the posterior's sigma points, so near the residual at the posterior means.
    assert 0.5 * residual < variance < 5 * residual + 1e-4
    assert variance != 1.0  # the buffer was set, not left at its initial log-variance 0


def test_training_increases_elbo_and_codes_separate_blobs(blobs):
    X, y = blobs
    short = small(max_epochs=1).fit(X)
    vae = small(max_epochs=60).fit(X)
    assert vae.score(X) > short.score(X)
    labels = KMeans(3, n_init=5, random_state=0).fit_predict(vae.transform(X))
    assert adjusted_rand_score(y, labels) > 0.9
    assert vae.history_[-1]["kl"] > 0.5  # the posterior did not collapse onto the prior


def test_transform_is_deterministic_posterior_mean(blobs):
    X, _ = blobs
    vae = small(max_epochs=3, device="cpu").fit(X)
    np.testing.assert_array_equal(vae.transform(X), vae.transform(X))
    with torch.no_grad():
        expected = vae.module_.encoder(torch.from_numpy(X.astype(np.float32)))[:, :2].numpy()
    np.testing.assert_allclose(vae.transform(X), expected, rtol=1e-5, atol=1e-6)


def test_sample_shape_seeded_and_in_range_for_bernoulli(blobs):
    X, _ = blobs
    vae = small(likelihood="bernoulli", max_epochs=3).fit(X)
    a, b = vae.sample(7), vae.sample(7)
    assert a.shape == (7, 6) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)  # an int random_state gives the same draws, as GaussianMixture.sample
    assert a.min() >= 0 and a.max() <= 1
    assert not np.array_equal(vae.set_params(random_state=1).sample(7), a)


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, True, "3"])
def test_sample_refuses_bad_n_samples(blobs, n_samples):
    vae = small(max_epochs=1).fit(blobs[0])
    with pytest.raises(ValueError, match=f"n_samples must be a positive integer; got n_samples={n_samples!r}"):
        vae.sample(n_samples)


def test_bernoulli_refuses_data_outside_unit_interval(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"likelihood='bernoulli' needs X in \[0, 1\]; got values in \[-1"):
        small(likelihood="bernoulli").fit(X * 2 - 1)
    vae = small(likelihood="bernoulli", max_epochs=1).fit(X)
    with pytest.raises(ValueError, match="likelihood='bernoulli' needs X in"):
        vae.score(X + 1)


@pytest.mark.parametrize(
    "params, name",
    [({"likelihood": "poisson"}, "likelihood"), ({"min_variance": 0.0}, "min_variance"),
     ({"beta": -1.0}, "beta"), ({"n_components": 0}, "n_components")],
)
def test_bad_params_refused_before_training(blobs, params, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of VariationalAutoencoder"):
        small(**params).fit(blobs[0])


def test_inverse_transform_checks_code_width(blobs):
    vae = small(max_epochs=1).fit(blobs[0])
    with pytest.raises(ValueError, match="expecting codes of n_components=2"):
        vae.inverse_transform(np.zeros((3, 5)))
    assert vae.inverse_transform(np.zeros((3, 2))).dtype == np.float64


def test_beta_zero_ignores_kl_and_default_keeps_it_small(blobs):
    X, _ = blobs
    free = small(beta=0.0, max_epochs=20).fit(X)
    tied = small(beta=1.0, max_epochs=20).fit(X)
    assert free.history_[-1]["kl"] > tied.history_[-1]["kl"]


def test_same_seed_same_result_and_global_rng_untouched(blobs, assert_rng_untouched):
    X, _ = blobs
    results = []
    assert_rng_untouched(lambda: results.append(small(max_epochs=3).fit(X)))
    again = small(max_epochs=3).fit(X)
    np.testing.assert_array_equal(results[0].transform(X), again.transform(X))
    assert_rng_untouched(lambda: (again.sample(3), again.score(X)))


def test_score_samples_is_per_row(blobs):
    X, _ = blobs
    vae = small(max_epochs=3).fit(X)
    full = vae.score_samples(X)
    np.testing.assert_allclose(vae.score_samples(X[::-1]), full[::-1], rtol=1e-6)
    np.testing.assert_allclose(vae.score_samples(X[5:6]), full[5:6], rtol=1e-6)


def test_pickle_and_save_load_keep_scores(blobs, tmp_path):
    X, _ = blobs
    vae = small(max_epochs=3).fit(X)
    restored = pickle.loads(pickle.dumps(vae))
    path = tmp_path / "vae.pt"
    vae.save(path)
    loaded = VariationalAutoencoder.load(path)
    for other in (restored, loaded):
        assert other.score(X) == vae.score(X)
        np.testing.assert_array_equal(other.sample(4), vae.sample(4))


def test_vae_kmeans_pipeline(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), small(max_epochs=60), KMeans(3, n_init=5, random_state=0))
    assert adjusted_rand_score(y, pipe.fit_predict(X)) > 0.9
