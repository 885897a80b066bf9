"""Shared helpers of the benchmark scripts (machine description, data, JSON)."""

import copy
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import joblib
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_HOME = os.environ.get("SKDEEPGEN_DATA", os.path.join(HERE, "..", "..", "shared", "data"))


def machine():
    """CPU model, torch's CPU capability and bf16 support: every timing names them."""
    model = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_bf16": bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
                         or getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def matmul_flops(dtype, n=2048, repeats=20):
    """Measured FLOP/s of an n x n matmul in ``dtype`` on the CPU."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(script, args):
    """Run ``script`` in a fresh process (own peak memory) and parse its last JSON line.

    The child's stderr (its progress lines) passes through to ours.
    """
    out = subprocess.run([sys.executable, script, *args], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_json(path, payload):
    # A results name given with a directory must not lose a finished run to a missing folder.
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2)
        fh.write("\n")


def classifier_and_data():
    """MNIST's classifier for inception scores (fitted once, cached), its info, all 70,000 rows, the test rows."""
    from sklearn.neural_network import MLPClassifier

    from skdeepgen.datasets import fetch_mnist

    X_train, y_train = fetch_mnist(data_home=DATA_HOME, subset="train", return_X_y=True)
    X_test, y_test = fetch_mnist(data_home=DATA_HOME, subset="test", return_X_y=True)
    start = time.perf_counter()
    cache = os.path.join(tempfile.gettempdir(), "skdeepgen_bench_mnist_mlp.joblib")
    if os.path.exists(cache):  # the same deterministic fit, kept between the script's modes
        clf = joblib.load(cache)
    else:
        clf = MLPClassifier((512,), max_iter=30, early_stopping=True, random_state=0).fit(X_train, y_train)
        joblib.dump(clf, cache)
    info = {"classifier": "MLPClassifier((512,), max_iter=30, early_stopping=True, random_state=0)",
            "test_accuracy": float(clf.score(X_test, y_test)), "seconds": time.perf_counter() - start}
    print(json.dumps(info), file=sys.stderr, flush=True)
    return clf, info, np.vstack([X_train, X_test]), X_test


def generation_report(samples, clf):
    """Classifier-based inception score (10 splits) and the share of each predicted digit."""
    from skdeepgen.metrics import inception_score

    score, std = inception_score(samples, clf, n_splits=10)
    counts = np.bincount(clf.predict(samples).astype(int), minlength=10)
    return {"inception_score": [score, std], "digit_frequency": (counts / counts.sum()).tolist(),
            "digits_present": int((counts > 0).sum())}


class WeightAverages:
    """Exponential moving averages of a module's parameters, one copy per decay (the EMA probes)."""

    def __init__(self, decays):
        self.decays = list(decays)
        self.copies = {}

    @torch.no_grad()
    def update(self, module):
        """Fold ``module``'s parameters into every average; the first call copies the module."""
        for decay in self.decays:
            if decay not in self.copies:
                self.copies[decay] = copy.deepcopy(module)
                continue
            for mean, current in zip(self.copies[decay].parameters(), module.parameters()):
                mean.lerp_(current, 1.0 - decay)

    @torch.no_grad()
    def synced(self, decay, module):
        """The average for ``decay``, its buffers (batch-norm statistics) copied from ``module``."""
        average = self.copies[decay]
        for mean_buffer, buffer in zip(average.buffers(), module.buffers()):
            mean_buffer.copy_(buffer)
        return average
