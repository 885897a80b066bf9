"""Data-parallel training over an initialised ``torch.distributed`` process group.

skdeepgen does not launch processes: when a script runs under ``torchrun``
(or calls ``torch.distributed.init_process_group`` itself), every ``fit``
notices the group and trains data-parallel. The training loop stays the one
loop of :mod:`skdeepgen._training`; this module holds what it adds:

* one seed for every rank (rank 0's), so the epoch permutations agree;
* rank 0's initial weights broadcast to the others;
* after each backward pass, the gradients of the parameters that optimizer
  steps averaged across ranks (weighted by each rank's share of the global
  minibatch), together with the batch-norm running statistics, in one
  all-reduce per optimizer step. Every rank then applies the same update to
  the same weights, so the models stay identical without DDP's module
  wrapper, which cannot see our models' separate discriminator and
  generator steps;
* the epoch's loss sums reduced, so that ``history_``, early stopping and the
  NaN guard agree on every rank.
"""

from __future__ import annotations

import os

import torch
from torch import nn

__all__ = ["world", "check_batch_for_ranks", "resolve_training_device", "shared_seed", "broadcast_module",
           "GradientAverager", "all_reduce_epoch"]


def world():
    """``(rank, world_size)`` of the initialised default group, else ``(0, 1)``."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_batch_for_ranks(batch_size, n_samples, name):
    """Refuse a global minibatch that cannot give every rank at least 2 rows."""
    world_size = world()[1]
    if world_size > 1 and min(batch_size, n_samples) < 2 * world_size:
        raise ValueError(
            f"{name}: data-parallel training over {world_size} ranks needs batch_size >= {2 * world_size} "
            f"(at least 2 rows per rank and minibatch); got batch_size={batch_size} and {n_samples} samples."
        )


def resolve_training_device(device, parameter):
    """Check that the group's backend can reduce tensors on ``device``.

    NCCL reduces CUDA tensors only. Under ``device="auto"`` with several GPUs
    on a node, each rank takes the GPU of its ``LOCAL_RANK`` (torchrun sets
    it) instead of all ranks sharing GPU 0.
    """
    if world()[1] == 1:
        return device
    if parameter == "auto" and device.type == "cuda" and device.index is None:
        local = int(os.environ.get("LOCAL_RANK", torch.cuda.current_device()))
        device = torch.device("cuda", local % torch.cuda.device_count())
    backend = str(torch.distributed.get_backend()).lower()
    if backend == "nccl" and device.type != "cuda":
        raise ValueError(
            f"The process group uses the NCCL backend, which reduces CUDA tensors only, but "
            f"device={parameter!r} resolved to {device}; use device='auto' or 'cuda' on GPUs, or a "
            f"gloo process group on CPUs."
        )
    return device


def shared_seed(seed, device):
    """Rank 0's ``seed`` on every rank (they differ when ``random_state=None``)."""
    if world()[1] == 1:
        return seed
    value = torch.tensor([seed], dtype=torch.int64, device=device)
    torch.distributed.broadcast(value, src=0)
    return int(value.item())


def broadcast_module(module):
    """Copy rank 0's parameters and buffers to every rank, in place."""
    if world()[1] == 1:
        return
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            torch.distributed.broadcast(tensor.data, src=0)


def _running_stats(module):
    stats = []
    for sub in module.modules():
        if isinstance(sub, nn.modules.batchnorm._NormBase) and sub.track_running_stats:
            stats += [t for t in (sub.running_mean, sub.running_var) if t is not None]
    return stats


class GradientAverager:
    """Averages each optimizer step's gradients across ranks in one all-reduce.

    Parameters
    ----------
    module : torch.nn.Module
        The trained networks; their batch-norm running statistics are averaged
        with every step's gradients (they change in every forward pass).
    """

    def __init__(self, module):
        self.rank, self.world_size = world()
        self.stats = _running_stats(module)

    def __call__(self, optimizer, n_local, n_global):
        """Replace the gradients of ``optimizer``'s parameters by their cross-rank mean.

        Each rank's loss is a mean over its ``n_local`` rows of a global
        minibatch of ``n_global`` rows, so the global gradient is the sum over
        ranks of ``n_local / n_global`` times the local one.
        """
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        weight = n_local / n_global
        flat = torch.cat([p.grad.reshape(-1) * weight for p in params]
                         + [s.reshape(-1).float() / self.world_size for s in self.stats])
        torch.distributed.all_reduce(flat)
        offset = 0
        for tensor in [p.grad for p in params] + self.stats:
            n = tensor.numel()
            tensor.copy_(flat[offset:offset + n].view_as(tensor))
            offset += n


def all_reduce_epoch(sums, seen, device):
    """Sum an epoch's loss sums (dict of 0-d tensors) and row count over ranks."""
    if world()[1] == 1:
        return sums, seen
    keys = sorted(sums)
    flat = torch.stack([sums[k].float().to(device) for k in keys]
                       + [torch.tensor(float(seen), device=device)])
    torch.distributed.all_reduce(flat)
    return dict(zip(keys, flat[:-1])), int(round(float(flat[-1])))
