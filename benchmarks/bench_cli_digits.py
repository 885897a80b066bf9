"""Wall time and printed table of ``python -m skdeepgen`` on digits (the main job).

Usage::

    python benchmarks/bench_cli_digits.py

Runs the command exactly as the README's quick start does (default options:
every method, seeds 0 1 2) in a fresh interpreter and writes
``benchmarks/results/cli_digits.json`` with the wall time (interpreter start
included) and the table it printed. Goal: under 2 minutes on 2 cores.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, machine, write_json  # noqa: E402


def main():
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "skdeepgen"], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    print(out.stdout)
    print(f"wall time {wall:.1f}s")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    write_json(os.path.join(HERE, "results", "cli_digits.json"),
               {"machine": machine(), "command": "python -m skdeepgen", "wall_seconds": wall,
                "stdout": out.stdout.splitlines()})


if __name__ == "__main__":
    main()
