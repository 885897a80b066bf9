"""Kernels, squared MMD and joint MMD on PyTorch tensors.

These primitives are shared by the moment-matching models (JGMMN, GAMN). All
functions take and return torch tensors, keep the autograd graph (so an MMD
can be minimised or maximised directly) and work on any floating dtype and
device.

Bandwidth conventions
---------------------
Every kernel is a *sum* (not a mean) of components, one per bandwidth, as in
the code of the GMMN and JGMMN papers.

``"gaussian"``
    ``k(a, b) = sum_s exp(-||a - b||^2 / (2 s))``. **Each bandwidth ``s`` is a
    variance** (``sigma^2``), not a standard deviation. This is the convention
    of the original GMMN code, so the JGMMN paper's bandwidths
    ``(2, 5, 10, 20, 40, 80)`` keep the meaning they had there. To use a
    standard deviation ``sigma`` pass ``sigma ** 2``.
``"laplacian"``
    ``k(a, b) = sum_s exp(-||a - b|| / s)``; each ``s`` is a length scale in
    the units of the data (a distance, not a squared distance).
``"imq"`` (inverse multiquadric)
    ``k(a, b) = sum_c c / (c + ||a - b||^2)``, the form used by Tolstikhin et
    al. (Wasserstein auto-encoders); each ``c`` is in the units of a squared
    distance. Every component equals 1 at ``a = b``.

Each component equals 1 on the diagonal, so ``k(a, a)`` is the number of
bandwidths for all three kernels.

Median heuristic
----------------
:func:`median_heuristic` returns the median ``m`` of the off-diagonal pairwise
squared distances. With ``bandwidths="median"`` the bandwidths become
``base * MEDIAN_MULTIPLIERS`` where ``base`` is ``m`` for the Gaussian kernel
(so ``sigma`` is the median distance, Gretton et al.'s heuristic, and the
component with multiplier 1 equals ``exp(-1/2)`` at the median distance),
``sqrt(m)`` (the median distance) for the Laplacian kernel and ``m`` for the
IMQ kernel. The median is computed without gradient from the pooled sample of
the call (for example both samples of :func:`mmd2`).
"""

import math
import numbers

import numpy as np
import torch

from ._validation import check_option

__all__ = [
    "KERNELS",
    "MEDIAN_MULTIPLIERS",
    "check_bandwidths",
    "check_kernel",
    "joint_mmd2",
    "kernel_matrix",
    "median_bandwidths",
    "median_heuristic",
    "mmd2",
    "squared_distances",
]

#: Names of the supported kernels.
KERNELS = ("gaussian", "laplacian", "imq")

#: Multipliers applied to the median-based base bandwidth when
#: ``bandwidths="median"`` (see the module docstring).
MEDIAN_MULTIPLIERS = (0.25, 0.5, 1.0, 2.0, 4.0)

# Rows used by the median heuristic by default: the median of ~500k pairwise
# distances is plenty accurate and keeps the cost bounded for big batches.
_MEDIAN_MAX_SAMPLES = 1000


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------
def check_kernel(kernel, param_name="kernel"):
    """Validate a kernel name.

    Parameters
    ----------
    kernel : str
        One of :data:`KERNELS`: ``"gaussian"``, ``"laplacian"`` or ``"imq"``.
    param_name : str, default="kernel"
        Name of the parameter, used in the error message.

    Returns
    -------
    kernel : str
        The validated name.

    Raises
    ------
    TypeError
        If `kernel` is not a string.
    ValueError
        If `kernel` is not a known kernel name.
    """
    return check_option(kernel, KERNELS, param_name)


def check_bandwidths(bandwidths, param_name="bandwidths"):
    """Validate kernel bandwidths.

    Parameters
    ----------
    bandwidths : "median", float or sequence of float
        ``"median"`` (bandwidths chosen from the data at each call, see
        :func:`median_heuristic`), a single positive number, or a non-empty
        sequence (tuple, list, 1-D array or tensor) of positive finite numbers.
        For the Gaussian kernel each value is a variance ``sigma^2``.
    param_name : str, default="bandwidths"
        Name of the parameter, used in the error message.

    Returns
    -------
    bandwidths : "median" or tuple of float
        ``"median"`` unchanged, otherwise a tuple of Python floats.

    Raises
    ------
    TypeError
        If `bandwidths` is of the wrong type (another string, ``None``, a
        boolean, a nested sequence, ...).
    ValueError
        If `bandwidths` is empty or contains a non-positive or non-finite
        value.
    """
    if isinstance(bandwidths, str):
        if bandwidths == "median":
            return bandwidths
        raise TypeError(
            f"{param_name} must be 'median', a positive number or a non-empty "
            f"sequence of positive numbers; got the string {bandwidths!r}."
        )
    if isinstance(bandwidths, (numbers.Real, np.number)) and not isinstance(
        bandwidths, (bool, np.bool_)
    ):
        values = [bandwidths]
    elif isinstance(bandwidths, torch.Tensor):
        if (
            bandwidths.ndim > 1
            or bandwidths.is_complex()
            or bandwidths.dtype == torch.bool
        ):
            raise TypeError(
                f"{param_name} must be a 0-D or 1-D real tensor; got a tensor of "
                f"shape {tuple(bandwidths.shape)} and dtype {bandwidths.dtype}."
            )
        values = bandwidths.detach().reshape(-1).cpu().tolist()
    elif isinstance(bandwidths, (tuple, list, np.ndarray)):
        if isinstance(bandwidths, np.ndarray) and bandwidths.ndim > 1:
            raise TypeError(
                f"{param_name} must be one-dimensional; got an array of shape "
                f"{bandwidths.shape}."
            )
        values = (
            bandwidths.reshape(-1).tolist()
            if isinstance(bandwidths, np.ndarray)
            else list(bandwidths)
        )
    else:
        raise TypeError(
            f"{param_name} must be 'median', a positive number or a non-empty "
            f"sequence of positive numbers; got {bandwidths!r} of type "
            f"{type(bandwidths).__name__}."
        )
    if len(values) == 0:
        raise ValueError(f"{param_name} must not be empty; got {bandwidths!r}.")
    out = []
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, np.number)
        ):
            raise TypeError(
                f"{param_name} must contain only real numbers; got {value!r} of "
                f"type {type(value).__name__} in {bandwidths!r}."
            )
        value = float(value)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"{param_name} must contain only positive finite numbers; got "
                f"{value!r} in {bandwidths!r}."
            )
        out.append(value)
    return tuple(out)


def _check_kernel_pair(kernel):
    """Return ``(kernel_x, kernel_z)`` from a name or a pair of names."""
    if isinstance(kernel, (tuple, list)):
        if len(kernel) != 2:
            raise ValueError(
                "kernel must be a kernel name or a pair (kernel_x, kernel_z); "
                f"got {kernel!r}."
            )
        return check_kernel(kernel[0], "kernel[0]"), check_kernel(
            kernel[1], "kernel[1]"
        )
    kernel = check_kernel(kernel)
    return kernel, kernel


def _as_2d(t, name):
    """Return `t` as a 2-D floating tensor of shape (n_samples, n_features)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(t).__name__}.")
    if t.ndim < 2:
        raise ValueError(
            f"{name} must have shape (n_samples, n_features, ...); got shape "
            f"{tuple(t.shape)}."
        )
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    # Trailing dimensions (e.g. images) are features.
    return t.reshape(t.shape[0], math.prod(t.shape[1:]))


# --------------------------------------------------------------------------
# Distances and bandwidths
# --------------------------------------------------------------------------
def squared_distances(a, b=None):
    """Pairwise squared Euclidean distances, computed stably.

    Uses ``||a||^2 + ||b||^2 - 2 a b^T`` (one matrix product, no square root)
    on data centred by a common constant, clamped at zero so rounding can
    never produce a negative value.

    Parameters
    ----------
    a : torch.Tensor of shape (n, d, ...)
        First sample; dimensions after the first are flattened into features.
        Integer tensors are converted to the default floating dtype.
    b : torch.Tensor of shape (m, d, ...), default=None
        Second sample. ``None`` means ``a``; the diagonal is then exactly 0.

    Returns
    -------
    d2 : torch.Tensor of shape (n, m)
        ``d2[i, j] = ||a_i - b_j||^2``, differentiable with respect to both
        inputs.
    """
    a = _as_2d(a, "a")
    same = b is None
    b = a if same else _as_2d(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"a and b must have the same number of features; got {a.shape[1]} "
            f"and {b.shape[1]}."
        )
    if a.shape[0] > 0:
        # Distances are translation invariant; centring shrinks the norms and
        # with them the cancellation error of the expansion. The shift is a
        # constant (detached), so gradients are unchanged.
        shift = a.detach().mean(dim=0, keepdim=True)
        a = a - shift
        b = a if same else b - shift
    sq_a = (a * a).sum(dim=1)
    sq_b = sq_a if same else (b * b).sum(dim=1)
    d2 = sq_a[:, None] + sq_b[None, :] - 2.0 * (a @ b.T)
    d2 = d2.clamp(min=0.0)
    if same:
        eye = torch.eye(d2.shape[0], dtype=torch.bool, device=d2.device)
        d2 = d2.masked_fill(eye, 0.0)
    return d2


def _median_sq_distance(x, max_samples):
    """Median off-diagonal squared distance of `x`, as a detached 0-D tensor."""
    x = _as_2d(x, "x").detach()
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"The median heuristic needs at least 2 samples; got {n}.")
    if max_samples is not None:
        if (
            isinstance(max_samples, bool)
            or not isinstance(max_samples, numbers.Integral)
            or max_samples < 2
        ):
            raise ValueError(
                f"max_samples must be an integer >= 2 or None; got {max_samples!r}."
            )
        if n > max_samples:
            # Evenly spaced rows: deterministic, and touches no random state.
            idx = (
                torch.linspace(0, n - 1, int(max_samples), device=x.device)
                .round()
                .long()
            )
            x = x[idx]
            n = x.shape[0]
    d2 = squared_distances(x)
    iu = torch.triu_indices(n, n, offset=1, device=d2.device)
    values = d2[iu[0], iu[1]]
    k = values.numel()
    # A selection, not a sort: this runs at every training step with
    # bandwidths="median", and sorting ~500k values cost 40 ms of it.
    low = values.kthvalue((k - 1) // 2 + 1).values
    if k % 2:
        median = low
    else:
        above = values[values > low]
        # With ties at `low` the upper middle value is `low` itself.
        median = low if k - above.numel() >= k // 2 + 1 else 0.5 * (low + above.min())
    # Degenerate samples (all rows equal) would give a zero bandwidth: fall
    # back to the mean squared distance, then to 1.
    mean = values.mean()
    one = torch.ones((), dtype=median.dtype, device=median.device)
    fallback = torch.where(mean > 0, mean, one)
    return torch.where(median > 0, median, fallback)


def median_heuristic(x, y=None, max_samples=_MEDIAN_MAX_SAMPLES):
    """Median of the pairwise squared distances of a sample.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d, ...)
        Sample. Dimensions after the first are flattened into features.
    y : torch.Tensor of shape (m, d, ...), default=None
        Optional second sample, pooled with `x` (rows stacked) before taking
        the median.
    max_samples : int or None, default=1000
        If the pooled sample has more rows, an evenly spaced subsample of
        that many rows is used (deterministic, no random state is touched).
        ``None`` uses all rows (memory grows quadratically).

    Returns
    -------
    median : torch.Tensor of shape ()
        The median of ``||x_i - x_j||^2`` over pairs ``i < j``, computed
        without gradient (detached), on the device and dtype of the input.
        If it is 0 (many coincident rows) the mean squared distance is
        returned instead, and 1 if that is 0 as well. Call ``float()`` on it
        for a Python number.

    Notes
    -----
    The result is already a Gaussian bandwidth in this module's variance
    convention: with ``s = median`` the kernel ``exp(-d^2 / (2 s))`` has
    ``sigma`` equal to the median distance and is ``exp(-1/2)`` at the median
    distance. For the Laplacian kernel use ``sqrt(median)``.
    """
    if y is not None:
        x = torch.cat([_as_2d(x, "x").detach(), _as_2d(y, "y").detach()], dim=0)
    return _median_sq_distance(x, max_samples)


def _median_base(kernel, m):
    """Map a median squared distance to the kernel's base bandwidth."""
    return m.sqrt() if kernel == "laplacian" else m


def median_bandwidths(
    x,
    y=None,
    kernel="gaussian",
    multipliers=MEDIAN_MULTIPLIERS,
    max_samples=_MEDIAN_MAX_SAMPLES,
):
    """Fixed bandwidths from the median heuristic, as Python floats.

    Useful to freeze data-driven bandwidths once (for example at the start of
    ``fit``) instead of recomputing them at every call with
    ``bandwidths="median"``.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d, ...)
        Sample.
    y : torch.Tensor of shape (m, d, ...), default=None
        Optional second sample pooled with `x`.
    kernel : {"gaussian", "laplacian", "imq"}, default="gaussian"
        Kernel the bandwidths are for.
    multipliers : sequence of float, default=MEDIAN_MULTIPLIERS
        Factors applied to the base bandwidth.
    max_samples : int or None, default=1000
        See :func:`median_heuristic`.

    Returns
    -------
    bandwidths : tuple of float
        ``base * multiplier`` for each multiplier, where ``base`` is the median
        squared distance ``m`` for ``"gaussian"`` (a variance) and ``"imq"``,
        and ``sqrt(m)`` for ``"laplacian"`` (a length scale).
    """
    kernel = check_kernel(kernel)
    multipliers = check_bandwidths(multipliers, "multipliers")
    if multipliers == "median":
        raise TypeError(
            "multipliers must be a sequence of positive numbers; got 'median'."
        )
    base = float(_median_base(kernel, median_heuristic(x, y, max_samples=max_samples)))
    return tuple(base * mult for mult in multipliers)


def _resolve_bandwidths(bandwidths, kernel, pooled, param_name="bandwidths"):
    """Return bandwidths as a tuple of floats or a 1-D tensor.

    `pooled` is a callable returning the pooled sample, only evaluated for
    ``"median"``. A tensor is used as given (not validated, so no device
    synchronisation), which also allows learnable bandwidths.
    """
    if isinstance(bandwidths, torch.Tensor):
        return bandwidths.reshape(-1)
    bandwidths = check_bandwidths(bandwidths, param_name)
    if bandwidths == "median":
        m = _median_sq_distance(pooled(), _MEDIAN_MAX_SAMPLES)
        mult = torch.tensor(MEDIAN_MULTIPLIERS, dtype=m.dtype, device=m.device)
        return _median_base(kernel, m) * mult
    return bandwidths


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------
def _safe_sqrt(d2):
    """Square root with a finite (zero) gradient at 0."""
    positive = d2 > 0
    return torch.where(
        positive,
        torch.where(positive, d2, torch.ones_like(d2)).sqrt(),
        torch.zeros_like(d2),
    )


def _kernel_from_d2(d2, kernel, bandwidths):
    """Evaluate a kernel mixture from squared distances."""
    if kernel == "laplacian":
        dist = _safe_sqrt(d2)
    out = torch.zeros_like(d2)
    # A Python loop over a handful of bandwidths avoids a (S, n, m) temporary.
    for s in bandwidths:
        if kernel == "gaussian":
            out = out + torch.exp(d2 / (-2.0 * s))
        elif kernel == "laplacian":
            out = out + torch.exp(dist / (-s))
        else:  # imq
            out = out + s / (s + d2)
    return out


def kernel_matrix(a, b=None, kernel="gaussian", bandwidths=(1.0,)):
    """Kernel matrix of a mixture kernel.

    Parameters
    ----------
    a : torch.Tensor of shape (n, d, ...)
        First sample; dimensions after the first are flattened into features.
    b : torch.Tensor of shape (m, d, ...), default=None
        Second sample; ``None`` means ``a``.
    kernel : {"gaussian", "laplacian", "imq"}, default="gaussian"
        ``"gaussian"``: ``sum_s exp(-||a - b||^2 / (2 s))`` with each ``s`` a
        **variance** (``sigma^2``, GMMN convention);
        ``"laplacian"``: ``sum_s exp(-||a - b|| / s)`` with each ``s`` a
        length scale (the square root amplifies the rounding of tiny squared
        distances: about ``1e-8`` in float64 and ``1e-4`` in float32 between
        coincident rows of two different tensors);
        ``"imq"``: ``sum_c c / (c + ||a - b||^2)``.
    bandwidths : "median", float, sequence of float or torch.Tensor, \
default=(1.0,)
        One kernel component per value; the components are summed. ``"median"``
        uses the median heuristic on ``a`` and ``b`` pooled (see the module
        docstring). A tensor is used as given, without validation.

    Returns
    -------
    K : torch.Tensor of shape (n, m)
        ``K[i, j] = k(a_i, b_j)``; differentiable, and with finite gradients
        even where rows coincide.
    """
    kernel = check_kernel(kernel)

    def pooled():
        return a if b is None else torch.cat([_as_2d(a, "a"), _as_2d(b, "b")], dim=0)

    bandwidths = _resolve_bandwidths(bandwidths, kernel, pooled)
    return _kernel_from_d2(squared_distances(a, b), kernel, bandwidths)


# --------------------------------------------------------------------------
# MMD
# --------------------------------------------------------------------------
def _check_n(n, name, unbiased):
    minimum = 2 if unbiased else 1
    if n < minimum:
        estimator = "unbiased" if unbiased else "biased"
        raise ValueError(
            f"The {estimator} MMD estimator needs at least {minimum} samples in "
            f"{name}; got {n}."
        )


def _mmd2_from_kernels(kxx, kyy, kxy, unbiased):
    """Combine the three kernel blocks into a squared MMD estimate."""
    n, m = kxx.shape[0], kyy.shape[0]
    if unbiased:
        # U-statistic: the diagonal k(x_i, x_i) terms are left out.
        xx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        yy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    else:
        # V-statistic (JGMMN eq. 4): diagonals included; >= 0 up to rounding.
        xx = kxx.mean()
        yy = kyy.mean()
    return xx + yy - 2.0 * kxy.mean()


def mmd2(x, y, kernel="gaussian", bandwidths="median", unbiased=False, block_size=None):
    """Squared maximum mean discrepancy between two samples.

    ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`` with a mixture kernel.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d, ...)
        First sample.
    y : torch.Tensor of shape (m, d, ...)
        Second sample; `m` may differ from `n`.
    kernel : {"gaussian", "laplacian", "imq"}, default="gaussian"
        Kernel, see :func:`kernel_matrix`. For ``"gaussian"`` each bandwidth
        is a **variance** ``sigma^2``.
    bandwidths : "median", float, sequence of float or torch.Tensor, \
default="median"
        Kernel bandwidths, summed over. ``"median"`` uses
        ``base * MEDIAN_MULTIPLIERS`` with ``base`` from the median squared
        distance of `x` and `y` pooled (see the module docstring).
    unbiased : bool, default=False
        ``False``: biased V-statistic (includes the diagonal terms, as in the
        JGMMN paper's eq. 4); non-negative up to rounding and 0 when the
        samples are identical. ``True``: unbiased U-statistic (excludes the
        diagonals of the within-sample blocks); needs at least 2 samples on
        each side and can be negative.
    block_size : int or None, default=None
        ``None`` builds the three kernel matrices whole; an integer sums them
        in tiles of at most ``block_size`` by ``block_size`` (memory
        ``O(block_size^2)``, cost still quadratic), as in :func:`joint_mmd2`.

    Returns
    -------
    mmd2 : torch.Tensor of shape ()
        The estimate, differentiable with respect to `x` and `y`.
    """
    kernel = check_kernel(kernel)
    x = _as_2d(x, "x")
    y = _as_2d(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same number of features; got {x.shape[1]} "
            f"and {y.shape[1]}."
        )
    _check_n(x.shape[0], "x", unbiased)
    _check_n(y.shape[0], "y", unbiased)
    _check_block_size(block_size)
    bw = _resolve_bandwidths(bandwidths, kernel, lambda: torch.cat([x, y], dim=0))

    def block(a, b=None):
        return _kernel_from_d2(squared_distances(a[0], None if b is None else b[0]), kernel, bw)

    return _combine(block, (x,), (y,), unbiased, block_size, len(bw))


def joint_mmd2(
    x1,
    z1,
    x2,
    z2,
    kernel="gaussian",
    bandwidths_x="median",
    bandwidths_z="median",
    unbiased=False,
    block_size=None,
):
    """Squared joint MMD between two samples of pairs ``(x, z)``.

    Uses the product kernel ``k((x, z), (x', z')) = k_x(x, x') * k_z(z, z')``
    over the two blocks, each a mixture kernel with its own bandwidths
    (JGMMN eq. 9 / 15: data pairs ``(x, h(x))`` against generated pairs
    ``(g(z), z)``). Note that a product of two sums is not the mixture kernel
    on the concatenated vector.

    Parameters
    ----------
    x1 : torch.Tensor of shape (n, d_x, ...)
        First block of the first sample (e.g. the data ``x``).
    z1 : torch.Tensor of shape (n, d_z, ...)
        Second block of the first sample (e.g. the inferred codes ``h(x)``).
    x2 : torch.Tensor of shape (m, d_x, ...)
        First block of the second sample (e.g. the generated ``g(z)``).
    z2 : torch.Tensor of shape (m, d_z, ...)
        Second block of the second sample (e.g. the prior codes ``z``).
    kernel : str or (str, str), default="gaussian"
        Kernel name for both blocks, or a pair ``(kernel_x, kernel_z)``. For
        ``"gaussian"`` each bandwidth is a **variance** ``sigma^2``.
    bandwidths_x : "median", float, sequence of float or torch.Tensor, \
default="median"
        Bandwidths of ``k_x``; ``"median"`` uses `x1` and `x2` pooled.
    bandwidths_z : "median", float, sequence of float or torch.Tensor, \
default="median"
        Bandwidths of ``k_z``; ``"median"`` uses `z1` and `z2` pooled.
    unbiased : bool, default=False
        Biased V-statistic (``False``, the paper's estimator) or unbiased
        U-statistic (``True``, needs at least 2 pairs per sample).
    block_size : int or None, default=None
        ``None`` builds the three kernel matrices whole. An integer sums them
        in tiles of at most ``block_size`` rows by ``block_size`` columns, so
        memory stays ``O(block_size^2)`` while the cost is still quadratic in
        the number of pairs: the way to evaluate the JMMD of a large sample,
        typically under ``torch.no_grad()``.

    Returns
    -------
    jmmd2 : torch.Tensor of shape ()
        The estimate, differentiable with respect to all four inputs.
    """
    kernel_x, kernel_z = _check_kernel_pair(kernel)
    x1, z1, x2, z2 = (
        _as_2d(t, name) for t, name in ((x1, "x1"), (z1, "z1"), (x2, "x2"), (z2, "z2"))
    )
    if x1.shape[0] != z1.shape[0] or x2.shape[0] != z2.shape[0]:
        raise ValueError(
            "x1 and z1 (and x2 and z2) must have the same number of rows; got "
            f"{x1.shape[0]}, {z1.shape[0]} (and {x2.shape[0]}, {z2.shape[0]})."
        )
    if x1.shape[1] != x2.shape[1] or z1.shape[1] != z2.shape[1]:
        raise ValueError(
            "x1 and x2 (and z1 and z2) must have the same number of features; got "
            f"{x1.shape[1]}, {x2.shape[1]} (and {z1.shape[1]}, {z2.shape[1]})."
        )
    _check_n(x1.shape[0], "x1", unbiased)
    _check_n(x2.shape[0], "x2", unbiased)
    bw_x = _resolve_bandwidths(
        bandwidths_x, kernel_x, lambda: torch.cat([x1, x2], dim=0), "bandwidths_x"
    )
    bw_z = _resolve_bandwidths(
        bandwidths_z, kernel_z, lambda: torch.cat([z1, z2], dim=0), "bandwidths_z"
    )

    def block(a, b=None):
        kx = _kernel_from_d2(squared_distances(a[0], None if b is None else b[0]), kernel_x, bw_x)
        kz = _kernel_from_d2(squared_distances(a[1], None if b is None else b[1]), kernel_z, bw_z)
        return kx * kz

    diagonal = len(bw_x) * len(bw_z)
    return _combine(block, (x1, z1), (x2, z2), unbiased, block_size, diagonal)


def _check_block_size(block_size):
    if block_size is not None and (
        isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral) or block_size < 1
    ):
        raise ValueError(f"block_size must be a positive integer or None; got {block_size!r}.")


def _combine(block, first, second, unbiased, block_size, diagonal):
    """An MMD estimate from ``block(a, b)`` kernel matrices, whole or in tiles.

    `first` and `second` are tuples of tensors with one row per sample (one
    tensor for :func:`mmd2`, two blocks for :func:`joint_mmd2`); `diagonal`
    is the kernel's value at coincident points (its number of components).
    """
    _check_block_size(block_size)
    if block_size is None:
        return _mmd2_from_kernels(block(first), block(second), block(first, second), unbiased)

    def tiled_sum(a, b):
        total = 0.0
        for i in range(0, a[0].shape[0], block_size):
            for j in range(0, b[0].shape[0], block_size):
                total = total + block(tuple(t[i:i + block_size] for t in a),
                                      tuple(t[j:j + block_size] for t in b)).sum()
        return total

    n, m = first[0].shape[0], second[0].shape[0]
    xx, yy = tiled_sum(first, first), tiled_sum(second, second)
    if unbiased:
        # Every component is 1 at coincident points, so the diagonal of each
        # within-sample block is the number of components.
        xx, yy = (xx - n * diagonal) / (n * (n - 1)), (yy - m * diagonal) / (m * (m - 1))
    else:
        xx, yy = xx / (n * n), yy / (m * m)
    return xx + yy - 2.0 * tiled_sum(first, second) / (n * m)
