"""Multi-modal GAN clustering (MMGAN).

The algorithm, as the model's hooks run it (the paper's Algorithm 1):

1. the latent space is a Gaussian mixture with K components and a uniform
   prior: a cluster y ~ Cat(K, 1/K) selects a mean mu(y) (a K x d dense
   layer fed the one-hot y) and a scalar standard deviation sigma(y) (a
   K x 1 dense layer), and z~ = mu(y) + sigma(y) z with z ~ N(0, I_d); the
   means start at K distinct random vertices of the cube [-1, 1]^d and the
   standard deviations at ``init_std``, never below 0.1;
2. each minibatch of real rows x_r builds two batches:
   B1 pairs every x_r with a fake G(z, y_r) from a cluster y_r drawn from the
   encoder's posterior p_E(y | x_r), i.e. with z~ drawn from the paper's
   p(z | x_r) = sum_k p_E(k | x_r) N(mu_k, sigma_k^2 I) (the pairing
   strategy; with ``pairing=False``, and during the first
   ``pairing_warmup`` epochs, the fakes' clusters are drawn uniformly), and
   B2 holds fakes G(z, y_p) of uniformly drawn clusters y_p;
3. the discriminator D takes an Adam step on the adversarial loss of B1
   (plus, optionally, a zero-centred gradient penalty);
4. the generator G (with mu and sigma) and the encoder E take one joint Adam
   step on the adversarial loss of B1 plus ``alpha`` times the encoder's
   cross-entropy on B2, -log p_E(y_p | G(z, y_p)) (plus, optionally,
   ``balance`` times log K minus the mutual information between the real
   rows and E's clusters, and ``consistency`` times the divergence of E's
   posterior on a randomly transformed real image from that on the image).

The adversarial loss is SGAN, RSGAN (pairs compared one to one) or the
paper's conditional RaSGAN, where each real is compared with the average fake
of its encoder cluster and each fake with the average real of its cluster.
``predict`` is argmax p_E(y | x).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from ._posterior_terms import PARAMETER_CONSTRAINTS as POSTERIOR_TERM_CONSTRAINTS
from ._posterior_terms import add_posterior_terms, check_posterior_terms, parameters_doc
from ._training import check_betas, make_adam
from .adversarial import (
    cluster_average,
    discriminator_loss,
    frozen,
    generator_loss,
    gradient_penalty,
    rasgan_losses,
)
from .base import BaseDeepClusterer, BaseDeepModel
from .networks import (
    Standardize,
    check_image_shape,
    check_layer_sizes,
    make_conv_decoder,
    make_conv_encoder,
    make_mlp,
    resolve_output_activation,
)

__all__ = ["MMGANClustering", "LOSSES", "cube_vertices"]

#: Adversarial losses of the paper: SGAN, RSGAN and the conditional RaSGAN.
LOSSES = ("sgan", "rsgan", "crasgan")
#: The paper's lower bound on the standard deviations of the latent clusters.
MIN_STD = 0.1
# Width of the dense hidden layer of the convolutional networks.
_CONV_HIDDEN = 512
_POSTERIOR_TERMS_DOC = parameters_doc("p_E(. | x_r)", "E")


def cube_vertices(n_vertices, dim, random_state=None):
    """Distinct vertices of the cube [-1, 1]^dim, drawn uniformly at random.

    The paper's initialisation of the cluster means: vertices are at least 2
    apart, so Gaussians of standard deviation at most 1 placed on them start
    apart from one another.

    Parameters
    ----------
    n_vertices : int
        Number of vertices, at most ``2 ** dim``.
    dim : int
        Dimension of the cube.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    vertices : ndarray of shape (n_vertices, dim), dtype float64
        Rows of -1 and 1, all different.

    Raises
    ------
    ValueError
        If ``n_vertices > 2 ** dim``.
    """
    if n_vertices > 2.0**dim:
        raise ValueError(f"The cube [-1, 1]^{dim} has {2**dim} vertices; {n_vertices} were asked for.")
    rng = check_random_state(random_state)
    if dim <= 20:
        # Enumerable: draw vertex numbers without replacement, read their bits.
        codes = rng.choice(2**dim, size=n_vertices, replace=False)
        bits = (codes[:, None] >> np.arange(dim)[None, :]) & 1
    else:
        # 2^dim is huge next to n_vertices: draw sign vectors, redraw collisions.
        bits = rng.randint(0, 2, size=(n_vertices, dim))
        while len({row.tobytes() for row in bits}) < n_vertices:
            _, first = np.unique(bits, axis=0, return_index=True)
            repeat = np.setdiff1d(np.arange(n_vertices), first)
            bits[repeat] = rng.randint(0, 2, size=(len(repeat), dim))
    return 2.0 * bits.astype(np.float64) - 1.0


def _auto_layers(n_features):
    """Hidden layers of G, D and E by data width: the paper's 2 x 128 for small data."""
    if n_features >= 100:   # images such as MNIST
        return (256, 512), (512, 256)
    return (128, 128), (128, 128)


class MMGANModule(nn.Module):
    """The latent mixture (mu, sigma), the generator G, the discriminator D and the encoder E.

    G, D and E work in the standardised data space of ``scaler``; ``generate``
    returns rows in that space.
    """

    def __init__(self, n_features, latent_dim, n_clusters, generator_layers, discriminator_layers,
                 encoder_layers, output_activation, batch_norm, image_shape=None, conv_channels=None):
        super().__init__()
        self.n_clusters = n_clusters
        self.scaler = Standardize(n_features)
        self.means = nn.Linear(n_clusters, latent_dim, bias=False)   # mu(y), fed the one-hot y
        self.stds = nn.Linear(n_clusters, 1, bias=False)             # sigma(y)
        if image_shape is not None:
            up = tuple(reversed(conv_channels))
            self.generator = make_conv_decoder(latent_dim, image_shape, up, _CONV_HIDDEN, batch_norm,
                                               output_activation)
            self.discriminator = make_conv_encoder(image_shape, 1, conv_channels, _CONV_HIDDEN)
            self.encoder = make_conv_encoder(image_shape, n_clusters, conv_channels, _CONV_HIDDEN)
            return
        self.generator = make_mlp((latent_dim, *generator_layers, n_features), activation="relu",
                                  batch_norm=batch_norm, output_activation=output_activation)
        self.discriminator = make_mlp((n_features, *discriminator_layers, 1), activation="leaky_relu")
        self.encoder = make_mlp((n_features, *encoder_layers, n_clusters), activation="leaky_relu")

    def latent(self, onehot, noise):
        """z~ = mu(y) + sigma(y) z (the paper's figure 2)."""
        return self.means(onehot) + self.stds(onehot) * noise

    def generate(self, onehot, noise):
        return self.generator(self.latent(onehot, noise))

    def encoder_logits(self, x):
        return self.encoder(x).float()

    @torch.no_grad()
    def project_stds_(self):
        """Hold every sigma_k at or above the lower bound (projected gradient steps)."""
        self.stds.weight.clamp_(min=MIN_STD)


class MMGANClustering(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepClusterer):
    __doc__ = f"""Multi-modal GAN clustering (MMGAN).

    A GAN whose latent space is a Gaussian mixture with learnable means and
    standard deviations, one component per cluster, and an encoder E that
    predicts the component p_E(y | x) of a row. E learns from the generator's
    own samples, whose components are known; pairing each real row with a
    fake drawn from the component E assigns it makes the discriminator
    compare rows of the same cluster. ``predict`` is argmax p_E(y | x).

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters K, at most ``2 ** latent_dim``.
    latent_dim : int, default=10
        Dimension d of the latent space.
    loss : {{"crasgan", "rsgan", "sgan"}}, default="crasgan"
        Adversarial loss. ``"sgan"``: the standard GAN (non-saturating
        generator loss); ``"rsgan"``: the relativistic GAN, each real row
        against its paired fake; ``"crasgan"``: the paper's conditional
        relativistic average GAN, each real row against the mean fake of its
        encoder cluster and each fake against the mean real of its cluster.
        See :mod:`skdeepgen.adversarial`.
    pairing : bool, default=True
        Draw the fake of B1 from the posterior p(z | x_r) of the real row it
        is paired with: its cluster from p_E(y | x_r) (the paper's pairing
        strategy). False draws the fakes' clusters uniformly at random (the
        paper's Table 2 ablation).
    pairing_warmup : int, default=1
        Epochs at the start during which the fakes' clusters are drawn
        uniformly even with ``pairing=True``, so that every cluster learns to
        generate before the untrained encoder's assignments choose B1's
        clusters. Not in the paper: a safeguard against the encoder sending
        every real row to one cluster, whose generator would then be the only
        one trained adversarially (``docs/mmgan.md`` says what was measured).
    alpha : float, default=1.0
        Weight of the encoder's cross-entropy on generated rows (B2).
    {_POSTERIOR_TERMS_DOC}
    init_std : float, default=0.5
        Initial standard deviation of every latent cluster, in [0.1, 1].
    generator_layers : tuple of int or "auto", default="auto"
        Hidden layers of G (ReLU). "auto": (256, 512) from 100 features
        (images), else the paper's (128, 128) for low-dimensional data.
    discriminator_layers : tuple of int or "auto", default="auto"
        Hidden layers of D (LeakyReLU 0.2). "auto": (512, 256) from 100
        features, else (128, 128).
    encoder_layers : tuple of int or "auto", default="auto"
        Hidden layers of E (LeakyReLU 0.2); "auto" takes D's (the paper gives
        them the same structure).
    output_activation : {{"auto", "sigmoid"}} or None, default="auto"
        Output of G. "auto" is "sigmoid" when the training data lie in
        [0, 1] and linear (None) otherwise. Data with a linear output are
        standardised inside the model (per-feature mean and standard
        deviation of the training data), so ``sample`` returns rows on the
        data's own scale.
    batch_norm : bool, default=True
        Batch normalisation in G's hidden layers.
    gradient_penalty : float, default=0.0
        Weight of a zero-centred gradient penalty on D (the mean squared norm
        of D's input gradient at random interpolates of the real and fake
        rows of B1, :func:`skdeepgen.adversarial.gradient_penalty` with
        ``center=0``), added to D's loss. 0 is the paper's model. Not in the
        paper: without it, D overpowered G on MNIST in every run we tried
        (generator loss growing past 10) and each cluster generated a single
        image; 10 kept the two players balanced (``docs/mmgan.md``).
    image_shape : tuple of 3 int or None, default=None
        ``(channels, height, width)`` of image rows (height and width
        multiples of 4), for example ``(1, 28, 28)`` for MNIST. Then G, D and
        E are the small convolutional networks of InfoGAN's MNIST experiments
        (the paper uses convolutional networks for images; see
        :func:`skdeepgen.networks.make_conv_encoder`), with a 512-unit dense
        layer, and the ``*_layers`` parameters are ignored. None uses MLPs.
    conv_channels : tuple of int, default=(32, 64)
        Channels of D's and E's stride-2 convolutions (G mirrors them), with
        ``image_shape``.
    batch_size : int, default=64
        Real rows per minibatch (m); B1 and B2 hold m fakes each.
    max_epochs : int, default=30
        Passes over the data; GAN losses do not signal convergence, so there
        is no early stopping.
    learning_rate : float, default=2e-4
        Adam step size of both players.
    betas : tuple of float, default=(0.5, 0.99)
        Adam's betas (the paper's).
    device : str or torch.device, default="auto"
        "auto", "cpu", "cuda", ...; resolved at every call.
    precision : {{"fp32", "bf16", "auto"}}, default="fp32"
        Arithmetic of the networks' forward passes.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, minibatch order and every draw of ``fit``;
        an int also makes ``sample`` and ``score`` repeatable.
    verbose : int, default=0
        0 silent, 1 one line per epoch.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), dtype int64
        argmax p_E of the training data.
    cluster_means_ : ndarray of shape (n_clusters, latent_dim)
        Learned means mu_k of the latent clusters.
    cluster_stds_ : ndarray of shape (n_clusters,)
        Learned standard deviations sigma_k (at least 0.1).
    history_ : list of dict
        One record per epoch, each loss averaged over the epoch:
        ``discriminator_loss``; with a gradient penalty also its two parts
        ``discriminator_adversarial`` and ``discriminator_penalty`` (before
        weighting); ``generator_loss`` (the generator and encoder's total) and
        its parts ``generator_adversarial``, ``generator_encoder`` (the
        encoder's cross-entropy on B2) and, with ``balance > 0`` or
        ``consistency > 0``, ``generator_balance`` or
        ``generator_consistency`` (before weighting); ``seconds``.
    n_iter_ : int
        Epochs run.
    module_ : torch.nn.Module
        ``means``, ``stds``, ``generator``, ``discriminator``, ``encoder``
        and ``scaler`` (the standardisation, identity for a sigmoid output).
    generator_layers_, discriminator_layers_, encoder_layers_ : tuple of int
        The networks' hidden layers ("auto" resolved).
    output_activation_ : str or None
        G's output activation ("auto" resolved).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    JGMMNClustering : A moment-matching generative clusterer.
    skdeepgen.adversarial : The adversarial losses.

    Notes
    -----
    E learns only from the cross-entropy on generated rows (B2): the cluster
    a real row is paired with is a discrete draw, which passes no gradient.
    An earlier version let the adversarial loss reach E through a
    straight-through estimate of that draw; E then learned to send every
    real row to whichever cluster fooled D best, and the clustering
    collapsed onto one cluster.

    ``balance`` and ``consistency`` (the same terms as
    :class:`AMMClustering`'s, on E's posterior) are not in the paper. E
    learns what a cluster is only from G's samples: on MNIST it sent over
    a quarter of the real rows to one of ten clusters, and G's ten clusters
    stood for 7 to 9 distinct digits in every run we traced
    (``docs/mmgan.md``). With ``consistency``, ``balance_marginal=1`` let E
    put every real MNIST row in one cluster and 4 did not.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from skdeepgen import MMGANClustering
    >>> X, y = make_moons(200, noise=0.05, random_state=0)
    >>> model = MMGANClustering(2, latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    >>> X_new, y_new = model.sample(4)
    >>> X_new.shape, y_new.shape
    ((4, 2), (4,))
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepModel._parameter_constraints.items() if k not in ("tol", "n_iter_no_change")},
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions(set(LOSSES))],
        "pairing": ["boolean"],
        "pairing_warmup": [Interval(Integral, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        **POSTERIOR_TERM_CONSTRAINTS,
        "init_std": [Interval(Real, MIN_STD, 1, closed="both")],
        "generator_layers": [tuple, list, StrOptions({"auto"})],
        "discriminator_layers": [tuple, list, StrOptions({"auto"})],
        "encoder_layers": [tuple, list, StrOptions({"auto"})],
        "output_activation": [StrOptions({"auto", "sigmoid"}), None],
        "batch_norm": ["boolean"],
        "gradient_penalty": [Interval(Real, 0, None, closed="left")],
        "image_shape": [tuple, list, None],
        "conv_channels": [tuple, list],
        "betas": [tuple, list],
    }
    _monitor = None  # GAN losses do not decrease monotonically

    def __init__(self, n_clusters=10, *, latent_dim=10, loss="crasgan", pairing=True, pairing_warmup=1,
                 alpha=1.0, balance=0.0, balance_marginal=1.0, consistency=0.0, augment_rotation=20.0,
                 augment_scale=0.2, augment_shift=2, init_std=0.5, generator_layers="auto", discriminator_layers="auto",
                 encoder_layers="auto", output_activation="auto", batch_norm=True, gradient_penalty=0.0,
                 image_shape=None, conv_channels=(32, 64), batch_size=64, max_epochs=30, learning_rate=2e-4,
                 betas=(0.5, 0.99), device="auto", precision="fp32", random_state=None, verbose=0):
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
        self.loss = loss
        self.pairing = pairing
        self.pairing_warmup = pairing_warmup
        self.alpha = alpha
        self.balance = balance
        self.balance_marginal = balance_marginal
        self.consistency = consistency
        self.augment_rotation = augment_rotation
        self.augment_scale = augment_scale
        self.augment_shift = augment_shift
        self.init_std = init_std
        self.generator_layers = generator_layers
        self.discriminator_layers = discriminator_layers
        self.encoder_layers = encoder_layers
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        self.gradient_penalty = gradient_penalty
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

    # ------------------------------------------------------------- checks
    def _check_params(self, X):
        self._check_n_clusters(X)
        if self.n_clusters > 2.0**self.latent_dim:
            raise ValueError(
                f"n_clusters={self.n_clusters} needs latent_dim >= {int(np.ceil(np.log2(self.n_clusters)))}: the "
                f"cluster means start at distinct vertices of [-1, 1]^d, and latent_dim={self.latent_dim} gives "
                f"only {2**self.latent_dim}."
            )
        self.betas_ = check_betas(self.betas)
        auto_generator, auto_discriminator = _auto_layers(X.shape[1])
        self.generator_layers_ = check_layer_sizes(self.generator_layers, "generator_layers", auto=auto_generator)
        self.discriminator_layers_ = check_layer_sizes(self.discriminator_layers, "discriminator_layers",
                                                       auto=auto_discriminator)
        self.encoder_layers_ = check_layer_sizes(self.encoder_layers, "encoder_layers",
                                                 auto=self.discriminator_layers_)
        self.image_shape_ = None if self.image_shape is None else check_image_shape(self.image_shape, X.shape[1])
        self.conv_channels_ = check_layer_sizes(self.conv_channels, "conv_channels", min_length=1)
        self.output_activation_ = resolve_output_activation(self.output_activation, X)
        check_posterior_terms(self, self.image_shape_)

    # -------------------------------------------------------------- hooks
    def _build_module(self):
        return MMGANModule(self.n_features_in_, self.latent_dim, self.n_clusters, tuple(self.generator_layers_),
                           tuple(self.discriminator_layers_), tuple(self.encoder_layers_), self.output_activation_,
                           self.batch_norm, self.image_shape_, self.conv_channels_)

    def _initialize(self, ctx):
        module = ctx.module
        if self.output_activation_ is None:
            module.scaler.fit_(ctx.X)  # a sigmoid output keeps the data's [0, 1] as it is
        vertices = cube_vertices(self.n_clusters, self.latent_dim, ctx.rng)
        with torch.no_grad():
            module.means.weight.copy_(torch.from_numpy(vertices.T))
            module.stds.weight.fill_(self.init_std)

    def _configure_optimizers(self, ctx):
        module = ctx.module
        players = [module.means, module.stds, module.generator, module.encoder]
        return {
            "discriminator": make_adam(module.discriminator.parameters(), self.learning_rate, self.betas_),
            "generator": make_adam([p for m in players for p in m.parameters()], self.learning_rate, self.betas_),
        }

    def _step_schedule(self):
        return [("discriminator", 1), ("generator", 1)]

    def _paired(self, ctx):
        return self.pairing and ctx.epoch > self.pairing_warmup

    def _draw_clusters(self, ctx, proba, n):
        """One cluster per row: from the rows of `proba` (p_E(y | x_r)), or uniformly when it is None."""
        if proba is None:
            return torch.randint(self.n_clusters, (n,), generator=ctx.generator).to(ctx.device)
        return ctx.categorical(proba)

    def _adversarial_losses(self, real, fake, real_clusters, fake_clusters):
        """(discriminator loss, generator loss) of B1 for the configured loss."""
        if self.loss == "crasgan":
            # Each real against the mean fake of its cluster, each fake against the mean real of its cluster.
            real_reference = cluster_average(fake, fake_clusters, real_clusters, self.n_clusters)
            fake_reference = cluster_average(real, real_clusters, fake_clusters, self.n_clusters)
            return rasgan_losses(real, fake, real_reference, fake_reference)
        return discriminator_loss(real, fake, self.loss), generator_loss(real, fake, self.loss)

    def _training_step(self, ctx, batch, step_name):
        module = ctx.module
        module.project_stds_()
        m, K = batch.shape[0], self.n_clusters
        x_r = module.scaler(batch)
        noise = ctx.randn(m, self.latent_dim)
        if step_name == "discriminator":
            with torch.no_grad():
                p_r = F.softmax(module.encoder_logits(x_r), dim=1)
                y_r = p_r.argmax(dim=1)
                y_f = self._draw_clusters(ctx, p_r if self._paired(ctx) else None, m)
                x_f = module.generate(F.one_hot(y_f, K).to(noise.dtype), noise)
            real, fake = module.discriminator(x_r).float(), module.discriminator(x_f).float()
            d_loss, _ = self._adversarial_losses(real, fake, y_r, y_f)
            if self.gradient_penalty == 0:
                return {"loss": d_loss}
            penalty = gradient_penalty(module.discriminator, x_r, x_f, generator=ctx.generator, center=0.0)
            return {"loss": d_loss + self.gradient_penalty * penalty, "adversarial": d_loss, "penalty": penalty}
        with frozen(module.discriminator):
            if self.balance > 0:
                log_p_r = F.log_softmax(module.encoder_logits(x_r), dim=1)
            else:
                with torch.no_grad():
                    log_p_r = F.log_softmax(module.encoder_logits(x_r), dim=1)
            p_r = log_p_r.exp().detach()
            y_r = p_r.argmax(dim=1)
            y_f = self._draw_clusters(ctx, p_r if self._paired(ctx) else None, m)
            onehot_f = F.one_hot(y_f, K).to(noise.dtype)
            y_p = self._draw_clusters(ctx, None, m)
            # B1's fakes and B2's share the noise z, as in Algorithm 1 (lines 7-9).
            fakes = module.generate(torch.cat([onehot_f, F.one_hot(y_p, K).to(noise.dtype)]), noise.repeat(2, 1))
            x_f, x_p = fakes[:m], fakes[m:]
            fake = module.discriminator(x_f).float()
            with torch.no_grad():
                real = module.discriminator(x_r).float()
            _, adversarial = self._adversarial_losses(real, fake, y_r, y_f)
            encoder = F.cross_entropy(module.encoder_logits(x_p), y_p)   # -log p_E(y_p | G(z, y_p)) on B2
        losses = {"loss": adversarial + self.alpha * encoder, "adversarial": adversarial, "encoder": encoder}
        return add_posterior_terms(self, losses, log_p_r, batch, lambda x: self._cluster_log_proba(module, x),
                                   ctx.generator)

    def _after_fit(self, ctx):
        ctx.module.project_stds_()
        self.cluster_means_ = ctx.module.means.weight.detach().T.cpu().numpy().astype(np.float64)
        self.cluster_stds_ = ctx.module.stds.weight.detach().reshape(-1).cpu().numpy().astype(np.float64)
        super()._after_fit(ctx)

    def _cluster_proba(self, module, batch):
        return F.softmax(module.encoder_logits(module.scaler(batch)), dim=1)

    def _cluster_log_proba(self, module, batch):
        return F.log_softmax(module.encoder_logits(module.scaler(batch)), dim=1)

    # ----------------------------------------------------------- public API
    @property
    def _n_features_out(self):
        return self.latent_dim

    def transform(self, X):
        """Posterior mean of the latent code, sum_k p_E(k | x) mu_k.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            The mean of the posterior mixture p(z | x) = sum_k p_E(k | x)
            N(mu_k, sigma_k^2 I): a point near the mean of the row's cluster,
            between means where E is unsure.
        """
        return self._inference(lambda m, b: self._cluster_proba(m, b) @ m.means.weight.T.float(), X)

    def _draw(self, n_samples, rng):
        clusters = rng.randint(self.n_clusters, size=n_samples)
        noise = rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        return clusters, np.hstack([np.eye(self.n_clusters, dtype=np.float32)[clusters], noise])

    def _generate(self, module, onehot_noise):
        onehot, noise = onehot_noise[:, :self.n_clusters], onehot_noise[:, self.n_clusters:]
        return module.scaler.inverse(module.generate(onehot, noise).float())

    def sample(self, n_samples=1):
        """Generate rows: a uniform cluster y, then G(mu_y + sigma_y z), z ~ N(0, I).

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
            The latent cluster each row was generated from.
        """
        n_samples = self._check_sample_request(n_samples)
        clusters, inputs = self._draw(n_samples, check_random_state(self.random_state))
        return self._forward_array(self._generate, inputs), clusters.astype(np.int64)

    def score(self, X, y=None):
        """Minus the squared MMD between X and as many generated rows (higher is better).

        The biased estimate of MMD^2 (:func:`skdeepgen.kernels.mmd2`) between
        the rows of X and ``len(X)`` rows of :meth:`sample`, both in the
        model's standardised space, with a Gaussian kernel whose five
        bandwidths are the median squared distance of X times (0.25, 0.5, 1,
        2, 4). It needs no labels and measures the generative fit (how well
        the generated rows match X), not the clustering; for that, use a
        labelled scorer from :data:`skdeepgen.metrics.scorers`. The draws
        come from ``random_state`` (0 when it is None), so the score of a
        model on the same X is repeatable. The cost is quadratic in the
        number of rows (kernel tiles of 1024 x 1024 keep the memory small).

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
        return self._mmd_score(X, lambda n, rng: self._forward_array(
            lambda m, b: m.generate(b[:, :self.n_clusters], b[:, self.n_clusters:]), self._draw(n, rng)[1]))
