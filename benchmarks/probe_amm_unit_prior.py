"""AMM probe: the paper's prior G_z(y) with learned means and unit variances.

The paper's table 4 gives G_z(y) a learned mean and a fixed ``ExpN(0)``
standard deviation of 1; ``AMMClustering(prior="learned")`` learns both.
This wrapper freezes the prior's log-variances at 0 and otherwise runs
``bench_amm.py`` unchanged, for example::

    python benchmarks/probe_amm_unit_prior.py trace --seed 0 \
        --params '{"max_epochs": 20}' --out amm_trace_unit_prior_probe.json
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_amm  # noqa: E402

from skdeepgen import AMMClustering  # noqa: E402

_initialize = AMMClustering._initialize


def _unit_variance_prior(self, ctx):
    _initialize(self, ctx)
    ctx.module.prior_log_vars.weight.requires_grad_(False)  # stays 0: sigma(y) = 1


AMMClustering._initialize = _unit_variance_prior

if __name__ == "__main__":
    bench_amm.main()
