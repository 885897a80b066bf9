"""GAMN probe: sample from an exponential moving average (EMA) of the generator's weights.

Not in the paper; a common GAN habit (Karras et al. 2018, Brock et al. 2019).
One fit of the recommended MNIST setting (``bench_gamn.py``'s docs table) keeps,
beside G, EMA copies of G's parameters for each decay in ``--decays``; batch
normalisation's running statistics are copied from G as they are. After the
fit the same 10,000 codes are pushed through G and through each EMA copy, and
each set of digits gets the classifier-based inception score of
``bench_gamn.py mnist``, so the comparison is paired: one training run, one
set of codes, only the weights differ. For example::

    python benchmarks/probe_gamn_ema.py --seed 0 --epochs 7 --out gamn_probe_ema_7ep_seed0.json

``--lr-decay-start F`` (a second probe, also not in the paper) keeps both
learning rates constant for the first fraction F of the minibatches, then
lowers them linearly to zero at the last one (F = 0 decays from the start).
``--mapper-bandwidths V ...`` (a third) gives the MMD in the mapper's space
fixed Gaussian kernel variances V (MMD GAN's habit: Li et al. 2017 use 1, 2,
4, 8, 16 on the critic's features) in place of the per-batch median
heuristic; the data-space MMD keeps the median heuristic.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import WeightAverages, classifier_and_data, generation_report, machine, peak_rss_mb, write_json  # noqa: E402

from skdeepgen import GAMNGenerator, gamn  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
#: The recommended MNIST setting of docs/benchmarks.md (GAMN, "Two generator steps").
SETTING = {"image_shape": [1, 28, 28], "batch_size": 64, "n_mapper": 1, "learning_rate": 2e-4,
           "n_generator": 2}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--decays", type=float, nargs="+", default=[0.99, 0.999, 0.9999])
    parser.add_argument("--lr-decay-start", type=float, default=None,
                        help="fraction of the minibatches after which the learning rates fall linearly to 0")
    parser.add_argument("--mapper-bandwidths", type=float, nargs="+", default=None,
                        help="fixed kernel variances for the MMD in the mapper's space")
    parser.add_argument("--out", default="gamn_probe_ema.json")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    clf, info, X, X_test = classifier_and_data()
    averages = WeightAverages(args.decays)

    original_step = GAMNGenerator._training_step
    if args.mapper_bandwidths is not None:
        data_mmd = gamn.mmd

        def mmd(x, y, bandwidths):
            # Only the mapper's features have mapper_dim columns; the images have 784.
            fixed = x.shape[1] == GAMNGenerator().mapper_dim
            return data_mmd(x, y, tuple(args.mapper_bandwidths) if fixed else bandwidths)

        gamn.mmd = mmd
    total = args.epochs * math.ceil(X.shape[0] / SETTING["batch_size"])

    def training_step(self, ctx, batch, step_name):
        # Called before each optimizer step, so an average folds in G as it
        # stands after the previous generator step: one step of lag.
        if step_name == "generator":
            averages.update(ctx.module.generator)
        if args.lr_decay_start is not None:
            scale = min(1.0, (1.0 - ctx.iteration / total) / (1.0 - args.lr_decay_start))
            for group in ctx.optimizers[step_name].param_groups:
                group["lr"] = self.learning_rate * scale
        return original_step(self, ctx, batch, step_name)

    GAMNGenerator._training_step = training_step
    start = time.perf_counter()
    model = GAMNGenerator(**SETTING, max_epochs=args.epochs, random_state=args.seed, verbose=1).fit(X)
    seconds = time.perf_counter() - start
    GAMNGenerator._training_step = original_step

    codes = torch.from_numpy(model._draw(10000, np.random.RandomState(args.seed)))
    generator = model.module_.generator
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "classifier": info,
              "real_test_rows": generation_report(X_test, clf), "params": {**SETTING, "max_epochs": args.epochs},
              "lr_decay_start": args.lr_decay_start, "mapper_bandwidths": args.mapper_bandwidths,
              "seed": args.seed, "fit_seconds": seconds, "peak_rss_mib": peak_rss_mb(),
              "last_epoch": model.history_[-1], "weights": {}}
    real = result["real_test_rows"]["inception_score"][0]
    for name, network in [("generator", generator)] + [
            (f"ema_{d:g}", averages.synced(d, generator)) for d in args.decays]:
        network.eval()
        with torch.no_grad():
            samples = torch.cat([network(chunk) for chunk in codes.split(1000)]).float().numpy()
        entry = generation_report(samples, clf)
        entry["share_of_real_score"] = entry["inception_score"][0] / real
        result["weights"][name] = entry
        print(name, json.dumps(entry), file=sys.stderr, flush=True)
    path = os.path.join(RESULTS, args.out)
    write_json(path, result)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
