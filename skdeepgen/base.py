"""The scikit-learn shell shared by every skdeepgen estimator.

:class:`BaseDeepModel` owns the public surface (``fit``, parameter checks,
devices, precision, seeding, batched inference, pickling, ``save``/``load``)
the way scikit-learn's ``BaseMixture`` owns ``fit``/``predict``/``sample``;
a model subclass fills in a handful of ``_``-hooks:

``_build_module()``
    Return the ``torch.nn.Module`` holding every network, from the parameters
    and the fitted input width ``n_features_in_``.
``_training_step(ctx, batch, step_name)``
    Return a dict of scalar losses; ``"loss"`` is back-propagated.
``_configure_optimizers(ctx)`` / ``_step_schedule()``
    Optimizers by name, and how many steps each takes per minibatch.
``_initialize(ctx)`` / ``_on_epoch_end(ctx, record)`` / ``_after_fit(ctx)``
    Optional: work before the loop (pretraining, K-means), per epoch (early
    exits), after it (``labels_``).
``_check_params(X)``
    Optional: checks that need the data or go beyond the declarative
    ``_parameter_constraints``.
``_fit_targets(X, y)``
    Optional: validate the ``y`` passed to ``fit`` for a model that learns
    from it (a classifier); the result reaches the hooks as ``ctx.y``. The
    default ignores ``y``, so a clusterer never sees labels.
"""

from __future__ import annotations

import os
import pickle
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._distributed import check_batch_for_ranks, resolve_training_device, shared_seed, world
from ._runtime import (
    PRECISIONS,
    autocast,
    flushed_denormals,
    isolated_rng,
    resolve_device,
    resolve_precision,
    resolve_seed,
)
from ._training import TrainContext, TrainingDivergedError, make_adam, run_training
from .kernels import median_bandwidths, mmd2

__all__ = ["BaseDeepModel", "BaseDeepClusterer", "TrainingDivergedError"]

_FORMAT = "skdeepgen-model"
_FORMAT_VERSION = 1

# Rows per forward pass at inference: large enough to keep the matmuls
# efficient, small enough that a 2000-unit hidden layer stays a few MB.
_INFERENCE_ROWS = 4096
# Rows of each kernel tile of the MMD scores: memory O(tile^2), cost still O(n^2).
_SCORE_BLOCK = 1024


class BaseDeepModel(BaseEstimator):
    """Base class of every skdeepgen estimator (not for direct use).

    It stores the common training parameters, validates data, seeds and
    isolates randomness, runs the shared training loop and handles devices,
    precision, pickling and weights-only persistence. Subclasses list their
    full parameter set in ``__init__`` (scikit-learn reads it from there) and
    implement the hooks described in the module docstring.

    Common parameters
    -----------------
    batch_size : int
        Minibatch size (capped at the number of samples).
    max_epochs : int
        Maximum number of passes over the data.
    learning_rate : float
        Step size of the optimizers.
    device : {"auto", "cpu", "cuda", ...} or torch.device
        Where to train and infer. ``"auto"`` means CUDA when available, else
        the CPU, resolved at every call: ``set_params(device="cpu")`` moves a
        fitted model.
    precision : {"fp32", "bf16", "auto"}
        Arithmetic of the forward passes. ``"bf16"`` runs them under bfloat16
        autocast (weights stay fp32); ``"auto"`` picks bf16 only where the
        hardware has bf16 units.
    random_state : int, RandomState instance or None
        Seeds every random draw of ``fit``. The caller's global numpy, torch
        and ``random`` states are left untouched.
    verbose : int
        0 prints nothing; 1 prints one line per epoch; 2 adds start and stop
        lines.
    tol : float
        Relative improvement of the monitored loss that resets the early
        stopping counter.
    n_iter_no_change : int or None
        Stop after this many epochs without such an improvement; None trains
        for ``max_epochs`` epochs.
    """

    _parameter_constraints: dict = {
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
    }

    #: History key watched by early stopping; None disables it (GAN losses
    #: do not decrease monotonically).
    _monitor = "loss"
    #: Smallest training set the model accepts.
    _min_samples = 2
    #: Private fitted attributes that ``save`` must keep besides those ending in "_".
    _extra_fitted_attrs: tuple = ()

    # ------------------------------------------------------------------ hooks
    def _build_module(self):
        raise NotImplementedError

    def _training_step(self, ctx, batch, step_name):
        raise NotImplementedError

    def _configure_optimizers(self, ctx):
        return {"main": make_adam(ctx.module.parameters(), lr=self.learning_rate)}

    def _step_schedule(self):
        return [("main", 1)]

    def _check_params(self, X):
        """Checks beyond ``_parameter_constraints``; may look at the data."""

    def _fit_targets(self, X, y):
        """Validated targets for the hooks (``ctx.y``); None ignores ``y``."""
        return None

    def _initialize(self, ctx):
        """Work before the training loop (pretraining, centroid init...)."""

    def _on_epoch_end(self, ctx, record):
        """Per-epoch work; return True to stop training."""
        return False

    def _after_fit(self, ctx):
        """Set model-specific fitted attributes from the trained module."""

    # -------------------------------------------------------------- the API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. It is validated and converted to float32; the
            caller's array is never modified. A read-only memory map is read
            minibatch by minibatch instead of being copied.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._clear_fitted()
        try:
            X, _ = self._validate_X(X, reset=True)
            y = self._fit_targets(X, y)
            self._check_params(X)
            check_batch_for_ranks(self.batch_size, X.shape[0], type(self).__name__)
            device = resolve_training_device(resolve_device(self.device), self.device)
            dtype = resolve_precision(self.precision, device)
            seed = shared_seed(resolve_seed(self.random_state), device)
            generator = torch.Generator().manual_seed(seed)
            rng = np.random.RandomState(seed % (2**32))
            with isolated_rng(seed), flushed_denormals():
                module = self._build_module().to(device)
                ctx = TrainContext(module=module, device=device, autocast_dtype=dtype,
                                   generator=generator, rng=rng, X=X, y=y)
                if self.verbose >= 2 and world()[0] == 0:
                    n_par = sum(p.numel() for p in module.parameters())
                    print(f"[{type(self).__name__}] {X.shape[0]} samples, {n_par} parameters, "
                          f"device={device}, precision={'bf16' if dtype else 'fp32'}", flush=True)
                self._initialize(ctx)
                history = run_training(
                    self, ctx, max_epochs=self.max_epochs, batch_size=self.batch_size,
                    verbose=self.verbose, tol=getattr(self, "tol", 0.0),
                    n_iter_no_change=getattr(self, "n_iter_no_change", None),
                )
                module.eval()
                self.module_ = module
                self.history_ = history
                self.n_iter_ = len(history)
                self._after_fit(ctx)
        except BaseException:
            # A failed fit must not leave an estimator that looks fitted.
            self._clear_fitted()
            raise
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ------------------------------------------------------------ internals
    def _validate_X(self, X, reset):
        X = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32],
            ensure_min_samples=self._min_samples if reset else 1,
        )
        # float32 is torch's working precision; astype leaves a float32 array
        # (a read-only memmap included) uncopied. The input dtype is returned
        # so that outputs can match it, as scikit-learn transformers do.
        return X.astype(np.float32, copy=False), X.dtype

    def _clear_fitted(self):
        fitted = [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]
        for key in fitted + list(self._extra_fitted_attrs):
            self.__dict__.pop(key, None)

    def _mmd_score(self, X, generate):
        """Minus the biased MMD^2 between X and ``len(X)`` generated rows, in the model's standardised space.

        ``generate(n, rng)`` returns ``n`` generated rows in that space (the
        space of ``module_.scaler``), drawing from the numpy ``rng``, which is
        seeded from ``random_state`` (0 when it is None) so that the score is
        repeatable. Gaussian kernel, five bandwidths around the median
        squared distance of X (:func:`skdeepgen.kernels.median_bandwidths`);
        tiles of ``_SCORE_BLOCK`` rows keep the memory small.
        """
        check_is_fitted(self)
        X, _ = self._validate_X(X, reset=False)
        if X.shape[0] < 2:
            raise ValueError(f"score needs at least 2 samples; got {X.shape[0]}.")
        rng = np.random.RandomState(0) if self.random_state is None else check_random_state(self.random_state)
        generated = generate(X.shape[0], rng)
        real = self._forward_array(lambda m, b: m.scaler(b), X)
        device = self._device()
        real, generated = (torch.from_numpy(a).to(device) for a in (real, generated))
        with torch.no_grad():
            bandwidths = median_bandwidths(real)
            return -float(mmd2(real, generated, bandwidths=bandwidths, block_size=_SCORE_BLOCK))

    def _check_sample_request(self, n_samples):
        """Validate ``sample``'s argument on a fitted model; return it as an int."""
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got n_samples={n_samples!r}.")
        return int(n_samples)

    def _device(self):
        """The device for this call; moves the fitted module there if needed."""
        device = resolve_device(self.device)
        if next(self.module_.parameters(), torch.empty(0)).device != device:
            self.module_.to(device)
        return device

    def _inference(self, fn, X):
        """Apply ``fn(module, batch)`` (-> tensor or tuple) to ``X`` in batches.

        Runs in eval mode under ``torch.no_grad()`` and the configured
        precision; returns numpy arrays in X's float dtype.
        """
        check_is_fitted(self)
        X, dtype = self._validate_X(X, reset=False)
        return self._forward_array(fn, X, out_dtype=dtype)

    def _forward_array(self, fn, X, out_dtype=np.float32, module=None):
        """Batched ``fn(module, batch)`` over a float32 array, without grad.

        ``module`` defaults to the fitted ``module_`` on the resolved device;
        a model passes ``ctx.module`` to run inference during ``fit``.
        """
        if module is None:
            device = self._device()
            module = self.module_
        else:
            device = next(module.parameters()).device
        dtype = resolve_precision(self.precision, device)
        was_training = module.training
        module.eval()
        n = X.shape[0]
        # One input buffer and preallocated outputs: allocating a fresh block
        # per step lets glibc's adaptive mmap threshold move the blocks onto
        # the heap, where the small outputs kept between them pin the freed
        # space (measured: 2.3 GB of growth while encoding a 1.5 GB array).
        buffer = np.empty((min(n, _INFERENCE_ROWS), *X.shape[1:]), dtype=np.float32)
        results = None
        with torch.no_grad(), autocast(device, dtype), flushed_denormals():
            for start in range(0, n, _INFERENCE_ROWS):
                rows = X[start:start + _INFERENCE_ROWS]
                block = buffer[:len(rows)]
                np.copyto(block, rows)
                out = fn(module, torch.from_numpy(block).to(device))
                out = out if isinstance(out, tuple) else (out,)
                if results is None:
                    results = tuple(np.empty((n, *o.shape[1:]), dtype=out_dtype) for o in out)
                for result, o in zip(results, out):
                    # Copied out before the buffer (which an output may alias) is refilled.
                    result[start:start + len(rows)] = o.float().cpu().numpy()
        module.train(was_training)
        return results if len(results) > 1 else results[0]

    # ----------------------------------------------------------- pickling
    def __getstate__(self):
        # A copy: object.__getstate__ may hand back the live __dict__.
        state = dict(super().__getstate__())
        module = state.pop("module_", None)
        if module is not None:
            # CPU tensors only: a model fitted on CUDA unpickles without CUDA.
            state["_module_state"] = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        return state

    def __setstate__(self, state):
        module_state = state.pop("_module_state", None)
        super().__setstate__(state)
        if module_state is not None:
            self._restore_module(module_state)

    def _restore_module(self, module_state):
        # Construction draws default inits from torch's global generator;
        # fork it so unpickling leaves the caller's random state alone.
        with torch.random.fork_rng(devices=[]):
            module = self._build_module()
        module.load_state_dict(module_state)
        module.eval()
        self.module_ = module

    # ------------------------------------------------------- persistence
    def save(self, path):
        """Save parameters and weights to ``path`` without pickled code.

        The file holds only tensors, numbers, strings, lists and dicts, so
        :meth:`load` reads it with ``torch.load(weights_only=True)`` and a
        model file cannot run code when it is opened.

        Parameters
        ----------
        path : str or path-like or file-like
            Destination.
        """
        check_is_fitted(self)
        params = {}
        for key, value in self.get_params(deep=False).items():
            if key == "random_state" and not (value is None or isinstance(value, Integral)):
                value = None  # a RandomState object is not data; the seed used is gone anyway
            if isinstance(value, BaseEstimator):
                value = None  # e.g. a pretrained network: it only matters to fit, its weights are in ours
            params[key] = _encode(value, f"parameter {key!r}")
        fitted = {}
        for key in [k for k in vars(self) if k.endswith("_") and k != "module_"] + list(self._extra_fitted_attrs):
            if hasattr(self, key):
                fitted[key] = _encode(getattr(self, key), f"attribute {key!r}")
        payload = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "class": type(self).__name__,
            "params": params,
            "fitted": fitted,
            "state_dict": {k: v.detach().cpu() for k, v in self.module_.state_dict().items()},
        }
        torch.save(payload, path)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like or file-like
            A file written by ``save`` of this class.

        Returns
        -------
        estimator : instance of cls
            The fitted estimator, on the CPU until a call resolves ``device``.

        Raises
        ------
        ValueError
            If the file is corrupt, is not a skdeepgen model file, holds
            anything beyond plain data (such a pickle is refused unopened), or
            was saved from another estimator class.
        """
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise
        except pickle.UnpicklingError as exc:
            raise ValueError(
                f"Refused to load {path!r}: weights-only loading found something other than "
                f"tensors and plain data (objects whose unpickling could run code), or no torch "
                f"file at all. It was not written by {cls.__name__}.save. ({exc})"
            ) from None
        except Exception as exc:  # torch raises many types for truncated or foreign bytes
            raise ValueError(
                f"Could not read {path!r} as a skdeepgen model file ({type(exc).__name__}: {exc})."
            ) from None
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path!r} is not a skdeepgen model file (no {_FORMAT!r} marker).")
        if payload.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(f"{path!r} was written by a newer skdeepgen (format {payload['format_version']}).")
        if payload["class"] != cls.__name__:
            raise ValueError(
                f"{path!r} holds a {payload['class']}, not a {cls.__name__}; "
                f"load it with {payload['class']}.load."
            )
        est = cls(**{k: _decode(v) for k, v in payload["params"].items()})
        for key, value in payload["fitted"].items():
            setattr(est, key, _decode(value))
        try:
            est._restore_module(payload["state_dict"])
        except (RuntimeError, KeyError) as exc:
            raise ValueError(
                f"The weights in {path!r} do not fit a {cls.__name__} with its parameters: {exc}"
            ) from None
        return est


class BaseDeepClusterer(ClusterMixin, BaseDeepModel):
    """Base of the deep clusterers: ``predict``, ``predict_proba``, ``labels_``.

    A clusterer implements ``_cluster_proba(module, batch)`` returning the
    soft assignments of a batch (rows sum to 1); the base derives
    ``predict_proba``, ``predict`` (the argmax), ``fit_predict`` and sets
    ``labels_`` on the training data after ``fit``.
    """

    def _cluster_proba(self, module, batch):
        raise NotImplementedError

    def _check_n_clusters(self, X):
        if self.n_clusters > X.shape[0]:
            raise ValueError(f"n_clusters={self.n_clusters} is larger than the number of samples ({X.shape[0]}).")

    def _after_fit(self, ctx):
        proba = self._forward_array(self._cluster_proba, ctx.X, module=ctx.module)
        self.labels_ = proba.argmax(axis=1).astype(np.int64)

    def predict_proba(self, X):
        """Soft cluster assignments.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Each row sums to 1.
        """
        return self._inference(self._cluster_proba, X)

    def predict(self, X):
        """Cluster of each sample: the most probable one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int64
            Cluster indices from 0.
        """
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)


def _encode(value, what):
    """Turn numpy values into the plain types weights-only loading accepts."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(value))}
        if value.dtype.kind in "OUS":
            return {"__strarray__": [str(v) for v in value.ravel()], "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dict):
        return {str(k): _encode(v, what) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode(v, what) for v in value)
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, np.dtype):
        return {"__dtype__": value.str}
    raise TypeError(f"Cannot save {what} of type {type(value).__name__}.")


def _decode(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return value["__ndarray__"].numpy()
        if "__strarray__" in value:
            return np.array(value["__strarray__"], dtype=object).reshape(value["shape"])
        if "__dtype__" in value:
            return np.dtype(value["__dtype__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v) for v in value)
    return value

