"""Random image transformations for training on flattened image rows.

Shared by the semi-supervised game of :class:`~skdeepgen.SAMMClassifier`
(``label_shift``, ``label_rotation``, ``label_scale``) and the consistency
term that :class:`~skdeepgen.MMGANClustering` and
:class:`~skdeepgen.AMMClustering` share (``augment_*``, in
``_posterior_terms``). Every draw
comes from the given ``torch.Generator``, so a fit stays reproducible.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

__all__ = ["check_shift", "random_affine", "random_shift", "random_warp", "require_image_shape"]


def random_shift(x, image_shape, max_shift, generator):
    """Translate each flattened image by its own random (dy, dx) in [-max_shift, max_shift].

    Border pixels are replicated into the space a shift opens, so a digit on a
    blank background stays on a blank background.
    """
    channels, height, width = image_shape
    m = x.shape[0]
    padded = F.pad(x.reshape(m, channels, height, width), (max_shift,) * 4, mode="replicate")
    offsets = torch.randint(2 * max_shift + 1, (2, m), generator=generator).to(x.device)
    rows = (torch.arange(height, device=x.device) + offsets[0, :, None])[:, None, :, None]
    cols = (torch.arange(width, device=x.device) + offsets[1, :, None])[:, None, None, :]
    picked = padded[torch.arange(m, device=x.device)[:, None, None, None],
                    torch.arange(channels, device=x.device)[None, :, None, None], rows, cols]
    return picked.reshape(m, -1)


def random_warp(x, image_shape, max_rotation, max_scale, generator):
    """Rotate each flattened image by its own random angle in [-max_rotation, max_rotation] degrees and
    scale it about its centre by a factor in [1 - max_scale, 1 + max_scale].

    Bilinear resampling; points that fall outside the image take the nearest border pixel.
    """
    channels, height, width = image_shape
    m = x.shape[0]
    u = (torch.rand(2, m, generator=generator) * 2 - 1).to(x.device)
    angle = u[0] * math.radians(max_rotation)
    # affine_grid maps output coordinates to input ones, so the inverse scale enlarges the digit by 1 + u s.
    inverse_scale = 1.0 / (1.0 + u[1] * max_scale)
    cos, sin = torch.cos(angle) * inverse_scale, torch.sin(angle) * inverse_scale
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1).to(x.dtype)
    images = x.reshape(m, channels, height, width)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False).reshape(m, -1)


def random_affine(x, image_shape, max_rotation, max_scale, max_shift, generator):
    """Rotate and scale (when either bound is positive), then translate (when ``max_shift`` is positive)."""
    if max_rotation > 0 or max_scale > 0:
        x = random_warp(x, image_shape, max_rotation, max_scale, generator)
    if max_shift > 0:
        x = random_shift(x, image_shape, max_shift, generator)
    return x


def require_image_shape(name, value, image_shape):
    """Refuse a positive transformation parameter ``name`` when the rows are not images."""
    if value > 0 and image_shape is None:
        raise ValueError(f"{name}={value!r} transforms images and needs image_shape; image_shape is None.")


def check_shift(name, shift, image_shape):
    """Refuse a translation bound that is not smaller than the image's height and width."""
    if shift > 0 and shift >= min(image_shape[1:]):
        raise ValueError(f"{name}={shift!r} must be smaller than the image's height and width, "
                         f"image_shape={image_shape!r}.")
