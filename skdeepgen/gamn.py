"""Generative adversarial mapping networks (GAMN), with GMMN as the mapper-free case.

The algorithm, as the model's hooks run it (the paper's Algorithm 1):

1. a generator G maps z from a simple prior (uniform on [-1, 1]^d or
   N(0, I)) to a row x = G(z); batch normalisation in G's hidden layers;
2. a mapper F (layer normalisation in its hidden layers) maps rows to a
   low-dimensional feature space R;
3. ``n_mapper`` times per minibatch, F takes an Adam step to *maximise*
   L_MMD(F(X), F(G(Z))) (eq. 4, the square root of the biased MMD^2 with a
   mixture of Gaussian kernels) minus ``regularization_strength`` times a
   regulariser that bounds it (eqs. 7-9): the gradient penalty on the sum of
   F's outputs at random interpolates of real and generated rows ("gp"),
   the L1 or L2 norm of the parameters of F's normalisation layers ("l1",
   "l2"), or the L2 norm of all of F's parameters ("l2_all");
4. ``n_generator`` times, G takes an Adam step to minimise the same
   L_MMD(F(X), F(G(Z))), plus ``data_mmd_weight`` times the data-space
   L_MMD(X, G(Z)) (the paper's recommendation with the gradient penalty).

With ``mapper_dim=None`` there is no F and G minimises L_MMD(X, G(Z))
directly: the generative moment-matching network (GMMN) of Li, Swersky and
Zemel (2015), the paper's baseline.

The paper writes the mapper's objective as ``max_F MMD + lambda Reg``; a
regulariser that bounds F must be subtracted from what F maximises, which
is what this file does.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from torch import nn

from ._training import check_betas, make_adam
from .adversarial import frozen, gradient_penalty
from .base import BaseDeepModel
from .kernels import check_bandwidths, mmd2
from .networks import (
    Standardize,
    check_image_shape,
    check_layer_sizes,
    make_conv_decoder,
    make_conv_features,
    make_mlp,
    resolve_output_activation,
)

__all__ = ["GAMNGenerator", "REGULARIZATIONS", "PRIORS", "mmd"]

#: Regularisers of the mapper: the paper's eqs. 7, 8, 9 and its "classical L2".
REGULARIZATIONS = ("gp", "l1", "l2", "l2_all")
#: Priors of the generator's input.
PRIORS = ("uniform", "normal")
#: Regularisation strength of "auto": Gulrajani et al.'s 10 for the gradient
#: penalty; for the norm-layer penalties a value that keeps them a small part
#: of the mapper's loss (the paper gives none).
_AUTO_STRENGTH = {"gp": 10.0, "l1": 1e-3, "l2": 1e-3, "l2_all": 1e-4}
# From this many features "auto" networks are the paper's 512-unit ones (images).
_IMAGE_FEATURES = 100
# Width of the dense hidden layer of the convolutional networks (as in MMGAN and AMM).
_CONV_HIDDEN = 512
# Floor under MMD^2 before the square root: its gradient is infinite at 0.
_MMD2_FLOOR = 1e-12


def mmd(x, y, bandwidths):
    """The paper's L_MMD (eq. 4): the square root of the biased MMD^2.

    Parameters
    ----------
    x, y : torch.Tensor of shape (n, d) and (m, d)
        The two samples (computed in float32).
    bandwidths : "median" or tuple of float
        Variances of the Gaussian kernels summed (see :func:`skdeepgen.kernels.mmd2`).

    Returns
    -------
    mmd : torch.Tensor of shape ()
        Differentiable; MMD^2 is floored at 1e-12 first, where the square
        root's gradient would be infinite.
    """
    return mmd2(x.float(), y.float(), kernel="gaussian", bandwidths=bandwidths).clamp_min(_MMD2_FLOOR).sqrt()


class GAMNModule(nn.Module):
    """Generator, optional mapper and the data standardisation."""

    def __init__(self, n_features, latent_dim, mapper_dim, generator_layers, mapper_layers, output_activation,
                 batch_norm, image_shape=None, conv_channels=None):
        super().__init__()
        self.scaler = Standardize(n_features)
        self.mapper = None
        if image_shape is None:
            self.generator = make_mlp((latent_dim, *generator_layers, n_features), activation="relu",
                                      batch_norm=batch_norm, output_activation=output_activation)
            if mapper_dim is not None:
                self.mapper = make_mlp((n_features, *mapper_layers, mapper_dim), activation="relu", layer_norm=True)
            return
        # DCGAN-type networks, the paper's choice for images: a transposed-convolutional G and, for F,
        # stride-2 convolutions then a layer-normalised dense layer (where "l1"/"l2" find their parameters).
        self.generator = make_conv_decoder(latent_dim, image_shape, tuple(reversed(conv_channels)), _CONV_HIDDEN,
                                           batch_norm, output_activation)
        if mapper_dim is not None:
            features, width = make_conv_features(image_shape, conv_channels, "leaky_relu")
            self.mapper = nn.Sequential(features, make_mlp((width, _CONV_HIDDEN, mapper_dim),
                                                           activation="leaky_relu", layer_norm=True))

    def norm_parameters(self):
        """Parameters of the mapper's normalisation layers (eqs. 8-9)."""
        return [p for m in self.mapper.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()]


class GAMNGenerator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepModel):
    """Generative adversarial mapping network (GAMN); GMMN with ``mapper_dim=None``.

    A generator trained to minimise the maximum mean discrepancy (MMD)
    between real and generated rows as seen through a mapper F, which is
    trained at the same time to maximise it (Guo et al., "Generative
    adversarial mapping networks"). Without the mapper it is GMMN.

    Parameters
    ----------
    latent_dim : int, default=10
        Dimension of the generator's input z.
    prior : {"uniform", "normal"}, default="uniform"
        Distribution of z: uniform on [-1, 1]^d (GMMN's choice) or N(0, I).
    mapper_dim : int or None, default=10
        Dimension of the mapper's feature space R (the paper's 10); None
        removes the mapper, which makes the model GMMN.
    regularization : {"gp", "l1", "l2", "l2_all"}, default="gp"
        Regulariser of the mapper's objective: the gradient penalty (eq. 7,
        target gradient norm 1 for the sum of F's outputs), the L1 or squared
        L2 norm of the parameters of F's layer-normalisation layers (eqs.
        9 and 8), or the squared L2 norm of all of F's parameters (the
        paper's "classical L2").
    regularization_strength : float or "auto", default="auto"
        lambda, >= 0. "auto": 10 for "gp" (Gulrajani et al.), 1e-3 for "l1"
        and "l2", 1e-4 for "l2_all".
    data_mmd_weight : float or "auto", default="auto"
        Weight of the data-space L_MMD(X, G(Z)) added to the generator's loss.
        "auto": 1 with the gradient penalty (the paper recommends the term
        there), 0 otherwise. Ignored without a mapper (then it is the loss).
    bandwidths : "median" or tuple of float, default="median"
        Variances sigma^2 of the Gaussian kernels whose sum is the MMD kernel
        (in the mapper's space, and in the standardised data space for the
        data-space term and GMMN). "median": recomputed at every step as the
        median squared distance of the pooled batch times (0.25, 0.5, 1, 2,
        4), which follows the mapper's scale as it changes. Those kernels
        are about as wide as the data, so they cannot see modes much
        narrower than its spread: for such data pass small variances too
        (the toy benchmarks' (0.0002, 0.001, 0.004, 0.016, 0.064, 0.25, 1),
        on the standardised scale, with Adam 1e-3 and no batch
        normalisation, lift GMMN's share of samples within 3 std of a mode
        on the 8-Gaussian ring from about 1% to 12-14% in 1,000 steps and
        about 65% in 5,000).
    image_shape : tuple of 3 int or None, default=None
        ``(channels, height, width)`` of image rows (flat, in that order, as
        MNIST's 784 pixels are for ``(1, 28, 28)``). G is then a
        transposed-convolutional network and F a convolutional one, the
        paper's DCGAN-type architecture for images: G is ``Linear(512) ->
        Linear -> ConvTranspose`` layers
        (:func:`skdeepgen.networks.make_conv_decoder`, batch normalisation
        with ``batch_norm``), F is stride-2 ``Conv(4x4)`` layers with leaky
        ReLU (:func:`skdeepgen.networks.make_conv_features`), then
        ``Linear(512) -> LayerNorm -> leaky ReLU -> Linear(mapper_dim)``;
        ``generator_layers`` and ``mapper_layers`` are ignored. Height and
        width must be multiples of 4.
    conv_channels : tuple of int, default=(32, 64)
        Channels of F's stride-2 convolutions (G mirrors them), with
        ``image_shape``.
    generator_layers : tuple of int or "auto", default="auto"
        Hidden layers of G (ReLU, batch normalisation). "auto": (512, 512,
        512), with the output layer the paper's 4-layer 512-unit MLP, for
        data with at least 100 features (images); (128, 128, 128) for fewer
        features, where the 512-unit networks cost about 4x the time per step
        on a CPU (the toy benchmarks use this).
    mapper_layers : tuple of int or "auto", default="auto"
        Hidden layers of F (ReLU, layer normalisation); "auto" as for G.
    output_activation : {"auto", "sigmoid"} or None, default="auto"
        Output of G. "auto": "sigmoid" when the training data lie in [0, 1],
        else linear, with the data standardised inside the model (mean and
        standard deviation of each feature in ``fit``), so that ``sample``
        returns rows on the data's own scale.
    batch_norm : bool, default=True
        Batch normalisation in G's hidden layers.
    n_mapper : int, default=5
        Mapper steps per minibatch (Algorithm 1's n_mapper), each with fresh
        z on the minibatch's real rows.
    n_generator : int, default=1
        Generator steps per minibatch (n_generator).
    batch_size : int, default=256
        Real rows per minibatch; each step generates as many.
    max_epochs : int, default=100
        Passes over the data; there is no early stopping.
    learning_rate : float, default=1e-4
        Adam step size of both networks.
    betas : tuple of float, default=(0.5, 0.9)
        Adam's betas (those of Gulrajani et al.'s toy setup).
    device : str or torch.device, default="auto"
        "auto", "cpu", "cuda", ...; resolved at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of the networks' forward passes (MMDs are computed in fp32).
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, minibatch order and every draw of ``fit``;
        an int also makes ``sample`` and ``score`` repeatable.
    verbose : int, default=0
        0 silent, 1 one line per epoch.

    Attributes
    ----------
    history_ : list of dict
        One record per epoch, each averaged over the epoch's steps. With a
        mapper: ``mapper_loss`` (what F minimises: -L_MMD + lambda Reg),
        ``mapper_mmd``, ``mapper_regularization`` (Reg, unweighted),
        ``generator_loss``, ``generator_mmd`` (L_MMD in the mapper's space)
        and, with a data-space term, ``generator_data_mmd``. Without a mapper
        (GMMN): ``loss`` (= ``mmd``, the data-space L_MMD). And ``seconds``.
    n_iter_ : int
        Epochs run.
    module_ : torch.nn.Module
        ``generator``, ``mapper`` (None for GMMN) and ``scaler``.
    output_activation_ : str or None
        G's output activation ("auto" resolved).
    generator_layers_, mapper_layers_ : tuple of int
        The networks' hidden layers ("auto" resolved; unused with ``image_shape``).
    image_shape_ : tuple of 3 int or None
        The validated ``image_shape``.
    conv_channels_ : tuple of int
        The validated ``conv_channels``.
    regularization_strength_, data_mmd_weight_ : float
        The values used ("auto" resolved).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    skdeepgen.kernels.mmd2 : The squared MMD.
    skdeepgen.metrics.mode_coverage, skdeepgen.metrics.inception_score :
        Generation metrics.

    Examples
    --------
    >>> from skdeepgen import GAMNGenerator
    >>> from skdeepgen.datasets import make_ring_gaussians
    >>> X, _ = make_ring_gaussians(256, random_state=0)
    >>> gamn = GAMNGenerator(generator_layers=(32,), mapper_layers=(32,), max_epochs=2,
    ...                      random_state=0).fit(X)
    >>> gamn.sample(5).shape, gamn.transform(X[:3]).shape
    ((5, 2), (3, 10))
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepModel._parameter_constraints.items() if k not in ("tol", "n_iter_no_change")},
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "mapper_dim": [Interval(Integral, 1, None, closed="left"), None],
        "regularization": [StrOptions(set(REGULARIZATIONS))],
        "regularization_strength": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "data_mmd_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "bandwidths": [StrOptions({"median"}), tuple, list],
        "image_shape": [tuple, list, None],
        "conv_channels": [tuple, list],
        "generator_layers": [tuple, list, StrOptions({"auto"})],
        "mapper_layers": [tuple, list, StrOptions({"auto"})],
        "output_activation": [StrOptions({"auto", "sigmoid"}), None],
        "batch_norm": ["boolean"],
        "n_mapper": [Interval(Integral, 1, None, closed="left")],
        "n_generator": [Interval(Integral, 1, None, closed="left")],
        "betas": [tuple, list],
    }
    _monitor = None  # adversarial losses do not decrease monotonically

    def __init__(self, latent_dim=10, *, prior="uniform", mapper_dim=10, regularization="gp",
                 regularization_strength="auto", data_mmd_weight="auto", bandwidths="median",
                 image_shape=None, conv_channels=(32, 64), generator_layers="auto", mapper_layers="auto",
                 output_activation="auto", batch_norm=True, n_mapper=5, n_generator=1, batch_size=256,
                 max_epochs=100, learning_rate=1e-4,
                 betas=(0.5, 0.9), device="auto", precision="fp32", random_state=None, verbose=0):
        self.latent_dim = latent_dim
        self.prior = prior
        self.mapper_dim = mapper_dim
        self.regularization = regularization
        self.regularization_strength = regularization_strength
        self.data_mmd_weight = data_mmd_weight
        self.bandwidths = bandwidths
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.generator_layers = generator_layers
        self.mapper_layers = mapper_layers
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        self.n_mapper = n_mapper
        self.n_generator = n_generator
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
        self.bandwidths_ = check_bandwidths(self.bandwidths, "bandwidths")
        self.image_shape_ = None if self.image_shape is None else check_image_shape(self.image_shape, X.shape[1])
        self.conv_channels_ = check_layer_sizes(self.conv_channels, "conv_channels", min_length=1)
        auto = (512, 512, 512) if X.shape[1] >= _IMAGE_FEATURES else (128, 128, 128)
        self.generator_layers_ = check_layer_sizes(self.generator_layers, "generator_layers", auto=auto)
        self.mapper_layers_ = check_layer_sizes(self.mapper_layers, "mapper_layers", auto=auto)
        self.output_activation_ = resolve_output_activation(self.output_activation, X)
        self.regularization_strength_ = float(_AUTO_STRENGTH[self.regularization]
                                              if self.regularization_strength == "auto"
                                              else self.regularization_strength)
        if self.data_mmd_weight == "auto":
            self.data_mmd_weight_ = 1.0 if self.regularization == "gp" and self.mapper_dim is not None else 0.0
        else:
            self.data_mmd_weight_ = float(self.data_mmd_weight)
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 (an MMD compares samples); got "
                             f"batch_size={self.batch_size}.")

    # -------------------------------------------------------------- hooks
    def _build_module(self):
        return GAMNModule(self.n_features_in_, self.latent_dim, self.mapper_dim, tuple(self.generator_layers_),
                          tuple(self.mapper_layers_), self.output_activation_, self.batch_norm,
                          self.image_shape_, self.conv_channels_)

    def _initialize(self, ctx):
        if self.output_activation_ is None:
            ctx.module.scaler.fit_(ctx.X)  # a sigmoid output keeps the data's [0, 1] as it is

    def _configure_optimizers(self, ctx):
        module = ctx.module
        optimizers = {"generator": make_adam(module.generator.parameters(), self.learning_rate, self.betas_)}
        if module.mapper is not None:
            optimizers["mapper"] = make_adam(module.mapper.parameters(), self.learning_rate, self.betas_)
        return optimizers

    def _step_schedule(self):
        if self.mapper_dim is None:
            return [("generator", self.n_generator)]
        return [("mapper", self.n_mapper), ("generator", self.n_generator)]

    def _prior(self, n, draw):
        """n codes from the prior; ``draw(shape, kind)`` supplies uniform [0, 1) or standard normal values."""
        if self.prior == "uniform":
            return 2.0 * draw((n, self.latent_dim), "uniform") - 1.0
        return draw((n, self.latent_dim), "normal")

    def _regularizer(self, ctx, x_r, x_f):
        mapper = ctx.module.mapper
        if self.regularization == "gp":
            return gradient_penalty(mapper, x_r, x_f, generator=ctx.generator, center=1.0)
        if self.regularization == "l1":
            return sum(p.abs().sum() for p in ctx.module.norm_parameters())
        params = ctx.module.norm_parameters() if self.regularization == "l2" else list(mapper.parameters())
        return sum(p.pow(2).sum() for p in params)

    def _training_step(self, ctx, batch, step_name):
        module = ctx.module
        x_r = module.scaler(batch)
        z = self._prior(batch.shape[0], lambda shape, kind: ctx.rand(*shape) if kind == "uniform"
                        else ctx.randn(*shape))
        bandwidths = self.bandwidths_
        if module.mapper is None:  # GMMN
            loss = mmd(x_r, module.generator(z), bandwidths)
            return {"loss": loss, "mmd": loss}
        if step_name == "mapper":
            with torch.no_grad():
                x_f = module.generator(z)
            distance = mmd(module.mapper(x_r), module.mapper(x_f), bandwidths)
            penalty = self._regularizer(ctx, x_r, x_f)
            return {"loss": -distance + self.regularization_strength_ * penalty, "mmd": distance,
                    "regularization": penalty}
        with frozen(module.mapper):
            x_f = module.generator(z)
            distance = mmd(module.mapper(x_r), module.mapper(x_f), bandwidths)
        if self.data_mmd_weight_ == 0:
            return {"loss": distance, "mmd": distance}
        data = mmd(x_r, x_f, bandwidths)
        return {"loss": distance + self.data_mmd_weight_ * data, "mmd": distance, "data_mmd": data}

    # ----------------------------------------------------------- public API
    @property
    def _n_features_out(self):
        return self.mapper_dim

    def transform(self, X):
        """The mapper's features F(x), a learned representation (GAMN only).

        F is trained to separate real from generated rows through the MMD,
        so its features emphasise what distinguishes the data's structure;
        they are not trained to preserve information about x. Not available
        with ``mapper_dim=None`` (GMMN has no mapper).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        F : ndarray of shape (n_samples, mapper_dim)
            The mapper's features of the (internally standardised) rows.
        """
        return self._inference(lambda m, b: m.mapper(m.scaler(b)), X)

    def _draw(self, n_samples, rng):
        def draw(shape, kind):
            values = rng.uniform(size=shape) if kind == "uniform" else rng.standard_normal(shape)
            return values.astype(np.float32)

        return self._prior(n_samples, draw)

    def sample(self, n_samples=1):
        """Generate rows G(z), z from the prior.

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
        codes = self._draw(n_samples, check_random_state(self.random_state))
        return self._forward_array(lambda m, b: m.scaler.inverse(m.generator(b).float()), codes)

    def score(self, X, y=None):
        """Minus the squared MMD between X and as many generated rows (higher is better).

        The biased estimate of MMD^2 (:func:`skdeepgen.kernels.mmd2`) between
        the rows of X and ``len(X)`` rows of :meth:`sample`, both in the
        model's standardised space, with a Gaussian kernel whose five
        bandwidths are the median squared distance of X times (0.25, 0.5, 1,
        2, 4): a data-space measure, the same for GAMN and GMMN, so a search
        can compare them. The draws come from ``random_state`` (0 when it is
        None), so the score of a model on the same X is repeatable. The cost
        is quadratic in the number of rows (kernel tiles of 1024 x 1024 keep
        the memory small).

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
        return self._mmd_score(X, lambda n, rng: self._forward_array(lambda m, b: m.generator(b),
                                                                     self._draw(n, rng)))


def _has_mapper(estimator):
    return estimator.mapper_dim is not None


# Applied after the class exists: scikit-learn's set_output wrapping of
# ``transform`` at class creation would drop an availability check made there.
GAMNGenerator.transform = available_if(_has_mapper)(GAMNGenerator.transform)
GAMNGenerator.fit_transform = available_if(_has_mapper)(TransformerMixin.fit_transform)
