"""Shared helpers of the benchmark scripts (machine description, data, JSON)."""

import json
import os
import platform
import resource
import subprocess
import sys
import time

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
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2)
        fh.write("\n")
