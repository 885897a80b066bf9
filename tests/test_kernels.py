import itertools
import math

import numpy as np
import pytest
import torch

from skdeepgen.kernels import (
    KERNELS,
    MEDIAN_MULTIPLIERS,
    check_bandwidths,
    check_kernel,
    joint_mmd2,
    kernel_matrix,
    median_bandwidths,
    median_heuristic,
    mmd2,
    squared_distances,
)

DT = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=_gen(seed), dtype=DT)


# ---------------------------------------------------------------- distances
def test_squared_distances_matches_cdist():
    a, b = _randn(7, 3, seed=1), _randn(5, 3, seed=2)
    expected = torch.cdist(a, b) ** 2
    torch.testing.assert_close(squared_distances(a, b), expected)
    torch.testing.assert_close(squared_distances(a), torch.cdist(a, a) ** 2)


def test_squared_distances_clamped_and_exact_diagonal():
    # Large offset: the expansion suffers cancellation, the clamp must hold.
    a = _randn(20, 4, seed=3) * 1e-4 + 1e4
    a = torch.cat([a, a[:5]])  # duplicated rows
    d2 = squared_distances(a)
    assert (d2 >= 0).all()
    assert (d2.diagonal() == 0).all()
    assert (squared_distances(a, a) >= 0).all()
    a32 = a.float()
    assert (squared_distances(a32) >= 0).all()
    assert (squared_distances(a32, a32) >= 0).all()
    assert (squared_distances(a32).diagonal() == 0).all()


def test_squared_distances_flattens_and_casts():
    a = torch.arange(24).reshape(4, 2, 3)  # integer, 3-D
    d2 = squared_distances(a)
    assert d2.shape == (4, 4) and d2.is_floating_point()
    flat = a.reshape(4, -1).to(torch.get_default_dtype())
    torch.testing.assert_close(d2, torch.cdist(flat, flat) ** 2)
    with pytest.raises(ValueError, match="same number of features"):
        squared_distances(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="n_samples"):
        squared_distances(torch.zeros(3))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("same", [True, False])
def test_no_nan_gradients_with_coincident_rows(kernel, same):
    base = _randn(4, 3, seed=4)
    x = torch.cat([base, base[:2]]).requires_grad_(True)
    y = x if same else torch.cat([base[1:], base[:1]]).detach().requires_grad_(True)
    k = kernel_matrix(x, None if same else y, kernel=kernel, bandwidths=(0.5, 2.0))
    k.sum().backward()
    assert torch.isfinite(x.grad).all()
    if not same:
        assert torch.isfinite(y.grad).all()
    x.grad = None
    mmd2(x, x.detach() + 0.0, kernel=kernel).backward()
    assert torch.isfinite(x.grad).all()


# ---------------------------------------------------------------- kernels
def test_gaussian_bandwidth_is_a_variance():
    a = torch.tensor([[0.0, 0.0]], dtype=DT)
    b = torch.tensor([[3.0, 4.0]], dtype=DT)  # squared distance 25
    k = kernel_matrix(a, b, kernel="gaussian", bandwidths=(2.0, 5.0))
    expected = math.exp(-25 / (2 * 2.0)) + math.exp(-25 / (2 * 5.0))
    assert k.item() == pytest.approx(expected, rel=1e-12)
    # Sum (not mean) over bandwidths: k(a, a) is the number of bandwidths.
    kaa = kernel_matrix(a, kernel="gaussian", bandwidths=(2.0, 5.0, 10.0))
    assert kaa.item() == 3.0


def test_laplacian_and_imq_by_hand():
    a = torch.tensor([[0.0, 0.0]], dtype=DT)
    b = torch.tensor([[3.0, 4.0]], dtype=DT)  # distance 5
    lap = kernel_matrix(a, b, kernel="laplacian", bandwidths=(1.0, 10.0))
    assert lap.item() == pytest.approx(math.exp(-5.0) + math.exp(-0.5), rel=1e-12)
    imq = kernel_matrix(a, b, kernel="imq", bandwidths=(1.0, 25.0))
    assert imq.item() == pytest.approx(1 / 26 + 25 / 50, rel=1e-12)
    for kernel in KERNELS:
        diag = kernel_matrix(
            _randn(3, 2), kernel=kernel, bandwidths=(1.0, 2.0)
        ).diagonal()
        torch.testing.assert_close(diag, torch.full((3,), 2.0, dtype=DT))


def test_kernel_matrix_scalar_and_median_bandwidths():
    x = _randn(6, 2)
    torch.testing.assert_close(
        kernel_matrix(x, bandwidths=3.0), kernel_matrix(x, bandwidths=(3.0,))
    )
    k = kernel_matrix(x, bandwidths="median")
    assert k.shape == (6, 6)
    torch.testing.assert_close(
        k.diagonal(), torch.full((6,), float(len(MEDIAN_MULTIPLIERS)), dtype=DT)
    )


# ---------------------------------------------------------------- median
def test_median_heuristic_value_and_scaling():
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=DT)  # d2: 1, 9, 4 -> median 4
    m = median_heuristic(x)
    assert m.ndim == 0 and not m.requires_grad
    assert m.item() == 4.0
    # Even count: mean of the two middle values (1, 4, 9, 16 -> 6.5).
    x4 = torch.tensor([[0.0], [1.0], [3.0], [4.0]], dtype=DT)  # 1 9 16 4 9 1
    assert median_heuristic(x4).item() == pytest.approx(6.5)
    y = _randn(50, 3, seed=5)
    assert median_heuristic(3.0 * y).item() == pytest.approx(
        9.0 * median_heuristic(y).item()
    )
    # Pooling and subsampling.
    assert median_heuristic(x[:2], x[2:]).item() == 4.0
    big = _randn(3000, 2, seed=6)
    assert median_heuristic(big).item() == pytest.approx(
        4 * math.log(2), rel=0.1
    )  # 2 * chi2_2 median
    # Degenerate sample: no zero bandwidth.
    assert median_heuristic(torch.ones(5, 2)).item() == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        median_heuristic(torch.ones(1, 2))


def test_median_bandwidths_per_kernel():
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=DT)
    assert median_bandwidths(x) == tuple(4.0 * m for m in MEDIAN_MULTIPLIERS)
    assert median_bandwidths(x, kernel="imq") == tuple(
        4.0 * m for m in MEDIAN_MULTIPLIERS
    )
    assert median_bandwidths(x, kernel="laplacian", multipliers=(1.0,)) == (2.0,)


def test_median_bandwidths_in_mmd_scale_with_data():
    x, y = _randn(40, 2, seed=7), _randn(30, 2, seed=8) + 1.0
    for kernel in KERNELS:
        a = mmd2(x, y, kernel=kernel, bandwidths="median")
        b = mmd2(10.0 * x, 10.0 * y, kernel=kernel, bandwidths="median")
        assert a.item() > 0
        # Bandwidths follow the scale, so the MMD is scale invariant.
        assert b.item() == pytest.approx(a.item(), rel=1e-9)
    # Fixed bandwidths are not.
    fixed = mmd2(10.0 * x, 10.0 * y, bandwidths=(1.0,))
    assert fixed.item() != pytest.approx(mmd2(x, y, bandwidths=(1.0,)).item(), rel=1e-2)


# ---------------------------------------------------------------- MMD
def test_mmd2_identical_samples_is_zero():
    x = _randn(25, 3)
    # The Laplacian takes a square root, which amplifies the rounding of the
    # squared distances between coincident rows of different tensors.
    for kernel, tol in (("gaussian", 1e-12), ("imq", 1e-12), ("laplacian", 1e-6)):
        assert (
            abs(mmd2(x, x.clone(), kernel=kernel, bandwidths=(1.0, 4.0)).item()) < tol
        )
        assert abs(mmd2(x, x, kernel=kernel, bandwidths=(1.0, 4.0)).item()) < tol


def test_mmd2_by_hand_and_symmetry():
    x = torch.tensor([[0.0], [1.0]], dtype=DT)
    y = torch.tensor([[2.0]], dtype=DT)
    s = 1.0

    def k(d):
        return math.exp(-d * d / (2 * s))

    expected = (2 * k(0) + 2 * k(1)) / 4 + k(0) - 2 * (k(2) + k(1)) / 2
    assert mmd2(x, y, bandwidths=s).item() == pytest.approx(expected, rel=1e-12)
    x, y = _randn(10, 2, seed=1), _randn(14, 2, seed=2)
    for unbiased in (False, True):
        torch.testing.assert_close(
            mmd2(x, y, bandwidths=(1.0, 2.0), unbiased=unbiased),
            mmd2(y, x, bandwidths=(1.0, 2.0), unbiased=unbiased),
        )


def test_mmd2_unbiased_by_hand():
    x = torch.tensor([[0.0], [1.0]], dtype=DT)
    y = torch.tensor([[2.0], [4.0]], dtype=DT)

    def k(d):
        return math.exp(-d * d / 2)

    expected = k(1) + k(2) - 2 * (k(2) + k(4) + k(1) + k(3)) / 4
    assert mmd2(x, y, bandwidths=1.0, unbiased=True).item() == pytest.approx(
        expected, rel=1e-12
    )
    with pytest.raises(ValueError, match="at least 2"):
        mmd2(x[:1], y, unbiased=True)
    with pytest.raises(ValueError, match="at least 1"):
        mmd2(x[:0], y)


def test_mmd2_unbiased_is_unbiased_and_biased_is_positive():
    g = _gen(11)
    biased, unbiased = [], []
    for _ in range(300):
        x = torch.randn(8, 2, generator=g, dtype=DT)
        y = torch.randn(8, 2, generator=g, dtype=DT)
        biased.append(mmd2(x, y, bandwidths=(1.0, 4.0)).item())
        unbiased.append(mmd2(x, y, bandwidths=(1.0, 4.0), unbiased=True).item())
    unbiased = np.asarray(unbiased)
    sem = unbiased.std(ddof=1) / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 4 * sem
    assert (unbiased < 0).any()
    assert min(biased) > 0
    assert np.mean(biased) > 10 * sem


def test_mmd2_grows_with_mean_shift_and_is_differentiable():
    x = _randn(50, 2, seed=1)
    noise = _randn(40, 2, seed=2)
    noise = noise - noise.mean(0) + x.mean(0)  # same sample means at shift 0
    values = [
        mmd2(x, noise + shift, bandwidths=(1.0, 4.0)).item()
        for shift in (0.0, 0.5, 1.0, 2.0)
    ]
    assert all(a < b for a, b in itertools.pairwise(values))
    y = (noise + 1.0).requires_grad_(True)
    mmd2(x, y, bandwidths=(1.0,)).backward()
    # Moving y along its gradient's opposite lowers the MMD.
    with torch.no_grad():
        y2 = y - 0.5 * y.grad / y.grad.norm()
    assert (
        mmd2(x, y2, bandwidths=(1.0,)).item()
        < mmd2(x, y.detach(), bandwidths=(1.0,)).item()
    )
    out = mmd2(x.float(), noise.float())
    assert out.ndim == 0 and out.dtype == torch.float32


# ---------------------------------------------------------------- joint MMD
def _product_kernel_mmd(x1, z1, x2, z2, bx, bz, unbiased=False):
    def k(a, b, bw):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(torch.exp(-d2 / (2 * s)) for s in bw)

    kxx = k(x1, x1, bx) * k(z1, z1, bz)
    kyy = k(x2, x2, bx) * k(z2, z2, bz)
    kxy = k(x1, x2, bx) * k(z1, z2, bz)
    n, m = len(x1), len(x2)
    if unbiased:
        return (
            (kxx.sum() - kxx.trace()) / (n * (n - 1))
            + (kyy.sum() - kyy.trace()) / (m * (m - 1))
            - 2 * kxy.mean()
        )
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


@pytest.mark.parametrize("unbiased", [False, True])
def test_joint_mmd2_matches_product_kernel_formula(unbiased):
    x1, z1 = _randn(4, 3, seed=1), _randn(4, 2, seed=2)
    x2, z2 = _randn(5, 3, seed=3), _randn(5, 2, seed=4)
    bx, bz = (2.0, 5.0), (0.5,)
    got = joint_mmd2(
        x1, z1, x2, z2, bandwidths_x=bx, bandwidths_z=bz, unbiased=unbiased
    )
    expected = _product_kernel_mmd(x1, z1, x2, z2, bx, bz, unbiased)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("kernel, atol", [("gaussian", 1e-6), ("imq", 1e-6), ("laplacian", 1e-4)])
def test_joint_mmd2_in_tiles_equals_whole(kernel, atol, unbiased):
    # Tiles that do not divide the sample sizes (23 and 17 rows by 5).
    x1, z1 = _randn(23, 4, seed=1), _randn(23, 2, seed=2)
    x2, z2 = _randn(17, 4, seed=3) + 0.5, _randn(17, 2, seed=4)
    kwargs = dict(kernel=kernel, bandwidths_x=(1.0, 3.0), bandwidths_z="median", unbiased=unbiased)
    whole = joint_mmd2(x1, z1, x2, z2, **kwargs)
    tiled = joint_mmd2(x1, z1, x2, z2, block_size=5, **kwargs)
    # Laplacian: coincident rows split over two tiles get sqrt(rounding) instead of an exact 0.
    torch.testing.assert_close(tiled, whole, atol=atol, rtol=0)
    with pytest.raises(ValueError, match="block_size"):
        joint_mmd2(x1, z1, x2, z2, block_size=0)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("kernel, atol", [("gaussian", 1e-6), ("imq", 1e-6), ("laplacian", 1e-4)])
def test_mmd2_in_tiles_equals_whole(kernel, atol, unbiased):
    x, y = _randn(23, 4, seed=1), _randn(17, 4, seed=3) + 0.5
    kwargs = dict(kernel=kernel, bandwidths=(1.0, 3.0, 9.0), unbiased=unbiased)
    torch.testing.assert_close(mmd2(x, y, block_size=5, **kwargs), mmd2(x, y, **kwargs), atol=atol, rtol=0)
    with pytest.raises(ValueError, match="block_size"):
        mmd2(x, y, block_size=-3)


def test_median_heuristic_even_and_odd_counts_and_ties():
    # 3 rows: 3 pairs (odd); 4 rows: 6 pairs (even, mean of the middle two).
    three = torch.tensor([[0.0], [1.0], [3.0]])
    assert float(median_heuristic(three)) == pytest.approx(4.0)  # pairs 1, 9, 4
    four = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    assert float(median_heuristic(four)) == pytest.approx((9.0 + 16.0) / 2)  # 1 4 9 16 36 49
    ties = torch.tensor([[0.0], [0.0], [0.0], [1.0]])  # 0 0 0 1 1 1 -> mean of 0 and 1
    assert float(median_heuristic(ties)) == pytest.approx(0.5)


def test_joint_mmd2_properties():
    x, z = _randn(10, 3, seed=1), _randn(10, 2, seed=2)
    assert abs(joint_mmd2(x, z, x.clone(), z.clone()).item()) < 1e-12
    # Same marginals, broken pairing: only the joint MMD sees the difference.
    perm = torch.roll(torch.arange(10), 1)
    assert (
        joint_mmd2(x, z, x, z[perm], bandwidths_x=1.0, bandwidths_z=1.0).item() > 1e-3
    )
    assert abs(mmd2(z, z[perm], bandwidths=1.0).item()) < 1e-12
    # A pair of kernels, and gradients to all four blocks.
    parts = [t.clone().requires_grad_(True) for t in (x, z, x + 1.0, z - 1.0)]
    out = joint_mmd2(*parts, kernel=("gaussian", "imq"))
    out.backward()
    assert out.item() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in parts)
    with pytest.raises(ValueError, match="same number of rows"):
        joint_mmd2(x, z[:5], x, z)
    with pytest.raises(ValueError, match="kernel"):
        joint_mmd2(x, z, x, z, kernel=("gaussian", "imq", "laplacian"))
    with pytest.raises(ValueError, match="kernel\\[1\\]"):
        joint_mmd2(x, z, x, z, kernel=("gaussian", "rbf"))


# ---------------------------------------------------------------- validators
def test_check_kernel():
    for kernel in KERNELS:
        assert check_kernel(kernel) == kernel
    with pytest.raises(ValueError, match=r"my_kernel.*'rbf'"):
        check_kernel("rbf", "my_kernel")
    with pytest.raises(TypeError, match=r"kernel.*None"):
        check_kernel(None)
    with pytest.raises(ValueError, match="kernel"):
        mmd2(_randn(3, 2), _randn(3, 2), kernel="poly")


def test_check_bandwidths_accepts():
    assert check_bandwidths("median") == "median"
    assert check_bandwidths(2) == (2.0,)
    assert check_bandwidths(np.float32(0.5)) == (0.5,)
    assert check_bandwidths([2, 5.0]) == (2.0, 5.0)
    assert check_bandwidths(np.array([1.0, 3.0])) == (1.0, 3.0)
    assert check_bandwidths(torch.tensor([1.0, 4.0])) == (1.0, 4.0)


@pytest.mark.parametrize(
    "value, error",
    [
        ((), ValueError),
        ([], ValueError),
        ((1.0, 0.0), ValueError),
        ((1.0, -2.0), ValueError),
        (float("nan"), ValueError),
        ((1.0, float("inf")), ValueError),
        ("mean", TypeError),
        (None, TypeError),
        (True, TypeError),
        ((1.0, "2"), TypeError),
        (((1.0, 2.0),), TypeError),
        ({"a": 1.0}, TypeError),
    ],
)
def test_check_bandwidths_rejects(value, error):
    with pytest.raises(error, match="bw_x"):
        check_bandwidths(value, "bw_x")


def test_mmd_functions_validate_bandwidths():
    x = _randn(4, 2)
    with pytest.raises(ValueError, match="bandwidths"):
        mmd2(x, x, bandwidths=(0.0,))
    with pytest.raises(ValueError, match="bandwidths_z"):
        joint_mmd2(x, x, x, x, bandwidths_z=())
