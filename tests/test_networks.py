"""Tests for skdeepgen.networks."""

import numpy as np
import pytest
import torch
from torch import nn

from skdeepgen.networks import (
    ACTIVATIONS,
    Standardize,
    check_image_shape,
    check_layer_sizes,
    count_parameters,
    init_weights,
    make_conv_decoder,
    make_conv_encoder,
    make_mlp,
    mlp_flops,
)


def _types(seq):
    return [type(m) for m in seq]


# ---------------------------------------------------------------- make_mlp


def test_make_mlp_structure_and_shape():
    net = make_mlp((5, 16, 8, 3))
    assert isinstance(net, nn.Sequential)
    assert _types(net) == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (5, 16),
        (16, 8),
        (8, 3),
    ]
    assert net(torch.randn(7, 5)).shape == (7, 3)


def test_make_mlp_single_layer():
    net = make_mlp([4, 2], batch_norm=True, dropout=0.5)
    # No hidden layer: no norm, activation or dropout.
    assert _types(net) == [nn.Linear]
    net = make_mlp((4, 2), output_activation="sigmoid")
    assert _types(net) == [nn.Linear, nn.Sigmoid]


def test_make_mlp_batch_norm_dropout_placement():
    net = make_mlp((4, 8, 6, 2), batch_norm=True, dropout=0.25)
    assert _types(net) == [
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
    ]
    assert net[1].num_features == 8 and net[5].num_features == 6
    assert net[3].p == 0.25
    assert net(torch.randn(3, 4)).shape == (3, 2)


def test_make_mlp_layer_norm():
    net = make_mlp((4, 8, 2), layer_norm=True, activation="tanh")
    assert _types(net) == [nn.Linear, nn.LayerNorm, nn.Tanh, nn.Linear]
    assert net[1].normalized_shape == (8,)
    # LayerNorm works with a single sample in training mode.
    assert net(torch.randn(1, 4)).shape == (1, 2)


def test_make_mlp_norms_exclusive():
    with pytest.raises(ValueError, match="mutually exclusive"):
        make_mlp((4, 8, 2), batch_norm=True, layer_norm=True)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("relu", nn.ReLU),
        ("leaky_relu", nn.LeakyReLU),
        ("elu", nn.ELU),
        ("tanh", nn.Tanh),
        ("sigmoid", nn.Sigmoid),
        ("selu", nn.SELU),
        ("gelu", nn.GELU),
    ],
)
def test_make_mlp_activation_names(name, cls):
    net = make_mlp((3, 4, 2), activation=name, output_activation=name)
    assert _types(net) == [nn.Linear, cls, nn.Linear, cls]
    # Hidden and output activations are distinct module objects.
    assert net[1] is not net[3]
    assert name in ACTIVATIONS


def test_make_mlp_leaky_relu_slope():
    net = make_mlp((3, 4, 2), activation="leaky_relu")
    assert net[1].negative_slope == 0.2


@pytest.mark.parametrize("act", ["identity", None, "IDENTITY"])
def test_make_mlp_identity(act):
    net = make_mlp((3, 4, 2), activation=act)
    assert _types(net) == [nn.Linear, nn.Linear]


def test_make_mlp_case_insensitive():
    assert _types(make_mlp((3, 4, 2), activation="ReLU")) == [
        nn.Linear,
        nn.ReLU,
        nn.Linear,
    ]


def test_make_mlp_module_class_and_instance():
    net = make_mlp((3, 4, 4, 2), activation=nn.Softplus, output_activation=nn.Tanh)
    assert _types(net) == [
        nn.Linear,
        nn.Softplus,
        nn.Linear,
        nn.Softplus,
        nn.Linear,
        nn.Tanh,
    ]
    assert net[1] is not net[3]
    prelu = nn.PReLU()
    net = make_mlp((3, 4, 4, 2), activation=prelu)
    # Instances are copied: parametric activations are not shared.
    assert isinstance(net[1], nn.PReLU) and isinstance(net[3], nn.PReLU)
    assert net[1] is not prelu and net[1] is not net[3]
    assert net[1].weight.data_ptr() != net[3].weight.data_ptr()


def test_make_mlp_output_activation_applied():
    net = make_mlp((3, 8, 2), output_activation="sigmoid")
    out = net(100 * torch.randn(50, 3))
    assert torch.all((out >= 0) & (out <= 1))
    net = make_mlp((3, 8, 2), output_activation="tanh")
    out = net(100 * torch.randn(50, 3))
    assert torch.all(out.abs() <= 1)


def test_make_mlp_bias():
    net = make_mlp((3, 4, 2), bias=False)
    assert all(m.bias is None for m in net if isinstance(m, nn.Linear))
    assert count_parameters(net) == 3 * 4 + 4 * 2


def test_make_mlp_numpy_sizes():
    net = make_mlp(np.array([3, 4, 2]))
    assert net(torch.randn(2, 3)).shape == (2, 2)
    net = make_mlp((np.int64(3), np.int32(2)))
    assert net[0].in_features == 3 and type(net[0].in_features) is int


def test_make_mlp_unknown_activation():
    with pytest.raises(ValueError, match="'relu'.*'leaky_relu'.*'gelu'"):
        make_mlp((3, 4, 2), activation="swish")
    with pytest.raises(ValueError, match="output_activation"):
        make_mlp((3, 4, 2), output_activation="softmaxx")
    with pytest.raises(TypeError, match="activation"):
        make_mlp((3, 4, 2), activation=torch.relu)
    with pytest.raises(TypeError, match="activation"):
        make_mlp((3, 4, 2), activation=int)


@pytest.mark.parametrize(
    "sizes, exc, match",
    [
        ((3,), ValueError, "sizes must have at least 2"),
        ((), ValueError, "sizes must have at least 2"),
        ((3, 0, 2), ValueError, "sizes must contain positive.*0"),
        ((3, -4, 2), ValueError, "sizes.*-4"),
        ((3, 4.0, 2), TypeError, "sizes must contain integers.*4.0"),
        ((3, True, 2), TypeError, "sizes must contain integers.*True"),
        (5, TypeError, r"sizes must be a tuple.*\(5,\)"),
        ("34", TypeError, "sizes must be a tuple"),
        (None, TypeError, "sizes"),
    ],
)
def test_make_mlp_bad_sizes(sizes, exc, match):
    with pytest.raises(exc, match=match):
        make_mlp(sizes)


@pytest.mark.parametrize(
    "dropout, exc",
    [
        (1.0, ValueError),
        (-0.1, ValueError),
        (float("nan"), ValueError),
        (True, TypeError),
        ("0.1", TypeError),
    ],
)
def test_make_mlp_bad_dropout(dropout, exc):
    with pytest.raises(exc, match="dropout"):
        make_mlp((3, 4, 2), dropout=dropout)


@pytest.mark.parametrize("flag", ["batch_norm", "layer_norm", "bias"])
def test_make_mlp_bad_flags(flag):
    with pytest.raises(TypeError, match=flag):
        make_mlp((3, 4, 2), **{flag: "yes"})


def test_make_mlp_accepts_numpy_dropout_and_bool():
    net = make_mlp((3, 4, 2), dropout=np.float64(0.5), batch_norm=np.bool_(True))
    assert _types(net) == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]


# ------------------------------------------------------- check_layer_sizes


@pytest.mark.parametrize(
    "sizes, expected",
    [
        ((500, 500, 2000), (500, 500, 2000)),
        ([10], (10,)),
        ((), ()),
        ([], ()),
        (np.array([4, 2]), (4, 2)),
        ((np.int64(7),), (7,)),
    ],
)
def test_check_layer_sizes_valid(sizes, expected):
    out = check_layer_sizes(sizes, "encoder_layers")
    assert out == expected
    assert type(out) is tuple
    assert all(type(v) is int for v in out)


@pytest.mark.parametrize(
    "sizes, exc, match",
    [
        ((500, 0), ValueError, r"encoder_layers.*positive.*0.*\(500, 0\)"),
        ((500, -1), ValueError, "encoder_layers.*-1"),
        ((500, True), TypeError, "encoder_layers.*True"),
        ((False,), TypeError, "encoder_layers.*False"),
        ((np.bool_(True),), TypeError, "encoder_layers"),
        ((500, 2.0), TypeError, "encoder_layers.*2.0"),
        ((500, "64"), TypeError, "encoder_layers.*'64'"),
        ((500, None), TypeError, "encoder_layers.*None"),
        (500, TypeError, r"encoder_layers.*500.*\(500,\)"),
        (2.5, TypeError, "encoder_layers.*2.5"),
        ("500", TypeError, "encoder_layers"),
        (None, TypeError, "encoder_layers.*None"),
        ({500: 1}, TypeError, "encoder_layers"),
        (np.ones((2, 2), dtype=int), TypeError, "encoder_layers.*shape"),
        (np.array([1.0, 2.0]), TypeError, "encoder_layers"),
    ],
)
def test_check_layer_sizes_invalid(sizes, exc, match):
    with pytest.raises(exc, match=match):
        check_layer_sizes(sizes, "encoder_layers")


def test_check_layer_sizes_min_length():
    with pytest.raises(ValueError, match="decoder_layers.*at least 1"):
        check_layer_sizes((), "decoder_layers", min_length=1)
    assert check_layer_sizes((3,), "decoder_layers", min_length=1) == (3,)


# ------------------------------------------------------------ init_weights


def test_init_weights_statistics():
    net = make_mlp((200, 300, 100), batch_norm=True)
    out = init_weights(net, std=0.05, generator=torch.Generator().manual_seed(0))
    assert out is net
    for m in net:
        if isinstance(m, nn.Linear):
            w = m.weight.detach()
            assert abs(float(w.mean())) < 0.002
            assert float(w.std()) == pytest.approx(0.05, rel=0.02)
            assert torch.all(m.bias == 0)
        if isinstance(m, nn.BatchNorm1d):
            # Normalization layers are left alone.
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)


def test_init_weights_default_std():
    net = init_weights(nn.Linear(500, 400), generator=1)
    assert float(net.weight.detach().std()) == pytest.approx(0.02, rel=0.02)


def test_init_weights_conv():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ConvTranspose2d(8, 3, 3))
    init_weights(net, std=0.1, generator=0)
    for m in net:
        assert torch.all(m.bias == 0)
        assert float(m.weight.detach().std()) == pytest.approx(0.1, rel=0.2)


def test_init_weights_deterministic_and_global_rng_untouched():
    # Construction draws from the global RNG; build everything first.
    a, b, c = (make_mlp((6, 10, 4)) for _ in range(3))
    state = torch.get_rng_state()
    init_weights(a, generator=torch.Generator().manual_seed(123))
    init_weights(b, generator=torch.Generator().manual_seed(123))
    assert torch.equal(torch.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    # An int seed is equivalent to a seeded generator.
    init_weights(c, generator=123)
    for p, q in zip(a.parameters(), c.parameters()):
        assert torch.equal(p, q)
    assert torch.equal(torch.get_rng_state(), state)
    # Another seed gives other weights.
    d = init_weights(make_mlp((6, 10, 4)), generator=124)
    assert not torch.equal(a[0].weight, d[0].weight)


def test_init_weights_generator_advances():
    g = torch.Generator().manual_seed(0)
    a = init_weights(nn.Linear(4, 4), generator=g)
    b = init_weights(nn.Linear(4, 4), generator=g)
    assert not torch.equal(a.weight, b.weight)


def test_init_weights_global_rng():
    torch.manual_seed(5)
    a = init_weights(nn.Linear(4, 4))
    torch.manual_seed(5)
    b = init_weights(nn.Linear(4, 4))
    # Construction and init both draw from the global RNG, in the same order.
    assert torch.equal(a.weight, b.weight)


def test_init_weights_no_grad_tracking():
    net = init_weights(make_mlp((3, 4, 2)), generator=0)
    for p in net.parameters():
        assert p.requires_grad and p.grad_fn is None and p.is_leaf


def test_init_weights_lazy_skipped():
    net = nn.Sequential(nn.LazyLinear(4), nn.Linear(4, 2))
    init_weights(net, generator=0)
    assert torch.all(net[1].bias == 0)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"std": 0.0}, ValueError),
        ({"std": -1.0}, ValueError),
        ({"std": float("inf")}, ValueError),
        ({"std": "0.1"}, TypeError),
        ({"generator": "seed"}, TypeError),
        ({"generator": True}, TypeError),
    ],
)
def test_init_weights_bad_args(kwargs, exc):
    with pytest.raises(exc):
        init_weights(nn.Linear(2, 2), **kwargs)


def test_init_weights_bad_module():
    with pytest.raises(TypeError, match="module"):
        init_weights("net")


# --------------------------------------------------- counting and flops


def test_count_parameters():
    net = make_mlp((5, 16, 3), batch_norm=True)
    # Linear 5*16+16, BatchNorm 2*16, Linear 16*3+3
    assert count_parameters(net) == 96 + 32 + 51
    net[1].weight.requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == 96 + 16 + 51
    assert count_parameters(net) == 96 + 32 + 51


def test_count_parameters_shared():
    lin = nn.Linear(3, 3)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert count_parameters(net) == 12


def test_mlp_flops_by_hand():
    assert mlp_flops((784, 500, 500, 2000, 10)) == 2 * (
        784 * 500 + 500 * 500 + 500 * 2000 + 2000 * 10
    )
    assert mlp_flops([3, 2]) == 12
    assert type(mlp_flops((3, 2))) is int


def test_mlp_flops_matches_parameter_count():
    sizes = (7, 11, 5)
    net = make_mlp(sizes, bias=False)
    assert mlp_flops(sizes) == 2 * count_parameters(net)


def test_mlp_flops_bad_sizes():
    with pytest.raises(ValueError, match="sizes"):
        mlp_flops((3,))
    with pytest.raises(TypeError, match="sizes"):
        mlp_flops((3, True))


def test_standardize_fits_streams_and_inverts():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3) * [1.0, 50.0, 0.0] + [0.0, 1000.0, 7.0]  # a constant column keeps scale 1
    scaler = Standardize(3)
    Standardize._CHUNK, chunk = 64, Standardize._CHUNK  # several chunks
    try:
        scaler.fit_(X.astype(np.float32))
    finally:
        Standardize._CHUNK = chunk
    np.testing.assert_allclose(scaler.shift.numpy(), X.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(scaler.scale.numpy(), [X[:, 0].std(), X[:, 1].std(), 1.0], rtol=1e-4)
    t = torch.from_numpy(X.astype(np.float32))
    z = scaler(t)
    np.testing.assert_allclose(z[:, :2].mean(0).numpy(), 0, atol=1e-3)
    torch.testing.assert_close(scaler.inverse(z), t, rtol=1e-5, atol=1e-3)
    # Buffers: they follow the state_dict.
    assert set(scaler.state_dict()) == {"shift", "scale"}


def test_conv_encoder_and_decoder_shapes():
    enc = make_conv_encoder((2, 8, 12), 5, channels=(4, 6), hidden=16)
    assert enc(torch.randn(3, 2 * 8 * 12)).shape == (3, 5)
    dec = make_conv_decoder(7, (2, 8, 12), channels=(6, 4), hidden=16, output_activation="sigmoid")
    out = dec(torch.randn(3, 7)).detach()
    assert out.shape == (3, 2 * 8 * 12) and float(out.min()) >= 0 and float(out.max()) <= 1
    assert not any(isinstance(m, nn.BatchNorm1d) for m in make_conv_decoder(7, (1, 4, 4), batch_norm=False))


def test_check_image_shape():
    assert check_image_shape((1, 28, 28), 784) == (1, 28, 28)
    with pytest.raises(ValueError, match="holds 784 values but X has 785"):
        check_image_shape((1, 28, 28), 785)
    with pytest.raises(ValueError, match="multiples of 4"):
        check_image_shape((1, 6, 6), 36)
    with pytest.raises(ValueError, match="channels, height, width"):
        check_image_shape((28, 28), 784)
