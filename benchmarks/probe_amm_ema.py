"""AMM probe: cluster with an exponential moving average (EMA) of the networks' weights.

Not in the paper; a common GAN habit (Karras et al. 2018, Yazici et al. 2019).
One ``AMMClustering`` fit of ``bench_amm.py``'s MNIST setting keeps, beside the
model, EMA copies of its parameters for each decay in ``--decays``, folded in
at every generator step (the step that trains G_y with the generators); other
buffers are copied from the model when scored. After every epoch the model
and each copy label the same fixed 10,000 real rows (``bench_amm.py trace``'s
rows), and after the fit all 70,000. The comparison is paired: one training
run, only the weights used to predict differ. For example::

    python benchmarks/probe_amm_ema.py --seed 0 --params '{"max_epochs": 20}' --out amm_probe_ema_seed0.json
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import WeightAverages, machine, peak_rss_mb, write_json  # noqa: E402
from bench_amm import AMM_PARAMS, _fit_record, _report  # noqa: E402
from bench_dec import RESULTS, load  # noqa: E402

from skdeepgen import AMMClustering  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", default="{}")
    parser.add_argument("--decays", type=float, nargs="+", default=[0.999, 0.9999])
    parser.add_argument("--trace-rows", type=int, default=10000)
    parser.add_argument("--out", default="amm_probe_ema.json")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    X, y = load("mnist")
    params = {**AMM_PARAMS, **json.loads(args.params)}
    rows = np.random.RandomState(0).permutation(len(X))[:args.trace_rows]
    averages, epochs = WeightAverages(args.decays), []

    class Averaged(AMMClustering):
        def _training_step(self, ctx, batch, step_name):
            # Before each optimizer step: an average folds in the weights as
            # they stand after the previous generator step (one step of lag).
            if step_name == "generator":
                averages.update(ctx.module)
            return super()._training_step(ctx, batch, step_name)

        def _on_epoch_end(self, ctx, record):
            entry = {"epoch": ctx.epoch}
            for name, module in [("model", ctx.module)] + [
                    (f"ema_{d:g}", averages.synced(d, ctx.module)) for d in args.decays]:
                labels = self._forward_array(self._cluster_proba, X[rows], module=module).argmax(1)
                entry[name] = _report(y[rows], labels)
            entry.update({k: v for k, v in record.items() if k != "epoch"})
            epochs.append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            return super()._on_epoch_end(ctx, record)

    model = Averaged(10, random_state=args.seed, **params)
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    final = {"model": _report(y, model.labels_)}
    for decay in args.decays:
        average = averages.synced(decay, model.module_)
        final[f"ema_{decay:g}"] = _report(y, model._forward_array(model._cluster_proba, X, module=average).argmax(1))
    print(json.dumps(final), file=sys.stderr, flush=True)
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "seed": args.seed,
              "params": params, "decays": args.decays, "trace_rows": len(rows), **_fit_record(model, seconds),
              "final_all_rows": final, "epochs_trace": epochs, "peak_rss_mb": peak_rss_mb()}
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, args.out), result)
    print(f"wrote {os.path.join(RESULTS, args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
