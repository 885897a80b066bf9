"""Data-parallel fits on MNIST: 2 gloo ranks against 1, for the Autoencoder and AMMClustering.

Usage (from the project root, MNIST files in ../shared/data)::

    python benchmarks/bench_distributed.py                 # -> results/distributed_mnist.json
    python benchmarks/bench_distributed.py --models autoencoder --epochs 2

For each model the script launches ``torchrun --standalone --nproc_per_node N
benchmarks/bench_distributed.py --worker ...`` twice on this machine: N = 1
with all cores' threads, and N = 2 (gloo on loopback) with cores // 2
threads per rank, so both use the same cores. Every rank fits the same
estimator (same ``random_state``) on all 70,000 MNIST rows in [0, 1]; the
global minibatch is the estimator's ``batch_size`` either way. Each rank
writes its weights; the launcher checks that the ranks' weights are
bitwise identical and reports seconds per epoch (median), the whole fit's
seconds and the last epoch's losses.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, machine, write_json  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MODELS = {
    # The Autoencoder's defaults (DEC's d-500-500-2000-10, batch 256, Adam 1e-3).
    "autoencoder": ("Autoencoder", {"n_iter_no_change": None}),
    # AMM's defaults (MLP 512-512 networks, batch 100, Adam 2e-4, gradient penalty 10).
    "amm": ("AMMClustering", {}),
}


def worker(args):
    import numpy as np
    import torch
    import torch.distributed as dist

    import skdeepgen
    from skdeepgen.datasets import fetch_mnist

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    X, _ = fetch_mnist(data_home=DATA_HOME, return_X_y=True)
    cls, params = MODELS[args.model]
    est = getattr(skdeepgen, cls)(**params, max_epochs=args.epochs, random_state=0, device="cpu")
    dist.barrier()
    start = time.perf_counter()
    est.fit(X)
    seconds = time.perf_counter() - start
    torch.save(est.module_.state_dict(), os.path.join(args.worker, f"rank{rank}.pt"))
    dist.barrier()
    if rank == 0:
        record = {"model": cls, "params": params, "ranks": world, "threads_per_rank": torch.get_num_threads(),
                  "fit_seconds": seconds, "epochs": est.n_iter_,
                  "s_per_epoch": float(np.median([h["seconds"] for h in est.history_])),
                  "history": est.history_}
        print(json.dumps(record), flush=True)
    dist.destroy_process_group()


def launch(model, nproc, epochs, threads):
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               os.path.abspath(__file__), "--worker", tmp, "--model", model, "--epochs", str(epochs)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=True)
        record = json.loads(done.stdout.strip().splitlines()[-1])
        import torch

        states = [torch.load(os.path.join(tmp, f"rank{r}.pt")) for r in range(nproc)]
        record["ranks_identical"] = all(torch.equal(states[0][k], s[k]) for s in states[1:] for k in states[0])
        return record, states[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=sorted(MODELS), help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", default=["autoencoder", "amm"], choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (default: 3 AE, 2 AMM)")
    parser.add_argument("--out", default="distributed_mnist.json")
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    cores = os.cpu_count()
    out = {"machine": machine(), "runs": []}
    for model in args.models:
        epochs = args.epochs or {"autoencoder": 3, "amm": 2}[model]
        single, single_state = launch(model, 1, epochs, cores)
        double, double_state = launch(model, 2, epochs, max(1, cores // 2))
        max_diff = max(float((single_state[k].float() - double_state[k].float()).abs().max()) for k in single_state)
        for record in (single, double):
            last = {k: v for k, v in record["history"][-1].items() if k not in ("epoch", "seconds")}
            print(f"{model:>12} ranks={record['ranks']} threads/rank={record['threads_per_rank']}: "
                  f"{record['s_per_epoch']:.1f} s/epoch, fit {record['fit_seconds']:.1f} s, last epoch {last}, "
                  f"ranks identical: {record['ranks_identical']}", file=sys.stderr, flush=True)
        out["runs"].append({"model": model, "epochs": epochs, "one_rank": single, "two_ranks": double,
                            "max_abs_weight_diff_1_vs_2_ranks": max_diff,
                            "speedup_2_ranks": single["s_per_epoch"] / double["s_per_epoch"]})
    write_json(os.path.join(RESULTS, args.out), out)
    print(f"wrote {os.path.join(RESULTS, args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
