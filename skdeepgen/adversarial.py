"""GAN losses and gradient penalties on PyTorch tensors.

Shared by the adversarial models (MMGAN, AMM, AIM, GAMN). Every loss takes raw
discriminator outputs: *logits* (``C(x) = logit(D(x))``, the critic of the
relativistic GAN papers) for ``"sgan"``, ``"rsgan"`` and ``"rasgan"``, and
unbounded critic values for ``"hinge"`` and ``"wgan"``. Log-sigmoids are
written with ``softplus`` (``-log s(t) = softplus(-t)`` and
``-log(1 - s(t)) = softplus(t)``), which is exact and never overflows, so no
probability is ever passed through ``log``.

All losses are means over the samples (and over any trailing output
dimensions), to be *minimised*: the discriminator loss by the discriminator,
the generator loss by the generator (and encoder). Nothing is detached here:
as usual, pass ``fake.detach()`` through the discriminator for its step.

Losses (``r`` real logits, ``f`` fake logits, ``E`` the mean), discriminator
loss / generator loss:

- ``"sgan"``: ``E softplus(-r) + E softplus(f)`` / ``E softplus(-f)``
  (non-saturating generator loss).
- ``"rsgan"``: ``E softplus(-(r_i - f_i))`` / ``E softplus(-(f_i - r_i))``
  over pairs ``i`` (as in MMGAN's Algorithm 1).
- ``"rasgan"``: ``E softplus(-(r - E f)) + E softplus(f - E r)`` /
  ``E softplus(-(f - E r)) + E softplus(r - E f)``.
- ``"hinge"``: ``E relu(1 - r) + E relu(1 + f)`` / ``-E f``.
- ``"wgan"``: ``E f - E r`` / ``-E f`` (add a :func:`gradient_penalty`).

For the conditional RaSGAN of MMGAN, where the averages are taken per
cluster, use :func:`rasgan_losses` with per-sample references built by
:func:`cluster_average`.
"""

import contextlib
import math
import numbers

import torch
import torch.nn.functional as F

from ._validation import check_option

__all__ = [
    "GAN_LOSSES",
    "check_gan_loss",
    "cluster_average",
    "discriminator_loss",
    "frozen",
    "generator_loss",
    "gradient_penalty",
    "rasgan_losses",
]

#: Names of the supported adversarial losses.
GAN_LOSSES = ("sgan", "rsgan", "rasgan", "hinge", "wgan")

_RELATIVISTIC = ("rsgan", "rasgan")


def check_gan_loss(loss, param_name="loss"):
    """Validate an adversarial loss name.

    Parameters
    ----------
    loss : str
        One of :data:`GAN_LOSSES`: ``"sgan"``, ``"rsgan"``, ``"rasgan"``,
        ``"hinge"`` or ``"wgan"``.
    param_name : str, default="loss"
        Name of the parameter, used in the error message.

    Returns
    -------
    loss : str
        The validated name.

    Raises
    ------
    TypeError
        If `loss` is not a string.
    ValueError
        If `loss` is not a known loss name.
    """
    return check_option(loss, GAN_LOSSES, param_name)


def _flat(logits, name):
    """Flatten discriminator outputs to 1-D; (n,) and (n, 1) become (n,)."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(logits).__name__}.")
    if logits.numel() == 0:
        raise ValueError(f"{name} must not be empty.")
    return logits.reshape(-1)


def _reference(reference, logits, name):
    """Flatten a reference to a scalar or to the shape of `logits` (1-D)."""
    if not isinstance(reference, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor; got {type(reference).__name__}."
        )
    if reference.numel() == 1:
        return reference.reshape(())
    if reference.numel() != logits.numel():
        raise ValueError(
            f"{name} must be a scalar or have one value per logit ({logits.numel()}); "
            f"got shape {tuple(reference.shape)}."
        )
    return reference.reshape(-1)


def cluster_average(values, labels, query_labels, n_clusters=None):
    """Per-cluster mean of `values`, looked up for each query label.

    Builds the per-sample references of the conditional RaSGAN (MMGAN): the
    average fake critic value of the cluster of each real sample, and the
    average real critic value of the cluster of each fake sample.

    Parameters
    ----------
    values : torch.Tensor of shape (n,) or (n, 1)
        Values to average (e.g. fake logits).
    labels : torch.Tensor of shape (n,), integer
        Cluster of each value (e.g. the clusters the fakes were generated
        from).
    query_labels : torch.Tensor of shape (q,), integer
        Clusters to look up (e.g. the encoder's hard assignments of the real
        samples).
    n_clusters : int, default=None
        Number of clusters; ``None`` infers it from the largest label.

    Returns
    -------
    averages : torch.Tensor of shape (q,)
        ``averages[i]`` is the mean of the values whose label is
        ``query_labels[i]``, or the mean of all values when that cluster has
        none in this batch. Differentiable with respect to `values`.
    """
    values = _flat(values, "values")
    for t, name in ((labels, "labels"), (query_labels, "query_labels")):
        if (
            not isinstance(t, torch.Tensor)
            or t.is_floating_point()
            or t.is_complex()
            or t.dtype == torch.bool
        ):
            raise TypeError(f"{name} must be an integer torch.Tensor.")
    labels = labels.reshape(-1).long().to(values.device)
    query_labels = query_labels.reshape(-1).long().to(values.device)
    if labels.numel() != values.numel():
        raise ValueError(
            f"labels must have one entry per value ({values.numel()}); got "
            f"{labels.numel()}."
        )
    if n_clusters is None:
        n_clusters = int(max(labels.max().item(), query_labels.max().item(), 0)) + 1
    sums = torch.zeros(n_clusters, dtype=values.dtype, device=values.device).index_add(
        0, labels, values
    )
    counts = torch.bincount(labels, minlength=n_clusters).to(values.dtype)
    means = torch.where(counts > 0, sums / counts.clamp(min=1), values.mean())
    return means[query_labels]


def rasgan_losses(real_logits, fake_logits, real_reference=None, fake_reference=None):
    """Relativistic average GAN losses with explicit references.

    The discriminator scores real samples against `real_reference` and fake
    samples against `fake_reference`:
    ``D(x_r) = s(C(x_r) - real_reference)`` and
    ``D(x_f) = s(C(x_f) - fake_reference)``.

    Parameters
    ----------
    real_logits : torch.Tensor of shape (n,) or (n, 1)
        Critic values ``C(x_r)`` of the real samples.
    fake_logits : torch.Tensor of shape (m,) or (m, 1)
        Critic values ``C(x_f)`` of the fake samples.
    real_reference : torch.Tensor, default=None
        What each real logit is compared against: a scalar, or one value per
        real sample (for the conditional RaSGAN, the mean fake logit of the
        real sample's cluster, see :func:`cluster_average`). ``None`` means
        ``fake_logits.mean()`` (plain RaSGAN).
    fake_reference : torch.Tensor, default=None
        What each fake logit is compared against: a scalar or one value per
        fake sample (conditional RaSGAN: the mean real logit of the fake's
        cluster). ``None`` means ``real_logits.mean()``.

    Returns
    -------
    d_loss : torch.Tensor of shape ()
        ``E softplus(-(C(x_r) - real_reference))
        + E softplus(C(x_f) - fake_reference)``,
        i.e. ``-E log D(x_r) - E log(1 - D(x_f))``.
    g_loss : torch.Tensor of shape ()
        ``E softplus(-(C(x_f) - fake_reference))
        + E softplus(C(x_r) - real_reference)``,
        i.e. ``-E log D(x_f) - E log(1 - D(x_r))``.

    Notes
    -----
    The references are not detached, as in Jolicoeur-Martineau's RaSGAN: the
    generator loss depends on the fakes also through ``real_reference``.
    """
    real = _flat(real_logits, "real_logits")
    fake = _flat(fake_logits, "fake_logits")
    real_ref = (
        fake.mean()
        if real_reference is None
        else _reference(real_reference, real, "real_reference")
    )
    fake_ref = (
        real.mean()
        if fake_reference is None
        else _reference(fake_reference, fake, "fake_reference")
    )
    real_rel = real - real_ref
    fake_rel = fake - fake_ref
    d_loss = F.softplus(-real_rel).mean() + F.softplus(fake_rel).mean()
    g_loss = F.softplus(-fake_rel).mean() + F.softplus(real_rel).mean()
    return d_loss, g_loss


def _paired(real, fake):
    if real.numel() != fake.numel():
        raise ValueError(
            "loss='rsgan' compares real and fake samples pairwise and needs as many "
            f"of each; got {real.numel()} real and {fake.numel()} fake logits "
            "(loss='rasgan' does not need pairs)."
        )


def discriminator_loss(real_logits, fake_logits, loss="sgan"):
    """Discriminator (critic) loss, to be minimised.

    Parameters
    ----------
    real_logits : torch.Tensor of shape (n,) or (n, 1)
        Discriminator outputs on real samples: logits for ``"sgan"``,
        ``"rsgan"``, ``"rasgan"``; critic values for ``"hinge"``, ``"wgan"``.
    fake_logits : torch.Tensor of shape (m,) or (m, 1)
        Discriminator outputs on fake samples (usually computed from detached
        fakes). ``"rsgan"`` needs ``m == n`` (pairs ``i``).
    loss : {"sgan", "rsgan", "rasgan", "hinge", "wgan"}, default="sgan"
        ``"sgan"``: ``E softplus(-r) + E softplus(f)`` (binary cross-entropy);
        ``"rsgan"``: ``E softplus(-(r_i - f_i))``;
        ``"rasgan"``: ``E softplus(-(r - E f)) + E softplus(f - E r)``;
        ``"hinge"``: ``E relu(1 - r) + E relu(1 + f)``;
        ``"wgan"``: ``E f - E r`` (add a :func:`gradient_penalty`).

    Returns
    -------
    loss : torch.Tensor of shape ()
        The loss. It decreases when real logits go up or fake logits go down.
    """
    loss = check_gan_loss(loss)
    real = _flat(real_logits, "real_logits")
    fake = _flat(fake_logits, "fake_logits")
    if loss == "sgan":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if loss == "rsgan":
        _paired(real, fake)
        return F.softplus(fake - real).mean()
    if loss == "rasgan":
        return rasgan_losses(real, fake)[0]
    if loss == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()  # wgan


def generator_loss(real_logits, fake_logits, loss="sgan"):
    """Generator loss, to be minimised.

    Parameters
    ----------
    real_logits : torch.Tensor of shape (n,) or (n, 1) or None
        Discriminator outputs on real samples. Needed by the relativistic
        losses (``"rsgan"``, ``"rasgan"``); ignored (may be ``None``) for
        ``"sgan"``, ``"hinge"`` and ``"wgan"``.
    fake_logits : torch.Tensor of shape (m,) or (m, 1)
        Discriminator outputs on fake samples (not detached).
    loss : {"sgan", "rsgan", "rasgan", "hinge", "wgan"}, default="sgan"
        ``"sgan"``: non-saturating ``E softplus(-f)`` (i.e. ``-E log D(G(z))``);
        ``"rsgan"``: ``E softplus(-(f_i - r_i))`` (pairs, ``m == n``);
        ``"rasgan"``: ``E softplus(-(f - E r)) + E softplus(r - E f)``;
        ``"hinge"`` and ``"wgan"``: ``-E f``.

    Returns
    -------
    loss : torch.Tensor of shape ()
        The loss. It decreases when fake logits go up.
    """
    loss = check_gan_loss(loss)
    fake = _flat(fake_logits, "fake_logits")
    if loss in _RELATIVISTIC:
        if real_logits is None:
            raise ValueError(
                f"generator_loss with loss={loss!r} needs real_logits; got None."
            )
        real = _flat(real_logits, "real_logits")
        if loss == "rsgan":
            _paired(real, fake)
            return F.softplus(real - fake).mean()
        return rasgan_losses(real, fake)[1]
    if loss == "sgan":
        return F.softplus(-fake).mean()
    return -fake.mean()  # hinge, wgan


@contextlib.contextmanager
def frozen(*modules):
    """Run a block with the parameters of `modules` excluded from autograd.

    In a generator's step the discriminator is evaluated but not updated;
    graphs built inside the block carry no gradient to its parameters, so the
    backward pass that follows (even after the block) skips their weight
    gradients, about a third of the discriminator's backward cost. Gradients
    still flow *through* the modules to their inputs. Each parameter's
    ``requires_grad`` flag is restored on exit.

    Parameters
    ----------
    *modules : torch.nn.Module
        Networks to freeze for the block.
    """
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _as_parts(inputs, name):
    if isinstance(inputs, torch.Tensor):
        return (inputs,), False
    if (
        isinstance(inputs, (tuple, list))
        and len(inputs) > 0
        and all(isinstance(t, torch.Tensor) for t in inputs)
    ):
        return tuple(inputs), True
    raise TypeError(f"{name} must be a torch.Tensor or a non-empty tuple of tensors.")


def gradient_penalty(critic, real, fake, generator=None, center=1.0):
    """Gradient penalty on random interpolates of real and fake inputs.

    ``E[(||grad_u sum_k critic(u)_k|| - center)^2]`` with
    ``u = eps * real + (1 - eps) * fake`` and ``eps ~ U(0, 1)`` (Gulrajani et
    al.). With tuples of inputs (e.g. AMM's ``(x, y, z)`` triples, eq. 18),
    every part of a sample is interpolated with the *same* ``eps`` and the
    gradient norm is taken over all parts concatenated.

    Parameters
    ----------
    critic : callable
        ``critic(u)`` for a single tensor, ``critic(*u)`` for a tuple. Its
        output is summed over all but the first dimension (as in GAMN eq. 7,
        where the sum of the mapper's outputs is penalised); each sample's
        output must depend on that sample only (no batch normalisation).
    real : torch.Tensor or tuple of torch.Tensor
        Real (or prior) inputs; every part has the same first dimension ``n``.
    fake : torch.Tensor or tuple of torch.Tensor
        Fake (or inferred) inputs with the same structure and shapes as
        `real`. Both are detached: the penalty trains the critic only.
    generator : torch.Generator, default=None
        Source of the ``n`` interpolation weights, which are drawn on the
        generator's device; the global RNG is then left untouched. ``None``
        uses the global torch RNG.
    center : float, default=1.0
        Target gradient norm: 1 for the WGAN-GP penalty, 0 for the
        zero-centred variant (then the mean squared norm is returned).

    Returns
    -------
    penalty : torch.Tensor of shape ()
        Differentiable with respect to the critic's parameters (the graph of
        the gradient is kept); multiply by the penalty weight and add it to
        the critic's loss.
    """
    if not callable(critic):
        raise TypeError(f"critic must be callable; got {type(critic).__name__}.")
    if (
        isinstance(center, bool)
        or not isinstance(center, numbers.Real)
        or not math.isfinite(center)
        or center < 0
    ):
        raise ValueError(f"center must be a finite number >= 0; got {center!r}.")
    real_parts, is_tuple = _as_parts(real, "real")
    fake_parts, _ = _as_parts(fake, "fake")
    if len(real_parts) != len(fake_parts):
        raise ValueError(
            f"real and fake must have the same number of parts; got {len(real_parts)} "
            f"and {len(fake_parts)}."
        )
    n = real_parts[0].shape[0] if real_parts[0].ndim > 0 else 0
    for i, (r, f) in enumerate(zip(real_parts, fake_parts, strict=True)):
        if r.shape != f.shape:
            raise ValueError(
                f"real and fake part {i} must have the same shape; got "
                f"{tuple(r.shape)} and {tuple(f.shape)}."
            )
        if r.ndim == 0 or r.shape[0] != n or n == 0:
            raise ValueError(
                "every part of real and fake must have the same, non-zero first "
                f"dimension; got shapes {[tuple(t.shape) for t in real_parts]}."
            )
        if not (r.is_floating_point() and f.is_floating_point()):
            raise TypeError(
                f"real and fake part {i} must be floating point to be differentiated; "
                f"got {r.dtype} and {f.dtype}."
            )
    ref = real_parts[0]
    if generator is not None:
        eps = torch.rand(
            n, generator=generator, device=generator.device, dtype=ref.dtype
        )
    else:
        eps = torch.rand(n, device=ref.device, dtype=ref.dtype)
    interpolates = []
    for r, f in zip(real_parts, fake_parts, strict=True):
        # One weight per sample, broadcast over that part's other dimensions.
        e = eps.to(device=r.device, dtype=r.dtype).reshape((n,) + (1,) * (r.ndim - 1))
        u = e * r.detach() + (1.0 - e) * f.detach()
        interpolates.append(u.requires_grad_(True))
    out = critic(*interpolates) if is_tuple else critic(interpolates[0])
    grads = torch.autograd.grad(
        out.sum(), interpolates, create_graph=True, allow_unused=True
    )
    # A part the critic ignores has a zero gradient.
    sq_norm = sum((g.reshape(n, -1) ** 2).sum(dim=1) for g in grads if g is not None)
    if not isinstance(sq_norm, torch.Tensor):
        sq_norm = out.sum() * 0.0 + torch.zeros(n, dtype=ref.dtype, device=ref.device)
    if center == 0:
        return sq_norm.mean()
    # sqrt with a finite gradient at a zero gradient norm.
    positive = sq_norm > 0
    norm = torch.where(
        positive,
        torch.where(positive, sq_norm, torch.ones_like(sq_norm)).sqrt(),
        torch.zeros_like(sq_norm),
    )
    return ((norm - center) ** 2).mean()
