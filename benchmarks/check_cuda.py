"""Fit every estimator on a CUDA GPU, then use it on the CPU after pickle and save/load.

Usage (on a machine with a CUDA GPU, from the project root)::

    python benchmarks/check_cuda.py --out /tmp/check_cuda.json

For each public estimator (the tiny settings of tests/test_estimator_checks.py,
plus the convolutional variants of AMM, MMGAN and GAMN on 8 x 8 digits), the
parent process fits it with ``device="auto"``, asserts that its weights are on
the GPU, records ``predict`` / ``predict_proba`` / ``transform`` / ``score``
there, pickles it and writes it with ``save``. A child process started with
``CUDA_VISIBLE_DEVICES=""`` (so torch sees no GPU) unpickles it and loads the
saved file, runs the same methods on the CPU and compares: predictions must be
equal and real-valued outputs agree to float32 rounding, 1e-4 of their
scale (2e-3 for the convolutional models: cuDNN convolutions run in TF32 by
PyTorch's default); the largest difference is reported. Also checked: a
model fitted with ``device="cuda"`` is refused on the CPU-only side with a ``ValueError`` until
``set_params(device="cpu")``; ``precision="auto"`` resolves to bf16 on a GPU
with bf16 units and its fit runs; two fits with one seed on the GPU (reported,
not asserted: CUDA kernels need not be deterministic). Exits non-zero when any
check fails.
"""

import argparse
import copy
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.base import is_classifier

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
METHODS = ("predict", "predict_proba", "transform", "score")


def _estimators():
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from test_estimator_checks import ESTIMATORS

    from skdeepgen import AMMClustering, GAMNGenerator, MMGANClustering

    conv = dict(image_shape=(1, 8, 8), conv_channels=(4, 8), max_epochs=2, batch_size=32, random_state=0)
    extra = [AMMClustering(10, latent_dim=4, **conv), MMGANClustering(10, latent_dim=4, **conv),
             GAMNGenerator(latent_dim=4, mapper_dim=4, **conv)]
    named = []
    for est in list(ESTIMATORS) + extra:
        name = type(est).__name__ + ("_conv" if est.get_params().get("image_shape") else "")
        if type(est).__name__ == "GAMNGenerator" and est.mapper_dim is None:
            name += "_gmmn"
        named.append((name, est))
    return named


def _data(est):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    if not est.get_params().get("image_shape"):
        X = X[:, ::8]  # 8 features keep the tiny MLP fits fast
    X, y = X[:300], y[:300]
    if type(est).__name__ == "SAMMClassifier":
        y = np.where(np.arange(len(y)) % 3 == 0, y, -1)
        return X, y
    return X, None


def _outputs(est, X):
    out = {}
    for method in METHODS:
        if hasattr(est, method) and not (method == "score" and is_classifier(est)):
            value = getattr(est, method)(X)
            out[method] = np.asarray(value, dtype=np.float64)
    return out


def _compare(a, b):
    report = {}
    for method, value in a.items():
        other = b[method]
        if method == "predict":
            report[method] = {"equal_fraction": float(np.mean(value == other))}
        else:
            report[method] = {"max_abs_diff": float(np.max(np.abs(value - other))),
                              "scale": float(np.max(np.abs(value)))}
    return report


def _ok(report, tol=1e-4):
    for method, r in report.items():
        if method == "predict" and r["equal_fraction"] < 1.0:
            return False
        if "max_abs_diff" in r and r["max_abs_diff"] > tol * max(1.0, r["scale"]):
            return False
    return True


def parent(args):
    import torch
    from sklearn.base import clone

    sys.path.insert(0, HERE)
    from _common import machine

    if not torch.cuda.is_available() and not args.dry_run_cpu:
        sys.exit("check_cuda.py needs a CUDA GPU")
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "models": {}}
    tmp = tempfile.mkdtemp()
    failures = []
    for name, template in _estimators():
        entry = {}
        est = clone(template).set_params(device="auto")
        X, y = _data(est)
        X_before = X.copy()
        start = time.perf_counter()
        est.fit(X, y) if y is not None else est.fit(X)
        entry["fit_seconds"] = time.perf_counter() - start
        entry["weights_device"] = str(next(est.module_.parameters()).device)
        gpu = _outputs(est, X)
        entry["unchanged_input"] = bool(np.array_equal(X, X_before))
        # Same seed, second fit on the GPU: reported, not asserted.
        again = clone(template).set_params(device="auto")
        again.fit(X, y) if y is not None else again.fit(X)
        entry["same_seed_gpu"] = _compare(gpu, _outputs(again, X))
        # Explicit device="cuda": a CPU-only machine must refuse it clearly.
        explicit = clone(template).set_params(device="cpu" if args.dry_run_cpu else "cuda", max_epochs=1)
        explicit.fit(X, y) if y is not None else explicit.fit(X)
        np.save(os.path.join(tmp, f"{name}_X.npy"), X)
        np.savez(os.path.join(tmp, f"{name}_gpu.npz"), **gpu)
        with open(os.path.join(tmp, f"{name}.pkl"), "wb") as fh:
            pickle.dump(est, fh)
        with open(os.path.join(tmp, f"{name}_explicit.pkl"), "wb") as fh:
            pickle.dump(explicit, fh)
        est.save(os.path.join(tmp, f"{name}.pt"))
        ok = (args.dry_run_cpu or entry["weights_device"].startswith("cuda")) and entry["unchanged_input"]
        entry["ok_gpu_side"] = ok
        result["models"][name] = entry
        if not ok:
            failures.append(name)
        print(name, json.dumps(entry), flush=True)

    # precision="auto" on a GPU with bf16 units.
    from skdeepgen import Autoencoder

    X = _data(Autoencoder())[0]
    ae = Autoencoder(n_components=2, encoder_layers=(8,), max_epochs=2, precision="auto", random_state=0).fit(X)
    result["precision_auto"] = {"bf16_supported": bool(torch.cuda.is_bf16_supported()),
                                "transform_finite": bool(np.isfinite(ae.transform(X)).all())}

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, __file__, "--child", tmp] + ["--dry-run-cpu"] * args.dry_run_cpu
    child = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    if child.returncode != 0:
        failures.append(f"cpu child exited with {child.returncode}")
    else:
        cpu_side = json.loads(child.stdout.strip().splitlines()[-1])
        result["cpu_side"] = cpu_side
        for name, r in cpu_side["models"].items():
            if not r["ok"]:
                failures.append(name + " (cpu side)")
    result["failures"] = failures
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")
    print(json.dumps({"failures": failures}), flush=True)
    sys.exit(1 if failures else 0)


def child(tmp, dry_run):
    import torch

    import skdeepgen

    assert not torch.cuda.is_available()
    out = {"cuda_available": torch.cuda.is_available(), "models": {}}
    names = sorted(f[:-4] for f in os.listdir(tmp) if f.endswith(".pkl") and not f.endswith("_explicit.pkl"))
    for name in names:
        X = np.load(os.path.join(tmp, f"{name}_X.npy"))
        gpu = dict(np.load(os.path.join(tmp, f"{name}_gpu.npz")))
        with open(os.path.join(tmp, f"{name}.pkl"), "rb") as fh:
            est = pickle.load(fh)
        pickled = _compare(gpu, _outputs(est, X))
        cls = getattr(skdeepgen, type(est).__name__)
        loaded = cls.load(os.path.join(tmp, f"{name}.pt"))
        saved = _compare(gpu, _outputs(loaded, X))
        with open(os.path.join(tmp, f"{name}_explicit.pkl"), "rb") as fh:
            explicit = pickle.load(fh)
        try:
            _outputs(explicit, X)
            refused = None
        except ValueError as exc:
            refused = str(exc)
        explicit.set_params(device="cpu")
        moved = _outputs(explicit, X)
        # A fitted copy also survives a CPU pickle round trip.
        roundtrip = _compare(_outputs(pickle.loads(pickle.dumps(copy.deepcopy(est))), X), _outputs(est, X))
        # cuDNN runs convolutions in TF32 by PyTorch's default (10-bit mantissa): a looser bound.
        tol = 2e-3 if name.endswith("_conv") else 1e-4
        ok = (_ok(pickled, tol) and _ok(saved, tol) and (dry_run or refused is not None) and bool(moved)
              and _ok(roundtrip) and next(est.module_.parameters()).device.type == "cpu")
        out["models"][name] = {"pickle": pickled, "save_load": saved, "explicit_cuda_refused": refused,
                               "ok": bool(ok)}
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "check_cuda.json"))
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run-cpu", action="store_true",
                        help="run the same steps on a CPU-only machine (checks the script, not CUDA)")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, ROOT)
        child(args.child, args.dry_run_cpu)
    else:
        sys.path.insert(0, ROOT)
        parent(args)
