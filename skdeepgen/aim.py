"""Adversarial inference by matching priors and conditionals (AIM).

The algorithm, as the model's hooks run it (the paper's Algorithm 1):

1. draw z_1..z_n ~ p(z) = N(0, I_d) and generate x~_j = G(z_j) (a
   deterministic generator);
2. the discriminator D takes an Adam step on the standard GAN value
   function (eq. 7): L_D = -mean log D(x_i) - mean log(1 - D(x~_j)) over the
   minibatch's real rows x_i and the generated rows;
3. the encoder E gives q(z | x) = N(mu(x), sigma^2(x)) through two heads,
   and G and E take one joint Adam step on the non-saturating generator loss
   -mean log D(x~_j) plus lambda times the negative log-likelihood of each
   z_j under q(z | x~_j) (eqs. 8-9):
   L(z, mu, sigma^2) = 1/2 sum_k ((z_k - mu_k)^2 / sigma_k^2 + log sigma_k^2 + log 2 pi).

Nothing is reconstructed in data space. By default (the paper's choice) E
reads D's intermediate features and does not update them: in G and E's step
D is frozen, so the encoder's loss reaches G through D's feature layers but
never changes them. ``covariance_type="identity"`` fixes sigma^2 = 1 (the
paper's AIM-). Inference (Algorithm 2): the code of x is mu(x), its
reconstruction G(mu(x)), and rows "like x" are G(z) with z ~ q(z | x).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from ._training import check_betas, make_adam
from .adversarial import discriminator_loss, frozen, generator_loss, gradient_penalty
from .autoencoder import _check_codes
from .base import BaseDeepModel
from .networks import (
    Standardize,
    check_image_shape,
    check_layer_sizes,
    init_weights,
    make_conv_decoder,
    make_conv_features,
    make_mlp,
    resolve_output_activation,
)

__all__ = ["AIMEncoder", "COVARIANCE_TYPES"]

#: Covariances of q(z | x): per-dimension variances, one variance per row
#: (the literal sigma^2(x) I of eq. 8), or the identity (AIM-).
COVARIANCE_TYPES = ("diag", "spherical", "identity")
#: How the encoder sees x: through D's feature layers (the paper's) or its own copy of them.
ENCODERS = ("shared", "separate")
# Floor of the encoder's variances: the likelihood term is unbounded below as sigma^2 -> 0.
_MIN_VARIANCE = 1e-4
# The paper's MNIST networks: 1024-unit dense layers around the convolutions.
_CONV_HIDDEN = 1024
# From this many features "auto" networks are the image-sized ones.
_IMAGE_FEATURES = 100
_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_nll(z, mean, variance):
    """-log N(z; mean, diag(variance)) of each row (eq. 8), summed over the dimensions.

    Parameters
    ----------
    z, mean : torch.Tensor of shape (n, d)
    variance : torch.Tensor of shape (n, d), (n, 1) or ()
        Broadcast against ``z``.

    Returns
    -------
    nll : torch.Tensor of shape (n,)
    """
    variance = torch.as_tensor(variance, dtype=z.dtype, device=z.device).expand_as(z)
    return 0.5 * ((z - mean) ** 2 / variance + variance.log() + _LOG_2PI).sum(dim=1)


class AIMModule(nn.Module):
    """Generator G, discriminator D (feature layers + head) and encoder E.

    Every network works in the standardised data space of ``scaler``. D is
    ``d_head(d_features(x))``. E reads ``d_features(x)`` (shared) or
    ``e_features(x)``, a separate network of the same shape (separate), and
    gives mu(x) and, unless the covariance is the identity, sigma^2(x).
    """

    def __init__(self, n_features, n_components, generator_layers, discriminator_layers, encoder_layers,
                 output_activation, batch_norm, covariance_type, encoder, image_shape=None, conv_channels=None):
        super().__init__()
        d = n_components
        self.scaler = Standardize(n_features)
        if image_shape is not None:
            # The paper's Table 3: DCGAN-style G and D; E starts with one more convolution on D's feature maps.
            self.generator = make_conv_decoder(d, image_shape, tuple(reversed(conv_channels)), _CONV_HIDDEN,
                                               batch_norm, output_activation)

            def features():
                return make_conv_features(image_shape, conv_channels, batch_norm=True)

            self.d_features, width = features()
            self.d_head = make_mlp((width, _CONV_HIDDEN, 1), activation="leaky_relu", batch_norm=True)
            maps = (conv_channels[-1], image_shape[1] // 2 ** len(conv_channels),
                    image_shape[2] // 2 ** len(conv_channels))
            trunk = [nn.Unflatten(1, maps), nn.Conv2d(maps[0], 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                     nn.Flatten()]
            e_width = 64 * ((maps[1] - 2) // 2 + 1) * ((maps[2] - 2) // 2 + 1)
        else:
            self.generator = make_mlp((d, *generator_layers, n_features), activation="relu", batch_norm=batch_norm,
                                      output_activation=output_activation)
            split = max(1, len(discriminator_layers) - 1)
            feature_layers, head_layers = discriminator_layers[:split], discriminator_layers[split:]

            def features():
                net = make_mlp((n_features, *feature_layers), activation="leaky_relu",
                               output_activation="leaky_relu")
                return net, feature_layers[-1]

            self.d_features, width = features()
            self.d_head = make_mlp((width, *head_layers, 1), activation="leaky_relu")
            trunk, e_width = [], width
        self.e_features = features()[0] if encoder == "separate" else None
        self.e_trunk = nn.Sequential(*trunk)
        self.mean_head = make_mlp((e_width, *encoder_layers, d), activation="leaky_relu")
        n_var = {"diag": d, "spherical": 1, "identity": 0}[covariance_type]
        self.variance_head = (make_mlp((e_width, *encoder_layers, n_var), activation="leaky_relu")
                              if n_var else None)

    def discriminate(self, x):
        """D's logit and its features."""
        features = self.d_features(x)
        return self.d_head(features).float(), features

    def encode(self, x, features=None):
        """(mu(x), sigma^2(x)) of q(z | x); sigma^2 is 1. (a float) for the identity covariance.

        ``features`` are D's features of x when the caller has them (shared encoder).
        """
        if self.e_features is not None:
            features = self.e_features(x)
        elif features is None:
            features = self.d_features(x)
        h = self.e_trunk(features)
        mean = self.mean_head(h).float()
        if self.variance_head is None:
            return mean, 1.0
        return mean, F.softplus(self.variance_head(h).float()) + _MIN_VARIANCE


class AIMEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepModel):
    """Adversarial inference by matching priors and conditionals (AIM) as a transformer.

    A GAN whose generator G maps codes z ~ N(0, I) to rows, trained together
    with an encoder E that gives a Gaussian posterior q(z | x): G and E
    minimise the non-saturating GAN loss plus lambda times the negative
    log-likelihood of each code under q(z | G(z)) (the paper's eq. 9), which
    matches the priors and the conditionals of the generator and the encoder
    (Anonymous, "AIM: Adversarial inference by matching priors and
    conditionals", ICLR 2019 submission). Used like PCA or
    :class:`~skdeepgen.Autoencoder`: ``transform`` encodes (mu(x)),
    ``inverse_transform`` generates from codes, so
    ``inverse_transform(transform(X))`` reconstructs; ``sample`` draws new
    rows and :meth:`conditional_sample` draws rows like given ones.
    ``make_pipeline(AIMEncoder(10), KMeans(10))`` clusters.

    Parameters
    ----------
    n_components : int, default=10
        Dimension d of the codes z (the paper uses 32 on MNIST, 2 for plots).
    nll_weight : float or "auto", default="auto"
        lambda of eq. 9, > 0: the weight of the codes' negative
        log-likelihood in G and E's loss. "auto" is 1 / n_components, the
        paper's choice (the GAN loss is one log term, the likelihood d).
    covariance_type : {"diag", "spherical", "identity"}, default="diag"
        Covariance of q(z | x): a variance per dimension (the paper's two
        d-wide heads), one variance per row (eq. 8's sigma^2(x) I), or the
        identity (the paper's AIM-, a mean head only).
    encoder : {"shared", "separate"}, default="shared"
        "shared": E reads D's feature layers (all hidden layers of D but the
        last; the convolutions with ``image_shape``) and never updates them,
        the paper's choice. "separate": E has its own copy of those layers,
        trained with E.
    generator_layers : tuple of int or "auto", default="auto"
        Hidden layers of G (ReLU, batch normalisation). "auto": (256, 512,
        1024) for data with at least 100 features (images), (128, 128, 128)
        for fewer.
    discriminator_layers : tuple of int or "auto", default="auto"
        Hidden layers of D (leaky ReLU, slope 0.2); all but the last are its
        feature layers. "auto": (1024, 512, 256) for images, (128, 128, 128)
        for fewer features.
    encoder_layers : tuple of int or "auto", default="auto"
        Hidden layers of each of E's heads (mean and variance), on top of the
        features. "auto": (128,).
    image_shape : tuple of 3 int or None, default=None
        ``(channels, height, width)`` of flat image rows (height and width
        multiples of 4), e.g. ``(1, 28, 28)`` for MNIST: G, D and E are then
        the paper's convolutional networks (its Table 3: two 4x4 stride-2
        (transposed) convolutions with ``conv_channels`` channels, 1024-unit
        dense layers, E starting with one more 64-channel convolution on D's
        feature maps) and the ``*_layers`` parameters other than
        ``encoder_layers`` are not used.
    conv_channels : tuple of int, default=(64, 128)
        Channels of D's convolutions (G's in reverse), with ``image_shape``.
    output_activation : {"auto", "sigmoid"} or None, default="auto"
        Output of G. "auto": "sigmoid" when the training data lie in [0, 1],
        else linear, with the data standardised inside the model (mean and
        standard deviation of each feature), so that every method takes and
        returns rows on the data's own scale.
    batch_norm : bool, default=True
        Batch normalisation in G's hidden layers.
    gradient_penalty : float, default=0.0
        Weight of a zero-centred gradient penalty on D at interpolates of
        real and generated rows (not in the paper; 0 switches it off). Not
        for the convolutional D, which has batch normalisation.
    learning_rate_schedule : {"constant", "invscaling"}, default="constant"
        "invscaling": the paper's decay, learning_rate / sqrt(t) in epoch t.
    batch_size : int, default=100
        Real rows per minibatch; each step generates as many.
    max_epochs : int, default=100
        Passes over the data; there is no early stopping.
    learning_rate : float, default=2e-4
        Adam step size of all networks (the paper's).
    betas : tuple of float, default=(0.5, 0.999)
        Adam's betas (the paper's beta1 = 0.5).
    device : str or torch.device, default="auto"
        "auto", "cpu", "cuda", ...; resolved at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of the networks' forward passes.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation (weights N(0, 0.02), biases 0, as in the
        paper), minibatch order and every draw of ``fit``; an int also makes
        ``sample`` and ``conditional_sample`` repeatable.
    verbose : int, default=0
        0 silent, 1 one line per epoch.

    Attributes
    ----------
    history_ : list of dict
        One record per epoch, averaged over its steps: ``discriminator_loss``
        (eq. 7's L_D), ``generator_loss`` (G and E's total loss),
        ``generator_adversarial`` (-log D(G(z))), ``generator_encoder`` (the
        mean negative log-likelihood L(z, E(G(z))), unweighted),
        ``discriminator_penalty`` with a gradient penalty, and ``seconds``.
    n_iter_ : int
        Epochs run.
    module_ : torch.nn.Module
        ``generator``, ``d_features``, ``d_head``, the encoder's parts and
        ``scaler``.
    nll_weight_ : float
        lambda used ("auto" resolved).
    generator_layers_, discriminator_layers_, encoder_layers_ : tuple of int
        The networks' hidden layers ("auto" resolved).
    output_activation_ : str or None
        G's output activation ("auto" resolved).
    image_shape_, conv_channels_, betas_ : tuple
        The validated values of those parameters (``image_shape_`` None for MLPs).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    skdeepgen.Autoencoder : Codes learned by reconstructing x instead.
    skdeepgen.GAMNGenerator : A generator without an encoder.
    skdeepgen.metrics.mode_coverage, skdeepgen.metrics.inception_score :
        Generation metrics.

    Examples
    --------
    >>> from skdeepgen import AIMEncoder
    >>> from skdeepgen.datasets import make_grid_gaussians
    >>> X, _ = make_grid_gaussians(500, random_state=0)
    >>> aim = AIMEncoder(n_components=2, generator_layers=(32,), discriminator_layers=(32,),
    ...                  encoder_layers=(32,), max_epochs=2, random_state=0).fit(X)
    >>> aim.transform(X[:3]).shape, aim.sample(4).shape, aim.conditional_sample(X[:3], 5).shape
    ((3, 2), (4, 2), (3, 5, 2))
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepModel._parameter_constraints.items() if k not in ("tol", "n_iter_no_change")},
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "nll_weight": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "encoder": [StrOptions(set(ENCODERS))],
        "generator_layers": [tuple, list, StrOptions({"auto"})],
        "discriminator_layers": [tuple, list, StrOptions({"auto"})],
        "encoder_layers": [tuple, list, StrOptions({"auto"})],
        "image_shape": [tuple, list, None],
        "conv_channels": [tuple, list],
        "output_activation": [StrOptions({"auto", "sigmoid"}), None],
        "batch_norm": ["boolean"],
        "gradient_penalty": [Interval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [StrOptions({"constant", "invscaling"})],
        "betas": [tuple, list],
    }
    _monitor = None  # adversarial losses do not decrease monotonically

    def __init__(self, n_components=10, *, nll_weight="auto", covariance_type="diag", encoder="shared",
                 generator_layers="auto", discriminator_layers="auto", encoder_layers="auto", image_shape=None,
                 conv_channels=(64, 128), output_activation="auto", batch_norm=True, gradient_penalty=0.0,
                 learning_rate_schedule="constant", batch_size=100, max_epochs=100, learning_rate=2e-4,
                 betas=(0.5, 0.999), device="auto", precision="fp32", random_state=None, verbose=0):
        self.n_components = n_components
        self.nll_weight = nll_weight
        self.covariance_type = covariance_type
        self.encoder = encoder
        self.generator_layers = generator_layers
        self.discriminator_layers = discriminator_layers
        self.encoder_layers = encoder_layers
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        self.gradient_penalty = gradient_penalty
        self.learning_rate_schedule = learning_rate_schedule
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.betas = betas
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- checks
    def _check_params(self, X):
        self.betas_ = check_betas(self.betas)
        images = X.shape[1] >= _IMAGE_FEATURES
        self.generator_layers_ = check_layer_sizes(self.generator_layers, "generator_layers", min_length=1,
                                                   auto=(256, 512, 1024) if images else (128, 128, 128))
        self.discriminator_layers_ = check_layer_sizes(self.discriminator_layers, "discriminator_layers",
                                                       min_length=1,
                                                       auto=(1024, 512, 256) if images else (128, 128, 128))
        self.encoder_layers_ = check_layer_sizes(self.encoder_layers, "encoder_layers", auto=(128,))
        self.image_shape_ = None if self.image_shape is None else check_image_shape(self.image_shape, X.shape[1])
        self.conv_channels_ = check_layer_sizes(self.conv_channels, "conv_channels", min_length=1)
        if self.image_shape_ is not None and self.gradient_penalty > 0:
            raise ValueError(f"gradient_penalty={self.gradient_penalty} needs a discriminator without batch "
                             f"normalisation; the convolutional one (image_shape={self.image_shape!r}) has it.")
        self.output_activation_ = resolve_output_activation(self.output_activation, X)
        self.nll_weight_ = 1.0 / self.n_components if self.nll_weight == "auto" else float(self.nll_weight)

    # -------------------------------------------------------------- hooks
    def _build_module(self):
        return AIMModule(self.n_features_in_, self.n_components, tuple(self.generator_layers_),
                         tuple(self.discriminator_layers_), tuple(self.encoder_layers_), self.output_activation_,
                         self.batch_norm, self.covariance_type, self.encoder, self.image_shape_,
                         tuple(self.conv_channels_))

    def _initialize(self, ctx):
        init_weights(ctx.module, std=0.02, generator=ctx.generator)   # the paper's N(0, 0.02), biases 0
        if self.output_activation_ is None:
            ctx.module.scaler.fit_(ctx.X)  # a sigmoid output keeps the data's [0, 1] as it is

    def _configure_optimizers(self, ctx):
        module = ctx.module
        discriminator = [*module.d_features.parameters(), *module.d_head.parameters()]
        players = [module.generator, module.e_trunk, module.mean_head, module.variance_head, module.e_features]
        return {"discriminator": make_adam(discriminator, self.learning_rate, self.betas_),
                "generator": make_adam([p for m in players if m is not None for p in m.parameters()],
                                       self.learning_rate, self.betas_)}

    def _step_schedule(self):
        return [("discriminator", 1), ("generator", 1)]

    def _training_step(self, ctx, batch, step_name):
        module = ctx.module
        # Each step draws its own z. (Reusing D's fakes, graph kept, for G and E's step saves a generator
        # pass, but trained less reliably: 4 of 6 seeds against 6 of 6 on the tests' four Gaussians.)
        z = ctx.randn(batch.shape[0], self.n_components)
        if step_name == "discriminator":
            x_r = module.scaler(batch)
            with torch.no_grad():
                x_f = module.generator(z)
            loss = discriminator_loss(module.discriminate(x_r)[0], module.discriminate(x_f)[0], "sgan")
            if self.gradient_penalty == 0:
                return {"loss": loss}
            penalty = gradient_penalty(lambda u: module.discriminate(u)[0], x_r, x_f, generator=ctx.generator,
                                       center=0.0)
            return {"loss": loss + self.gradient_penalty * penalty, "adversarial": loss, "penalty": penalty}
        with frozen(module.d_features, module.d_head):
            # D's parameters take no gradient here: the encoder's loss flows through its features to G only.
            x_f = module.generator(z)
            fake, features = module.discriminate(x_f)
            mean, variance = module.encode(x_f, features)
        adversarial = generator_loss(None, fake, "sgan")
        nll = gaussian_nll(z.float(), mean, variance).mean()
        return {"loss": adversarial + self.nll_weight_ * nll, "adversarial": adversarial, "encoder": nll}

    def _on_epoch_end(self, ctx, record):
        if self.learning_rate_schedule == "invscaling":
            # Epoch t (from 1) runs at learning_rate / sqrt(t).
            for optimizer in ctx.optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] = self.learning_rate / math.sqrt(ctx.epoch + 1)
        return False

    # ----------------------------------------------------------- public API
    @property
    def _n_features_out(self):
        return self.n_components

    def transform(self, X):
        """Encode X: the posterior means mu(x) of q(z | x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes, in the prior's N(0, I) space; in X's float dtype.
        """
        return self._inference(lambda m, b: m.encode(m.scaler(b))[0], X)

    def inverse_transform(self, X):
        """Generate rows from codes: G(z).

        ``inverse_transform(transform(X))`` is the paper's reconstruction
        (Algorithm 2).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, for example from :meth:`transform`.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features_in_)
            Rows on the training data's scale.
        """
        Z, dtype = _check_codes(self, X, "inverse_transform")
        return self._forward_array(lambda m, b: m.scaler.inverse(m.generator(b).float()), Z, out_dtype=dtype)

    def sample(self, n_samples=1):
        """Generate rows G(z), z ~ N(0, I).

        As in :meth:`sklearn.neighbors.KernelDensity.sample`, only the rows
        are returned; the draws come from ``random_state``, so an integer
        seed gives the same samples at every call.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            Generated rows, on the scale of the training data.
        """
        n_samples = self._check_sample_request(n_samples)
        codes = check_random_state(self.random_state).standard_normal((n_samples, self.n_components))
        return self.inverse_transform(codes.astype(np.float32))

    def conditional_sample(self, X, n_samples=10):
        """Generate rows like each row of X: G(z) with z ~ q(z | x) (Algorithm 2).

        The paper's unsupervised conditional generation: codes drawn from
        the encoder's posterior of a row decode to variations of it (with
        ``covariance_type="identity"`` the posterior's spread is the prior's,
        so the variations are wide). The draws come from ``random_state``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows to condition on.
        n_samples : int, default=10
            Rows generated per row of X.

        Returns
        -------
        X_new : ndarray of shape (n_rows, n_samples, n_features_in_)
            ``X_new[i]`` are the rows generated from ``X[i]``'s posterior,
            on the training data's scale, in X's float dtype.
        """
        n_samples = self._check_sample_request(n_samples)
        X, dtype = self._validate_X(X, reset=False)
        mean, std = self._forward_array(lambda m, b: _posterior(m, m.scaler(b)), X)
        noise = check_random_state(self.random_state).standard_normal((X.shape[0], n_samples, self.n_components))
        codes = (mean[:, None, :] + std[:, None, :] * noise).reshape(-1, self.n_components)
        rows = self.inverse_transform(codes.astype(np.float32)).astype(dtype, copy=False)
        return rows.reshape(X.shape[0], n_samples, -1)

    def score(self, X, y=None):
        """Minus the mean squared reconstruction error (higher is better).

        The reconstruction of x is G(mu(x)) (:meth:`inverse_transform` of
        :meth:`transform`); the squared error is averaged over rows and
        features, on the data's own scale. Deterministic.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            At most 0.
        """
        def squared_error(module, batch):
            reconstruction = module.scaler.inverse(module.generator(module.encode(module.scaler(batch))[0]).float())
            return ((reconstruction - batch) ** 2).mean(dim=1)

        return -float(np.mean(self._inference(squared_error, X), dtype=np.float64))


def _posterior(module, x):
    """(mean, standard deviation) of q(z | x), the deviation broadcast to the codes' shape."""
    mean, variance = module.encode(x)
    std = torch.as_tensor(variance, dtype=mean.dtype, device=mean.device).sqrt().expand_as(mean)
    return mean, std
