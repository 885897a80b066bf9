"""A fully connected autoencoder as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn
from torch.nn import functional as F

from ._training import make_adam
from .base import BaseDeepModel
from .networks import ACTIVATIONS, check_layer_sizes, make_mlp

__all__ = ["Autoencoder"]

_ACTIVATIONS = set(ACTIVATIONS)


class AutoencoderModule(nn.Module):
    """Encoder and decoder MLPs; ``forward`` reconstructs its input."""

    def __init__(self, n_features, encoder_layers, n_components, decoder_layers,
                 activation, batch_norm, dropout, output_activation):
        super().__init__()
        decoder_layers = tuple(reversed(encoder_layers)) if decoder_layers is None else tuple(decoder_layers)
        common = dict(activation=activation, batch_norm=batch_norm, dropout=dropout)
        self.encoder = make_mlp((n_features, *encoder_layers, n_components), **common)
        self.decoder = make_mlp((n_components, *decoder_layers, n_features),
                                output_activation=output_activation, **common)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Autoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepModel):
    """Fully connected autoencoder trained on the mean squared reconstruction error.

    ``transform`` gives the codes, ``inverse_transform`` decodes them.
    ``make_pipeline(Autoencoder(), KMeans(10))`` is the AE+KMeans baseline of
    the deep clustering literature. The default architecture is DEC's
    d-500-500-2000-10 encoder with a mirrored decoder and a linear output.

    Parameters
    ----------
    n_components : int, default=10
        Size of the code (the bottleneck layer).
    encoder_layers : tuple of int, default=(500, 500, 2000)
        Hidden layer sizes of the encoder, from the input side.
    decoder_layers : tuple of int or None, default=None
        Hidden layer sizes of the decoder, from the code side; None mirrors
        the encoder.
    activation : {"relu", "leaky_relu", "elu", "tanh", "sigmoid", "selu", "gelu", "identity"}, default="relu"
        Hidden-layer activation.
    output_activation : {"sigmoid", "tanh", ...} or None, default=None
        Activation of the reconstruction; None is linear (right for data of
        any scale), "sigmoid" suits data in [0, 1].
    batch_norm : bool, default=False
        Batch normalisation after each hidden linear layer.
    dropout : float, default=0.0
        Dropout rate after each hidden activation.
    input_dropout : float, default=0.0
        Denoising: the fraction of input features zeroed (and the rest scaled
        by 1 / (1 - input_dropout)) in each training minibatch, while the
        loss still compares with the clean input. DEC's stacked denoising
        autoencoder uses 0.2. ``transform`` never corrupts.
    batch_size : int, default=256
        Minibatch size.
    max_epochs : int, default=100
        Maximum number of epochs.
    learning_rate : float, default=1e-3
        Step size of the optimizer.
    optimizer : {"adam", "sgd"}, default="adam"
        Adam, or SGD with momentum 0.9. DEC's reference pretraining of the
        MNIST autoencoder is SGD with ``learning_rate=1.0`` (the loss is a
        mean over features, so its gradients are small); on MNIST it gives
        codes on which K-means is markedly more accurate than after Adam.
    device : str or torch.device, default="auto"
        "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:1"...;
        resolved at every call.
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Arithmetic of forward passes; "bf16" is bfloat16 autocast, "auto"
        uses it only where the hardware has bf16 units.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, minibatch order and dropout. The global RNG
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
        The trained networks (``module_.encoder``, ``module_.decoder``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        One record per epoch: ``epoch``, ``loss`` (mean squared error),
        ``seconds``.

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepgen import Autoencoder
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(n_components=5, encoder_layers=(32,), max_epochs=3, random_state=0)
    >>> ae.fit_transform(X).shape
    (1797, 5)
    """

    _parameter_constraints: dict = {
        **BaseDeepModel._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder_layers": [tuple, list],
        "decoder_layers": [tuple, list, None],
        "activation": [StrOptions(_ACTIVATIONS)],
        "output_activation": [StrOptions(_ACTIVATIONS), None],
        "batch_norm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions({"adam", "sgd"})],
    }

    def __init__(self, n_components=10, *, encoder_layers=(500, 500, 2000), decoder_layers=None,
                 activation="relu", output_activation=None, batch_norm=False, dropout=0.0,
                 input_dropout=0.0, batch_size=256, max_epochs=100, learning_rate=1e-3, optimizer="adam",
                 device="auto", precision="fp32", random_state=None, verbose=0, tol=1e-4, n_iter_no_change=10):
        self.n_components = n_components
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.activation = activation
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.optimizer = optimizer
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

    def _build_module(self):
        return AutoencoderModule(
            self.n_features_in_, tuple(self.encoder_layers), self.n_components,
            None if self.decoder_layers is None else tuple(self.decoder_layers),
            self.activation, self.batch_norm, self.dropout, self.output_activation,
        )

    def _configure_optimizers(self, ctx):
        return {"main": make_optimizer(self.optimizer, ctx.module.parameters(), self.learning_rate)}

    def _training_step(self, ctx, batch, step_name):
        return {"loss": F.mse_loss(ctx.module(corrupt(ctx, batch, self.input_dropout)).float(), batch)}

    # public API
    @property
    def _n_features_out(self):
        return self.n_components

    def transform(self, X):
        """Encode ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes, in X's float dtype.
        """
        return self._inference(lambda module, batch: module.encoder(batch), X)

    def inverse_transform(self, X):
        """Decode codes back to the data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, for example from :meth:`transform`.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features_in_)
            Reconstructions.
        """
        Z, dtype = _check_codes(self, X, "inverse_transform")
        return self._forward_array(lambda module, batch: module.decoder(batch), Z, out_dtype=dtype)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Minus the reconstruction error averaged over samples and features.
        """
        def squared_error(module, batch):
            return ((module(batch).float() - batch) ** 2).mean(dim=1)

        return -float(np.mean(self._inference(squared_error, X)))



def make_optimizer(name, params, lr):
    """"adam" (fused where supported) or "sgd" (momentum 0.9, as DEC's reference code)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return make_adam(params, lr=lr)


def corrupt(ctx, batch, rate):
    """Input dropout from the fit's generator: zero a ``rate`` fraction, rescale the rest."""
    if rate == 0:
        return batch
    keep = ctx.rand(*batch.shape) >= rate
    return batch * keep / (1.0 - rate)


def _check_codes(estimator, X, method):
    """Validate latent codes for ``method``; return them as float32 and X's float dtype."""
    check_is_fitted(estimator)
    Z = check_array(X, dtype=[np.float64, np.float32])
    if Z.shape[1] != estimator.n_components:
        raise ValueError(
            f"X has {Z.shape[1]} features, but {type(estimator).__name__}.{method} is "
            f"expecting codes of n_components={estimator.n_components} features as input."
        )
    return Z.astype(np.float32, copy=False), Z.dtype
