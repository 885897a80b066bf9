"""AMM probe: D reads the cluster code y scaled up, so that y weighs as much as z.

In ``AMMModule.discriminate``, D's (y, z) embedding takes the concatenation
of y (a softmax: norm at most 1) and z (64 roughly unit-variance values: norm
about 8), so at the N(0, 0.02) initialisation y moves D's first (y, z) layer
about 8 times less than z does, and the encoders' y learns from D only
through that layer. ``--y-scale S`` multiplies y by S on its way into D (the
gradient penalty sees the same D) and otherwise runs ``bench_amm.py``
unchanged::

    python benchmarks/probe_amm_d_y_scale.py --y-scale 8 trace --seed 0 \
        --params '{"max_epochs": 20}' --out amm_trace_d_y_scale8_probe.json

Not in the paper: the question is whether the weak y path in D is what slows
the clustering (the paper's table 6 D, with a 64-unit y stream, collapsed in
``probe_amm_paper_arch.py --parts discriminator``).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_amm  # noqa: E402

from skdeepgen.amm import AMMModule  # noqa: E402

if "--y-scale" not in sys.argv:
    raise SystemExit("usage: probe_amm_d_y_scale.py --y-scale S <bench_amm.py arguments>")
_i = sys.argv.index("--y-scale")
SCALE = float(sys.argv[_i + 1])
sys.argv[0] += f" --y-scale {sys.argv[_i + 1]}"  # bench_amm's parser does not know the flag
del sys.argv[_i:_i + 2]

_discriminate = AMMModule.discriminate


def _scaled(self, x, y, z):
    return _discriminate(self, x, SCALE * y, z)


AMMModule.discriminate = _scaled

if __name__ == "__main__":
    bench_amm.main()
