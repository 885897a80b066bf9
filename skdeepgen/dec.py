"""Deep Embedded Clustering (Xie et al. 2016) and Improved DEC (Guo et al. 2017).

The algorithm, as the model's hooks run it:

1. pretrain an autoencoder (the project's :class:`~skdeepgen.Autoencoder`,
   or reuse a fitted one), keep its encoder (IDEC keeps the decoder too);
2. K-means on the codes gives the initial cluster centres mu_j;
3. every ``update_interval`` minibatches, compute on the whole data the soft
   assignments q_ij = (1 + ||z_i - mu_j||^2 / a)^(-(a+1)/2), normalised over j,
   and the target p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j') with
   f_j = sum_i q_ij; stop once fewer than ``tol`` of the labels argmax q changed
   since the previous update;
4. between updates, minimise KL(p || q) over the encoder and the centres
   (IDEC: the reconstruction error + gamma * KL(p || q)).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from ._pretrain import pretrain_autoencoder, pretraining_recipe, resolve_pretrained
from .autoencoder import _ACTIVATIONS, AutoencoderModule, make_optimizer
from .base import BaseDeepClusterer, BaseDeepModel
from .kernels import squared_distances
from .networks import check_layer_sizes

__all__ = ["DECClustering", "IDECClustering", "LabelChangeStopping", "student_t_assignment", "target_distribution"]

_ARCHITECTURE = ("n_components", "encoder_layers", "decoder_layers", "activation", "output_activation",
                 "batch_norm", "dropout")
# Architecture settings DEC does not expose itself, only inherits from a pretrained Autoencoder.
_INHERITED_DEFAULTS = {"batch_norm": False, "dropout": 0.0}


def student_t_assignment(z, centers, alpha=1.0):
    """DEC's soft assignment: a Student's t kernel between codes and centres.

    Parameters
    ----------
    z : torch.Tensor of shape (n_samples, n_components)
        Codes.
    centers : torch.Tensor of shape (n_clusters, n_components)
        Cluster centres.
    alpha : float, default=1.0
        Degrees of freedom of the Student's t distribution.

    Returns
    -------
    q : torch.Tensor of shape (n_samples, n_clusters)
        Rows sum to 1.
    """
    q = (1.0 + squared_distances(z, centers) / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q):
    """DEC's auxiliary target: sharpen q and divide by cluster frequency.

    Parameters
    ----------
    q : torch.Tensor of shape (n_samples, n_clusters)
        Soft assignments.

    Returns
    -------
    p : torch.Tensor of shape (n_samples, n_clusters)
        p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij.
    """
    weight = q.pow(2) / q.sum(dim=0)
    return weight / weight.sum(dim=1, keepdim=True)


class LabelChangeStopping:
    """DEC's stopping rule, for the models that refine a target from their own assignments.

    At each target update the model passes the labels of the whole training
    set to ``_track_labels``; training stops once fewer than a fraction
    ``tol`` of them changed since the previous update, and the last change is
    recorded in the epoch's history as ``label_change``.
    """

    def _track_labels(self, ctx, labels):
        previous = ctx.state.get("labels")
        if previous is not None:
            change = float((labels != previous).float().mean())
            ctx.state["label_change"] = change
            if change < self.tol:
                ctx.stop = True
        ctx.state["labels"] = labels

    def _on_epoch_end(self, ctx, record):
        if "label_change" in ctx.state:
            record["label_change"] = ctx.state["label_change"]
        return False


class DECModule(nn.Module):
    """An autoencoder's encoder (and decoder, for IDEC) plus cluster centres."""

    def __init__(self, autoencoder, n_clusters, n_components, keep_decoder):
        super().__init__()
        self.encoder = autoencoder.encoder
        self.decoder = autoencoder.decoder if keep_decoder else None
        self.centers = nn.Parameter(torch.zeros(n_clusters, n_components))


class DECClustering(LabelChangeStopping, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepClusterer):
    """Deep Embedded Clustering (Xie, Girshick and Farhadi 2016).

    An autoencoder is pretrained on X, K-means initialises cluster centres in
    its code space, then the encoder and the centres are refined together by
    minimising KL(p || q) between the Student's t soft assignments q and a
    sharpened target p recomputed every ``update_interval`` minibatches.
    ``labels_`` and ``predict`` are the model's own assignments (argmax q),
    not a K-means re-clustering of the codes.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    n_components : int, default=10
        Size of the embedding (the autoencoder's code).
    encoder_layers : tuple of int, default=(500, 500, 2000)
        Hidden layers of the encoder (DEC's architecture d-500-500-2000-10).
    decoder_layers : tuple of int or None, default=None
        Hidden layers of the pretraining decoder; None mirrors the encoder.
    activation : str, default="relu"
        Hidden activation of the autoencoder.
    output_activation : str or None, default=None
        Output activation of the pretraining decoder (None: linear).
    alpha : float, default=1.0
        Degrees of freedom of the Student's t soft assignment.
    update_interval : int, default=140
        Minibatches between two recomputations of the target distribution.
    tol : float, default=1e-3
        Training stops when, at a target update, fewer than this fraction of
        the labels changed since the previous update (the paper's 0.1%).
    n_init : int, default=20
        K-means restarts for the initial centres.
    pretrained : None, str, path-like, fitted Autoencoder or FrozenEstimator, default=None
        Reuse a pretrained autoencoder instead of training one: a fitted
        :class:`~skdeepgen.Autoencoder` (its weights are copied, it is not
        modified), a ``sklearn.frozen.FrozenEstimator`` of one, or the path of
        a file written by ``Autoencoder.save``. A path is the grid-search
        friendly form: it is a plain value, so ``GridSearchCV`` clones it
        unchanged and never pays for pretraining. The architecture parameters
        above are then taken from the pretrained model.
    pretrain_epochs : int, default=200
        Autoencoder epochs when ``pretrained`` is None.
    pretrain_optimizer : {"auto", "sgd", "adam"}, default="auto"
        Optimizer of the pretraining: SGD with momentum 0.9 or Adam. "auto"
        takes the DEC reference code's MNIST recipe, SGD, when X looks like
        image data (at least 100 features, all values in [0, 1]), and Adam
        otherwise. On MNIST the SGD recipe gives much better codes: after 200
        epochs, K-means on them reached ACC 0.885 +- 0.053 (3 seeds) against
        0.788 +- 0.007 with Adam at 1e-3, and DEC 0.915 +- 0.062 against
        0.822 (seed 0) (``docs/benchmarks.md``). On data
        with few features or of a larger scale, SGD at 1.0 diverges (DEC
        then stops with a ``TrainingDivergedError`` that says so), hence the
        rule.
    pretrain_learning_rate : float or "auto", default="auto"
        Step size of the pretraining; "auto" is 1.0 for SGD (the loss is a
        mean over features, so its gradients are small) and 1e-3 for Adam.
    optimizer : {"sgd", "adam"}, default="sgd"
        Optimizer of the clustering phase: SGD with momentum 0.9 (the DEC
        reference implementation) or Adam.
    batch_size : int, default=256
        Minibatch size of both phases.
    max_epochs : int, default=100
        Maximum epochs of the clustering phase.
    learning_rate : float, default=0.01
        Step size of the clustering phase.
    device : str or torch.device, default="auto"
        "auto", "cpu", "cuda", ...; resolved at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of forward passes (both phases).
    random_state : int, RandomState instance or None, default=None
        Seeds pretraining, K-means and minibatch order.
    verbose : int, default=0
        0 silent, 1 one line per epoch (pretraining included).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), dtype int64
        argmax q of the training data at the end of training.
    cluster_centers_ : ndarray of shape (n_clusters, n_components)
        Cluster centres in the embedding.
    autoencoder_params_ : dict
        The architecture used (from the parameters or the pretrained model).
    pretrain_optimizer_ : str
        The pretraining optimizer used, "sgd" or "adam" ("auto" resolved;
        unused when ``pretrained`` was given).
    pretrain_learning_rate_ : float
        The pretraining step size used ("auto" resolved).
    pretrain_history_ : list of dict
        The pretraining's per-epoch history (empty when ``pretrained`` was given).
    history_ : list of dict
        Clustering-phase epochs: ``loss``, ``kl`` (and IDEC's ``reconstruction``),
        ``label_change`` at the last target update, ``seconds``.
    n_iter_ : int
        Clustering-phase epochs run.
    module_ : torch.nn.Module
        Encoder, (decoder) and ``centers``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    IDECClustering : DEC that keeps the reconstruction loss.
    Autoencoder : The pretraining network.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepgen import DECClustering
    >>> X = load_digits().data / 16
    >>> dec = DECClustering(10, encoder_layers=(64,), pretrain_epochs=5, max_epochs=2,
    ...                     random_state=0).fit(X)
    >>> dec.predict_proba(X[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepModel._parameter_constraints.items() if k not in ("tol", "n_iter_no_change")},
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder_layers": [tuple, list],
        "decoder_layers": [tuple, list, None],
        "activation": [StrOptions(_ACTIVATIONS)],
        "output_activation": [StrOptions(_ACTIVATIONS), None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "update_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "pretrained": "no_validation",  # checked in _check_params: several accepted kinds
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left")],
        "pretrain_optimizer": [StrOptions({"auto", "sgd", "adam"})],
        "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "optimizer": [StrOptions({"sgd", "adam"})],
    }
    _monitor = None  # stopping is DEC's own label-change rule
    _keep_decoder = False

    def __init__(self, n_clusters=10, *, n_components=10, encoder_layers=(500, 500, 2000), decoder_layers=None,
                 activation="relu", output_activation=None, alpha=1.0, update_interval=140, tol=1e-3, n_init=20,
                 pretrained=None, pretrain_epochs=200, pretrain_optimizer="auto", pretrain_learning_rate="auto",
                 optimizer="sgd",
                 batch_size=256, max_epochs=100, learning_rate=0.01, device="auto", precision="fp32",
                 random_state=None, verbose=0):
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.activation = activation
        self.output_activation = output_activation
        self.alpha = alpha
        self.update_interval = update_interval
        self.tol = tol
        self.n_init = n_init
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_optimizer = pretrain_optimizer
        self.pretrain_learning_rate = pretrain_learning_rate
        self.optimizer = optimizer
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
        self.pretrain_optimizer_, self.pretrain_learning_rate_ = pretraining_recipe(
            X, self.pretrain_optimizer, self.pretrain_learning_rate)
        pretrained = resolve_pretrained(self.pretrained, X.shape[1])
        if pretrained is None:
            check_layer_sizes(self.encoder_layers, "encoder_layers")
            if self.decoder_layers is not None:
                check_layer_sizes(self.decoder_layers, "decoder_layers")
            source = {**_INHERITED_DEFAULTS, **self.get_params()}
        else:
            source = pretrained.get_params()
        self.autoencoder_params_ = {
            k: tuple(source[k]) if isinstance(source[k], list) else source[k] for k in _ARCHITECTURE
        }

    # -------------------------------------------------------------- hooks
    def _build_module(self):
        arch = self.autoencoder_params_
        autoencoder = AutoencoderModule(
            self.n_features_in_, tuple(arch["encoder_layers"]), arch["n_components"],
            None if arch["decoder_layers"] is None else tuple(arch["decoder_layers"]),
            arch["activation"], arch["batch_norm"], arch["dropout"], arch["output_activation"],
        )
        return DECModule(autoencoder, self.n_clusters, arch["n_components"], self._keep_decoder)

    def _initialize(self, ctx):
        pretrained = resolve_pretrained(self.pretrained)
        self.pretrain_history_ = []
        if pretrained is None:
            pretrained = pretrain_autoencoder(self, ctx, self.autoencoder_params_, self.pretrain_epochs,
                                          self.pretrain_optimizer_, self.pretrain_learning_rate_)
            self.pretrain_history_ = pretrained.history_
        # Copy weights, never share modules: the caller's Autoencoder stays as it was.
        ctx.module.encoder.load_state_dict(pretrained.module_.encoder.state_dict())
        if ctx.module.decoder is not None:
            ctx.module.decoder.load_state_dict(pretrained.module_.decoder.state_dict())
        codes = self._forward_array(lambda m, b: m.encoder(b), ctx.X, module=ctx.module)
        seed = int(ctx.rng.randint(np.iinfo(np.int32).max))
        kmeans = KMeans(self.n_clusters, n_init=self.n_init, random_state=seed).fit(codes)
        with torch.no_grad():
            ctx.module.centers.copy_(torch.from_numpy(kmeans.cluster_centers_).float())

    def _configure_optimizers(self, ctx):
        return {"main": make_optimizer(self.optimizer, ctx.module.parameters(), self.learning_rate)}

    def _cluster_proba(self, module, batch):
        return student_t_assignment(module.encoder(batch).float(), module.centers, self.alpha)

    def _update_target(self, ctx):
        q = torch.from_numpy(self._forward_array(self._cluster_proba, ctx.X, module=ctx.module))
        self._track_labels(ctx, q.argmax(dim=1))
        ctx.state["target"] = target_distribution(q).to(ctx.device)

    def _clustering_loss(self, ctx, z):
        """KL(P || Q) of a minibatch from its codes ``z`` (updating P when it is due)."""
        if ctx.iteration % self.update_interval == 0:
            self._update_target(ctx)
        q = student_t_assignment(z.float(), ctx.module.centers, self.alpha)
        p = ctx.state["target"][ctx.batch_index.to(ctx.device)]
        # KL(p || q) per sample, averaged over the batch; p is held fixed.
        return (p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(dim=1).mean()

    def _training_step(self, ctx, batch, step_name):
        kl = self._clustering_loss(ctx, ctx.module.encoder(batch))
        return {"loss": kl}

    def _after_fit(self, ctx):
        super()._after_fit(ctx)
        self.cluster_centers_ = ctx.module.centers.detach().cpu().numpy().copy()

    # ----------------------------------------------------------- public API
    @property
    def _n_features_out(self):
        return self.autoencoder_params_["n_components"]

    def transform(self, X):
        """Embed ``X`` with the trained encoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes, in the space of ``cluster_centers_``.
        """
        return self._inference(lambda module, batch: module.encoder(batch), X)

    def score(self, X, y=None):
        """Minus the DEC objective KL(P || Q) on ``X`` (higher is better).

        Q is the soft assignment of X and P its target distribution computed
        on the same X, so the score needs no labels: it is the objective DEC
        minimises, evaluated on X. It is not a model-selection criterion: a
        uniform Q gives P = Q and the maximum score 0, and training, which
        makes assignments confident, lowers it. Compare models with a labelled
        scorer (``skdeepgen.metrics.scorers``) instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            -KL(P || Q), averaged over samples.
        """
        q = torch.from_numpy(self.predict_proba(X)).double()
        p = target_distribution(q)
        return -float((p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(dim=1).mean())


class IDECClustering(DECClustering):
    """Improved Deep Embedded Clustering (Guo, Gao, Liu and Yin 2017).

    DEC that keeps the decoder and minimises the reconstruction error plus
    ``gamma`` times the clustering loss KL(p || q), so that the embedding keeps
    the data's local structure instead of collapsing onto the centres. All
    other parameters and attributes are DEC's (see :class:`DECClustering`);
    ``history_`` also records ``reconstruction``.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    gamma : float, default=0.1
        Weight of the clustering loss (the paper's 0.1).
    optimizer : {"sgd", "adam"}, default="adam"
        Optimizer of the clustering phase (the paper uses Adam).
    learning_rate : float, default=1e-3
        Step size of the clustering phase.
    **other
        As :class:`DECClustering`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepgen import IDECClustering
    >>> X = load_digits().data / 16
    >>> idec = IDECClustering(10, encoder_layers=(64,), pretrain_epochs=5, max_epochs=2,
    ...                       random_state=0).fit(X)
    >>> idec.labels_.shape
    (1797,)
    """

    _parameter_constraints: dict = {
        **DECClustering._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="neither")],
    }
    _keep_decoder = True

    def __init__(self, n_clusters=10, *, gamma=0.1, n_components=10, encoder_layers=(500, 500, 2000),
                 decoder_layers=None, activation="relu", output_activation=None, alpha=1.0, update_interval=140,
                 tol=1e-3, n_init=20, pretrained=None, pretrain_epochs=200, pretrain_optimizer="auto",
                 pretrain_learning_rate="auto", optimizer="adam", batch_size=256, max_epochs=100, learning_rate=1e-3,
                 device="auto", precision="fp32", random_state=None, verbose=0):
        super().__init__(
            n_clusters, n_components=n_components, encoder_layers=encoder_layers, decoder_layers=decoder_layers,
            activation=activation, output_activation=output_activation, alpha=alpha,
            update_interval=update_interval, tol=tol, n_init=n_init, pretrained=pretrained,
            pretrain_epochs=pretrain_epochs, pretrain_optimizer=pretrain_optimizer,
            pretrain_learning_rate=pretrain_learning_rate, optimizer=optimizer,
            batch_size=batch_size, max_epochs=max_epochs, learning_rate=learning_rate, device=device,
            precision=precision, random_state=random_state, verbose=verbose,
        )
        self.gamma = gamma

    def _training_step(self, ctx, batch, step_name):
        z = ctx.module.encoder(batch)  # one encoder pass serves both losses
        kl = self._clustering_loss(ctx, z)
        reconstruction = F.mse_loss(ctx.module.decoder(z).float(), batch)
        return {"loss": reconstruction + self.gamma * kl, "kl": kl, "reconstruction": reconstruction}
