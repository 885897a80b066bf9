"""AIM on the 25-Gaussian grid (against the same networks as a plain GAN) and on MNIST.

Usage (from the project root, MNIST files in ../shared/data)::

    python benchmarks/bench_aim.py grid --seeds 0 1 2     # -> results/aim_grid.json
    python benchmarks/bench_aim.py mnist --seeds 0 1 2    # -> results/aim_mnist.json
    python benchmarks/bench_aim.py grid --seeds 0 --models aim --out p1.json   # one part of a run
    python benchmarks/bench_aim.py merge a.json b.json --out aim_mnist.json   # grid or MNIST runs made in parts

Grid (Dumoulin et al.'s and VEEGAN's 25 Gaussians: means on
{-4, -2, 0, 2, 4}^2, standard deviation 0.05): ``--n-train`` training rows
(the paper's figure shows 100,000) and, per seed, AIM with ``GRID_PARAMS``
and the same networks, steps and seed trained as a plain GAN (the encoder's
term switched off: ``PlainGAN`` below). Reported: modes captured and the
share of high-quality samples (:func:`skdeepgen.metrics.mode_coverage`,
within 3 standard deviations of the nearest mean) of 2,500 samples (VEEGAN's
count), and for AIM the share of 2,500 held-out rows whose reconstruction
G(mu(x)) lands nearest their own mode; the same 2,500 codes are also scored
every ``GRID_CHECKPOINT_EVERY`` epochs during the fit (``curve``).

MNIST: each model fits on the 60,000 training rows in [0, 1]: AIM and AIM-
(``covariance_type="identity"``) with ``MNIST_PARAMS`` and the project's
Autoencoder with the same code size (``AE_PARAMS``). Reported per model:
the mean squared reconstruction error per pixel on the 10,000 test rows
(``-score``); for AIM and AIM- the classifier-based inception score
(:func:`skdeepgen.metrics.inception_score`, 10 splits) of 10,000 generated
digits, beside the real test rows' (the classifier: scikit-learn's
``MLPClassifier`` fitted on the training rows, test accuracy reported); the
clustering accuracy, NMI and ARI of KMeans(10, n_init=10) on the codes of
all 70,000 rows; fit seconds and the process's peak RSS (each model runs in
its own process, so the peak is its own).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, classifier_and_data, generation_report, machine, peak_rss_mb, run_child, write_json  # noqa: E402

from skdeepgen import AIMEncoder, Autoencoder  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
#: Grid settings of the reported runs (the defaults plus these).
GRID_PARAMS = {"n_components": 2, "max_epochs": 150, "learning_rate": 5e-4, "learning_rate_schedule": "invscaling",
               "discriminator_layers": (256, 256, 256)}
#: Epochs at which a grid fit's samples are scored on the way (the last one is the reported fit).
GRID_CHECKPOINT_EVERY = 10
#: MNIST settings of AIM (the defaults plus these), of the Autoencoder, and the models by name.
MNIST_PARAMS = {"n_components": 32, "image_shape": (1, 28, 28), "max_epochs": 5}
AE_PARAMS = {"n_components": 32, "output_activation": "sigmoid", "max_epochs": 20, "n_iter_no_change": None}
MNIST_MODELS = {
    "aim": (AIMEncoder, MNIST_PARAMS),
    "aim_minus": (AIMEncoder, {**MNIST_PARAMS, "covariance_type": "identity"}),
    "autoencoder": (Autoencoder, AE_PARAMS),
}


class PlainGAN(AIMEncoder):
    """AIM's networks and steps with the encoder's term switched off (lambda = 0): a plain GAN."""

    def _check_params(self, X):
        super()._check_params(X)
        self.nll_weight_ = 0.0


def with_curve(cls, centers, every):
    """``cls`` scoring 2,500 samples every ``every`` epochs into ``curve_``.

    The codes are the ones :meth:`AIMEncoder.sample` draws from the same
    integer ``random_state``, so the last point equals the fitted model's
    ``mode_coverage(model.sample(2500), ...)``.
    """
    from skdeepgen.metrics import mode_coverage

    class Curve(cls):
        def _on_epoch_end(self, ctx, record):
            stop = super()._on_epoch_end(ctx, record)
            if ctx.epoch % every == 0:  # ctx.epoch counts from 1
                codes = np.random.RandomState(self.random_state).standard_normal((2500, self.n_components))
                # The shell's batched inference on the module being trained (eval mode, then back), as in
                # inverse_transform.
                rows = self._forward_array(lambda m, b: m.scaler.inverse(m.generator(b).float()),
                                           codes.astype(np.float32), module=ctx.module)
                modes, high_quality = mode_coverage(rows, centers, std=0.05)
                self.curve_ = [*getattr(self, "curve_", []), [ctx.epoch, modes, high_quality]]
            return stop

    Curve.__name__ = cls.__name__
    return Curve


def _mean_std(values):
    return [float(np.mean(values)), float(np.std(values))]


def grid(args):
    from skdeepgen.datasets import make_grid_gaussians
    from skdeepgen.metrics import mode_coverage

    path = os.path.join(RESULTS, args.out or "aim_grid.json")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "n_train": args.n_train,
              "n_samples": 2500, "n_test": 2500, "params": GRID_PARAMS, "runs": []}
    for seed in args.seeds:
        X, _, centers = make_grid_gaussians(args.n_train, random_state=seed, return_centers=True)
        X_test, y_test = make_grid_gaussians(2500, random_state=1000 + seed)
        for name in args.models:
            cls = with_curve({"aim": AIMEncoder, "gan": PlainGAN}[name], centers, GRID_CHECKPOINT_EVERY)
            start = time.perf_counter()
            model = cls(**GRID_PARAMS, random_state=seed).fit(X)
            entry = {"model": name, "seed": seed, "fit_seconds": time.perf_counter() - start}
            entry["modes"], entry["high_quality"] = mode_coverage(model.sample(2500), centers, std=0.05)
            entry["curve"] = model.curve_  # [epoch, modes, high-quality share] every GRID_CHECKPOINT_EVERY epochs
            if name == "aim":
                rec = model.inverse_transform(model.transform(X_test))
                nearest = ((rec[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
                entry["reconstruction_right_mode"] = float((nearest == y_test).mean())
            result["runs"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            write_json(path, result)
    result["summary"] = grid_summary(result["runs"])
    write_json(path, result)
    print(json.dumps(result["summary"], indent=1), file=sys.stderr)


def grid_summary(runs):
    summary = {}
    for name in dict.fromkeys(r["model"] for r in runs):
        mine = [r for r in runs if r["model"] == name]
        summary[name] = {"seeds": [r["seed"] for r in mine]}
        summary[name].update({key: _mean_std([r[key] for r in mine])
                              for key in ("modes", "high_quality", "reconstruction_right_mode", "fit_seconds")
                              if key in mine[0]})
    return summary


def mnist_one(args):
    """One model, one seed, in this process: prints its entry as the last JSON line."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from skdeepgen.datasets import fetch_mnist
    from skdeepgen.metrics import clustering_accuracy

    torch.set_flush_denormal(True)
    X_train = fetch_mnist(data_home=args.data_home, subset="train", return_X_y=True)[0]
    X_test = fetch_mnist(data_home=args.data_home, subset="test", return_X_y=True)[0]
    X_all, y_all = fetch_mnist(data_home=args.data_home, return_X_y=True)
    cls, params = MNIST_MODELS[args.model]
    start = time.perf_counter()
    model = cls(**params, random_state=args.seed, verbose=1).fit(X_train)
    entry = {"model": args.model, "seed": args.seed, "params": params, "fit_seconds": time.perf_counter() - start,
             "s_per_epoch": float(np.median([h["seconds"] for h in model.history_])),
             "test_mse_per_pixel": -model.score(X_test), "last_epoch": model.history_[-1]}
    codes = model.transform(X_all)
    labels = KMeans(10, n_init=10, random_state=args.seed).fit_predict(codes)
    entry["kmeans_on_codes"] = {"acc": clustering_accuracy(y_all, labels),
                                "nmi": float(normalized_mutual_info_score(y_all, labels)),
                                "ari": float(adjusted_rand_score(y_all, labels))}
    if isinstance(model, AIMEncoder):
        # All 10,000 for the parent's inception score; 50 test reconstructions to look at.
        entry["samples_file"] = os.path.join(args.samples_dir, f"aim_mnist_{args.model}_seed{args.seed}.npy")
        np.save(entry["samples_file"], model.sample(10000))
        np.save(entry["samples_file"].replace(".npy", "_recon.npy"),
                model.inverse_transform(model.transform(X_test[:50])))
    entry["peak_rss_mib"] = peak_rss_mb()
    print(json.dumps(entry), flush=True)


def mnist(args):
    path = os.path.join(RESULTS, args.out or "aim_mnist.json")
    clf, info, _, X_test = classifier_and_data()
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "classifier": info,
              "real_test_rows": generation_report(X_test, clf), "runs": []}
    for seed in args.seeds:
        for name in args.models:
            entry = run_child(__file__, ["mnist-one", "--model", name, "--seed", str(seed),
                                         "--samples-dir", args.samples_dir])
            if "samples_file" in entry:
                entry.update(generation_report(np.load(entry["samples_file"]), clf))
            result["runs"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            write_json(path, result)
    result["summary"] = mnist_summary(result["runs"])
    write_json(path, result)
    print(json.dumps(result["summary"], indent=1), file=sys.stderr)


def mnist_summary(runs):
    summary = {}
    for name in dict.fromkeys(r["model"] for r in runs):
        mine = [r for r in runs if r["model"] == name]
        summary[name] = {"seeds": [r["seed"] for r in mine],
                         "test_mse_per_pixel": _mean_std([r["test_mse_per_pixel"] for r in mine]),
                         "kmeans_acc": _mean_std([r["kmeans_on_codes"]["acc"] for r in mine]),
                         "kmeans_nmi": _mean_std([r["kmeans_on_codes"]["nmi"] for r in mine]),
                         "fit_seconds": _mean_std([r["fit_seconds"] for r in mine]),
                         "peak_rss_mib": _mean_std([r["peak_rss_mib"] for r in mine])}
        if "inception_score" in mine[0]:
            summary[name]["inception_score"] = _mean_std([r["inception_score"][0] for r in mine])
    return summary


def merge(args):
    """One grid or MNIST result from parts run side by side (each with its own --out)."""
    parts = [json.load(open(os.path.join(RESULTS, name))) for name in args.parts]
    result = {**parts[0], "command": [p["command"] for p in parts], "runs": [r for p in parts for r in p["runs"]]}
    result["summary"] = (grid_summary if "n_train" in parts[0] else mnist_summary)(result["runs"])
    write_json(os.path.join(RESULTS, args.out), result)
    print(json.dumps(result["summary"], indent=1), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    g = sub.add_parser("grid")
    g.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    g.add_argument("--n-train", type=int, default=100000)
    g.add_argument("--models", nargs="+", default=["aim", "gan"], choices=["aim", "gan"])
    g.add_argument("--out")
    m = sub.add_parser("mnist")
    m.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    m.add_argument("--models", nargs="+", default=list(MNIST_MODELS), choices=list(MNIST_MODELS))
    m.add_argument("--samples-dir", default="/tmp")
    m.add_argument("--out")
    o = sub.add_parser("mnist-one")
    o.add_argument("--model", choices=list(MNIST_MODELS), required=True)
    o.add_argument("--seed", type=int, required=True)
    o.add_argument("--samples-dir", default="/tmp")
    o.add_argument("--data-home", default=DATA_HOME)
    j = sub.add_parser("merge")
    j.add_argument("parts", nargs="+", help="JSON files in results/ written by grid or mnist")
    j.add_argument("--out", required=True)
    args = parser.parse_args()
    {"grid": grid, "mnist": mnist, "mnist-one": mnist_one, "merge": merge}[args.mode](args)


if __name__ == "__main__":
    main()
