"""A fully connected autoencoder as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn
from torch.nn import functional as F

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
    batch_size : int, default=256
        Minibatch size.
    max_epochs : int, default=100
        Maximum number of epochs.
    learning_rate : float, default=1e-3
        Adam step size.
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
    }

    def __init__(self, n_components=10, *, encoder_layers=(500, 500, 2000), decoder_layers=None,
                 activation="relu", output_activation=None, batch_norm=False, dropout=0.0,
                 batch_size=256, max_epochs=100, learning_rate=1e-3, device="auto", precision="fp32",
                 random_state=None, verbose=0, tol=1e-4, n_iter_no_change=10):
        self.n_components = n_components
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.activation = activation
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        self.dropout = dropout
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

    def _build_module(self):
        return AutoencoderModule(
            self.n_features_in_, tuple(self.encoder_layers), self.n_components,
            None if self.decoder_layers is None else tuple(self.decoder_layers),
            self.activation, self.batch_norm, self.dropout, self.output_activation,
        )

    def _training_step(self, ctx, batch, step_name):
        return {"loss": F.mse_loss(ctx.module(batch).float(), batch)}

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
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}.inverse_transform is "
                f"expecting codes of n_components={self.n_components} features as input."
            )
        Z32 = Z.astype(np.float32, copy=False)
        return self._forward_array(lambda module, batch: module.decoder(batch), Z32, out_dtype=Z.dtype)

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

