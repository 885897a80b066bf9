"""Autoencoder.fit on a 1.5 GB float32 memory map: the process's own memory against the array's size.

Usage (from the project root, MNIST files in ../shared/data)::

    python benchmarks/bench_memmap.py                      # -> results/memmap.json
    python benchmarks/bench_memmap.py --dir /data --epochs 1

The array: all 70,000 MNIST rows in [0, 1], tiled 7 times (490,000 x 784
float32, 1.54 GB), written once as ``--dir/mnist_x7.npy``. Two fresh
processes fit ``Autoencoder(max_epochs=E, random_state=0)`` (the default
d-500-500-2000-10 network) and then ``transform`` all rows:

* ``memmap``: on ``np.load(path, mmap_mode="r")``, a read-only map: ``fit``
  gathers each minibatch from it and ``transform`` streams it in blocks;
* ``in_memory``: on ``np.load(path)``, the array read into memory.

A thread samples ``/proc/self/status`` every 10 ms: ``RssAnon`` is the
process's own (anonymous) memory, which a copy of the array would show;
plain ``VmRSS`` also counts the map's file pages, which belong to the
kernel's page cache. The launcher checks that both fits end with bitwise
equal weights and codes.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, machine, write_json  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
TILES = 7


def status_mib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Peak RssAnon and VmRSS of this process while running, sampled every 10 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_anon = self.peak_rss = 0.0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak_anon = max(self.peak_anon, status_mib("RssAnon"))
            self.peak_rss = max(self.peak_rss, status_mib("VmRSS"))
            time.sleep(0.01)

    def stop(self):
        self.done.set()
        self.join()
        return {"peak_rss_anon_mib": self.peak_anon, "peak_vm_rss_mib": self.peak_rss}


def write_array(path):
    from skdeepgen.datasets import fetch_mnist

    X, _ = fetch_mnist(data_home=DATA_HOME, return_X_y=True)
    X = X.astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(TILES * len(X), X.shape[1]))
    for t in range(TILES):
        out[t * len(X):(t + 1) * len(X)] = X
    out.flush()
    del out


def child(args):
    import torch

    from skdeepgen import Autoencoder

    torch.set_flush_denormal(True)
    X = np.load(args.path, mmap_mode="r") if args.child == "memmap" else np.load(args.path)
    record = {"mode": args.child, "array_mib": X.nbytes / 2**20, "rss_anon_before_fit_mib": status_mib("RssAnon"),
              "vm_rss_before_fit_mib": status_mib("VmRSS")}
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    ae = Autoencoder(max_epochs=args.epochs, n_iter_no_change=None, random_state=0).fit(X)
    record["fit_seconds"] = time.perf_counter() - start
    record["fit"] = sampler.stop()
    record["loss"] = [h["loss"] for h in ae.history_]
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    codes = ae.transform(X)
    record["transform_seconds"] = time.perf_counter() - start
    record["transform"] = sampler.stop()
    torch.save(ae.module_.state_dict(), args.path + f".{args.child}.pt")
    np.save(args.path + f".{args.child}.codes.npy", codes)
    print(json.dumps(record), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", default="memmap.json")
    parser.add_argument("--child", choices=["memmap", "in_memory"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    import torch

    path = os.path.join(args.dir, "mnist_x7.npy")
    if not os.path.exists(path):
        write_array(path)
    out = {"machine": machine(), "path": path, "epochs": args.epochs, "runs": {}}
    for mode in ("memmap", "in_memory"):
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, "--path", path,
                               "--epochs", str(args.epochs)], stdout=subprocess.PIPE, text=True, check=True)
        out["runs"][mode] = record = json.loads(done.stdout.strip().splitlines()[-1])
        fit = record["fit"]
        print(f"{mode:>10}: array {record['array_mib']:.0f} MiB; fit peak RssAnon {fit['peak_rss_anon_mib']:.0f}"
              f" MiB, VmRSS {record['fit']['peak_vm_rss_mib']:.0f} MiB, {record['fit_seconds']:.1f} s; transform "
              f"peak RssAnon {record['transform']['peak_rss_anon_mib']:.0f} MiB", file=sys.stderr, flush=True)
    a, b = (torch.load(f"{path}.{mode}.pt") for mode in ("memmap", "in_memory"))
    out["weights_bitwise_equal"] = all(torch.equal(a[k], b[k]) for k in a)
    out["codes_bitwise_equal"] = bool(np.array_equal(np.load(f"{path}.memmap.codes.npy"),
                                                     np.load(f"{path}.in_memory.codes.npy")))
    write_json(os.path.join(RESULTS, args.out), out)
    print(f"weights equal: {out['weights_bitwise_equal']}, codes equal: {out['codes_bitwise_equal']}; "
          f"wrote {os.path.join(RESULTS, args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
