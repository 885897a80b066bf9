"""``python -m skdeepgen``: compare clustering methods on a dataset.

By default it runs on scikit-learn's bundled digits (no download) and prints
ACC, NMI, ARI and fit seconds per method, mean +- std over seeds. Every
estimator adds its row to ``METHODS``.
"""

from __future__ import annotations

import argparse
import sys
import time

import joblib
import numpy as np
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

from ._pretrain import pretraining_recipe
from .amm import AMMClustering
from .autoencoder import Autoencoder
from .dec import DECClustering, IDECClustering
from .jgmmn import JGMMNClustering
from .metrics import cluster_report
from .mmgan import MMGANClustering
from .vae import VariationalAutoencoder

DATASETS = ("digits", "mnist", "fashion_mnist", "usps")


def _kmeans(n_clusters, seed, args):
    return KMeans(n_clusters, n_init=10, random_state=seed)


class _PretrainedAutoencoder(Autoencoder):
    """An Autoencoder whose fit is done once per (seed, data) and then reused.

    AE+KMeans, DEC, IDEC and JGMMN of one seed start from the same pretrained
    network, as in the DEC papers, and the comparison pays for it once. It
    is trained as ``DECClustering`` pretrains by default (SGD at 1.0 on
    image-like data, Adam at 1e-3 otherwise).
    """

    _cache: dict = {}

    def fit(self, X, y=None):
        key = (self.random_state, joblib.hash(np.asarray(X)))
        if key not in self._cache:
            # Pretrained as DECClustering's default would: its "auto" optimizer and step size for this X.
            optimizer, learning_rate = pretraining_recipe(np.asarray(X))
            params = {**self.get_params(), "optimizer": optimizer, "learning_rate": learning_rate}
            self._cache[key] = Autoencoder(**params).fit(X)
        fitted = self._cache[key]
        self.__dict__.update({k: v for k, v in vars(fitted).items() if k.endswith("_")})
        return self


def _autoencoder(seed, args):
    return _PretrainedAutoencoder(max_epochs=args.max_epochs, random_state=seed, precision=args.precision,
                                  device=args.device)


def _ae_kmeans(n_clusters, seed, args):
    return make_pipeline(_autoencoder(seed, args), KMeans(n_clusters, n_init=10, random_state=seed))


def _vae_kmeans(n_clusters, seed, args):
    vae = VariationalAutoencoder(max_epochs=args.max_epochs, random_state=seed, precision=args.precision,
                                 device=args.device)
    return make_pipeline(vae, KMeans(n_clusters, n_init=10, random_state=seed))


class _WithPretraining:
    """Pretrain (or reuse) the seed's Autoencoder, then fit a model that starts from it (DEC, IDEC, JGMMN)."""

    def __init__(self, cls, n_clusters, seed, args):
        self.cls, self.n_clusters, self.seed, self.args = cls, n_clusters, seed, args

    def fit_predict(self, X):
        ae = _autoencoder(self.seed, self.args).fit(X)
        model = self.cls(self.n_clusters, pretrained=ae, max_epochs=self.args.max_epochs, random_state=self.seed,
                         precision=self.args.precision, device=self.args.device)
        return model.fit_predict(X)


def _dec(n_clusters, seed, args):
    return _WithPretraining(DECClustering, n_clusters, seed, args)


def _idec(n_clusters, seed, args):
    return _WithPretraining(IDECClustering, n_clusters, seed, args)


def _jgmmn(n_clusters, seed, args):
    return _WithPretraining(JGMMNClustering, n_clusters, seed, args)


def _mmgan(n_clusters, seed, args):
    # No pretraining: the GAN and its encoder train from scratch.
    return MMGANClustering(n_clusters, max_epochs=args.max_epochs, random_state=seed, precision=args.precision,
                           device=args.device)


def _amm(n_clusters, seed, args):
    # No pretraining: the networks train from scratch. The paper's MNIST step (2e-4) and penalty (10) barely
    # move in 50 epochs of digits' 18 minibatches (ACC 0.14); a larger step and a light penalty (chosen on
    # digits, seed 0) let the small data separate.
    return AMMClustering(n_clusters, learning_rate=1e-3, gradient_penalty=1.0, max_epochs=args.max_epochs,
                         random_state=seed, precision=args.precision, device=args.device)


#: name -> builder(n_clusters, seed, args) of an estimator with fit_predict.
#: Deep methods of one seed share one pretrained Autoencoder (fitted once).
METHODS = {"KMeans": _kmeans, "AE+KMeans": _ae_kmeans, "VAE+KMeans": _vae_kmeans, "DEC": _dec, "IDEC": _idec,
           "JGMMN": _jgmmn, "MMGAN": _mmgan, "AMM": _amm}


def load_dataset(name, data_home=None, n_samples=None, seed=0):
    """Return ``(X, y)`` scaled to [0, 1] for one of :data:`DATASETS`."""
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        from . import datasets

        loader = {"mnist": datasets.fetch_mnist, "fashion_mnist": datasets.fetch_fashion_mnist,
                  "usps": datasets.fetch_usps}[name]
        X, y = loader(data_home=data_home, return_X_y=True)
    if n_samples is not None and n_samples < len(X):
        keep = np.random.RandomState(seed).choice(len(X), n_samples, replace=False)
        X, y = X[keep], y[keep]
    return X, y


def compare(X, y, methods, seeds, args, out=sys.stdout):
    """Fit each method once per seed; return {method: {metric: [values]}}."""
    n_clusters = len(np.unique(y))
    _PretrainedAutoencoder._cache.clear()
    results = {}
    for name in methods:
        rows = results.setdefault(name, {"acc": [], "nmi": [], "ari": [], "seconds": []})
        for seed in seeds:
            start = time.perf_counter()
            labels = METHODS[name](n_clusters, seed, args).fit_predict(X)
            rows["seconds"].append(time.perf_counter() - start)
            report = cluster_report(y, labels)
            for key in ("acc", "nmi", "ari"):
                rows[key].append(report[key])
            if args.verbose:
                seconds = rows["seconds"][-1]
                print(f"  {name} seed {seed}: acc={report['acc']:.4f} ({seconds:.1f}s)", file=out, flush=True)
    return results


def generation(seeds, steps, out=None):
    """GAMN against GMMN on the 8-Gaussian ring: modes, high-quality share, MMD to held-out rows.

    The ring of Gulrajani et al. (radius 2 / 1.414, std 0.02 / 1.414), 10,000
    training rows and 2,000 held-out ones; each model trains ``steps``
    generator steps (GAMN at batch 256, GMMN at the GMMN paper's 1,000) and
    draws 2,000 samples. Returns {model: {measure: [values]}}.
    """
    import math

    import torch

    from .datasets import make_ring_gaussians
    from .gamn import GAMNGenerator, mmd
    from .kernels import median_bandwidths
    from .metrics import mode_coverage

    std = 0.02 / 1.414
    held_out = make_ring_gaussians(2000, radius=2 / 1.414, std=std, random_state=12345)[0]
    bandwidths = median_bandwidths(torch.as_tensor(held_out, dtype=torch.float32))
    results = {}
    for name, params, batch in (("GAMN", {}, 256), ("GMMN", {"mapper_dim": None}, 1000)):
        rows = results.setdefault(name, {"modes": [], "high_quality": [], "mmd": [], "seconds": []})
        for seed in seeds:
            X, _, centers = make_ring_gaussians(10000, radius=2 / 1.414, std=std, random_state=seed,
                                                return_centers=True)
            start = time.perf_counter()
            model = GAMNGenerator(**params, batch_size=batch, max_epochs=math.ceil(steps / (len(X) // batch)),
                                  random_state=seed).fit(X)
            rows["seconds"].append(time.perf_counter() - start)
            samples = model.sample(2000)
            modes, quality = mode_coverage(samples, centers, std)
            rows["modes"].append(modes)
            rows["high_quality"].append(quality)
            rows["mmd"].append(float(mmd(torch.as_tensor(held_out, dtype=torch.float32), torch.as_tensor(samples),
                                         bandwidths)))
    header = f"{'generator':<14}{'modes (of 8)':>18}{'high quality':>18}{'MMD':>18}{'seconds':>16}"
    lines = [header, "-" * len(header)]
    for name, rows in results.items():
        cells = [f"{np.mean(rows[k]):.{d}f} +- {np.std(rows[k]):.{d}f}"
                 for k, d in (("modes", 1), ("high_quality", 3), ("mmd", 4))]
        lines.append(f"{name:<14}" + "".join(f"{c:>18}" for c in cells)
                     + f"{np.mean(rows['seconds']):>10.1f} +- {np.std(rows['seconds']):.1f}")
    print("\n".join(lines), file=out or sys.stdout, flush=True)
    return results


def format_table(results):
    """Render :func:`compare` results as a text table of mean +- std."""
    header = f"{'method':<14}{'ACC':>18}{'NMI':>18}{'ARI':>18}{'seconds':>16}"
    lines = [header, "-" * len(header)]
    for name, rows in results.items():
        cells = [f"{np.mean(rows[k]):.4f} +- {np.std(rows[k]):.4f}" for k in ("acc", "nmi", "ari")]
        secs = f"{np.mean(rows['seconds']):.1f} +- {np.std(rows['seconds']):.1f}"
        lines.append(f"{name:<14}" + "".join(f"{c:>18}" for c in cells) + f"{secs:>16}")
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skdeepgen",
        description="Compare deep clustering methods with KMeans on a dataset scaled to [0, 1]. "
                    "Prints ACC (Hungarian-matched accuracy), NMI, ARI and fit seconds, "
                    "mean +- std over the seeds.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="digits is bundled with scikit-learn; the others are read from --data-home "
                             "(downloaded there when missing). Default: digits.")
    parser.add_argument("--data-home", default=None,
                        help="folder holding mnist/, fashion_mnist/, usps/ "
                             "(default: $SKDEEPGEN_DATA or ~/skdeepgen_data)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="random seeds (default: 0 1 2)")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS),
                        help="methods to run (default: all)")
    parser.add_argument("--max-epochs", type=int, default=50, help="epochs for the deep models (default: 50)")
    parser.add_argument("--n-samples", type=int, default=None,
                        help="random subset of this many rows (drawn with the first seed)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "auto"), default="fp32",
                        help="arithmetic of the deep models: fp32 (default), bf16 autocast, or auto "
                             "(bf16 only where the CPU/GPU has bf16 units)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--generation", action="store_true",
                        help="instead of the clustering table, compare the generators GAMN and GMMN on the "
                             "8-Gaussian ring (modes captured, high-quality share, MMD to held-out rows)")
    parser.add_argument("--generation-steps", type=int, default=1000,
                        help="generator steps per fit with --generation (default: 1000)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each fit as it ends")
    return parser


def main(argv=None):
    """Run the comparison; return the results dict."""
    args = build_parser().parse_args(argv)
    if args.generation:
        print(f"8 Gaussians on a ring (10000 rows); seeds {args.seeds}; {args.generation_steps} generator steps",
              flush=True)
        return generation(args.seeds, args.generation_steps)
    X, y = load_dataset(args.dataset, args.data_home, args.n_samples, seed=args.seeds[0])
    print(f"{args.dataset}: {X.shape[0]} samples, {X.shape[1]} features, {len(np.unique(y))} classes; "
          f"seeds {args.seeds}", flush=True)
    start = time.perf_counter()
    results = compare(X, y, args.methods, args.seeds, args)
    print(format_table(results))
    if {"DEC", "IDEC", "JGMMN"} & set(args.methods):
        print("DEC, IDEC and JGMMN start from the seed's pretrained autoencoder (the AE+KMeans row's when it ran); "
              "the seconds of whichever method ran first include the pretraining.")
    print(f"total {time.perf_counter() - start:.1f}s")
    return results


if __name__ == "__main__":
    # This program's own process: flush denormals before any torch work, so
    # that torch's worker threads inherit it (see _runtime.flushed_denormals).
    import torch

    torch.set_flush_denormal(True)
    main()
