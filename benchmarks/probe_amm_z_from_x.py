"""AMM probe: the paper's table 3 encoder G_z(x), which does not read y.

``AMMClustering`` infers z from the trunk's features and y (q(z | x, y),
eq. 10); the paper's MNIST table 3 computes z from x alone. This wrapper
feeds zeros in place of y to the z-encoder (the same network, so the
weights draw as before) and otherwise runs ``bench_amm.py`` unchanged::

    python benchmarks/probe_amm_z_from_x.py trace --seed 0 \
        --params '{"max_epochs": 20}' --out amm_trace_z_from_x_probe.json
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_amm  # noqa: E402

from skdeepgen.amm import AMMModule  # noqa: E402

_infer_z = AMMModule.infer_z


def _z_from_x(self, features, y, noise):
    return _infer_z(self, features, torch.zeros_like(y), noise)


AMMModule.infer_z = _z_from_x

if __name__ == "__main__":
    bench_amm.main()
