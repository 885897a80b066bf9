"""AMM probe: a cross-entropy that makes G_y recover the component of synthesised rows.

Not in the paper. On each generator step it adds ``WEIGHT * CE(G_y(G_x(k, z)), k)``
to the generators' loss, the mutual-information term of InfoGAN and ClusterGAN.
With ``--detach`` the synthesised rows are detached, so only the encoder learns
from it (what ``SAMMClassifier(sample_label_weight=...)`` does); without it the
gradient also reaches G_x and the prior, pushing the components apart. The
wrapper otherwise runs ``bench_amm.py`` unchanged, for example::

    python benchmarks/probe_amm_sample_labels.py --weight 1 trace --seed 0 \
        --params '{"max_epochs": 20}' --out amm_trace_infogan_probe.json
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_amm  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from skdeepgen import AMMClustering  # noqa: E402

parser = argparse.ArgumentParser(add_help=False)
parser.add_argument("--weight", type=float, required=True)
parser.add_argument("--detach", action="store_true")
probe, rest = parser.parse_known_args()
# bench_amm parses sys.argv and records it as the command; keep the probe's flags
# in the record without handing them to its parser.
_script = sys.argv[0]
_flags = [f"--weight {probe.weight:g}"] + (["--detach"] if probe.detach else [])
sys.argv = [f"{_script} {' '.join(_flags)}", *rest]


def _training_step(self, ctx, batch, step_name):
    inferred, synthesized = self._unsupervised_triples(ctx, batch, step_name)
    losses = self._step_losses([self._game(ctx, inferred, synthesized, step_name)], step_name)
    if step_name != "generator":
        return losses
    x, onehot, _ = synthesized
    mean, _, _ = ctx.module.y_logits(x.detach() if probe.detach else x)
    cross_entropy = F.cross_entropy(mean, onehot.argmax(1))
    return {"loss": losses["loss"] + probe.weight * cross_entropy, "adversarial": losses["loss"],
            "sample_labels": cross_entropy}


AMMClustering._training_step = _training_step

if __name__ == "__main__":
    bench_amm.main()
