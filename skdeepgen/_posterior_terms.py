"""Two regularisers of a cluster posterior p(y | x) on real rows, from IMSAT.

Hu et al. (2017), "Learning Discrete Representations via Information
Maximizing Self-Augmented Training": the information term asks the posterior
to spread the rows evenly over the clusters and to assign each row
confidently, the self-augmented term asks it to give an image and a slightly
moved copy the same cluster. Neither is in the MMGAN or the AMM paper; both
estimators offer them with the same parameters (off by default), on their
cluster encoder (MMGAN's E, AMM's G_y).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval

from ._augment import check_shift, random_affine, require_image_shape

__all__ = ["PARAMETER_CONSTRAINTS", "add_posterior_terms", "check_posterior_terms", "information_balance",
           "parameters_doc"]

PARAMETER_CONSTRAINTS = {
    "balance": [Interval(Real, 0, None, closed="left")],
    "balance_marginal": [Interval(Real, 0, None, closed="left")],
    "consistency": [Interval(Real, 0, None, closed="left")],
    "augment_rotation": [Interval(Real, 0, 180, closed="both")],
    "augment_scale": [Interval(Real, 0, 1, closed="left")],
    "augment_shift": [Interval(Integral, 0, None, closed="left")],
}


def parameters_doc(posterior, encoder):
    """The numpydoc entries of the six parameters, for a posterior named ``posterior`` computed by ``encoder``."""
    return f"""balance : float, default=0.0
        Weight of a term that asks {encoder} to spread the real rows evenly over
        the clusters and assign each one confidently: the divergence
        KL(mean_r {posterior} || 1/K) plus the mean entropy of {posterior},
        over each minibatch of real rows; at ``balance_marginal=1`` it is
        log K minus the mutual information between the rows and the clusters
        (RIM's and IMSAT's objective). It trains {encoder} only. 0 is the
        paper's model. The divergence alone is met by a uniform posterior on
        every row, hence the entropy.
    balance_marginal : float, default=1.0
        Weight of the divergence inside the ``balance`` term, relative to the
        mean entropy (IMSAT's mu, 4 in that paper).
    consistency : float, default=0.0
        Weight of KL({posterior} || the same posterior at t(x)) over each
        minibatch of real rows x, where t is a random rotation, scaling and
        translation of the image (bounded by the ``augment_*`` parameters)
        and the first posterior is held fixed: {encoder} learns to give a digit
        and its slightly moved copy the same cluster (IMSAT's self-augmented
        training, with affine transformations in place of adversarial
        perturbations). It trains {encoder} only and needs ``image_shape``. 0
        is the paper's model.
    augment_rotation : float, default=20.0
        Largest rotation of t, in degrees, in [0, 180].
    augment_scale : float, default=0.2
        Largest relative change of size of t, in [0, 1): each image is scaled
        by a factor in [1 - augment_scale, 1 + augment_scale].
    augment_shift : int, default=2
        Largest translation of t, in pixels along each axis, smaller than the
        image's height and width."""


def check_posterior_terms(estimator, image_shape):
    """Refuse ``consistency`` without images, and a shift that does not fit in them."""
    require_image_shape("consistency", estimator.consistency, image_shape)
    if estimator.consistency > 0:
        check_shift("augment_shift", estimator.augment_shift, image_shape)


def information_balance(log_p, marginal_weight):
    """mu KL(mean p || uniform) + mean H(p) of a minibatch of log-posteriors (rows: samples).

    At mu = 1 this is log K - I(x; y), the mutual information of the rows
    and their clusters under the minibatch's empirical distribution.
    """
    posterior = log_p.exp()
    marginal = posterior.mean(dim=0)
    divergence = math.log(log_p.shape[1]) + torch.sum(marginal * torch.log(marginal.clamp_min(1e-12)))
    return marginal_weight * divergence - torch.sum(posterior * log_p, dim=1).mean()


def add_posterior_terms(estimator, losses, log_p, batch, log_posterior, generator):
    """Add the weighted ``balance`` and ``consistency`` terms to ``losses["loss"]``; record each unweighted.

    ``log_p`` is the log-posterior of the raw rows ``batch`` (with its graph,
    so the terms train the encoder), ``log_posterior`` the encoder as a
    function of raw rows, used on the moved copies.
    """
    if estimator.balance > 0:
        balance = information_balance(log_p, estimator.balance_marginal)
        losses.update(loss=losses["loss"] + estimator.balance * balance, balance=balance)
    if estimator.consistency > 0:
        moved = random_affine(batch, estimator.image_shape_, estimator.augment_rotation, estimator.augment_scale,
                              estimator.augment_shift, generator)
        log_p_moved = log_posterior(moved)
        consistency = torch.sum(log_p.exp().detach() * (log_p.detach() - log_p_moved), dim=1).mean()
        losses.update(loss=losses["loss"] + estimator.consistency * consistency, consistency=consistency)
    return losses
