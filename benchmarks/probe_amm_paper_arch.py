"""AMM probe: the paper's own MNIST networks (appendix tables 3-6) in place of ours.

``AMMClustering`` uses one MLP trunk for both encoders, a z-encoder that
reads y, and MLPs for G_x and D. The paper's networks differ in kind:

* table 3, G_z(x) and G_y(x, G_z(x)): two convolutional streams over x
  (channels 32, 32, 64, 64, 128; widths 2, 3, 3, 3, 4; strides 1, 2, 2, 1, 1;
  dropout 0.2, batch normalisation, LeakyReLU 0.2). The z stream reads x
  only; the y stream adds the z stream's pre-activation at every layer.
  Heads are 1x1 convolutions to (mu, log sigma^2) of h_y (k) and z (64);
* table 4, G_z(y): one-hot y -> 64 -> 64 (batch normalisation, LeakyReLU,
  dropout 0.2) -> mu(y), with sigma = ExpN(0) = 1;
* table 5, G_x(y, G_z(y)): the mirror image with transposed convolutions;
  the y stream is linear (batch normalisation, no activation) and adds the
  z stream at every layer; x = sigmoid(y6 + z6);
* table 6, D(x, y, z): the x convolutions of table 3 (no batch
  normalisation), y -> 64 -> 64 and z -> 64 -> 64, then 256 -> 256 -> 256 -> 1,
  LeakyReLU 0.2 and dropout 0.2 (the extracted table is garbled; its
  channel, width and stride rows read this way).

Dropout follows ALI's tables: on a layer's input. Weights start N(0, 0.02)
as the paper says. This wrapper swaps the module and otherwise runs
``bench_amm.py`` unchanged (MNIST in [0, 1], sigmoid output), for example::

    python benchmarks/probe_amm_paper_arch.py trace --seed 0 \
        --params '{"max_epochs": 20}' --time-budget 7200 --out amm_trace_paper_arch_probe.json

``--dense`` keeps the topology (two streams, z from x alone, the y stream
adding the z stream, table 4's prior, table 6's D joint) with dense layers
of 512 units in place of the convolutions, at about an MLP's cost.
``--parts discriminator`` (any comma-separated subset of encoder, prior,
decoder, discriminator) swaps only those parts of the dense version into
``AMMModule``, the rest staying the library's, to find which part matters.
"""
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_amm  # noqa: E402

from skdeepgen import AMMClustering  # noqa: E402
from skdeepgen.amm import AMMModule, _BaseAMM, _gaussian  # noqa: E402
from skdeepgen.networks import Standardize, init_weights  # noqa: E402

# (in, out, width, stride) of the five convolutions of tables 3 and 6.
_CONVS = ((1, 32, 2, 1), (32, 32, 3, 2), (32, 64, 3, 2), (64, 64, 3, 1), (64, 128, 4, 1))
# Table 5's transposed convolutions after the 1x1 layer (1 -> 4 -> 6 -> 13 -> 27 -> 28 pixels).
_DECONVS = ((128, 64, 4, 1), (64, 64, 3, 1), (64, 32, 3, 2), (32, 32, 3, 2))
_P = 0.2


def _leak(x):
    return F.leaky_relu(x, 0.2)


class _Stage(nn.Module):
    """One layer of a two-stream network: the y stream adds the z stream's pre-activation."""

    def __init__(self, layer, norm, c_in, c_out, *shape, y_activation=True):
        super().__init__()
        self.conv_y, self.conv_z = layer(c_in, c_out, *shape), layer(c_in, c_out, *shape)
        self.bn_y, self.bn_z = norm(c_out), norm(c_out)
        self.drop = nn.Dropout(_P)
        self.y_activation = y_activation

    def forward(self, y, z):
        hz = self.conv_z(self.drop(z))
        hy = self.bn_y(self.conv_y(self.drop(y)) + hz)
        return (_leak(hy) if self.y_activation else hy), _leak(self.bn_z(hz))


class PaperAMMModule(nn.Module):
    """Tables 3-6 with the interface of :class:`skdeepgen.amm.AMMModule`."""

    def __init__(self, n_features, n_clusters, latent_dim, dense=False):
        super().__init__()
        K, d = n_clusters, latent_dim
        self.n_clusters, self.latent_dim, self.dense = K, d, dense
        self.scaler = Standardize(n_features)
        self.register_buffer("log_prior", torch.full((K,), -float(torch.log(torch.tensor(float(K))))))
        if dense:  # the same topology with dense layers of 512 units
            convs, deconvs, top = ((n_features, 512), (512, 512)), ((512, 512),), 512
            layer, norm, deconv = nn.Linear, nn.BatchNorm1d, nn.Linear
            d_x = [nn.Dropout(_P), nn.Linear(n_features, 512), nn.LeakyReLU(0.2),
                   nn.Dropout(_P), nn.Linear(512, 512), nn.LeakyReLU(0.2)]
            heads = nn.Linear(top, 2 * K), nn.Linear(top, 2 * d)
            outputs = nn.Linear(512, n_features), nn.Linear(512, n_features)
        else:
            convs, deconvs, top = _CONVS, _DECONVS, 128
            layer, norm, deconv = nn.Conv2d, nn.BatchNorm2d, nn.ConvTranspose2d
            d_x = []
            for c_in, c_out, width, stride in _CONVS:
                d_x += [nn.Dropout(_P), nn.Conv2d(c_in, c_out, width, stride), nn.LeakyReLU(0.2)]
            heads = nn.Conv2d(top, 2 * K, 1), nn.Conv2d(top, 2 * d, 1)
            outputs = nn.ConvTranspose2d(32, 1, 2, 1), nn.ConvTranspose2d(32, 1, 2, 1)
        # G_y(x, G_z(x)) and G_z(x): table 3. Registration order sets init_weights' draws: keep it.
        self.encoder = nn.ModuleList(_Stage(layer, norm, *c) for c in convs)
        self.y_head, self.z_head = heads
        # G_z(y): table 4.
        self.prior_net = nn.Sequential(nn.Linear(K, 64), nn.BatchNorm1d(64), nn.LeakyReLU(0.2), nn.Dropout(_P),
                                       nn.Linear(64, 64), nn.BatchNorm1d(64), nn.LeakyReLU(0.2), nn.Linear(64, d))
        # G_x(y, G_z(y)): table 5.
        width = deconvs[0][0]
        self.dec_in_y, self.dec_in_z = nn.Linear(K, width), nn.Linear(d, width)
        self.dec_bn_y, self.dec_bn_z = nn.BatchNorm1d(width), nn.BatchNorm1d(width)
        self.decoder = nn.ModuleList(_Stage(deconv, norm, *c, y_activation=False) for c in deconvs)
        self.dec_out_y, self.dec_out_z = outputs
        self.dec_drop = nn.Dropout(_P)
        # D(x, y, z): table 6, no batch normalisation (the gradient penalty is per row).
        self.d_x = nn.Sequential(*d_x, nn.Flatten())
        self.d_yz = nn.ModuleList([
            nn.Sequential(nn.Linear(K, 64), nn.LeakyReLU(0.2), nn.Dropout(_P), nn.Linear(64, 64), nn.LeakyReLU(0.2)),
            nn.Sequential(nn.Linear(d, 64), nn.LeakyReLU(0.2), nn.Dropout(_P), nn.Linear(64, 64), nn.LeakyReLU(0.2)),
        ])
        self.d_joint = nn.Sequential(nn.Dropout(_P), nn.Linear(top + 128, 256), nn.LeakyReLU(0.2),
                                     nn.Dropout(_P), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                                     nn.Dropout(_P), nn.Linear(256, 1))

    def _image(self, x):
        return x if self.dense else x.reshape(-1, 1, 28, 28)

    def _map(self, h):
        return h if self.dense else h[:, :, None, None]

    def y_logits(self, x):
        y = z = self._image(x)
        for stage in self.encoder:
            y, z = stage(y, z)
        mean, log_var = self.y_head(y).flatten(1).chunk(2, dim=1)
        return mean, log_var, z

    def infer_z(self, features, y, noise):
        # Table 3: z depends on x alone (G_z(x)); y is unused.
        mean, log_var = self.z_head(features).flatten(1).chunk(2, dim=1)
        return mean if noise is None else _gaussian(mean, log_var, noise)

    infer = AMMModule.infer  # y = softmax(h_y), then z through this module's infer_z

    def prior_z(self, onehot, noise):
        return self.prior_net(onehot) + noise  # sigma = ExpN(0) = 1

    def decode(self, y, z):
        hz = self.dec_in_z(z)
        hy = self._map(self.dec_bn_y(self.dec_in_y(y) + hz))
        hz = self._map(_leak(self.dec_bn_z(hz)))
        for stage in self.decoder:
            hy, hz = stage(hy, hz)
        out = self.dec_out_y(self.dec_drop(hy)) + self.dec_out_z(self.dec_drop(hz))
        return torch.sigmoid(out).flatten(1)

    def synthesize(self, onehot, noise):
        z = self.prior_z(onehot, noise)
        return self.decode(onehot, z), z

    def discriminate(self, x, y, z):
        joint = torch.cat([self.d_x(self._image(x)), self.d_yz[0](y), self.d_yz[1](z)], dim=1)
        return self.d_joint(joint).float()

    def generators(self):
        return [m for name, m in self.named_children() if not name.startswith("d_") and name != "scaler"]


# Per part of the paper's (dense) networks: the attributes it brings, the methods that use them, and
# the attributes of AMMModule it makes unused.
_PARTS = {
    "encoder": (("encoder", "y_head", "z_head"), ("y_logits", "infer_z"), ("trunk",)),
    "prior": (("prior_net",), ("prior_z",), ("prior_means", "prior_log_vars")),
    "decoder": (("dec_in_y", "dec_in_z", "dec_bn_y", "dec_bn_z", "decoder", "dec_out_y", "dec_out_z", "dec_drop"),
                ("decode",), ()),
    "discriminator": (("d_x", "d_yz", "d_joint"), ("discriminate",), ()),
}
DENSE = "--dense" in sys.argv
PARTS = None
if "--parts" in sys.argv:  # bench_amm's parser knows neither flag; the results' "command" still shows them
    i = sys.argv.index("--parts")
    PARTS = sys.argv[i + 1].split(",")
    if not set(PARTS) <= set(_PARTS):
        raise SystemExit(f"--parts takes a comma-separated subset of {sorted(_PARTS)}, got {sys.argv[i + 1]!r}")
    sys.argv[0] += f" --parts {sys.argv[i + 1]}"
    del sys.argv[i:i + 2]
if DENSE:
    sys.argv.remove("--dense")
    sys.argv[0] += " --dense"


def _hybrid(self):
    """AMMModule with the PARTS replaced by the paper's dense ones (one ablation at a time)."""
    K, d = self._n_components(), self.latent_dim
    paper = PaperAMMModule(self.n_features_in_, K, d, dense=True)
    module = AMMModule(self.n_features_in_, K, d, self.encoder_layers_, self.decoder_layers_,
                       self.discriminator_layers_, self.output_activation_, self.dropout)
    methods = {name: getattr(PaperAMMModule, name) for name in ("_image", "_map", "generators")}
    for part in PARTS:
        attributes, uses, unused = _PARTS[part]
        for name in unused:
            delattr(module, name)
        for name in attributes:
            setattr(module, name, getattr(paper, name))
        methods.update({name: getattr(PaperAMMModule, name) for name in uses})
    module.dense = True
    module.__class__ = type("HybridAMMModule", (AMMModule,), methods)
    return module


def _build_module(self):
    if PARTS is not None:
        return _hybrid(self)
    return PaperAMMModule(self.n_features_in_, self._n_components(), self.latent_dim, dense=DENSE)


_default_initialize, _default_after_fit = AMMClustering._initialize, AMMClustering._after_fit


def _initialize(self, ctx):
    if PARTS is not None and "prior" not in PARTS:
        return _default_initialize(self, ctx)
    init_weights(ctx.module, std=0.02, generator=ctx.generator)  # the paper's N(0, 0.02), biases 0


def _after_fit(self, ctx):
    if PARTS is not None and "prior" not in PARTS:
        return _default_after_fit(self, ctx)
    module = ctx.module
    was_training = module.training
    module.eval()
    with torch.no_grad():
        eye = torch.eye(self._n_components(), device=next(module.parameters()).device)
        self.cluster_means_ = module.prior_net(eye).double().cpu().numpy()
    module.train(was_training)
    self.cluster_stds_ = np.ones_like(self.cluster_means_)
    super(_BaseAMM, self)._after_fit(ctx)  # skips _BaseAMM's, which reads a linear prior's weights


AMMClustering._build_module = _build_module
AMMClustering._initialize = _initialize
AMMClustering._after_fit = _after_fit

if __name__ == "__main__":
    bench_amm.main()
