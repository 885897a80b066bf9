import math

import pytest
import torch

from skdeepgen.adversarial import (
    GAN_LOSSES,
    check_gan_loss,
    cluster_average,
    discriminator_loss,
    frozen,
    generator_loss,
    gradient_penalty,
    rasgan_losses,
)

DT = torch.float64
REAL = torch.tensor([1.0, -0.5, 2.0], dtype=DT)
FAKE = torch.tensor([0.5, -1.0, 0.0], dtype=DT)


def sp(t):
    """softplus by hand: -log(sigmoid(-t))."""
    return math.log1p(math.exp(t))


def mean(values):
    return sum(values) / len(values)


def _hand_losses():
    r, f = REAL.tolist(), FAKE.tolist()
    mr, mf = mean(r), mean(f)
    d = {
        "sgan": mean([sp(-v) for v in r]) + mean([sp(v) for v in f]),
        "rsgan": mean([sp(-(a - b)) for a, b in zip(r, f, strict=True)]),
        "rasgan": mean([sp(-(a - mf)) for a in r]) + mean([sp(b - mr) for b in f]),
        "hinge": mean([max(0.0, 1 - v) for v in r])
        + mean([max(0.0, 1 + v) for v in f]),
        "wgan": mf - mr,
    }
    g = {
        "sgan": mean([-math.log(1 / (1 + math.exp(-v))) for v in f]),
        "rsgan": mean([sp(-(b - a)) for a, b in zip(r, f, strict=True)]),
        "rasgan": mean([sp(-(b - mr)) for b in f]) + mean([sp(a - mf) for a in r]),
        "hinge": -mf,
        "wgan": -mf,
    }
    return d, g


@pytest.mark.parametrize("loss", GAN_LOSSES)
def test_losses_by_hand(loss):
    d, g = _hand_losses()
    assert discriminator_loss(REAL, FAKE, loss).item() == pytest.approx(
        d[loss], rel=1e-12
    )
    assert generator_loss(REAL, FAKE, loss).item() == pytest.approx(g[loss], rel=1e-12)
    # (n, 1) outputs are accepted like (n,).
    assert discriminator_loss(
        REAL[:, None], FAKE[:, None], loss
    ).item() == pytest.approx(d[loss])


@pytest.mark.parametrize("loss", GAN_LOSSES)
def test_loss_directions(loss):
    d0 = discriminator_loss(REAL, FAKE, loss)
    g0 = generator_loss(REAL, FAKE, loss)
    # Discriminator does better when real logits rise or fake logits fall.
    assert discriminator_loss(REAL + 0.5, FAKE, loss) < d0
    assert discriminator_loss(REAL, FAKE - 0.5, loss) < d0
    # Generator does better when fake logits rise.
    assert generator_loss(REAL, FAKE + 0.5, loss) < g0
    # Gradients have the expected signs.
    real = REAL.clone().requires_grad_(True)
    fake = FAKE.clone().requires_grad_(True)
    discriminator_loss(real, fake, loss).backward()
    assert (real.grad <= 0).all() and (real.grad < 0).any()
    assert (fake.grad >= 0).all() and (fake.grad > 0).any()
    fake.grad = None
    generator_loss(REAL, fake, loss).backward()
    assert (fake.grad <= 0).all() and (fake.grad < 0).any()


def test_losses_are_stable_for_extreme_logits():
    big = torch.tensor([1e4, -1e4], dtype=torch.float32, requires_grad=True)
    for loss in GAN_LOSSES:
        for value in (
            discriminator_loss(big, -big, loss),
            discriminator_loss(-big, big, loss),
            generator_loss(big, -big, loss),
            generator_loss(-big, big, loss),
        ):
            assert torch.isfinite(value)
            (grad,) = torch.autograd.grad(value, big)
            assert torch.isfinite(grad).all()


def test_generator_loss_real_logits_optional():
    for loss in ("sgan", "hinge", "wgan"):
        assert generator_loss(None, FAKE, loss) == generator_loss(REAL, FAKE, loss)
    for loss in ("rsgan", "rasgan"):
        with pytest.raises(ValueError, match="real_logits"):
            generator_loss(None, FAKE, loss)


def test_rsgan_needs_pairs_rasgan_does_not():
    with pytest.raises(ValueError, match="rsgan"):
        discriminator_loss(REAL, FAKE[:2], "rsgan")
    with pytest.raises(ValueError, match="rsgan"):
        generator_loss(REAL, FAKE[:2], "rsgan")
    assert torch.isfinite(discriminator_loss(REAL, FAKE[:2], "rasgan"))


def test_check_gan_loss():
    for loss in GAN_LOSSES:
        assert check_gan_loss(loss) == loss
    with pytest.raises(ValueError, match=r"adversarial_loss.*'lsgan'"):
        check_gan_loss("lsgan", "adversarial_loss")
    with pytest.raises(TypeError, match=r"loss.*3"):
        check_gan_loss(3)
    with pytest.raises(ValueError, match="loss"):
        discriminator_loss(REAL, FAKE, "SGAN")


# ---------------------------------------------------------------- RaSGAN
def test_rasgan_losses_default_references_match_rasgan():
    d, g = rasgan_losses(REAL, FAKE)
    assert d == discriminator_loss(REAL, FAKE, "rasgan")
    assert g == generator_loss(REAL, FAKE, "rasgan")


def test_rasgan_losses_per_sample_references_by_hand():
    real_ref = torch.tensor([0.2, -0.3, 0.1], dtype=DT)
    fake_ref = torch.tensor([1.0, 0.0, -1.0], dtype=DT)
    d, g = rasgan_losses(REAL, FAKE, real_ref, fake_ref)
    r, f, rr, fr = REAL.tolist(), FAKE.tolist(), real_ref.tolist(), fake_ref.tolist()
    d_hand = mean([sp(-(a - b)) for a, b in zip(r, rr, strict=True)]) + mean(
        [sp(a - b) for a, b in zip(f, fr, strict=True)]
    )
    g_hand = mean([sp(-(a - b)) for a, b in zip(f, fr, strict=True)]) + mean(
        [sp(a - b) for a, b in zip(r, rr, strict=True)]
    )
    assert d.item() == pytest.approx(d_hand, rel=1e-12)
    assert g.item() == pytest.approx(g_hand, rel=1e-12)
    with pytest.raises(ValueError, match="real_reference"):
        rasgan_losses(REAL, FAKE, real_ref[:2], fake_ref)


def test_cluster_average_conditional_rasgan():
    fake_logits = torch.tensor([1.0, 3.0, 10.0, -2.0], dtype=DT, requires_grad=True)
    fake_labels = torch.tensor([0, 0, 2, 2])
    real_labels = torch.tensor([2, 0, 1])  # cluster 1 has no fakes
    ref = cluster_average(fake_logits, fake_labels, real_labels, n_clusters=3)
    torch.testing.assert_close(ref, torch.tensor([4.0, 2.0, 3.0], dtype=DT))
    ref.sum().backward()
    torch.testing.assert_close(
        fake_logits.grad, torch.tensor([0.75, 0.75, 0.75, 0.75], dtype=DT)
    )
    # One cluster: the plain RaSGAN reference.
    same = cluster_average(
        FAKE, torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long)
    )
    torch.testing.assert_close(same, FAKE.mean().expand(3))
    with pytest.raises(TypeError, match="labels"):
        cluster_average(FAKE, torch.zeros(3), torch.zeros(3, dtype=torch.long))


# ---------------------------------------------------------------- gradient penalty
def test_gradient_penalty_linear_critic_is_exact():
    w = torch.tensor([[0.3], [-1.2], [2.0]], dtype=DT, requires_grad=True)
    real = torch.randn(16, 3, dtype=DT, generator=torch.Generator().manual_seed(0))
    fake = torch.randn(16, 3, dtype=DT, generator=torch.Generator().manual_seed(1))
    gp = gradient_penalty(
        lambda x: x @ w, real, fake, generator=torch.Generator().manual_seed(2)
    )
    expected = (w.detach().norm() - 1.0) ** 2
    torch.testing.assert_close(gp, expected)
    # The penalty trains the critic: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||.
    gp.backward()
    wd = w.detach()
    torch.testing.assert_close(w.grad, 2 * (wd.norm() - 1) * wd / wd.norm())
    gp0 = gradient_penalty(lambda x: x @ w, real, fake, center=0.0)
    torch.testing.assert_close(gp0, wd.norm() ** 2)


def test_gradient_penalty_tuple_critic_is_exact():
    w1 = torch.tensor([[0.5], [1.5]], dtype=DT, requires_grad=True)
    w2 = torch.tensor([[-2.0], [0.1], [0.7]], dtype=DT, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    real = (
        torch.randn(8, 2, dtype=DT, generator=g),
        torch.randn(8, 3, dtype=DT, generator=g),
    )
    fake = (
        torch.randn(8, 2, dtype=DT, generator=g),
        torch.randn(8, 3, dtype=DT, generator=g),
    )
    gp = gradient_penalty(lambda x, z: x @ w1 + z @ w2, real, fake, generator=g)
    expected = (
        torch.sqrt(w1.detach().norm() ** 2 + w2.detach().norm() ** 2) - 1.0
    ) ** 2
    torch.testing.assert_close(gp, expected)
    gp.backward()
    assert w1.grad is not None and w2.grad is not None


def test_gradient_penalty_one_epsilon_per_sample():
    # With real = 1 and fake = 0, the interpolate of each part is eps itself.
    seen = {}

    def critic(x, z):
        seen["x"], seen["z"] = x.detach(), z.detach()
        return (x.sum(dim=(1, 2)) + z.sum(dim=1)).unsqueeze(1)

    n = 5
    real = (torch.ones(n, 2, 3, dtype=DT), torch.ones(n, 4, dtype=DT))
    fake = (torch.zeros(n, 2, 3, dtype=DT), torch.zeros(n, 4, dtype=DT))
    gp = gradient_penalty(
        critic, real, fake, generator=torch.Generator().manual_seed(0)
    )
    eps = seen["x"][:, 0, 0]
    assert len(torch.unique(eps)) == n
    torch.testing.assert_close(seen["x"], eps[:, None, None].expand(n, 2, 3))
    torch.testing.assert_close(seen["z"], eps[:, None].expand(n, 4))
    # Gradient is all ones over 6 + 4 entries.
    torch.testing.assert_close(gp, torch.tensor((math.sqrt(10) - 1) ** 2, dtype=DT))


def test_gradient_penalty_sums_vector_outputs():
    # GAMN eq. 7 penalises the gradient of the sum of the mapper's outputs.
    w = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=DT)
    real, fake = torch.randn(6, 2, dtype=DT), torch.randn(6, 2, dtype=DT)
    gp = gradient_penalty(lambda x: x @ w, real, fake)
    torch.testing.assert_close(gp, (w.sum(dim=1).norm() - 1.0) ** 2)


def test_gradient_penalty_generator_determinism_and_global_rng():
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    ).double()
    real, fake = torch.randn(10, 3, dtype=DT), torch.randn(10, 3, dtype=DT)
    state = torch.get_rng_state()
    a = gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(3))
    b = gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(3))
    c = gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(4))
    assert torch.equal(torch.get_rng_state(), state)
    assert a.item() == b.item()
    assert a.item() != c.item()
    a.backward()
    # The last bias does not affect input gradients, so it gets none.
    assert all(torch.isfinite(net[i].weight.grad).all() for i in (0, 2))


def test_gradient_penalty_detaches_inputs_and_handles_zero_gradient():
    real = torch.randn(4, 2, dtype=DT, requires_grad=True)
    fake = torch.randn(4, 2, dtype=DT, requires_grad=True)
    w = torch.zeros(2, 1, dtype=DT, requires_grad=True)
    gp = gradient_penalty(lambda x: x @ w, real, fake)
    assert gp.item() == 1.0  # zero gradient norm, center 1
    gp.backward()
    assert real.grad is None and fake.grad is None
    assert torch.isfinite(w.grad).all()


def test_gradient_penalty_validation():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="center"):
        gradient_penalty(lambda t: t.sum(1), x, x, center=-1.0)
    with pytest.raises(ValueError, match="shape"):
        gradient_penalty(lambda t: t.sum(1), x, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="number of parts"):
        gradient_penalty(lambda a, b: a.sum(1), (x, x), (x,))
    with pytest.raises(ValueError, match="first"):
        gradient_penalty(
            lambda a, b: a.sum(1), (x, torch.zeros(2, 2)), (x, torch.zeros(2, 2))
        )
    with pytest.raises(TypeError, match="floating"):
        gradient_penalty(
            lambda t: t.sum(1),
            torch.zeros(3, 2, dtype=torch.long),
            torch.zeros(3, 2, dtype=torch.long),
        )
    with pytest.raises(TypeError, match="callable"):
        gradient_penalty(None, x, x)


def test_frozen_blocks_weight_gradients_but_not_input_gradients():
    critic = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    other = torch.nn.Linear(2, 3)
    frozen_flags = [p.requires_grad for p in critic.parameters()]
    with frozen(critic):
        assert not any(p.requires_grad for p in critic.parameters())
        out = critic(other(torch.randn(5, 2))).sum()
    assert [p.requires_grad for p in critic.parameters()] == frozen_flags
    out.backward()  # after the block: the graph was built without the critic's weights
    assert all(p.grad is None for p in critic.parameters())
    assert all(p.grad is not None for p in other.parameters())


def test_frozen_leaves_already_frozen_parameters_frozen():
    net = torch.nn.Linear(2, 2)
    net.bias.requires_grad_(False)
    with frozen(net):
        pass
    assert net.weight.requires_grad and not net.bias.requires_grad
