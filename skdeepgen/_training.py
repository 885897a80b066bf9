"""The one training loop every skdeepgen estimator runs.

A model supplies hooks (see :class:`skdeepgen.base.BaseDeepModel`): its
optimizers, a schedule saying which optimizer steps how many times per
minibatch (adversarial models step a discriminator and a generator in turn),
and a training step that returns its losses. Everything else lives here once:
seeded minibatch order, precision, the NaN guard, early stopping, progress
output and the per-epoch history.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import torch

from ._distributed import GradientAverager, all_reduce_epoch, broadcast_module, world
from ._runtime import autocast

__all__ = ["TrainingDivergedError", "TrainContext", "Batcher", "check_betas", "make_adam", "run_training"]


class TrainingDivergedError(FloatingPointError):
    """Raised when a training loss becomes NaN or infinite."""


@dataclass
class TrainContext:
    """What a model's hooks see during ``fit``.

    Attributes
    ----------
    module : torch.nn.Module
        The networks being trained.
    device : torch.device
        Where training runs.
    autocast_dtype : torch.dtype or None
        ``torch.bfloat16`` under bf16 precision, None for fp32.
    generator : torch.Generator
        CPU generator seeded from ``random_state``; the only source of
        randomness for minibatch order and model-side sampling. In a
        data-parallel fit, the training loop replaces it by a per-rank
        generator for model-side sampling (the shuffle keeps the shared one).
    rng : numpy.random.RandomState
        Seeded numpy generator for scikit-learn calls (K-means inits, ...).
    X : numpy.ndarray
        The validated float32 training data.
    y : numpy.ndarray or None
        The validated targets of a model that uses them (``_fit_targets``),
        else None.
    epoch : int
        Current epoch, from 1.
    iteration : int
        Minibatches seen so far over the whole fit.
    optimizers : dict
        Name -> optimizer, as returned by the model's hook.
    batch_index : torch.Tensor or None
        Row indices (into ``X``) of the current minibatch, for models that
        keep per-sample state such as DEC's target distribution.
    state : dict
        Scratch space a model keeps across steps during one fit.
    stop : bool
        Set by a model to end training after the current minibatch.
    """

    module: torch.nn.Module
    device: torch.device
    autocast_dtype: torch.dtype | None
    generator: torch.Generator
    rng: np.random.RandomState
    X: np.ndarray
    y: np.ndarray | None = None
    epoch: int = 0
    iteration: int = 0
    optimizers: dict = field(default_factory=dict)
    batch_index: torch.Tensor | None = None
    state: dict = field(default_factory=dict)
    stop: bool = False

    def autocast(self):
        """Context manager for the configured precision."""
        return autocast(self.device, self.autocast_dtype)

    def randn(self, *shape):
        """Standard normal draws from the fit's generator, on the device."""
        return torch.randn(*shape, generator=self.generator).to(self.device)

    def rand(self, *shape):
        """Uniform [0, 1) draws from the fit's generator, on the device."""
        return torch.rand(*shape, generator=self.generator).to(self.device)

    def categorical(self, proba, n=None):
        """Categories drawn by inverse CDF from the fit's generator.

        ``proba`` is either (n, K), one distribution per row, or (K,), one
        distribution shared by ``n`` draws. ``torch.multinomial`` cannot take
        the fit's CPU generator for rows on a GPU, hence the inverse CDF.
        """
        cdf = proba.float().cumsum(dim=-1)
        if cdf.ndim == 1:
            cdf = cdf[None, :]
        else:
            n = cdf.shape[0]
        return (cdf < self.rand(n, 1)).sum(dim=1).clamp(max=cdf.shape[1] - 1)


class Batcher:
    """Seeded minibatches over a float32 array.

    A writable in-memory array is wrapped once as a tensor on the device and
    indexed there. A read-only array (a memory map, say) is gathered batch by
    batch with numpy, so the whole array is never copied into memory. Both
    paths use the same permutation, hence give the same batches.

    With ``world_size > 1`` (data-parallel training), each global minibatch
    of ``batch_size`` rows is dealt out to the ranks, rank ``r`` taking rows
    ``r, r + world_size, ...`` of it: ``DistributedSampler``'s sharding of
    one shared permutation, with ``batch_size`` keeping its single-process
    meaning (the global batch), so a data-parallel fit takes the same
    optimizer steps as a single-process one.

    With ``batch_size > 1``, a final batch that would give a rank a single
    row is dropped: batch normalisation cannot train on it, and it would
    weigh one sample as much as a full batch.
    """

    def __init__(self, X, batch_size, device, generator, rank=0, world_size=1):
        self.n_samples = X.shape[0]
        self.batch_size = min(int(batch_size), self.n_samples)
        self.device = device
        self.generator = generator
        self.rank, self.world_size = rank, world_size
        if X.flags.writeable:
            self._tensor = torch.from_numpy(np.ascontiguousarray(X)).to(device)
            self._array = None
        else:
            self._tensor = None
            self._array = X

    def _keeps(self, n_rows):
        return self.batch_size == 1 or n_rows >= 2 * self.world_size

    def __len__(self):
        n_full, rest = divmod(self.n_samples, self.batch_size)
        return n_full + (rest > 0 and self._keeps(rest))

    def __iter__(self):
        """Yield ``(row_indices, batch, n_global)`` for one epoch: this rank's rows and the global batch size."""
        perm = torch.randperm(self.n_samples, generator=self.generator)
        for start in range(0, self.n_samples, self.batch_size):
            idx = perm[start:start + self.batch_size]
            if not self._keeps(len(idx)):
                return
            n_global = len(idx)
            idx = idx[self.rank::self.world_size]
            if self._tensor is not None:
                yield idx, self._tensor[idx.to(self._tensor.device)], n_global
            else:
                yield idx, torch.from_numpy(self._array[idx.numpy()]).to(self.device), n_global


def check_betas(betas, param_name="betas"):
    """Adam's two betas as a tuple of floats in [0, 1); a clear error otherwise."""
    values = tuple(betas) if isinstance(betas, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(b, Real) and not isinstance(b, bool) and 0 <= b < 1 for b in values):
        raise ValueError(f"{param_name} must be two numbers in [0, 1); got {param_name}={betas!r}.")
    return tuple(float(b) for b in values)


def make_adam(params, lr, betas=(0.9, 0.999)):
    """Adam, fused into one kernel per step where this torch supports it.

    The fused CPU/CUDA implementation (torch >= 2.4) computes the same update
    as the default multi-tensor one; on the DEC autoencoder it cut the
    optimizer's share of a CPU step by about 3x. Older torch builds refuse
    ``fused=True`` on the CPU and get the default implementation.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=betas)


class _EarlyStopping:
    """Stop when the monitored loss stops improving by a relative ``tol``."""

    def __init__(self, tol, n_iter_no_change):
        self.tol = tol
        self.patience = n_iter_no_change
        self.best = math.inf
        self.bad_epochs = 0

    def should_stop(self, value):
        if self.patience is None or value is None:
            return False
        # Relative improvement: loss scales differ by orders of magnitude
        # between models and data, an absolute tol would not transfer.
        if value < self.best - self.tol * abs(self.best if math.isfinite(self.best) else value):
            self.best = value
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def _check_finite(record, epoch, name, learning_rate):
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise TrainingDivergedError(
            f"{name}: the training loss became {record[bad[0]]} at epoch {epoch} "
            f"(in {', '.join(bad)}). Training diverged; try a smaller learning_rate "
            f"(currently {learning_rate!r}), or check the scale of X."
        )


def run_training(estimator, ctx, *, max_epochs, batch_size, verbose=0, tol=0.0, n_iter_no_change=None):
    """Train ``ctx.module`` with the estimator's hooks; return the history.

    When a ``torch.distributed`` process group is initialised, the fit is
    data-parallel (see :mod:`skdeepgen._distributed`): every rank must call
    it with the same data and parameters, and a batch size that
    ``check_batch_for_ranks`` accepts (``BaseDeepModel.fit`` checks it).

    Parameters
    ----------
    estimator : BaseDeepModel
        Supplies ``_configure_optimizers``, ``_step_schedule``,
        ``_training_step``, ``_on_epoch_end`` and ``_monitor``.
    ctx : TrainContext
        Module, device, generators and data.
    max_epochs, batch_size, verbose, tol, n_iter_no_change
        As the estimator's parameters of the same names.

    Returns
    -------
    history : list of dict
        One record per epoch: ``epoch``, each logged loss averaged over the
        epoch's samples (over all ranks), and ``seconds``.
    """
    name = type(estimator).__name__
    rank, world_size = world()
    order = ctx.generator
    average = None
    if world_size > 1:
        # The fit's generator (same seed on every rank) now only shuffles, so
        # the epochs' permutations are those of a single-process fit. Noise
        # and dropout get per-rank streams, as rows of one large batch would.
        rank_seed = int(np.random.SeedSequence([ctx.generator.initial_seed(), rank]).generate_state(1)[0])
        ctx.generator = torch.Generator().manual_seed(rank_seed)
        torch.manual_seed(rank_seed)
        broadcast_module(ctx.module)
        average = GradientAverager(ctx.module)
    verbose = verbose if rank == 0 else 0
    ctx.optimizers = estimator._configure_optimizers(ctx)
    schedule = estimator._step_schedule()
    prefix = len(schedule) > 1
    batches = Batcher(ctx.X, batch_size, ctx.device, order, rank, world_size)
    stopper = _EarlyStopping(tol, n_iter_no_change)
    history = []
    for epoch in range(1, max_epochs + 1):
        ctx.epoch = epoch
        start = time.perf_counter()
        ctx.module.train()
        sums, seen = {}, 0
        for index, batch, n_global in batches:
            ctx.batch_index = index
            n = batch.shape[0]
            for step_name, repeat in schedule:
                optimizer = ctx.optimizers[step_name]
                for _ in range(repeat):
                    with ctx.autocast():
                        losses = estimator._training_step(ctx, batch, step_name)
                    optimizer.zero_grad(set_to_none=True)
                    losses["loss"].backward()
                    if average is not None:
                        average(optimizer, n, n_global)
                    optimizer.step()
                    for key, value in losses.items():
                        key = f"{step_name}_{key}" if prefix else key
                        # Accumulate on the device: no host sync per step.
                        sums[key] = sums.get(key, 0.0) + value.detach().float() * (n / repeat)
            seen += n
            ctx.iteration += 1
            if ctx.stop:
                break
        sums, seen = all_reduce_epoch(sums, seen, ctx.device)
        record = {"epoch": epoch}
        record.update({k: float(v) / seen for k, v in sums.items()})
        record["seconds"] = time.perf_counter() - start
        _check_finite(record, epoch, name, getattr(estimator, "learning_rate", None))
        stop = bool(estimator._on_epoch_end(ctx, record))
        history.append(record)
        if verbose:
            losses_text = "  ".join(f"{k}={v:.5g}" for k, v in record.items() if k not in ("epoch", "seconds"))
            print(f"[{name}] epoch {epoch:>4}/{max_epochs}  {losses_text}  ({record['seconds']:.2f}s)", flush=True)
        monitor = estimator._monitor
        if stop or ctx.stop or stopper.should_stop(record.get(monitor) if monitor else None):
            if verbose >= 2:
                print(f"[{name}] stopping after epoch {epoch}", flush=True)
            break
    return history
