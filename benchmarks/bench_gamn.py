"""GAMN against GMMN on the paper's three toy sets and on MNIST.

Usage (from the project root, MNIST files in ../shared/data)::

    python benchmarks/bench_gamn.py toys --seeds 0 1 2          # -> results/gamn_toys.json
    python benchmarks/bench_gamn.py mnist --seeds 0             # -> results/gamn_mnist.json
    python benchmarks/bench_gamn.py mnist --models gamn --params '{"max_epochs": 11}' --out gamn_mnist_long.json
    python benchmarks/bench_gamn.py robustness --seed 0         # -> results/gamn_robustness.json
    python benchmarks/bench_gamn.py merge a.json b.json --out gamn_toys.json   # toy runs made in parts
    python benchmarks/bench_gamn.py toys --params '{"bandwidths": [0.0002, 0.001, 0.004, 0.016, 0.064, 0.25, 1],
        "learning_rate": 0.001, "batch_norm": false}' --out gamn_toys_fine.json   # kernels that see the modes

Toys (Gulrajani et al. 2017's toy sets at their scale, as GAMN uses them):
the 8-Gaussian ring (radius 2 / 1.414, std 0.02 / 1.414), the 25-Gaussian
grid (spacing 2 / 2.828, std 0.05 / 2.828) and the 2-D Swiss roll (noise
0.25, divided by 7.5). Each set has ``--n-train`` training rows and 2,000
held-out rows drawn with another seed. Every model trains for the same
number of generator steps (``--steps``): GAMN with its defaults (batch
256), GMMN (``mapper_dim=None``) at batch 1,000 (the GMMN paper's) and at
GAMN's 256. Reported per model and set: the paper's L_MMD (eq. 4, square
root of the biased MMD^2) between the held-out rows and 2,000 samples, with
one fixed Gaussian kernel per set for every model (bandwidths: the held-out
rows' median squared distance times 0.25, 0.5, 1, 2, 4); on the two
mixtures also modes captured and the share of high-quality samples
(:func:`skdeepgen.metrics.mode_coverage`, within 3 std of the nearest mean).

MNIST: all 70,000 rows in [0, 1]. A classifier (scikit-learn's
``MLPClassifier``, one 512-unit hidden layer) is fitted on the 60,000
training rows; its test accuracy is reported. Then GAMN and GMMN fit on all
rows with the settings in ``MNIST_PARAMS``, and the classifier-based
inception score (:func:`skdeepgen.metrics.inception_score`, 10 splits) of
10,000 generated digits and the frequency of each predicted digit are
reported beside the score of the 10,000 real test rows; fit seconds and
peak RSS too. ``robustness`` refits GAMN on MNIST with mapper dimension 2
and with the regularisers l1, l2 and l2_all (one seed, ``ROBUST_PARAMS``).
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
from _common import classifier_and_data, generation_report, machine, peak_rss_mb, write_json  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
#: Toy models: name -> (estimator parameters, batch size).
TOY_MODELS = {
    "gamn": ({}, 256),
    "gmmn_b1000": ({"mapper_dim": None}, 1000),
    "gmmn_b256": ({"mapper_dim": None}, 256),
}
#: MNIST settings of the reported runs (the defaults plus these).
MNIST_PARAMS = {"gamn": {"max_epochs": 5}, "gmmn": {"mapper_dim": None, "batch_size": 1000, "max_epochs": 20}}
#: Robustness runs: the GAMN MNIST settings with fewer epochs, plus each variant.
ROBUST_PARAMS = {"max_epochs": 2}
ROBUST_VARIANTS = {"d10_gp": {}, "d2_gp": {"mapper_dim": 2}, "d10_l1": {"regularization": "l1"},
                   "d10_l2": {"regularization": "l2"}, "d10_l2_all": {"regularization": "l2_all"}}


def toy_sets(n, seed):
    from skdeepgen.datasets import make_grid_gaussians, make_ring_gaussians, make_swiss_roll_2d

    ring = make_ring_gaussians(n, radius=2 / 1.414, std=0.02 / 1.414, random_state=seed, return_centers=True)
    grid = make_grid_gaussians(n, spacing=2 / 2.828, std=0.05 / 2.828, random_state=seed, return_centers=True)
    swiss = make_swiss_roll_2d(n, random_state=seed)
    return {"8gaussians": (ring[0], ring[2], 0.02 / 1.414), "25gaussians": (grid[0], grid[2], 0.05 / 2.828),
            "swissroll": (swiss[0], None, None)}


def l_mmd(a, b, bandwidths):
    from skdeepgen.gamn import mmd

    a, b = (torch.as_tensor(np.asarray(v, dtype=np.float32)) for v in (a, b))
    return float(mmd(a, b, bandwidths))


def _mean_std(values):
    return [float(np.mean(values)), float(np.std(values))]


def toys(args):
    torch.set_flush_denormal(True)
    from skdeepgen import GAMNGenerator
    from skdeepgen.kernels import median_bandwidths
    from skdeepgen.metrics import mode_coverage

    path = os.path.join(RESULTS, args.out or "gamn_toys.json")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "n_train": args.n_train,
              "steps": args.steps, "params": args.params, "runs": []}
    held_out = toy_sets(2000, 12345)
    for seed in args.seeds:
        train = toy_sets(args.n_train, seed)
        for name, (X, centers, std) in train.items():
            X_test = held_out[name][0]
            bandwidths = median_bandwidths(torch.as_tensor(X_test, dtype=torch.float32))
            for model_name in args.models:
                params, batch = TOY_MODELS[model_name]
                epochs = math.ceil(args.steps / (args.n_train // batch))
                start = time.perf_counter()
                model = GAMNGenerator(**{**params, **args.params}, batch_size=batch,
                                      max_epochs=epochs, random_state=seed).fit(X)
                seconds = time.perf_counter() - start
                samples = model.sample(2000)
                entry = {"set": name, "model": model_name, "seed": seed, "batch_size": batch, "epochs": epochs,
                         "mmd": l_mmd(X_test, samples, bandwidths), "seconds": seconds,
                         "mmd_real_vs_real": l_mmd(X_test, X[:2000], bandwidths)}
                if centers is not None:
                    entry["modes"], entry["high_quality"] = mode_coverage(samples, centers, std)
                    entry["n_modes"] = len(centers)
                result["runs"].append(entry)
                print(json.dumps(entry), file=sys.stderr, flush=True)
                result["summary"] = summarise(result["runs"])
                write_json(path, result)
    print(f"wrote {path}", file=sys.stderr)


def summarise(runs):
    out = {}
    for run in runs:
        key = f"{run['set']}/{run['model']}"
        out.setdefault(key, {"mmd": [], "modes": [], "high_quality": [], "seconds": []})
        for field in ("mmd", "modes", "high_quality", "seconds"):
            if field in run:
                out[key][field].append(run[field])
    return {k: {f: _mean_std(v) for f, v in fields.items() if v} | {"n_seeds": len(fields["mmd"])}
            for k, fields in out.items()}


def merge(args):
    parts = [json.load(open(os.path.join(RESULTS, name))) for name in args.parts]
    result = {**parts[0], "command": [p["command"] for p in parts],
              "runs": [run for p in parts for run in p["runs"]]}
    result["summary"] = summarise(result["runs"])
    write_json(os.path.join(RESULTS, args.out), result)
    print(json.dumps(result["summary"], indent=1), file=sys.stderr)


def mnist(args):
    torch.set_flush_denormal(True)
    from skdeepgen import GAMNGenerator

    path = os.path.join(RESULTS, args.out or "gamn_mnist.json")
    os.makedirs(args.samples_dir, exist_ok=True)  # before the long fits, which end by saving here
    clf, info, X, X_test = classifier_and_data()
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "classifier": info,
              "real_test_rows": generation_report(X_test, clf), "params": MNIST_PARAMS,
              "extra_params": args.params, "runs": []}
    print(json.dumps(result["real_test_rows"]), file=sys.stderr, flush=True)
    for seed in args.seeds:
        for name in args.models:
            start = time.perf_counter()
            model = GAMNGenerator(**{**MNIST_PARAMS[name], **args.params}, random_state=seed,
                                  verbose=1).fit(X)
            seconds = time.perf_counter() - start
            samples = model.sample(10000)
            np.save(os.path.join(args.samples_dir, f"gamn_mnist_{name}_seed{seed}.npy"), samples[:100])
            entry = {"model": name, "seed": seed, "fit_seconds": seconds, "peak_rss_mib": peak_rss_mb(),
                     "s_per_epoch": float(np.median([h["seconds"] for h in model.history_])),
                     "last_epoch": model.history_[-1], **generation_report(samples, clf)}
            entry["share_of_real_score"] = entry["inception_score"][0] / result["real_test_rows"]["inception_score"][0]
            result["runs"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            write_json(path, result)
    print(f"wrote {path}", file=sys.stderr)


def robustness(args):
    torch.set_flush_denormal(True)
    from skdeepgen import GAMNGenerator

    path = os.path.join(RESULTS, args.out or "gamn_robustness.json")
    clf, info, X, X_test = classifier_and_data()
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "classifier": info,
              "base": {**MNIST_PARAMS["gamn"], **ROBUST_PARAMS}, "runs": []}
    for name in args.variants:
        start = time.perf_counter()
        model = GAMNGenerator(**{**MNIST_PARAMS["gamn"], **ROBUST_PARAMS, **ROBUST_VARIANTS[name]},
                              random_state=args.seed).fit(X)
        entry = {"variant": name, "params": ROBUST_VARIANTS[name], "seed": args.seed,
                 "fit_seconds": time.perf_counter() - start, **generation_report(model.sample(10000), clf)}
        result["runs"].append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
        write_json(path, result)
    print(f"wrote {path}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("toys")
    t.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    t.add_argument("--models", nargs="+", default=list(TOY_MODELS), choices=list(TOY_MODELS))
    t.add_argument("--n-train", type=int, default=20000)
    t.add_argument("--steps", type=int, default=1000, help="generator steps per fit")
    t.add_argument("--params", type=json.loads, default={}, help="JSON of extra estimator parameters")
    t.add_argument("--out")
    m = sub.add_parser("mnist")
    m.add_argument("--seeds", type=int, nargs="+", default=[0])
    m.add_argument("--models", nargs="+", default=["gamn", "gmmn"], choices=["gamn", "gmmn"])
    m.add_argument("--samples-dir", default="/tmp")
    m.add_argument("--params", type=json.loads, default={}, help="JSON of estimator parameters overriding MNIST_PARAMS")
    m.add_argument("--out")
    r = sub.add_parser("robustness")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--variants", nargs="+", default=list(ROBUST_VARIANTS), choices=list(ROBUST_VARIANTS))
    r.add_argument("--out")
    g = sub.add_parser("merge")
    g.add_argument("parts", nargs="+", help="JSON files in results/ written by toys")
    g.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    {"toys": toys, "mnist": mnist, "robustness": robustness, "merge": merge}[args.mode](args)


if __name__ == "__main__":
    main()
