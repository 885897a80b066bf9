"""JGMMN on the paper's synthetic 2-D Gaussian mixtures (section 5.1), with and without J2.

Usage (from the project root)::

    python benchmarks/bench_jgmmn_synthetic.py            # seeds 0 1 2

For the 4-component ("Synthetic Data-1") and the 9-component ("Data-2")
mixtures of :func:`skdeepgen.datasets.make_jgmmn_gaussians` (2,000 points,
means on a grid 2 apart, std 0.2; the paper does not give its means), fits
``JGMMNClustering`` with 2-D codes and the paper's networks ([100, 100] for
Data-1, [100, 300] for Data-2, for both h and g), batch 500, Adam at 1e-3 for
100 epochs (``tol=0``: no early stop), once with the regulariser J2
(``regularization=1``) and once without (JGMMN-NR), for each seed. It
records ACC and NMI of ``predict``, the final J1, how compact the codes of
each true component are (the mean within-component variance of the codes
over their total variance: lower is more compact, the paper's figure 2(c)
against 2(d)), and the share of ``sample(2000)`` within 3 standard deviations
of a true mean (the generated samples of figure 2(b)).
Results: ``benchmarks/results/jgmmn_synthetic.json``.
"""

import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, machine, write_json  # noqa: E402

LAYERS = {4: (100, 100), 9: (100, 300)}


def compactness(codes, y):
    within = sum(((codes[y == k] - codes[y == k].mean(axis=0)) ** 2).sum() for k in np.unique(y))
    return float(within / ((codes - codes.mean(axis=0)) ** 2).sum())


def main():
    torch.set_flush_denormal(True)
    from skdeepgen import JGMMNClustering
    from skdeepgen.datasets import make_jgmmn_gaussians
    from skdeepgen.metrics import cluster_report

    seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2]
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "runs": []}
    path = os.path.join(HERE, "results", "jgmmn_synthetic.json")
    for k, layers in LAYERS.items():
        for seed in seeds:
            X, y, centers = make_jgmmn_gaussians(2000, n_components=k, random_state=seed, return_centers=True)
            for weight in (1.0, 0.0):
                start = time.perf_counter()
                model = JGMMNClustering(k, n_components=2, inference_layers=layers, generator_layers=layers,
                                        regularization=weight, learning_rate=1e-3, max_epochs=100, tol=0.0,
                                        random_state=seed).fit(X)
                seconds = time.perf_counter() - start
                report = cluster_report(y, model.labels_)
                generated, _ = model.sample(2000)
                nearest = np.sqrt(((generated[:, None] - centers[None]) ** 2).sum(-1)).min(axis=1)
                entry = {"components": k, "seed": seed, "regularization": weight, "acc": report["acc"],
                         "nmi": report["nmi"], "final_j1": model.history_[-1]["j1"],
                         "code_compactness": compactness(model.transform(X), y),
                         "generated_near_a_mean": float(np.mean(nearest < 0.6)), "seconds": seconds}
                result["runs"].append(entry)
                print(entry, flush=True)
                write_json(path, result)
    summary = {}
    for k in LAYERS:
        for weight, name in ((1.0, "jgmmn"), (0.0, "jgmmn_nr")):
            rows = [r for r in result["runs"] if r["components"] == k and r["regularization"] == weight]
            summary[f"{k}_components_{name}"] = {
                key: [float(np.mean([r[key] for r in rows])), float(np.std([r[key] for r in rows]))]
                for key in ("acc", "nmi", "final_j1", "code_compactness", "generated_near_a_mean", "seconds")}
    result["summary"] = summary
    print(summary, flush=True)
    write_json(path, result)


if __name__ == "__main__":
    main()
