"""Data-parallel fits over torch.distributed (gloo, two processes on loopback)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import skdeepgen

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is unavailable")

WORKER = Path(__file__).with_name("_distributed_worker.py")
sys.path.insert(0, str(WORKER.parent))
from _distributed_worker import blobs  # noqa: E402


def run_ranks(tmp_path, cls, params, nproc=2, ok=True):
    """Fit ``cls(**params)`` under torchrun on ``nproc`` gloo ranks; return each rank's record."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           str(WORKER), str(tmp_path), json.dumps({"class": cls, "params": params})]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if not ok:
        return None, done
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(nproc)], done


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


AE = {"n_components": 2, "encoder_layers": (16,), "batch_size": 32, "max_epochs": 8, "learning_rate": 1e-2,
      "n_iter_no_change": None, "random_state": 0}


def test_two_ranks_train_like_one_process_with_the_same_global_batch(tmp_path):
    (r0, r1), done = run_ranks(tmp_path, "Autoencoder", {**AE, "verbose": 1})
    assert_same_weights(r0["state"], r1["state"])
    assert r0["history"] == [{**h, "seconds": h2["seconds"]} for h, h2 in zip(r1["history"], r0["history"])]
    # Only rank 0 prints progress.
    assert done.stdout.count("[Autoencoder] epoch") == AE["max_epochs"]
    single = skdeepgen.Autoencoder(**AE).fit(blobs())
    # Same shuffles, same global batches, gradients averaged: the same fit up to summation order.
    losses_2 = [h["loss"] for h in r0["history"]]
    losses_1 = [h["loss"] for h in single.history_]
    np.testing.assert_allclose(losses_2, losses_1, rtol=1e-4)
    assert losses_2[-1] < 0.5 * losses_2[0]
    for key, value in single.module_.state_dict().items():
        torch.testing.assert_close(r0["state"][key], value, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls, params", [
    # Batch norm: running statistics are averaged with the gradients.
    ("Autoencoder", {**AE, "batch_norm": True, "dropout": 0.1}),
    # Separate discriminator / generator / encoder steps, per-rank noise.
    ("MMGANClustering", {"n_clusters": 3, "latent_dim": 2, "generator_layers": (16,), "discriminator_layers": (16,),
                         "encoder_layers": (16,), "batch_size": 32, "max_epochs": 3, "random_state": 0}),
    # Pretraining (a nested fit), per-sample targets (batch_index), label-change stopping.
    ("DECClustering", {"n_clusters": 3, "n_components": 2, "encoder_layers": (16,), "pretrain_epochs": 3,
                       "batch_size": 32, "max_epochs": 4, "random_state": None}),
], ids=["ae-batchnorm", "mmgan", "dec"])
def test_ranks_end_identical(tmp_path, cls, params):
    (r0, r1), _ = run_ranks(tmp_path, cls, params)
    assert_same_weights(r0["state"], r1["state"])
    assert r0["n_iter"] == r1["n_iter"]
    np.testing.assert_array_equal(r0["predict_first"], r1["predict_first"])
    if "labels" in r0:
        np.testing.assert_array_equal(r0["labels"], r1["labels"])


def test_too_small_a_batch_for_the_ranks_is_refused_before_training(tmp_path):
    _, done = run_ranks(tmp_path, "Autoencoder", {**AE, "batch_size": 3}, ok=False)
    assert done.returncode != 0
    assert "needs batch_size >= 4" in done.stderr and "got batch_size=3" in done.stderr
