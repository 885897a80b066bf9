"""Device, precision and random-state plumbing shared by every estimator.

Everything here resolves a user-facing parameter value into a torch object at
the moment it is needed, so that ``set_params(device="cpu")`` on a fitted model
takes effect at the next call and nothing torch-specific is ever stored as a
parameter.
"""

from __future__ import annotations

import contextlib
from numbers import Integral

import numpy as np
import torch

__all__ = ["resolve_device", "resolve_precision", "resolve_seed", "isolated_rng", "autocast", "flushed_denormals"]

PRECISIONS = ("fp32", "bf16", "auto")


def _cpu_has_bf16():
    # get_cpu_capability() only reports the vector ISA ("AVX512"), not whether
    # the bf16 instructions exist; these probes ask the CPU directly.
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def resolve_device(device):
    """Turn the ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto"} or str or torch.device
        ``"auto"`` picks CUDA when it is available and the CPU otherwise.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the value is not a device name, or names CUDA on a machine without it.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"The 'device' parameter must be 'auto', 'cpu', 'cuda' or another torch "
            f"device name; got device={device!r}."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA, but torch.cuda.is_available() is False on "
            f"this machine; use device='auto' or device='cpu'."
        )
    return resolved


def resolve_precision(precision, device):
    """Return the autocast dtype for ``precision`` on ``device``, or None for fp32.

    ``"auto"`` picks bfloat16 only where the hardware has bf16 units (a CUDA
    device that reports bf16 support, or a CPU with AVX512-BF16 or AMX); on
    other CPUs bf16 is emulated and many times slower than fp32.
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto":
        if device.type == "cuda":
            # Only native bf16 (Ampere and later): emulated bf16 is slower than fp32.
            with torch.cuda.device(device):
                return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else None
        if device.type == "cpu":
            return torch.bfloat16 if _cpu_has_bf16() else None
        return None
    raise ValueError(f"The 'precision' parameter must be one of {PRECISIONS}; got precision={precision!r}.")


def autocast(device, dtype):
    """Context manager running the enclosed ops in ``dtype`` (no-op for None)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def resolve_seed(random_state):
    """Draw the integer seed of one ``fit`` from ``random_state``.

    An int is used as is. A ``RandomState`` instance is drawn from (the caller
    handed it over). ``None`` takes fresh OS entropy instead of drawing from
    numpy's global generator, so the caller's global state is never advanced.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**32)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        f"The 'random_state' parameter must be None, an int or a numpy RandomState; "
        f"got random_state={random_state!r}."
    )


def _denormals_flushed():
    # torch has no getter: a denormal input multiplied by one comes out as
    # zero exactly when flush-to-zero/denormals-are-zero is on.
    return (torch.tensor([1e-39], dtype=torch.float32) * 1.0).item() == 0.0


@contextlib.contextmanager
def flushed_denormals():
    """Flush denormal floats to zero on the CPU for the block, then restore.

    As training converges, optimizer states and activations drift into the
    denormal range, where x86 CPUs take a slow microcode path: on the MNIST
    autoencoder a bf16 epoch went from 3.1 s to about 7 s after two epochs
    without flushing, and stayed at 3.1 s with it. Values below 1.2e-38
    becoming zero changes nothing a model can represent. The caller's setting
    is put back afterwards.

    The flag is per thread: it reaches torch's worker threads only when they
    are started while it is on (they inherit it), i.e. when this fit is the
    first parallel torch work of the process. A program that does other torch
    work first should call ``torch.set_flush_denormal(True)`` at its start.
    """
    previous = _denormals_flushed()
    changed = not previous and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if changed:
            torch.set_flush_denormal(False)


@contextlib.contextmanager
def isolated_rng(seed):
    """Seed torch's global generators for the block and restore them after.

    Module constructors and dropout draw from torch's global generator; forking
    it keeps ``fit`` deterministic for a seed while leaving the caller's own
    torch (CPU and every CUDA device) random state exactly as it was.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
