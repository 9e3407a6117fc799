#!/usr/bin/env bash
# The oneDNN backend against the PyTorch reference (issue 7), measured back to back in one session:
# ResNet-20, batch 128, 32×32×3, 2 threads; ternary t_ex 1 and 4, and float. Prints JSON lines
# (tern bench's, then torch_tern_resnet.py's), REPEATS rounds. Needs the built addon
# (node server/native/build.mjs) and Debian's python3-torch.
#   scripts/bench-torch.sh [REPEATS=2] [STEPS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-2}
STEPS=${2:-5}
TORCH_SCRIPT=${TORCH_SCRIPT:-../shared/bench/torch_tern_resnet.py}
[ -f "$TORCH_SCRIPT" ] || TORCH_SCRIPT=/work/shared/bench/torch_tern_resnet.py
# Both sides run OpenMP; on a shared machine, spinning workers starve each other, so both sides
# get the same wait policy (override by exporting OMP_WAIT_POLICY yourself).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
for round in $(seq 1 "$REPEATS"); do
  echo "{\"round\": $round, \"utc\": \"$(date -u +%H:%M:%S)\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"omp_wait_policy\": \"$OMP_WAIT_POLICY\"}"
  node --import tsx server/cli/main.ts bench --backend onednn --threads 2 --batch 128 --mode fp,tern --tex 1,4 --steps "$STEPS" --warmup 2 --json 2>/dev/null
  for mode in "--mode tern --tex 1" "--mode tern --tex 4" "--mode fp"; do
    # shellcheck disable=SC2086
    /usr/bin/python3 "$TORCH_SCRIPT" $mode --threads 2 --bs 128 --steps "$STEPS"
  done
done
