"""Variational autoencoder (Kingma and Welling 2014) as a scikit-learn transformer.

The encoder maps x to a diagonal Gaussian q(z | x) = N(mu(x), diag(sigma^2(x))),
the decoder maps z to p(x | z), the prior is p(z) = N(0, I), and training
maximises the evidence lower bound

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))

with one reparameterised draw z = mu + sigma * eps per sample and minibatch.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state
from torch import nn
from torch.nn import functional as F

from .autoencoder import _ACTIVATIONS, _check_codes
from .base import BaseDeepModel
from .networks import check_layer_sizes, make_mlp

__all__ = ["VariationalAutoencoder"]

# Encoder log-variances are clipped to this range so exp() stays finite in bf16 and fp32.
_LOGVAR_RANGE = (-20.0, 10.0)
_LOG_2PI = math.log(2 * math.pi)


class VAEModule(nn.Module):
    """Gaussian encoder, decoder and, for a Gaussian likelihood, the fitted log-variance."""

    def __init__(self, n_features, encoder_layers, n_components, decoder_layers, activation, likelihood):
        super().__init__()
        decoder_layers = tuple(reversed(encoder_layers)) if decoder_layers is None else tuple(decoder_layers)
        self.n_components = n_components
        # One head for mean and log-variance: the last layer outputs 2 * n_components.
        self.encoder = make_mlp((n_features, *encoder_layers, 2 * n_components), activation=activation)
        self.decoder = make_mlp((n_components, *decoder_layers, n_features), activation=activation)
        self.gaussian = likelihood == "gaussian"
        # The Gaussian likelihood's variance (one, shared by all features): set from the training data
        # after fit (a buffer, not a parameter: during training each minibatch uses its own
        # maximum-likelihood estimate).
        self.register_buffer("log_variance", torch.zeros(()))

    def posterior(self, x):
        mean, log_var = self.encoder(x).float().chunk(2, dim=1)
        return mean, log_var.clamp(*_LOGVAR_RANGE)

    def log_likelihood(self, x, z, min_variance, batch_variance=False):
        """log p(x | z) per sample (summed over features).

        With ``batch_variance`` the Gaussian variance is the minibatch's
        maximum-likelihood estimate (the mean squared residual) instead of
        the fitted ``log_variance``.
        """
        out = self.decoder(z).float()
        if not self.gaussian:
            return -F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(dim=1)
        squared = (x - out) ** 2
        if batch_variance:
            # At the optimum the variance's own gradient is zero, so detaching it changes nothing
            # for the networks' gradients and keeps the estimate a plain statistic.
            log_var = squared.detach().mean().clamp_min(min_variance).log()
        else:
            log_var = self.log_variance
        return -0.5 * (squared * torch.exp(-log_var) + log_var + _LOG_2PI).sum(dim=1)

    def mean_output(self, z):
        """E[x | z]: the decoder mean (Gaussian) or feature probabilities (Bernoulli)."""
        out = self.decoder(z).float()
        return out if self.gaussian else torch.sigmoid(out)


def _expectation(fn, mean, log_var):
    """E[fn(z)] over z ~ N(mean, diag(exp(log_var))), row by row, at the 2k sigma points.

    The points are mean +- sqrt(k) * sigma_j * e_j (k the latent dimension),
    equally weighted: they match the Gaussian's mean and covariance, so the
    estimate is exact for any fn quadratic in z.
    """
    k = mean.shape[1]
    scale = math.sqrt(k) * torch.exp(0.5 * log_var)
    total = 0.0
    for j in range(k):
        for sign in (1.0, -1.0):
            z = mean.clone()
            z[:, j] += sign * scale[:, j]
            total = total + fn(z)
    return total / (2 * k)


def _kl_standard_normal(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per sample."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1)


class VariationalAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepModel):
    """Variational autoencoder with a diagonal Gaussian encoder.

    ``transform`` gives the posterior means, ``inverse_transform`` decodes
    codes to E[x | z], ``sample`` generates from the prior and ``score`` is
    the mean evidence lower bound (ELBO) per sample.
    ``make_pipeline(VariationalAutoencoder(), KMeans(10))`` is the VAE+KMeans
    baseline of the deep clustering literature.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent space.
    encoder_layers : tuple of int, default=(500, 500, 2000)
        Hidden layer sizes of the encoder, from the input side (DEC's
        architecture, so that VAE+KMeans and AE+KMeans compare like for like).
    decoder_layers : tuple of int or None, default=None
        Hidden layer sizes of the decoder, from the code side; None mirrors
        the encoder.
    activation : {"relu", "leaky_relu", "elu", "tanh", "sigmoid", "selu", "gelu", "identity"}, default="relu"
        Hidden-layer activation.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        The decoder's distribution p(x | z). "gaussian" is N(decoder(z),
        sigma^2 I) with sigma^2 fitted by maximum likelihood (floored at
        ``min_variance``); it suits data of any scale whose features have
        comparable spreads (standardise them otherwise). "bernoulli" treats each feature as a
        probability in [0, 1] (binary cross-entropy, the classic choice for
        MNIST) and requires X in [0, 1].
    min_variance : float, default=1e-4
        Floor of the Gaussian likelihood's variance, so that a perfect
        reconstruction cannot drive the ELBO to infinity. Ignored for
        "bernoulli".
    beta : float, default=1.0
        Weight of the KL term during training (1 is the ELBO; beta > 1 is the
        beta-VAE). ``score`` always reports the ELBO itself.
    batch_size : int, default=256
        Minibatch size.
    max_epochs : int, default=100
        Maximum number of epochs.
    learning_rate : float, default=1e-3
        Adam step size.
    device : str or torch.device, default="auto"
        "auto" (CUDA when available, else CPU), "cpu", "cuda", ...; resolved
        at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of the networks' forward passes; the ELBO is always
        computed in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, minibatch order, the reparameterisation noise
        and the draws of :meth:`sample`. The global RNG
        states are left untouched.
    verbose : int, default=0
        0 silent, 1 one line per epoch, 2 more.
    tol : float, default=1e-4
        Relative loss improvement that counts for early stopping.
    n_iter_no_change : int or None, default=10
        Epochs without improvement before stopping; None disables it.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained networks (``module_.encoder``, ``module_.decoder``) and,
        for a Gaussian likelihood, the fitted ``module_.log_variance``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        One record per epoch: ``epoch``, ``loss`` (the training objective,
        minus the beta-weighted ELBO per sample), ``reconstruction`` (minus
        the log-likelihood term), ``kl`` and ``seconds``.

    See Also
    --------
    Autoencoder : The deterministic counterpart.
    sklearn.decomposition.PCA : A linear Gaussian latent model.

    Notes
    -----
    With a Gaussian likelihood each minibatch uses the maximum-likelihood
    variance of its own residuals, as in the sigma-VAE of Rybkin, Daniilidis
    and Levine (2021, "Simple and effective VAE training with calibrated
    decoders"): a fixed unit variance on data of small spread makes the
    reconstruction term so weak that the posterior collapses onto the prior.
    After training, the variance is re-estimated on the whole training set
    (expectations over q(z | x) by the sigma points of :meth:`score_samples`);
    ``score`` uses that.

    The Gaussian ELBO is a log-density: on data with features of small
    spread it is positive and large, which is correct, not an error. Compare
    scores of models with the same likelihood only.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepgen import VariationalAutoencoder
    >>> X = load_digits().data / 16
    >>> vae = VariationalAutoencoder(n_components=2, encoder_layers=(32,), likelihood="bernoulli",
    ...                              max_epochs=3, random_state=0).fit(X)
    >>> vae.transform(X).shape, vae.sample(4).shape
    ((1797, 2), (4, 64))
    """

    _parameter_constraints: dict = {
        **BaseDeepModel._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder_layers": [tuple, list],
        "decoder_layers": [tuple, list, None],
        "activation": [StrOptions(_ACTIVATIONS)],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "min_variance": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=10, *, encoder_layers=(500, 500, 2000), decoder_layers=None,
                 activation="relu", likelihood="gaussian", min_variance=1e-4, beta=1.0, batch_size=256,
                 max_epochs=100, learning_rate=1e-3, device="auto", precision="fp32", random_state=None,
                 verbose=0, tol=1e-4, n_iter_no_change=10):
        self.n_components = n_components
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.activation = activation
        self.likelihood = likelihood
        self.min_variance = min_variance
        self.beta = beta
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change

    # hooks
    def _check_params(self, X):
        check_layer_sizes(self.encoder_layers, "encoder_layers")
        if self.decoder_layers is not None:
            check_layer_sizes(self.decoder_layers, "decoder_layers")
        if self.likelihood == "bernoulli":
            _check_unit_interval(X, "likelihood='bernoulli'")

    def _build_module(self):
        return VAEModule(
            self.n_features_in_, tuple(self.encoder_layers), self.n_components,
            None if self.decoder_layers is None else tuple(self.decoder_layers),
            self.activation, self.likelihood,
        )

    def _training_step(self, ctx, batch, step_name):
        mean, log_var = ctx.module.posterior(batch)
        z = mean + torch.exp(0.5 * log_var) * ctx.randn(batch.shape[0], self.n_components)
        nll = -ctx.module.log_likelihood(batch, z, self.min_variance, batch_variance=True).mean()
        kl = _kl_standard_normal(mean, log_var).mean()
        return {"loss": nll + self.beta * kl, "reconstruction": nll, "kl": kl}

    def _after_fit(self, ctx):
        if not ctx.module.gaussian:
            return

        def squared_residual(module, x):
            mean, log_var = module.posterior(x)
            return _expectation(lambda z: ((x - module.mean_output(z)) ** 2).mean(dim=1), mean, log_var)

        # The variance's maximum-likelihood estimate on the whole training set.
        per_row = self._forward_array(squared_residual, ctx.X, module=ctx.module)
        variance = max(float(per_row.astype(np.float64).mean()), self.min_variance)
        ctx.module.log_variance.fill_(np.log(variance))

    # public API
    @property
    def _n_features_out(self):
        return self.n_components

    def transform(self, X):
        """Posterior means E[z | x].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, in X's float dtype.
        """
        return self._inference(lambda module, batch: module.posterior(batch)[0], X)

    def inverse_transform(self, X):
        """Decode latent codes to E[x | z].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, for example from :meth:`transform`.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features_in_)
            Decoder means (Gaussian) or feature probabilities (Bernoulli).
        """
        Z, dtype = _check_codes(self, X, "inverse_transform")
        return self._forward_array(lambda module, batch: module.mean_output(batch), Z, out_dtype=dtype)

    def sample(self, n_samples=1):
        """Generate samples: draw z from the prior and decode it.

        As in :meth:`sklearn.mixture.GaussianMixture.sample`, the draws come
        from ``random_state``, so an integer seed gives the same samples at
        every call.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            E[x | z] for z ~ N(0, I): decoder means (Gaussian) or feature
            probabilities (Bernoulli).
        """
        n_samples = self._check_sample_request(n_samples)
        rng = check_random_state(self.random_state)
        Z = rng.standard_normal((n_samples, self.n_components)).astype(np.float32)
        return self._forward_array(lambda module, batch: module.mean_output(batch), Z)

    def score_samples(self, X):
        """Evidence lower bound of each sample.

        The expectation over q(z | x) is taken at the 2 * n_components sigma
        points mean +- sqrt(n_components) * sigma_j e_j of the posterior (the
        unscented transform; exact when log p(x | z) is quadratic in z), so
        the score is deterministic and each row's score depends on that row
        only.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (in [0, 1] for a Bernoulli likelihood).

        Returns
        -------
        elbo : ndarray of shape (n_samples,), dtype float64
            E_q[log p(x | z)] - KL(q(z | x) || p(z)), in nats.
        """
        check_is_fitted(self)
        X, _ = self._validate_X(X, reset=False)
        if self.likelihood == "bernoulli":
            _check_unit_interval(X, "likelihood='bernoulli'")

        def elbo(module, x):
            mean, log_var = module.posterior(x)
            loglik = _expectation(lambda z: module.log_likelihood(x, z, self.min_variance), mean, log_var)
            return loglik - _kl_standard_normal(mean, log_var)

        return self._forward_array(elbo, X, out_dtype=np.float64)

    def score(self, X, y=None):
        """Mean evidence lower bound per sample (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            The mean of :meth:`score_samples`, in nats.
        """
        return float(np.mean(self.score_samples(X)))


def _check_unit_interval(X, what):
    low, high = float(X.min()), float(X.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"{what} needs X in [0, 1]; got values in [{low:.4g}, {high:.4g}]. Scale X (for example "
            f"MinMaxScaler) or use likelihood='gaussian'."
        )
