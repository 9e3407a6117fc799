#!/usr/bin/env bash
# The oneDNN backend against the PyTorch reference, measured back to back:
# ResNet-20, batch 128, 32×32×3, 2 threads; ternary t_ex 1 and 4, and float. Prints JSON lines
# (tern bench's, then scripts/bench-torch-reference.py's), REPEATS rounds. Needs the built addon
# (node server/native/build.mjs) and Debian's python3-torch.
#   scripts/bench-torch.sh [REPEATS=2] [STEPS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-2}
STEPS=${2:-5}
TORCH_SCRIPT=scripts/bench-torch-reference.py
# Both sides run OpenMP and get the same wait policy: spinning workers of one side would take the
# cores the other needs (override by exporting OMP_WAIT_POLICY yourself).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
for round in $(seq 1 "$REPEATS"); do
  echo "{\"round\": $round, \"utc\": \"$(date -u +%H:%M:%S)\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"omp_wait_policy\": \"$OMP_WAIT_POLICY\"}"
  node --import tsx server/cli/main.ts bench --backend onednn --threads 2 --batch 128 --mode fp,tern --tex 1,4 --steps "$STEPS" --warmup 2 --json 2>/dev/null
  for mode in "--mode tern --tex 1" "--mode tern --tex 4" "--mode fp"; do
    # shellcheck disable=SC2086
    /usr/bin/python3 "$TORCH_SCRIPT" $mode --threads 2 --bs 128 --steps "$STEPS"
  done
done
