"""One rank of the data-parallel tests (launched by tests/test_distributed.py with torchrun).

usage: python -m torch.distributed.run --nproc_per_node N _distributed_worker.py OUT_DIR SPEC_JSON

SPEC_JSON holds {"class": name, "params": {...}}; the data are the tests'
deterministic blobs. Each rank writes its weights and history to OUT_DIR/rank{r}.pt.
"""

import json
import sys

import numpy as np
import torch
import torch.distributed as dist

import skdeepgen


def blobs(n_per=40, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.uniform(0, 1, size=(3, n_features))
    y = np.repeat(np.arange(3), n_per)
    X = centers[y] + 0.03 * rng.randn(len(y), n_features)
    return ((X - X.min(0)) / (X.max(0) - X.min(0))).astype(np.float32)


def main(out_dir, spec):
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    est = getattr(skdeepgen, spec["class"])(**spec["params"])
    X = blobs()
    est.fit(X)
    extra = {"labels": est.labels_} if hasattr(est, "labels_") else {}
    torch.save({"state": est.module_.state_dict(), "history": est.history_, "n_iter": est.n_iter_,
                "predict_first": (est.predict(X) if hasattr(est, "predict") else est.transform(X))[:10],
                **extra}, f"{out_dir}/rank{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
