"""Autoencoder pretraining shared by the models that start from one (DEC, IDEC, JGMMN).

Each of these models pretrains an autoencoder whose encoder becomes its own
embedding network, or reuses one the caller already fitted (``pretrained=``);
the rules for both live here once.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._training import TrainingDivergedError
from .autoencoder import Autoencoder

__all__ = ["pretraining_recipe", "resolve_pretrained", "pretrain_autoencoder"]

# pretrain_optimizer="auto": the SGD recipe for data that looks like images (many features in [0, 1]).
_IMAGE_MIN_FEATURES = 100
_AUTO_PRETRAIN_LR = {"sgd": 1.0, "adam": 1e-3}


def pretraining_recipe(X, optimizer="auto", learning_rate="auto"):
    """Resolve the "auto" pretraining optimizer and step size for the data X.

    "auto" is the DEC reference code's MNIST recipe (SGD, momentum 0.9, step
    1.0) when X looks like image data (at least 100 features, all in [0, 1]),
    and Adam at 1e-3 otherwise: SGD at 1.0 diverges on data with few features
    or of a larger scale.
    """
    if optimizer == "auto":
        image_like = X.shape[1] >= _IMAGE_MIN_FEATURES and float(X.min()) >= 0 and float(X.max()) <= 1
        optimizer = "sgd" if image_like else "adam"
    return optimizer, (_AUTO_PRETRAIN_LR[optimizer] if learning_rate == "auto" else float(learning_rate))


def resolve_pretrained(pretrained, n_features=None):
    """Return the fitted Autoencoder a ``pretrained`` parameter designates, or None.

    Accepts None, the path of a file written by ``Autoencoder.save``, a fitted
    Autoencoder or a ``sklearn.frozen.FrozenEstimator`` of one. With
    ``n_features``, refuse one fitted on another number of features.
    """
    if pretrained is None:
        return None
    if isinstance(pretrained, (str, os.PathLike)):
        if not os.path.exists(pretrained):
            raise FileNotFoundError(f"pretrained={pretrained!r}: no such file (expected one written by "
                                    f"Autoencoder.save).")
        return Autoencoder.load(pretrained)
    original = pretrained
    inner = getattr(pretrained, "estimator", None)  # sklearn.frozen.FrozenEstimator
    if not isinstance(pretrained, Autoencoder) and isinstance(inner, Autoencoder):
        pretrained = inner
    if not isinstance(pretrained, Autoencoder):
        raise TypeError(
            f"The 'pretrained' parameter must be None, the path of a file written by Autoencoder.save, "
            f"or a fitted Autoencoder; got pretrained={original!r}."
        )
    check_is_fitted(pretrained, msg="The 'pretrained' Autoencoder is not fitted; fit it or pass None.")
    if n_features is not None and pretrained.n_features_in_ != n_features:
        raise ValueError(f"The pretrained Autoencoder was fitted on {pretrained.n_features_in_} features, "
                         f"but X has {n_features}.")
    return pretrained


def pretrain_autoencoder(estimator, ctx, architecture, epochs, optimizer, learning_rate):
    """Fit an Autoencoder of ``architecture`` on ``ctx.X`` for ``estimator``.

    Seeded from the fit's generator, on the fit's device and precision. A
    divergence is re-raised naming the estimator's pretraining parameters.
    """
    autoencoder = Autoencoder(
        **architecture, batch_size=estimator.batch_size, max_epochs=epochs, learning_rate=learning_rate,
        optimizer=optimizer, device=ctx.device, precision=estimator.precision,
        random_state=int(ctx.rng.randint(np.iinfo(np.int32).max)), verbose=estimator.verbose,
        n_iter_no_change=None,
    )
    try:
        return autoencoder.fit(ctx.X)
    except TrainingDivergedError as exc:
        raise TrainingDivergedError(
            f"{type(estimator).__name__}: the autoencoder pretraining diverged "
            f"(pretrain_optimizer={optimizer!r}, pretrain_learning_rate={learning_rate!r}). Lower "
            f"pretrain_learning_rate, or use pretrain_optimizer='adam' (Adam at 1e-3 trains on any scaled "
            f"data), or scale X, for example with MinMaxScaler. ({exc})"
        ) from None
