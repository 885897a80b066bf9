"""Joint Generative Moment-Matching Network clustering (JGMMN).

The algorithm, as the model's hooks run it:

1. pretrain the inference network h as the encoder of an autoencoder (the
   project's :class:`~skdeepgen.Autoencoder`, or reuse a fitted one), centre
   and rescale its codes to the spread of the prior U[-1, 1]^d;
2. K-means on the codes gives the initial modality assignment q, and the
   softmax layer p = softmax(W h(x) + b) (eq. 17) starts as the nearest-centre
   posterior of those K-means centres;
3. each minibatch: draw z ~ U[-1, 1]^d, generate g(z), and take a gradient
   step on all three networks for

       J1 + regularization * J2,
       J1 = JMMD((x, h(x)), (g(z), z))   (eq. 15, product kernel k_x * k_z),
       J2 = KL(q || p)                   (eq. 16);

4. every ``update_interval`` minibatches, with the networks and p fixed,
   refine q on the whole data as a frequency-corrected sharpening of p (DEC's
   q_ij proportional to p_ij^2 / f_j or DEPICT's p_ij / sqrt(f_j)); stop once
   fewer than ``tol`` of the labels argmax p changed since the previous
   refinement.

With ``regularization=0`` (the paper's JGMMN-NR ablation) only J1 is trained
and the clusters are K-means on the final codes.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from ._pretrain import pretrain_autoencoder, pretraining_recipe, resolve_pretrained
from .autoencoder import _ACTIVATIONS
from .base import _SCORE_BLOCK, BaseDeepClusterer, BaseDeepModel
from .dec import LabelChangeStopping, target_distribution
from .kernels import KERNELS, MEDIAN_MULTIPLIERS, check_bandwidths, joint_mmd2
from .networks import check_layer_sizes, make_mlp, resolve_output_activation

__all__ = ["JGMMNClustering", "refine_assignment"]

#: The paper's kernel bandwidths (section 5.1), variances of Gaussian components.
PAPER_BANDWIDTHS = (2.0, 5.0, 10.0, 20.0, 40.0, 80.0)
TARGETS = ("dec", "depict")
# Standard deviation of U[-1, 1]: the pretrained codes are rescaled to it.
_PRIOR_STD = 1.0 / np.sqrt(3.0)


def refine_assignment(p, target="dec"):
    """The refined modality assignment q computed from p (networks fixed).

    Minimising KL(q || p) over q alone returns q = p, which teaches the
    networks nothing; both rules instead sharpen p and divide by the soft
    cluster frequency f_j = sum_i p_ij, so that large clusters do not absorb
    small ones.

    Parameters
    ----------
    p : torch.Tensor of shape (n_samples, n_clusters)
        Soft assignments, rows summing to 1.
    target : {"dec", "depict"}, default="dec"
        ``"dec"``: q_ij proportional to p_ij^2 / f_j (Xie et al. 2016);
        ``"depict"``: q_ij proportional to p_ij / sqrt(f_j) (Ghasedi Dizaji
        et al. 2017), a gentler correction that does not sharpen.

    Returns
    -------
    q : torch.Tensor of shape (n_samples, n_clusters)
        Rows sum to 1.
    """
    if target == "dec":
        return target_distribution(p)
    if target == "depict":
        weight = p / p.sum(dim=0).sqrt()
        return weight / weight.sum(dim=1, keepdim=True)
    raise ValueError(f"target must be one of {TARGETS}; got target={target!r}.")


def _auto_layers(n_features):
    """The paper's Table 3 networks, chosen by the data width (inference, generation)."""
    if n_features >= 500:   # MNIST-sized images
        return (500, 500, 2000), (64, 256, 256)
    if n_features >= 16:    # USPS-sized images and smaller
        return (100, 100, 500), (64, 256, 256)
    return (100, 100), (100, 100)  # the synthetic 2-D mixtures (section 5.1)


def _prior_bandwidths(kernel, n_components):
    """bandwidths_z="auto": multiples of the prior's mean squared distance 2d/3."""
    base = 2.0 * n_components / 3.0
    if kernel == "laplacian":
        base = float(np.sqrt(base))
    return tuple(base * m for m in MEDIAN_MULTIPLIERS)


class JGMMNModule(nn.Module):
    """Inference network h, generation network g and the softmax layer W."""

    def __init__(self, n_features, n_components, n_clusters, inference_layers, generator_layers, activation,
                 output_activation, batch_norm=False, dropout=0.0):
        super().__init__()
        # Built exactly as an Autoencoder's encoder, so pretrained weights load into it.
        self.inference = make_mlp((n_features, *inference_layers, n_components), activation=activation,
                                  batch_norm=batch_norm, dropout=dropout)
        self.generator = make_mlp((n_components, *generator_layers, n_features), activation=activation,
                                  output_activation=output_activation)
        self.modes = nn.Linear(n_components, n_clusters)

    def mode_logits(self, z):
        return self.modes(z).float()


class JGMMNClustering(LabelChangeStopping, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepClusterer):
    """Joint Generative Moment-Matching Network clustering (Ren et al.).

    A generation network g maps a uniform prior z ~ U[-1, 1]^d to data and an
    inference network h maps data to codes; both are trained to match the two
    joint distributions of ``(x, h(x))`` and ``(g(z), z)`` under the joint
    maximum mean discrepancy J1, while the multi-modal regulariser J2 =
    KL(q || p) makes the codes cluster: p = softmax(W h(x) + b) is the
    modality of each code and q a target refined from p every
    ``update_interval`` minibatches, starting from K-means on the codes of a
    pretrained inference network. ``predict`` is argmax p.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of modalities (clusters) c.
    n_components : int, default=10
        Dimension d of the latent code and of the prior U[-1, 1]^d.
    inference_layers : tuple of int or "auto", default="auto"
        Hidden layers of the inference network h. "auto" takes the paper's
        Table 3 by data width: (500, 500, 2000) from 500 features (MNIST),
        (100, 100, 500) from 16 (USPS), and (100, 100) below (the synthetic
        2-D data of section 5.1).
    generator_layers : tuple of int or "auto", default="auto"
        Hidden layers of the generation network g; "auto" is (64, 256, 256)
        from 16 features and (100, 100) below.
    activation : str, default="relu"
        Hidden activation of both networks.
    output_activation : str, None or "auto", default="auto"
        Output activation of g. "auto" is "sigmoid" (the paper's) when the
        training data lie in [0, 1] and linear (None) otherwise.
    kernel : {"gaussian", "laplacian", "imq"}, default="gaussian"
        Kernel of both blocks of the product kernel k_x * k_z, each a sum of
        components, one per bandwidth (:mod:`skdeepgen.kernels`).
    bandwidths_x : tuple of float or "median", default=(2, 5, 10, 20, 40, 80)
        Bandwidths of the data kernel k_x. For the Gaussian kernel each value
        is a **variance** sigma^2 in exp(-||a - b||^2 / (2 sigma^2)), the
        convention of the GMMN code that the paper's bandwidths (the default)
        come from; they suit data scaled to [0, 1], where MNIST's squared
        distances are around 100. "median" sets them from each minibatch's
        median squared distance.
    bandwidths_z : tuple of float, "auto" or "median", default="auto"
        Bandwidths of the code kernel k_z, in the same convention. Codes live
        in [-1, 1]^d, where the mean squared distance between two prior draws
        is 2d/3 (6.7 for d = 10), so the data's bandwidths would make k_z
        nearly flat. "auto" fixes them from that known scale: 2d/3 times
        (0.25, 0.5, 1, 2, 4) for the Gaussian and IMQ kernels (variances),
        and the square root of 2d/3 times the same for the Laplacian
        (distances). "median" instead follows each minibatch's median squared
        distance (see :mod:`skdeepgen.kernels`), at some cost per step.
    regularization : float, default=1.0
        Weight of J2 in J1 + regularization * J2 (the paper's objective has
        1). 0 is the paper's JGMMN-NR ablation: only the JMMD is trained, and
        the clusters are then K-means on the final codes (the softmax layer
        is set to that K-means' nearest-centre posterior, so ``predict`` is
        the nearest centre).
    target : {"dec", "depict"}, default="dec"
        How q is refined from p (see :func:`refine_assignment`).
    init_temperature : float, default=2.0
        The softmax layer starts as the posterior of an isotropic Gaussian
        mixture at the K-means centres, softmax(-||h - mu_j||^2 / (2 T s^2)),
        with s^2 the pooled within-cluster variance and T this temperature.
        T = 1 is K-means' own spread; a larger T starts p softer, which
        leaves the frequency-corrected refinement of q room to move
        borderline points. On USPS (seed 0, ``docs/benchmarks.md``) T = 1, 2,
        4 and 10 gave ACC 0.767, 0.784, 0.782 and 0.764.
    update_interval : int or "epoch", default="epoch"
        Minibatches between two refinements of q; "epoch" refines at the
        start of every epoch. Each refinement runs h over all of X (on MNIST
        about as long as 15 training minibatches).
    tol : float, default=1e-3
        Training stops when, at a refinement, fewer than this fraction of the
        labels changed since the previous one.
    n_init : int, default=20
        K-means restarts of the initial assignment.
    pretrained : None, str, path-like, fitted Autoencoder or FrozenEstimator, default=None
        Reuse a pretrained autoencoder's encoder as the initial inference
        network, as :class:`~skdeepgen.DECClustering` does (the caller's
        model is not modified). Its ``n_components``, ``encoder_layers`` and
        ``activation`` then replace ``n_components``, ``inference_layers`` and
        ``activation``.
    pretrain_epochs : int, default=200
        Autoencoder epochs when ``pretrained`` is None.
    pretrain_optimizer : {"auto", "sgd", "adam"}, default="auto"
        As in :class:`~skdeepgen.DECClustering`: SGD (momentum 0.9) at 1.0 for
        image-like data, Adam at 1e-3 otherwise.
    pretrain_learning_rate : float or "auto", default="auto"
        Step size of the pretraining.
    batch_size : int, default=500
        Minibatch size n, and the number m of prior draws per minibatch (the
        paper's 500).
    max_epochs : int, default=50
        Maximum epochs of the joint training.
    learning_rate : float, default=1e-4
        Adam step size of the joint training.
    device : str or torch.device, default="auto"
        "auto", "cpu", "cuda", ...; resolved at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of the networks' forward passes; the kernels and the JMMD
        are always computed in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds pretraining, K-means, minibatch order and prior draws; an int
        also makes ``sample`` and ``score`` repeatable.
    verbose : int, default=0
        0 silent, 1 one line per epoch (pretraining included).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), dtype int64
        argmax p of the training data.
    history_ : list of dict
        One record per epoch: ``loss``, ``j1`` (JMMD), ``j2`` (KL(q || p),
        absent when ``regularization=0``), ``label_change`` at the last
        refinement, ``seconds``.
    n_iter_ : int
        Epochs of joint training run.
    module_ : torch.nn.Module
        ``inference`` (h), ``generator`` (g) and ``modes`` (the softmax
        layer W, b).
    inference_params_ : dict
        Architecture of h: ``n_components``, ``encoder_layers``,
        ``activation``, ``batch_norm``, ``dropout``.
    generator_layers_ : tuple of int
        Hidden layers of g ("auto" resolved).
    output_activation_ : str or None
        Output activation of g ("auto" resolved).
    pretrain_optimizer_, pretrain_learning_rate_ : str, float
        The pretraining recipe ("auto" resolved).
    pretrain_history_ : list of dict
        The pretraining's per-epoch history (empty when ``pretrained`` was given).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    DECClustering : The same pretraining and target refinement, without a
        generative model.
    skdeepgen.kernels.joint_mmd2 : The JMMD.

    Notes
    -----
    The paper gives W no bias; this softmax layer has one, which is what lets
    it start as the K-means posterior softmax(-||z - mu_j||^2 / (2 s^2))
    (s^2 the pooled within-cluster variance), so the K-means initialisation
    of q and p agree from the first step.

    Examples
    --------
    >>> from skdeepgen import JGMMNClustering
    >>> from skdeepgen.datasets import make_jgmmn_gaussians
    >>> X, y = make_jgmmn_gaussians(400, n_components=4, random_state=0)
    >>> model = JGMMNClustering(4, n_components=2, pretrain_epochs=20, max_epochs=2,
    ...                         random_state=0).fit(X)
    >>> model.predict_proba(X[:2]).shape
    (2, 4)
    >>> X_new, y_new = model.sample(5)
    >>> X_new.shape, y_new.shape
    ((5, 2), (5,))
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepModel._parameter_constraints.items() if k not in ("tol", "n_iter_no_change")},
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "inference_layers": [tuple, list, StrOptions({"auto"})],
        "generator_layers": [tuple, list, StrOptions({"auto"})],
        "activation": [StrOptions(_ACTIVATIONS)],
        "output_activation": [StrOptions(_ACTIVATIONS | {"auto"}), None],
        "kernel": [StrOptions(set(KERNELS))],
        "bandwidths_x": "no_validation",  # check_bandwidths in _check_params
        "bandwidths_z": "no_validation",
        "regularization": [Interval(Real, 0, None, closed="left")],
        "target": [StrOptions(set(TARGETS))],
        "init_temperature": [Interval(Real, 0, None, closed="neither")],
        "update_interval": [Interval(Integral, 1, None, closed="left"), StrOptions({"epoch"})],
        "tol": [Interval(Real, 0, 1, closed="both")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "pretrained": "no_validation",  # several accepted kinds, see resolve_pretrained
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left")],
        "pretrain_optimizer": [StrOptions({"auto", "sgd", "adam"})],
        "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }
    _monitor = None  # stopping is the label-change rule

    def __init__(self, n_clusters=10, *, n_components=10, inference_layers="auto", generator_layers="auto",
                 activation="relu", output_activation="auto", kernel="gaussian", bandwidths_x=PAPER_BANDWIDTHS,
                 bandwidths_z="auto", regularization=1.0, target="dec", init_temperature=2.0,
                 update_interval="epoch", tol=1e-3,
                 n_init=20, pretrained=None, pretrain_epochs=200, pretrain_optimizer="auto",
                 pretrain_learning_rate="auto", batch_size=500, max_epochs=50, learning_rate=1e-4,
                 device="auto", precision="fp32", random_state=None, verbose=0):
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.inference_layers = inference_layers
        self.generator_layers = generator_layers
        self.activation = activation
        self.output_activation = output_activation
        self.kernel = kernel
        self.bandwidths_x = bandwidths_x
        self.bandwidths_z = bandwidths_z
        self.regularization = regularization
        self.target = target
        self.init_temperature = init_temperature
        self.update_interval = update_interval
        self.tol = tol
        self.n_init = n_init
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_optimizer = pretrain_optimizer
        self.pretrain_learning_rate = pretrain_learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- checks
    def _check_params(self, X):
        self._check_n_clusters(X)
        self.bandwidths_x_ = check_bandwidths(self.bandwidths_x, "bandwidths_x")
        self.bandwidths_z_ = ("auto" if isinstance(self.bandwidths_z, str) and self.bandwidths_z == "auto"
                              else check_bandwidths(self.bandwidths_z, "bandwidths_z"))
        auto_inference, auto_generator = _auto_layers(X.shape[1])
        self.generator_layers_ = (auto_generator if self.generator_layers == "auto"
                                  else check_layer_sizes(self.generator_layers, "generator_layers"))
        self.output_activation_ = resolve_output_activation(self.output_activation, X)
        self.pretrain_optimizer_, self.pretrain_learning_rate_ = pretraining_recipe(
            X, self.pretrain_optimizer, self.pretrain_learning_rate)
        pretrained = resolve_pretrained(self.pretrained, X.shape[1])
        if pretrained is None:
            layers = (auto_inference if self.inference_layers == "auto"
                      else check_layer_sizes(self.inference_layers, "inference_layers"))
            self.inference_params_ = dict(n_components=self.n_components, encoder_layers=tuple(layers),
                                          activation=self.activation, batch_norm=False, dropout=0.0)
        else:
            source = pretrained.get_params()
            self.inference_params_ = {k: source[k] for k in ("n_components", "activation", "batch_norm", "dropout")}
            self.inference_params_["encoder_layers"] = tuple(source["encoder_layers"])
        if self.bandwidths_z_ == "auto":
            self.bandwidths_z_ = _prior_bandwidths(self.kernel, self.inference_params_["n_components"])

    # -------------------------------------------------------------- hooks
    def _build_module(self):
        arch = self.inference_params_
        return JGMMNModule(self.n_features_in_, arch["n_components"], self.n_clusters, arch["encoder_layers"],
                           tuple(self.generator_layers_), arch["activation"], self.output_activation_,
                           arch["batch_norm"], arch["dropout"])

    def _initialize(self, ctx):
        pretrained = resolve_pretrained(self.pretrained)
        self.pretrain_history_ = []
        if pretrained is None:
            arch = {**self.inference_params_, "decoder_layers": None, "output_activation": None}
            pretrained = pretrain_autoencoder(self, ctx, arch, self.pretrain_epochs, self.pretrain_optimizer_,
                                              self.pretrain_learning_rate_)
            self.pretrain_history_ = pretrained.history_
        # Copy weights, never share modules: the caller's Autoencoder stays as it was.
        ctx.module.inference.load_state_dict(pretrained.module_.encoder.state_dict())
        self._match_prior_scale(ctx)
        self._set_modes_from_kmeans(ctx)

    def _codes(self, ctx):
        return self._forward_array(lambda m, b: m.inference(b), ctx.X, module=ctx.module)

    def _match_prior_scale(self, ctx):
        """Centre the codes and scale them (one factor for all dimensions) to the prior's spread.

        The JMMD compares h(x) with z ~ U[-1, 1]^d, while an autoencoder's codes
        have an arbitrary offset and scale; an affine map of the last layer
        fixes both without changing the K-means geometry.
        """
        codes = self._codes(ctx).astype(np.float64)
        shift = codes.mean(axis=0)
        scale = _PRIOR_STD / max(float(np.sqrt(((codes - shift) ** 2).mean())), 1e-12)
        last = ctx.module.inference[-1]
        with torch.no_grad():
            last.weight.mul_(scale)
            last.bias.sub_(torch.from_numpy(shift).to(last.bias)).mul_(scale)

    def _set_modes_from_kmeans(self, ctx):
        """K-means on the codes; the softmax layer becomes its nearest-centre posterior.

        softmax(-||z - mu_j||^2 / (2 s^2)) = softmax(W z + b) with W_j = mu_j / s^2
        and b_j = -||mu_j||^2 / (2 s^2), s^2 the pooled within-cluster variance
        times ``init_temperature``.
        """
        codes = self._codes(ctx)
        seed = int(ctx.rng.randint(np.iinfo(np.int32).max))
        kmeans = KMeans(self.n_clusters, n_init=self.n_init, random_state=seed).fit(codes)
        centers = kmeans.cluster_centers_.astype(np.float64)
        variance = max(kmeans.inertia_ / codes.size, 1e-12) * self.init_temperature
        modes = ctx.module.modes
        with torch.no_grad():
            modes.weight.copy_(torch.from_numpy(centers / variance))
            modes.bias.copy_(torch.from_numpy(-(centers**2).sum(axis=1) / (2 * variance)))

    def _cluster_proba(self, module, batch):
        return F.softmax(module.mode_logits(module.inference(batch)), dim=1)

    def _refine_q(self, ctx):
        p = torch.from_numpy(self._forward_array(self._cluster_proba, ctx.X, module=ctx.module)).double()
        self._track_labels(ctx, p.argmax(dim=1))
        ctx.state["q"] = refine_assignment(p, self.target).float().to(ctx.device)

    def _refinement_due(self, ctx):
        if self.update_interval == "epoch":
            due = ctx.state.get("refined_epoch") != ctx.epoch
            ctx.state["refined_epoch"] = ctx.epoch
            return due
        return ctx.iteration % self.update_interval == 0

    def _training_step(self, ctx, batch, step_name):
        module = ctx.module
        d = self.inference_params_["n_components"]
        z = 2.0 * ctx.rand(batch.shape[0], d) - 1.0          # z ~ U[-1, 1]^d (eq. 10)
        codes = module.inference(batch)                       # h(x) (eq. 13)
        generated = module.generator(z)                       # g(z) (eq. 11)
        with torch.autocast(ctx.device.type, enabled=False):  # kernels need float32 distances
            j1 = joint_mmd2(batch, codes.float(), generated.float(), z, kernel=self.kernel,
                            bandwidths_x=self.bandwidths_x_, bandwidths_z=self.bandwidths_z_)
        if self.regularization == 0:
            return {"loss": j1, "j1": j1}
        if self._refinement_due(ctx):
            self._refine_q(ctx)
        q = ctx.state["q"][ctx.batch_index.to(ctx.device)]
        log_p = F.log_softmax(module.mode_logits(codes), dim=1)
        j2 = (q * (q.clamp_min(1e-12).log() - log_p)).sum(dim=1).mean()  # KL(q || p) (eq. 16)
        return {"loss": j1 + self.regularization * j2, "j1": j1, "j2": j2}

    def _after_fit(self, ctx):
        if self.regularization == 0:
            self._set_modes_from_kmeans(ctx)  # JGMMN-NR: K-means on the codes J1 learned
        super()._after_fit(ctx)

    # ----------------------------------------------------------- public API
    @property
    def _n_features_out(self):
        return self.inference_params_["n_components"]

    def transform(self, X):
        """Infer the latent codes h(x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes, in the space of the prior U[-1, 1]^d.
        """
        return self._inference(lambda module, batch: module.inference(batch), X)

    def _prior(self, n_samples, rng):
        d = self.inference_params_["n_components"]
        return rng.uniform(-1.0, 1.0, size=(n_samples, d)).astype(np.float32)

    def sample(self, n_samples=1):
        """Generate samples g(z), z ~ U[-1, 1]^d, with the modality of each.

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
            Generated samples.
        y : ndarray of shape (n_samples,), dtype int64
            Modality of each sample's code: argmax softmax(W z + b).
        """
        n_samples = self._check_sample_request(n_samples)
        Z = self._prior(n_samples, check_random_state(self.random_state))
        X, logits = self._forward_array(lambda m, z: (m.generator(z), m.mode_logits(z)), Z)
        return X, logits.argmax(axis=1).astype(np.int64)

    def score(self, X, y=None):
        """Minus the joint MMD J1 between the data pairs and the model's pairs (higher is better).

        J1 (the paper's eq. 15, biased estimate) between ``(x, h(x))`` for the
        rows of X and ``(g(z), z)`` for as many prior draws, with the fitted
        kernel and bandwidths. It needs no labels and measures how well the
        model's two joint distributions agree on X: the generative fit, not
        the clustering (for that, use a labelled scorer from
        :data:`skdeepgen.metrics.scorers`). J2 gathers the codes into modes,
        away from the uniform prior, which J1 counts as a mismatch, so
        compare scores between models with the same ``regularization``. The
        prior draws come from ``random_state`` (0 when it is None), so the
        score of a model on the same X is repeatable. The cost is quadratic in the number of rows
        (kernel tiles of 1024 x 1024 keep the memory small): a few seconds
        for 10,000 rows on 2 CPU cores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data, at least 2 rows.
        y : None
            Ignored.

        Returns
        -------
        score : float
            -J1.
        """
        check_is_fitted(self)
        X, _ = self._validate_X(X, reset=False)
        if X.shape[0] < 2:
            raise ValueError(f"score needs at least 2 samples; got {X.shape[0]}.")
        codes = self._forward_array(lambda module, batch: module.inference(batch), X)
        rng = np.random.RandomState(0) if self.random_state is None else check_random_state(self.random_state)
        Z = self._prior(codes.shape[0], rng)
        generated = self._forward_array(lambda m, z: m.generator(z), Z)
        device = self._device()
        tensors = [torch.from_numpy(a).to(device) for a in (X, codes, generated, Z)]
        with torch.no_grad():
            j1 = joint_mmd2(*tensors, kernel=self.kernel, bandwidths_x=self.bandwidths_x_,
                            bandwidths_z=self.bandwidths_z_, block_size=_SCORE_BLOCK)
        return -float(j1)
