"""Persistence and devices: save/load, pickle, and moving a model to the CPU.

What it shows
-------------
1. ``Autoencoder.save(path)`` writes a weights-only file (tensors and plain
   data, no pickled code) and ``Autoencoder.load(path)`` reads it back with
   ``torch.load(weights_only=True)``;
2. ``pickle`` / ``joblib`` round trips; the pickle holds CPU tensors, so a
   model fitted on a GPU unpickles on a machine without CUDA;
3. ``set_params(device="cpu")`` on a fitted model: the device is resolved at
   every call, so the next ``transform`` runs on the CPU;
4. that all of them give the same codes, and the same KMeans predictions on
   those codes, as the freshly fitted model.

On a CPU-only machine ``device="auto"`` is the CPU and every comparison is
exact. On a CUDA machine the model trains on the GPU; the loaded and
unpickled copies (``device="auto"``) move back to the GPU at their first call
and match exactly, and the copy moved to the CPU matches up to float32
rounding (checked with ``np.allclose``).

How long it takes
-----------------
A few seconds (3 epochs of a small autoencoder on scikit-learn's digits).

Run it with ``python examples/save_load_and_devices.py``.
"""

import os
import pickle
import tempfile

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepgen import Autoencoder

X, _ = load_digits(return_X_y=True)
X = X / 16.0

ae = Autoencoder(n_components=8, encoder_layers=(64,), max_epochs=3, random_state=0)
ae.fit(X)  # device="auto": CUDA when available, else the CPU
codes = ae.transform(X)
kmeans = KMeans(10, n_init=10, random_state=0).fit(codes)
labels = kmeans.predict(codes)
print(f"fitted on {next(ae.module_.parameters()).device}, {ae.n_iter_} epochs")


def check(name, other):
    """Compare another copy of the model with the fitted one."""
    other_codes = other.transform(X)
    device = next(other.module_.parameters()).device  # where this call ran
    if device == next(ae.module_.parameters()).device:
        same = np.array_equal(other_codes, codes)
        same_labels = np.array_equal(kmeans.predict(other_codes), labels)
        print(f"{name:<28} device={str(device):<7} codes equal: {same}  KMeans labels equal: {same_labels}")
        assert same and same_labels
    else:  # GPU-fitted model used on the CPU: equal up to float32 rounding
        close = np.allclose(other_codes, codes, rtol=1e-4, atol=1e-5)
        agree = np.mean(kmeans.predict(other_codes) == labels)
        print(f"{name:<28} device={str(device):<7} codes close: {close}  KMeans labels agree: {agree:.2%}")
        assert close


with tempfile.TemporaryDirectory() as tmp:
    # 1. Weights-only save/load.
    path = os.path.join(tmp, "autoencoder.pt")
    ae.save(path)
    loaded = Autoencoder.load(path)  # lands on the CPU, moves on its first call
    check("save / load", loaded)

# 2. Pickle (joblib.dump / joblib.load behave the same way).
unpickled = pickle.loads(pickle.dumps(ae))
check("pickle", unpickled)

# 3. Move the fitted model to the CPU (a no-op on a CPU-only machine). A copy,
#    so that the comparison above still refers to where it was fitted.
on_cpu = pickle.loads(pickle.dumps(ae)).set_params(device="cpu")
check('set_params(device="cpu")', on_cpu)

# A file that is not a skdeepgen model file is refused with a ValueError.
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "not_a_model.pt")
    torch.save({"weights": torch.zeros(3)}, path)
    try:
        Autoencoder.load(path)
    except ValueError as exc:
        print(f"refused: {exc}")
