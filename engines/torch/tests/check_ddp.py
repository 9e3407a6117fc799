"""DDP equivalence (test/unit/engines-torch-ddp.test.ts runs it): 2 processes (gloo, CPU) with
batch B/2 each take the same steps as 1 process with batch B, from the same initial weights
(a tfjs model.json of the zoo) over the same global batches, through the engine's own model,
quantizer and torch.optim SGD — so the per-step losses agree to float rounding.

    cd engines/torch && python3 -m tests.check_ddp model.json LAYER_QUANT_JSON STEPS BATCH

Prints one JSON line {"single": [...], "ddp": [...], "maxRelative": …}. The model must have no
BatchNorm: its statistics are per process under DDP (as in any DDP run), so they would differ.
"""
import json
import os
import sys
import tempfile
from typing import Dict, List, Tuple

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from ternary_torch.graph import GraphModel, load_graph_model
from ternary_torch.job import LayerQuant, parse_layer_quant


def batches(model: GraphModel, steps: int, batch: int) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(7)
    h, w, c = model.input_shape
    return [(torch.randn(batch, c, h, w, generator=g), torch.randint(0, 10, (batch,), generator=g)) for _ in range(steps)]


def train(model_json: str, quant: Dict[str, LayerQuant], steps: int, batch: int, rank: int, world: int, out: str) -> None:
    torch.set_num_threads(1)
    model, _ = load_graph_model(model_json, quant)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    losses = []
    local = batch // world
    for x, y in batches(model, steps, batch):
        xs, ys = x[rank * local:(rank + 1) * local], y[rank * local:(rank + 1) * local]
        loss = F.cross_entropy(net(xs), ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = torch.tensor([loss.item()], dtype=torch.float64)
        if world > 1:
            dist.all_reduce(value)
        losses.append(value.item() / world)
    if rank == 0:
        with open(out, "w") as f:
            json.dump(losses, f)


def worker(rank: int, world: int, init_file: str, model_json: str, quant: Dict[str, LayerQuant], steps: int, batch: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    train(model_json, quant, steps, batch, rank, world, out)
    dist.destroy_process_group()


def main(model_json: str, quant: Dict[str, LayerQuant], steps: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        single_out = os.path.join(tmp, "single.json")
        ddp_out = os.path.join(tmp, "ddp.json")
        train(model_json, quant, steps, batch, 0, 1, single_out)
        mp.spawn(worker, args=(2, os.path.join(tmp, "init"), model_json, quant, steps, batch, ddp_out), nprocs=2, join=True)
        single = json.load(open(single_out))
        ddp = json.load(open(ddp_out))
    rel = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(single, ddp))
    print(json.dumps({"single": single, "ddp": ddp, "maxRelative": rel}))


if __name__ == "__main__":
    main(sys.argv[1], parse_layer_quant(json.loads(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4]))
