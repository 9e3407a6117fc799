"""Images/s of the torch engine's data pipeline (scripts/bench-torch-data.ts runs it):

    python3 scripts/bench_torch_data.py DATA_JOB.json WORKERS BATCH

DATA_JOB.json is a data job as server/engines/torch/dataJob.ts writes it. Times one epoch of
open_data(...).train_batches (the first batch, which starts the workers, is left out) on the CPU,
one process, and prints {"workers": W, "imagesPerSecond": …}.
"""
from __future__ import annotations

import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engines", "torch"))
from ternary_torch.data import open_data  # noqa: E402


def main(job_path: str, workers: int, batch: int) -> None:
    torch.set_num_threads(1)
    with open(job_path, "r", encoding="utf8") as f:
        data = json.load(f)
    engine_data = open_data(data, rank=0, world=1, local_batch=batch, eval_batch=batch, seed=1, device=torch.device("cpu"), workers=workers)
    batches = iter(engine_data.train_batches(0))
    next(batches)
    n = 0
    t0 = time.perf_counter()
    for x, _ in batches:
        n += int(x.shape[0])
    print(json.dumps({"workers": workers, "imagesPerSecond": n / (time.perf_counter() - t0)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
