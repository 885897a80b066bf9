#!/usr/bin/env bash
# The GPU checks and benchmarks of one device lease, as one script.
#
# Usage, from the project root on a machine with a CUDA GPU:
#     SKDEEPGEN_DATA=/path/to/data OUT=/tmp/gpu bash benchmarks/gpu_checks.sh [AMM_SECONDS]
#
# Runs at once: (1) benchmarks/check_cuda.py (every estimator fitted on the
# GPU, used on the CPU after pickle and save/load), (2) the test suite with
# device="auto" resolving to CUDA, and, beside them on the same GPU, (3) three
# AMM MNIST traces (seeds 0, 1, 2) that stop after AMM_SECONDS (default 330)
# of fitting (0: no traces). The traces share the GPU with each other and, for their first
# minutes, with (1) and (2): their seconds per epoch are those of that load.
set -u
OUT=${OUT:-/tmp/gpu}
AMM_SECONDS=${1:-330}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export SKDEEPGEN_DATA=${SKDEEPGEN_DATA:-$PWD/../shared/data}
log=$OUT/gpu.log
{
  date -u
  nvidia-smi -L
  python3 -c "import torch, sklearn, scipy, numpy; print('torch', torch.__version__, 'sklearn', sklearn.__version__,
'scipy', scipy.__version__, 'numpy', numpy.__version__, torch.cuda.get_device_name())"
} > "$log" 2>&1

for seed in 0 1 2; do
  [ "$AMM_SECONDS" = 0 ] && break
  OMP_NUM_THREADS=4 python3 benchmarks/bench_amm.py trace --seed $seed --params '{"max_epochs": 1000}' \
    --time-budget "$AMM_SECONDS" --out "$OUT/amm_trace_gpu_seed$seed.json" 2> "$OUT/amm_seed$seed.log" &
done

echo "== check_cuda" >> "$log"
python3 benchmarks/check_cuda.py --out "$OUT/check_cuda.json" >> "$log" 2>&1
echo "check_cuda rc=$?" >> "$log"

echo "== pytest (device auto = cuda)" >> "$log"
timeout 240 python3 -m pytest -q -n 8 -p no:cacheprovider tests >> "$log" 2>&1
echo "pytest rc=$?" >> "$log"

wait
date -u >> "$log"
