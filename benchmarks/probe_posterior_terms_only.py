"""Probe: a clusterer's cluster encoder trained on the balance and consistency terms alone, without its GAN.

The reference that tells how much of an MNIST clustering comes from the GAN
and how much from the two IMSAT terms (``balance``, ``consistency``) that
``MMGANClustering`` and ``AMMClustering`` add on their encoder's posterior.
The estimator is the real one, fitted by its own loop with the given
``--params`` (the same networks, initialisation, minibatches and Adam
settings), except that each minibatch takes only the generator step and that
step's loss is the two weighted terms: the GAN's losses (and for MMGAN the
cross-entropy on generated rows) are left out, so only the encoder (MMGAN's
E; AMM's trunk and G_y head) learns. All 70,000 MNIST rows, ACC / NMI / ARI
of ``labels_``::

    python benchmarks/probe_posterior_terms_only.py mmgan --seeds 0 \
        --params '{"balance": 1.0, "balance_marginal": 4.0, "consistency": 3.0, "max_epochs": 3}'
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, peak_rss_mb, write_json  # noqa: E402
from bench_dec import RESULTS, _mean_std, _report, load  # noqa: E402
from bench_mmgan import MNIST_PARAMS  # noqa: E402

from skdeepgen import AMMClustering, MMGANClustering  # noqa: E402
from skdeepgen._posterior_terms import add_posterior_terms  # noqa: E402

#: Image geometry for the augmentations; AMM keeps its MLPs (conv_channels=None).
BASE_PARAMS = {"mmgan": MNIST_PARAMS, "amm": {"image_shape": [1, 28, 28], "conv_channels": None}}


def terms_only(cls):
    """``cls`` whose fit trains the cluster encoder on the balance and consistency terms only."""
    class TermsOnly(cls):
        def _step_schedule(self):
            return [("generator", 1)]

        def _training_step(self, ctx, batch, step_name):
            log_p = self._cluster_log_proba(ctx.module, batch)
            return add_posterior_terms(self, {"loss": torch.zeros((), device=batch.device)}, log_p, batch,
                                       lambda x: self._cluster_log_proba(ctx.module, x), ctx.generator)

    TermsOnly.__name__ = cls.__name__  # the shell names parameters by class in its messages
    return TermsOnly


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=("mmgan", "amm"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--params", default="{}", help="JSON dict of the estimator's parameters")
    parser.add_argument("--out", default=None, help="file name under benchmarks/results")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    params = {**BASE_PARAMS[args.model], **json.loads(args.params)}
    cls = terms_only(MMGANClustering if args.model == "mmgan" else AMMClustering)
    X, y = load("mnist")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "params": params, "runs": []}
    for seed in args.seeds:
        start = time.perf_counter()
        model = cls(10, random_state=seed, **params).fit(X)
        entry = {"seed": seed, **_report(y, model.labels_), "fit_seconds": time.perf_counter() - start,
                 "last_epoch": model.history_[-1]}
        print(json.dumps(entry), flush=True)
        result["runs"].append(entry)
    result["summary"] = {k: _mean_std([r[k] for r in result["runs"]]) for k in ("acc", "nmi", "ari", "fit_seconds")}
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result["summary"]), flush=True)
    write_json(os.path.join(RESULTS, args.out or f"{args.model}_posterior_terms_only.json"), result)


if __name__ == "__main__":
    main()
