"""Adversarially Learned Mixture Model (AMM) and its semi-supervised extension (SAMM).

The algorithm, as the model's hooks run it (the paper's Algorithms 1 and 2):

1. inference, q(x) q(y | x) q(z | x, y) (eq. 6): the encoder G_y(x) gives
   h_y = mu_y(x) + sigma_y(x) e and y = softmax(h_y) (eqs. 8-9), and
   G_z(x, y) gives z = mu_z(x, y) + sigma_z(x, y) e (eq. 10);
2. synthesis, p(y) p(z | y) p(x | y, z) (eq. 11): y from the categorical
   prior p(y), z = mu(y) + sigma(y) e from a learned Gaussian per component
   (eq. 12; fixed at N(mu_k, I) with ``prior="fixed"``), x = G_x(y, z);
3. one discriminator D(x, y, z) on the joint triple takes an Adam step on
   the value function of eq. 13, inferred triples (x, y, z) labelled real
   and synthesised triples (G_x(y, z), y, z) fake, plus ``gradient_penalty``
   times the penalty of eq. 18 on random interpolates of the two triples;
4. the four generators G_y, G_z(x, y), G_z(y) and G_x take one joint Adam
   step on the same value with the labels swapped (ALI's non-saturating
   generator loss: the inferred triples should look synthesised and the
   synthesised ones inferred).

SAMM adds the supervised game of eq. 14 on labelled pairs: the triple
(x, y, G_z(x, y)) with the true one-hot y against a second synthesised
batch, with p(y) the labelled class frequencies; both games' losses are
summed for each player (Algorithm 2). ``predict`` is argmax G_y(x).
"""

from __future__ import annotations

import numbers
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import logsumexp
from sklearn.base import ClassifierMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import nn
from torch.nn import functional as F

from ._augment import check_shift, random_affine, require_image_shape
from ._posterior_terms import PARAMETER_CONSTRAINTS as POSTERIOR_TERM_CONSTRAINTS
from ._posterior_terms import add_posterior_terms, check_posterior_terms, parameters_doc
from ._training import check_betas, make_adam
from .adversarial import discriminator_loss, frozen, gradient_penalty
from .base import BaseDeepClusterer, BaseDeepModel
from .networks import (
    Standardize,
    check_image_shape,
    check_layer_sizes,
    init_weights,
    make_conv_decoder,
    make_conv_encoder,
    make_mlp,
    resolve_output_activation,
)

__all__ = ["AMMClustering", "SAMMClassifier"]

PRIORS = ("learned", "fixed")
# Width of the dense hidden layer of the convolutional networks.
_CONV_HIDDEN = 512
# exp(0.5 * log-variance) overflows float32 near 177; the bound keeps sigma in [e^-5, e^5].
_LOG_VAR_BOUND = 10.0
_POSTERIOR_TERMS_DOC = parameters_doc("q(. | x)", "G_y")


def _auto_layers(n_features):
    """Hidden layers of the encoder, the decoder and the discriminator by data width."""
    if n_features >= 100:  # images such as MNIST
        return (512, 512), (512, 512), (512, 512)
    return (128, 128), (128, 128), (128, 128)


def _gaussian(mean, log_var, noise):
    """mean + sigma * noise with sigma = exp(log_var / 2) (the paper's ExpN activation)."""
    return mean + torch.exp(0.5 * log_var.clamp(-_LOG_VAR_BOUND, _LOG_VAR_BOUND)) * noise


class AMMModule(nn.Module):
    """The encoders G_y and G_z(x, y), the prior G_z(y), the decoder G_x and the discriminator D.

    Every network works in the standardised data space of ``scaler``. The
    encoders share one trunk over x: G_y reads (mu_y, log sigma_y^2) from
    it, G_z(x, y) reads (mu_z, log sigma_z^2) from it and y. D embeds x and
    (y, z) separately and joins the two embeddings (ALI's discriminator).
    """

    def __init__(self, n_features, n_clusters, latent_dim, encoder_layers, decoder_layers, discriminator_layers,
                 output_activation, dropout, image_shape=None, conv_channels=None):
        super().__init__()
        K, d = n_clusters, latent_dim
        self.n_clusters, self.latent_dim = K, d
        self.scaler = Standardize(n_features)
        self.register_buffer("log_prior", torch.full((K,), -float(np.log(K))))  # log p(y)
        self.prior_means = nn.Linear(K, d, bias=False)     # mu(y), fed the one-hot y
        self.prior_log_vars = nn.Linear(K, d, bias=False)  # log sigma(y)^2
        if image_shape is not None:
            width = _CONV_HIDDEN
            self.trunk = nn.Sequential(make_conv_encoder(image_shape, width, conv_channels, _CONV_HIDDEN),
                                       nn.LeakyReLU(0.2))
            self.decoder = make_conv_decoder(K + d, image_shape, tuple(reversed(conv_channels)), _CONV_HIDDEN,
                                             True, output_activation)
            self.d_x = nn.Sequential(make_conv_encoder(image_shape, width, conv_channels, _CONV_HIDDEN),
                                     nn.LeakyReLU(0.2), nn.Dropout(dropout))
            d_width = width
        else:
            width, d_width = encoder_layers[-1], discriminator_layers[-1]
            self.trunk = make_mlp((n_features, *encoder_layers), activation="leaky_relu", batch_norm=True,
                                  output_activation="leaky_relu")
            self.decoder = make_mlp((K + d, *decoder_layers, n_features), activation="relu", batch_norm=True,
                                    output_activation=output_activation)
            self.d_x = make_mlp((n_features, *discriminator_layers), activation="leaky_relu", dropout=dropout,
                                output_activation="leaky_relu")
        self.y_head = nn.Linear(width, 2 * K)
        self.z_head = make_mlp((width + K, width, 2 * d), activation="leaky_relu", batch_norm=True)
        # No batch normalisation in D: the gradient penalty needs each row's output to depend on that row only.
        self.d_yz = make_mlp((K + d, d_width), output_activation="leaky_relu")
        self.d_joint = make_mlp((2 * d_width, d_width, 1), activation="leaky_relu", dropout=dropout)

    # ---------------------------------------------------------- inference
    def y_logits(self, x):
        """(mu_y(x), log sigma_y(x)^2) and the trunk's features, eq. 8."""
        features = self.trunk(x)
        mean, log_var = self.y_head(features).float().chunk(2, dim=1)
        return mean, log_var, features

    def infer_z(self, features, y, noise):
        """z ~ q(z | x, y) (eq. 10); `noise` None returns the mean mu_z(x, y)."""
        mean, log_var = self.z_head(torch.cat([features, y.to(features.dtype)], dim=1)).float().chunk(2, dim=1)
        return mean if noise is None else _gaussian(mean, log_var, noise)

    def infer(self, x, noise_y, noise_z):
        """An inferred triple's (y, z): y = softmax(h_y) (eqs. 8-9), z ~ q(z | x, y) (eq. 10)."""
        mean, log_var, features = self.y_logits(x)
        y = F.softmax(_gaussian(mean, log_var, noise_y), dim=1)
        return y, self.infer_z(features, y, noise_z)

    # ---------------------------------------------------------- synthesis
    def prior_z(self, onehot, noise):
        """z ~ p(z | y) = N(mu(y), sigma(y)^2 I) (eq. 12)."""
        return _gaussian(self.prior_means(onehot), self.prior_log_vars(onehot), noise)

    def decode(self, y, z):
        """x = G_x(y, z)."""
        return self.decoder(torch.cat([y, z.to(y.dtype)], dim=1))

    def synthesize(self, onehot, noise):
        """A synthesised triple's (x, z): z ~ p(z | y), x = G_x(y, z)."""
        z = self.prior_z(onehot, noise)
        return self.decode(onehot, z), z

    def discriminate(self, x, y, z):
        """D's logit for triples (x, y, z)."""
        joint = torch.cat([self.d_x(x), self.d_yz(torch.cat([y, z], dim=1).to(x.dtype))], dim=1)
        return self.d_joint(joint).float()

    def generators(self):
        """Every network but D (the trunk, both heads, the prior, the decoder)."""
        return [self.trunk, self.y_head, self.z_head, self.prior_means, self.prior_log_vars, self.decoder]


class _BaseAMM(BaseDeepModel):
    """What AMM and SAMM share: parameters, networks, the unsupervised game, sampling."""

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepModel._parameter_constraints.items() if k not in ("tol", "n_iter_no_change")},
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "gradient_penalty": [Interval(Real, 0, None, closed="left")],
        "encoder_layers": [tuple, list, StrOptions({"auto"})],
        "decoder_layers": [tuple, list, StrOptions({"auto"})],
        "discriminator_layers": [tuple, list, StrOptions({"auto"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "output_activation": [StrOptions({"auto", "sigmoid"}), None],
        "image_shape": [tuple, list, None],
        "conv_channels": [tuple, list, None],
        "betas": [tuple, list],
    }
    _monitor = None  # GAN losses do not decrease monotonically

    def _n_components(self):
        raise NotImplementedError

    def _check_params(self, X):
        self.betas_ = check_betas(self.betas)
        auto = _auto_layers(X.shape[1])
        names = ("encoder_layers", "decoder_layers", "discriminator_layers")
        for name, default in zip(names, auto, strict=True):
            setattr(self, name + "_", check_layer_sizes(getattr(self, name), name, min_length=1, auto=default))
        self.image_shape_ = None if self.image_shape is None else check_image_shape(self.image_shape, X.shape[1])
        self.conv_channels_ = (None if self.conv_channels is None
                               else check_layer_sizes(self.conv_channels, "conv_channels", min_length=1))
        self.output_activation_ = resolve_output_activation(self.output_activation, X)

    def _build_module(self):
        # conv_channels=None keeps the MLPs: image_shape then only gives the geometry of the augmentations.
        conv_shape = None if self.conv_channels_ is None else self.image_shape_
        return AMMModule(self.n_features_in_, self._n_components(), self.latent_dim, self.encoder_layers_,
                         self.decoder_layers_, self.discriminator_layers_, self.output_activation_, self.dropout,
                         conv_shape, self.conv_channels_)

    def _initialize(self, ctx):
        module = ctx.module
        # The paper's initialisation: weights N(0, 0.02), biases 0.
        init_weights(module, std=0.02, generator=ctx.generator)
        if self.output_activation_ is None:
            module.scaler.fit_(ctx.X)  # a sigmoid output keeps the data's [0, 1] as it is
        with torch.no_grad():
            # Components start apart: N(0, I) means are ~sqrt(2 d) apart, against unit standard deviations.
            module.prior_means.weight.copy_(torch.randn(module.prior_means.weight.shape, generator=ctx.generator))
            module.prior_log_vars.weight.zero_()
            if self.prior == "fixed":
                module.prior_means.weight.requires_grad_(False)
                module.prior_log_vars.weight.requires_grad_(False)

    def _configure_optimizers(self, ctx):
        module = ctx.module
        generators = [p for m in module.generators() for p in m.parameters() if p.requires_grad]
        discriminator = [p for m in (module.d_x, module.d_yz, module.d_joint) for p in m.parameters()]
        return {"discriminator": make_adam(discriminator, self.learning_rate, self.betas_),
                "generator": make_adam(generators, self.learning_rate, self.betas_)}

    def _step_schedule(self):
        return [("discriminator", 1), ("generator", 1)]

    def _synthesized(self, ctx, n):
        """A batch of synthesised triples (G_x(y, z), y, z) with y ~ p(y), z ~ p(z | y)."""
        onehot = F.one_hot(ctx.categorical(ctx.module.log_prior.exp(), n), self._n_components()).float()
        x, z = ctx.module.synthesize(onehot, ctx.randn(n, self.latent_dim))
        return x, onehot, z

    def _game(self, ctx, inferred, synthesized, step_name):
        """One player's loss in the game of inferred (label 1) against synthesised (label 0) triples."""
        module = ctx.module
        if step_name == "discriminator":
            real, fake = module.discriminate(*inferred), module.discriminate(*synthesized)
            adversarial = discriminator_loss(real, fake, "sgan")
            if self.gradient_penalty == 0:
                return adversarial, torch.zeros((), device=ctx.device)
            # Eq. 18: interpolates of the whole triples, one weight per row.
            penalty = gradient_penalty(lambda x, y, z: module.discriminate(x, y, z), inferred, synthesized,
                                       generator=ctx.generator, center=1.0)
            return adversarial, penalty
        with frozen(module.d_x, module.d_yz, module.d_joint):
            real, fake = module.discriminate(*inferred), module.discriminate(*synthesized)
        # The generators' labels are swapped: ALI's non-saturating form of eq. 13.
        return discriminator_loss(fake, real, "sgan"), None

    def _unsupervised_triples(self, ctx, batch, step_name):
        module = ctx.module
        m = batch.shape[0]
        x = module.scaler(batch)
        with torch.set_grad_enabled(step_name == "generator"):
            y, z = module.infer(x, ctx.randn(m, self._n_components()), ctx.randn(m, self.latent_dim))
            synthesized = self._synthesized(ctx, m)
        return (x, y, z), synthesized

    def _step_losses(self, games, step_name):
        """Sum the games' losses into the training step's dict."""
        adversarial = sum(g[0] for g in games)
        if step_name == "generator":
            return {"loss": adversarial}
        penalty = sum(g[1] for g in games)
        return {"loss": adversarial + self.gradient_penalty * penalty, "adversarial": adversarial,
                "penalty": penalty}

    def _after_fit(self, ctx):
        module = ctx.module
        self.cluster_means_ = module.prior_means.weight.detach().T.cpu().numpy().astype(np.float64)
        log_vars = module.prior_log_vars.weight.detach().T.clamp(-_LOG_VAR_BOUND, _LOG_VAR_BOUND)
        self.cluster_stds_ = torch.exp(0.5 * log_vars).cpu().numpy().astype(np.float64)
        super()._after_fit(ctx)

    def _component_proba(self, module, batch):
        """softmax of the mean of h_y: q(y | x) at zero noise."""
        return F.softmax(module.y_logits(module.scaler(batch))[0], dim=1)

    # ----------------------------------------------------------- public API
    @property
    def _n_features_out(self):
        return self.latent_dim

    def transform(self, X):
        """The latent code's mean, mu_z(x, y) with y = softmax(mu_y(x)).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            The mean of q(z | x, y) at the encoder's mean class probabilities
            (no noise on h_y or z): the embedding the paper projects with
            t-SNE and classifies with eq. 19.
        """
        def embed(module, batch):
            mean, _, features = module.y_logits(module.scaler(batch))
            return module.infer_z(features, F.softmax(mean, dim=1), None)

        return self._inference(embed, X)

    def inverse_transform(self, Z):
        """Decode latent codes into rows: x = G_x(y, z) with y = p(k | z) of the learned mixture.

        ``inverse_transform(transform(X))`` is the model's reconstruction of
        X (the paper's figure 2c), and decoding the straight line between
        two rows' codes interpolates between them (figure 2d).

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)
            Latent codes.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            Decoded rows on the scale of the training data; the component
            input y is the Bayes posterior of eq. 19 (soft between
            components).
        """
        check_is_fitted(self)
        Z = check_array(Z, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.latent_dim:
            raise ValueError(f"Z has {Z.shape[1]} columns; this model's codes have latent_dim={self.latent_dim}.")
        proba = np.exp(self._mixture_log_posterior(Z))
        inputs = np.hstack([proba, Z]).astype(np.float32)
        K = self._n_components()
        return self._forward_array(lambda m, b: m.scaler.inverse(m.decode(b[:, :K], b[:, K:]).float()), inputs)

    def _mixture_log_posterior(self, Z):
        """log p(k | z) under the learned mixture p(k) N(mu_k, diag sigma_k^2) (eq. 19)."""
        log_prior = self.module_.log_prior.detach().cpu().numpy().astype(np.float64)
        var = self.cluster_stds_**2
        diff = np.asarray(Z, dtype=np.float64)[:, None, :] - self.cluster_means_[None]
        log_lik = -0.5 * ((diff**2) / var[None] + np.log(2 * np.pi * var)[None]).sum(axis=2)
        joint = log_lik + log_prior[None]
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def embedding_proba(self, X):
        """The Bayes classifier on the embedding (eq. 19): p(k | z) for z = ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components)
            p(k) N(z; mu_k, diag sigma_k^2), normalised over k, under the
            learned prior (``cluster_means_``, ``cluster_stds_``). Its argmax
            is the paper's y_z; comparing it with ``predict`` shows whether
            the encoder embeds data where the prior puts their component.
        """
        return np.exp(self._mixture_log_posterior(self.transform(X)))

    def _draw(self, n_samples, rng):
        prior = np.exp(self.module_.log_prior.detach().cpu().numpy().astype(np.float64))
        components = rng.choice(len(prior), size=n_samples, p=prior / prior.sum())
        noise = rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        return components, np.hstack([np.eye(len(prior), dtype=np.float32)[components], noise])

    def _synthesize_array(self, inputs):
        """Generated rows (standardised space) from [one-hot, noise] rows."""
        K = self._n_components()
        return self._forward_array(lambda m, b: m.synthesize(b[:, :K], b[:, K:])[0].float(), inputs)

    def _sample(self, n_samples):
        n_samples = self._check_sample_request(n_samples)
        components, inputs = self._draw(n_samples, check_random_state(self.random_state))
        X = self._synthesize_array(inputs)
        return self._forward_array(lambda m, b: m.scaler.inverse(b), X), components.astype(np.int64)

    def score(self, X, y=None):
        """Minus the squared MMD between X and as many generated rows (higher is better).

        The biased estimate of MMD^2 (:func:`skdeepgen.kernels.mmd2`) between
        the rows of X and ``len(X)`` rows drawn from the synthesis
        distribution, both in the model's standardised space, with a
        Gaussian kernel whose five bandwidths are the median squared
        distance of X times (0.25, 0.5, 1, 2, 4). It needs no labels and
        measures the generative fit, not the clustering. The draws come from
        ``random_state`` (0 when it is None), so the score is repeatable. The
        cost is quadratic in the number of rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data, at least 2 rows.
        y : None
            Ignored.

        Returns
        -------
        score : float
            -MMD^2, at most 0 up to rounding.
        """
        return self._mmd_score(X, lambda n, rng: self._synthesize_array(self._draw(n, rng)[1]))


_SHARED_PARAMETERS = """latent_dim : int, default=64
        Dimension of the continuous latent variable z (the paper's 64).
    prior : {"learned", "fixed"}, default="learned"
        p(z | y). "learned": a Gaussian per component whose mean and
        diagonal standard deviation are trained with the generators (eq.
        12); "fixed": N(mu_k, I) with the means kept at their random start.
        Either way the means start at independent N(0, I) draws.
    gradient_penalty : float, default=10.0
        Weight lambda of the gradient penalty of eq. 18 on D (10 is the
        paper's MNIST value; 0 turns it off).
    encoder_layers : tuple of int or "auto", default="auto"
        Hidden layers of the encoders' shared trunk (LeakyReLU 0.2, batch
        normalisation); G_z(x, y) adds one layer of the same width. "auto":
        (512, 512) from 100 features (images), else (128, 128).
    decoder_layers : tuple of int or "auto", default="auto"
        Hidden layers of G_x (ReLU, batch normalisation); "auto" as above.
    discriminator_layers : tuple of int or "auto", default="auto"
        Hidden layers of D's embedding of x (LeakyReLU 0.2, dropout); (y, z)
        gets one layer of the last width and the joint part one hidden layer
        of it. "auto" as above.
    dropout : float, default=0.2
        Dropout in D (the paper's 0.2).
    output_activation : {"auto", "sigmoid"} or None, default="auto"
        Output of G_x. "auto" is "sigmoid" when the training data lie in
        [0, 1] and linear (None) otherwise; data with a linear output are
        standardised inside the model, so ``sample`` returns rows on the
        data's own scale.
    image_shape : tuple of 3 int or None, default=None
        ``(channels, height, width)`` of image rows (height and width
        multiples of 4), for example ``(1, 28, 28)`` for MNIST: the encoder
        trunk and D's embedding of x are then small convolutional networks
        and G_x a transposed-convolutional one
        (:func:`skdeepgen.networks.make_conv_encoder`), and the ``*_layers``
        parameters are ignored, unless ``conv_channels`` is None. None uses
        MLPs.
    conv_channels : tuple of int or None, default=(32, 64)
        Channels of the stride-2 convolutions, with ``image_shape``. None
        keeps the MLPs with ``image_shape``, which then only gives the rows'
        geometry to the random image transformations.
    batch_size : int, default=100
        Rows per minibatch of each game.
    max_epochs : int, default=30
        Passes over the data; no early stopping (GAN losses do not signal
        convergence).
    learning_rate : float, default=2e-4
        Adam step size of both players (the paper's).
    betas : tuple of float, default=(0.5, 0.999)
        Adam's betas (the paper's beta1 = 0.5).
    device : str or torch.device, default="auto"
        "auto", "cpu", "cuda", ...; resolved at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of the networks' forward passes.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, minibatch order and every draw of ``fit``;
        an int also makes ``sample`` and ``score`` repeatable.
    verbose : int, default=0
        0 silent, 1 one line per epoch."""

_SHARED_ATTRIBUTES = """cluster_means_ : ndarray of shape (n_components, latent_dim)
        Means mu_k of p(z | y = k).
    cluster_stds_ : ndarray of shape (n_components, latent_dim)
        Standard deviations of p(z | y = k) (diagonal).
    history_ : list of dict
        One record per epoch, each loss averaged over the epoch:
        ``discriminator_loss`` (D's total), its parts
        ``discriminator_adversarial`` and ``discriminator_penalty`` (the
        gradient penalty before weighting), ``generator_loss`` (the
        generators' loss; for SAMM with ``label_weight > 0`` or
        ``sample_label_weight > 0`` also its parts ``generator_adversarial``,
        ``generator_labels`` (the labels' cross-entropy) and
        ``generator_sample_labels`` (the synthesised rows' cross-entropy);
        for AMM with ``balance > 0`` or ``consistency > 0`` also
        ``generator_adversarial`` and ``generator_balance`` or
        ``generator_consistency``, before weighting) and ``seconds``.
    n_iter_ : int
        Epochs run.
    module_ : torch.nn.Module
        The networks (:class:`AMMModule`).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X has string column names."""


class AMMClustering(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _BaseAMM, BaseDeepClusterer):
    __doc__ = f"""Adversarially Learned Mixture Model (AMM) clustering.

    An ALI-style GAN that matches the inference distribution
    q(x) q(y | x) q(z | x, y) to the synthesis distribution
    p(y) p(z | y) p(x | y, z), where y is a categorical cluster variable
    and z a continuous code that depends on it, with one discriminator on
    the joint triples (x, y, z). ``predict`` is the encoder's cluster,
    argmax q(y | x).

    Parameters
    ----------
    n_clusters : int, default=10
        Number of mixture components K (may exceed the number of classes;
        the paper uses 10, 20 and 30 on MNIST). p(y) is uniform.
    {_POSTERIOR_TERMS_DOC}
    {_SHARED_PARAMETERS}

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), dtype int64
        argmax q(y | x) of the training data.
    {_SHARED_ATTRIBUTES}

    See Also
    --------
    SAMMClassifier : The semi-supervised extension.
    MMGANClustering : A GAN with a Gaussian-mixture latent space and a cluster encoder.

    Notes
    -----
    The encoders G_y and G_z(x, y) share one trunk over x (the paper's
    table 3 feeds the z stream's features into the y stream, so the two
    are not independent either), and G_z(x, y) reads y = softmax(h_y)
    rather than h_y. ``fit(X, y)`` ignores y: labels never reach the
    clusterer, so a grid search scored by accuracy cannot leak them.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepgen import AMMClustering
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> model = AMMClustering(3, latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> model.predict_proba(X[:2]).shape
    (2, 3)
    >>> X_new, y_new = model.sample(4)
    >>> X_new.shape, y_new.shape
    ((4, 2), (4,))
    """

    _parameter_constraints: dict = {
        **_BaseAMM._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        **POSTERIOR_TERM_CONSTRAINTS,
    }

    def __init__(self, n_clusters=10, *, balance=0.0, balance_marginal=1.0, consistency=0.0, augment_rotation=20.0,
                 augment_scale=0.2, augment_shift=2, latent_dim=64, prior="learned", gradient_penalty=10.0,
                 encoder_layers="auto", decoder_layers="auto", discriminator_layers="auto", dropout=0.2,
                 output_activation="auto", image_shape=None, conv_channels=(32, 64), batch_size=100,
                 max_epochs=30, learning_rate=2e-4, betas=(0.5, 0.999), device="auto", precision="fp32",
                 random_state=None, verbose=0):
        self.n_clusters = n_clusters
        self.balance = balance
        self.balance_marginal = balance_marginal
        self.consistency = consistency
        self.augment_rotation = augment_rotation
        self.augment_scale = augment_scale
        self.augment_shift = augment_shift
        self.latent_dim = latent_dim
        self.prior = prior
        self.gradient_penalty = gradient_penalty
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.discriminator_layers = discriminator_layers
        self.dropout = dropout
        self.output_activation = output_activation
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.betas = betas
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def _n_components(self):
        return self.n_clusters

    def _check_params(self, X):
        self._check_n_clusters(X)
        super()._check_params(X)
        check_posterior_terms(self, self.image_shape_)

    def _training_step(self, ctx, batch, step_name):
        inferred, synthesized = self._unsupervised_triples(ctx, batch, step_name)
        losses = self._step_losses([self._game(ctx, inferred, synthesized, step_name)], step_name)
        if step_name == "discriminator" or (self.balance == 0 and self.consistency == 0):
            return losses
        losses["adversarial"] = losses["loss"]
        return add_posterior_terms(self, losses, self._cluster_log_proba(ctx.module, batch), batch,
                                   lambda x: self._cluster_log_proba(ctx.module, x), ctx.generator)

    def _cluster_proba(self, module, batch):
        return self._component_proba(module, batch)

    def _cluster_log_proba(self, module, batch):
        # log q(y | x) at the mean of h_y, the posterior predict_proba gives.
        return F.log_softmax(module.y_logits(module.scaler(batch))[0], dim=1)

    def sample(self, n_samples=1):
        """Generate rows: a uniform component k, z ~ N(mu_k, sigma_k^2), x = G_x(k, z).

        As in :meth:`sklearn.mixture.GaussianMixture.sample`, the draws come
        from ``random_state``, so an integer seed gives the same samples at
        every call.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            Generated rows, on the scale of the training data.
        y : ndarray of shape (n_samples,), dtype int64
            The component each row was generated from.
        """
        return self._sample(n_samples)


def _unlabelled_mask(y):
    """True where y marks an unlabelled row (-1, scikit-learn's semi-supervised convention)."""
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype.kind in "US":
        return np.zeros(y.shape, dtype=bool)
    return np.array([isinstance(v, numbers.Number) and not isinstance(v, bool) and v == -1 for v in y], dtype=bool)


class SAMMClassifier(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClassifierMixin, _BaseAMM):
    __doc__ = f"""Semi-supervised Adversarially Learned Mixture Model (SAMM) classifier.

    AMM with one mixture component per class, trained on two games at once:
    the unsupervised game of :class:`AMMClustering` on every row of X, and
    a supervised game (the paper's eq. 14) that matches labelled pairs
    (x, y, G_z(x, y)) to synthesised triples. The prior p(y) is the
    labelled class frequencies. Following :mod:`sklearn.semi_supervised`,
    ``y == -1`` marks an unlabelled row. ``predict`` is the encoder's class,
    argmax q(y | x).

    Parameters
    ----------
    classes : array-like or None, default=None
        The class labels. None takes the labelled values of ``y``; given, every
        labelled value must be one of them, and a class without labelled rows
        keeps a small prior share (see ``class_prior_``).
    label_weight : float, default=0.0
        Weight of the cross-entropy of G_y on the labelled rows,
        -log q(y | x) at the mean of h_y, added to the generators' loss. 0 is
        the paper's purely adversarial SAMM, in which the classifier G_y
        learns the labels only through the discriminator; that signal is
        slow (``docs/amm.md`` gives what we measured), and a positive weight
        speeds it up. Not in the paper.
    sample_label_weight : float, default=0.0
        Weight of the cross-entropy of G_y on synthesised rows,
        -log q(k | G_x(k, z)), added to the generators' loss. The rows are
        detached, so this trains the classifier G_y on the generator's
        class-conditional samples without changing G_x: the unlabelled rows
        reach the classifier through the generator the supervised game makes
        class-conditional. 0 is the paper's SAMM. Not in the paper (it is the
        classifier-on-samples term of Triple-GAN-style semi-supervised
        GANs).
    label_shift : int, default=0
        Largest random translation, in pixels along each image axis, of a
        labelled image each time the supervised game draws it (needs
        ``image_shape``; border pixels fill the space a shift opens). 0 uses
        the labelled rows as they are, as the paper does. Data augmentation
        against the classifier memorising a few labelled rows; not in the
        paper.
    label_rotation : float, default=0.0
        Largest random rotation, in degrees, of a labelled image each time
        the supervised game draws it, applied before ``label_shift``
        (needs ``image_shape``). 0 does not rotate. Not in the paper.
    label_scale : float, default=0.0
        Largest relative change of size of a labelled image each time the
        supervised game draws it: the image is scaled about its centre by
        a factor drawn from [1 - label_scale, 1 + label_scale], together
        with ``label_rotation`` (bilinear resampling, border pixels fill the
        space outside the image; needs ``image_shape``). 0 does not scale.
        Not in the paper.
    {_SHARED_PARAMETERS}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels; component k of the mixture is class ``classes_[k]``.
    class_prior_ : ndarray of shape (n_classes,)
        p(y): the labelled class counts plus one, normalised (add-one
        smoothing, negligible with 100 labels per class).
    {_SHARED_ATTRIBUTES}

    See Also
    --------
    AMMClustering : The unsupervised model.
    sklearn.semi_supervised.SelfTrainingClassifier : The same ``-1`` convention.

    Notes
    -----
    The labelled pairs' encoder G_z(x, y) is the network of the unsupervised
    game fed the true one-hot label (Algorithm 2 updates one set of G_z
    weights with both games' losses). Labelled rows also take part in the
    unsupervised game, as rows of q(x). With ``label_weight=0`` no term but
    the adversarial games trains the classifier G_y, as in the paper.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepgen import SAMMClassifier
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> y_partial = np.where(np.arange(200) % 10 == 0, y, -1)   # 20 labelled rows
    >>> model = SAMMClassifier(latent_dim=2, max_epochs=2, random_state=0).fit(X, y_partial)
    >>> model.classes_
    array([0, 1, 2])
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_BaseAMM._parameter_constraints,
        "classes": ["array-like", None],
        "label_weight": [Interval(Real, 0, None, closed="left")],
        "sample_label_weight": [Interval(Real, 0, None, closed="left")],
        "label_shift": [Interval(Integral, 0, None, closed="left")],
        "label_rotation": [Interval(Real, 0, 180, closed="both")],
        "label_scale": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, classes=None, *, label_weight=0.0, sample_label_weight=0.0, label_shift=0,
                 label_rotation=0.0, label_scale=0.0, latent_dim=64, prior="learned", gradient_penalty=10.0,
                 encoder_layers="auto", decoder_layers="auto", discriminator_layers="auto", dropout=0.2,
                 output_activation="auto", image_shape=None, conv_channels=(32, 64), batch_size=100, max_epochs=30,
                 learning_rate=2e-4, betas=(0.5, 0.999), device="auto", precision="fp32", random_state=None,
                 verbose=0):
        self.classes = classes
        self.label_weight = label_weight
        self.sample_label_weight = sample_label_weight
        self.label_shift = label_shift
        self.label_rotation = label_rotation
        self.label_scale = label_scale
        self.latent_dim = latent_dim
        self.prior = prior
        self.gradient_penalty = gradient_penalty
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.discriminator_layers = discriminator_layers
        self.dropout = dropout
        self.output_activation = output_activation
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.betas = betas
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _n_components(self):
        return len(self.classes_)

    def _check_params(self, X):
        super()._check_params(X)
        for name in ("label_shift", "label_rotation", "label_scale"):
            require_image_shape(name, getattr(self, name), self.image_shape_)
        check_shift("label_shift", self.label_shift, self.image_shape_)

    def _fit_targets(self, X, y):
        if y is None:
            raise ValueError("SAMMClassifier requires y to be passed, but the target y is None: give class labels, "
                             "with -1 for unlabelled rows.")
        y = column_or_1d(y, warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} entries but X has {X.shape[0]} rows; they must match.")
        unlabelled = _unlabelled_mask(y)
        labelled = y[~unlabelled]
        if labelled.size == 0:
            raise ValueError(f"y has no labelled row: all {y.shape[0]} entries are -1 (unlabelled).")
        check_classification_targets(labelled)  # the labels alone: -1 beside strings cannot be sorted
        if self.classes is None:
            classes = np.unique(labelled)
        else:
            classes = np.unique(column_or_1d(np.asarray(self.classes)))
            unknown = np.setdiff1d(np.unique(labelled), classes)
            if unknown.size:
                raise ValueError(f"y has labels outside classes={list(classes)!r}: {list(unknown)!r}.")
        self.classes_ = classes
        codes = np.full(y.shape[0], -1, dtype=np.int64)
        codes[~unlabelled] = np.searchsorted(classes, labelled)
        counts = np.bincount(codes[~unlabelled], minlength=len(classes)).astype(np.float64)
        self.class_prior_ = (counts + 1) / (counts.sum() + len(classes))
        return codes

    def _initialize(self, ctx):
        super()._initialize(ctx)
        ctx.module.log_prior.copy_(torch.from_numpy(np.log(self.class_prior_)).float())
        labelled = np.flatnonzero(ctx.y >= 0)
        ctx.state["labelled_X"] = torch.from_numpy(ctx.X[labelled]).to(ctx.device)
        ctx.state["labelled_y"] = torch.from_numpy(ctx.y[labelled]).to(ctx.device)

    def _augment_labelled(self, x, generator):
        """The labelled rows x randomly rotated and scaled, then translated, as the parameters ask."""
        return random_affine(x, self.image_shape_, self.label_rotation, self.label_scale, self.label_shift, generator)

    def _labelled_triples(self, ctx, m, step_name):
        """m labelled pairs drawn with replacement: the triples (x, y, G_z(x, y)), their synthesised
        batch, and the labels' cross-entropy under G_y (None unless it is weighted)."""
        module = ctx.module
        pick = torch.randint(ctx.state["labelled_y"].shape[0], (m,), generator=ctx.generator).to(ctx.device)
        x, labels = ctx.state["labelled_X"][pick], ctx.state["labelled_y"][pick]
        x = module.scaler(self._augment_labelled(x, ctx.generator))
        onehot = F.one_hot(labels, self._n_components()).float()
        cross_entropy = None
        with torch.set_grad_enabled(step_name == "generator"):
            mean, _, features = module.y_logits(x)
            z = module.infer_z(features, onehot, ctx.randn(m, self.latent_dim))
            synthesized = self._synthesized(ctx, m)
            if step_name == "generator" and self.label_weight > 0:
                cross_entropy = F.cross_entropy(mean, labels)
        return (x, onehot, z), synthesized, cross_entropy

    def _sample_cross_entropy(self, ctx, synthesized):
        """-log q(k | G_x(k, z)) on synthesised rows; x is detached so that only G_y learns from it."""
        x, onehot, _ = synthesized
        mean, _, _ = ctx.module.y_logits(x.detach())
        return F.cross_entropy(mean, onehot.argmax(1))

    def _training_step(self, ctx, batch, step_name):
        inferred, synthesized = self._unsupervised_triples(ctx, batch, step_name)
        labelled, synthesized_l, cross_entropy = self._labelled_triples(ctx, batch.shape[0], step_name)
        games = [self._game(ctx, inferred, synthesized, step_name),
                 self._game(ctx, labelled, synthesized_l, step_name)]
        losses = self._step_losses(games, step_name)
        # (weight, term) pairs; both are generator-step terms only.
        terms = {}
        if cross_entropy is not None:
            terms["labels"] = (self.label_weight, cross_entropy)
        if step_name == "generator" and self.sample_label_weight > 0:
            terms["sample_labels"] = (self.sample_label_weight, self._sample_cross_entropy(ctx, synthesized))
        if not terms:
            return losses
        total = losses["loss"] + sum(weight * term for weight, term in terms.values())
        return {"loss": total, "adversarial": losses["loss"], **{name: term for name, (_, term) in terms.items()}}

    def fit(self, X, y):
        """Fit on rows X with labels y, -1 marking the unlabelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, labelled and unlabelled rows together.
        y : array-like of shape (n_samples,)
            Class labels; -1 (an int, also in an object array) for an
            unlabelled row. At least one row must be labelled. A string
            array cannot hold -1: all its rows are labelled (use an object
            array to mix string labels with -1).

        Returns
        -------
        self : SAMMClassifier
            The fitted classifier.
        """
        return super().fit(X, y)

    def predict_proba(self, X):
        """Class probabilities q(y | x): softmax of the mean of h_y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        return self._inference(self._component_proba, X)

    def predict(self, X):
        """The most probable class of each row, argmax q(y | x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Values of ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def sample(self, n_samples=1):
        """Generate rows: a class k ~ p(y), z ~ N(mu_k, sigma_k^2), x = G_x(k, z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            Generated rows, on the scale of the training data.
        y : ndarray of shape (n_samples,)
            The class (a value of ``classes_``) each row was generated from.
        """
        X, components = self._sample(n_samples)
        return X, self.classes_[components]

    def score(self, X, y):
        """Mean accuracy of ``predict(X)`` against y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : array-like of shape (n_samples,)
            True labels (no -1: every row is scored).

        Returns
        -------
        score : float
            Accuracy in [0, 1].
        """
        return ClassifierMixin.score(self, X, y)
