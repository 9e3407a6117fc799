"""Trains one job under torchrun (one process per rank; WORLD_SIZE 1 runs alone): the torch
engine's computing half. The run lifecycle (server/runs/lifecycle.ts) owns the run folder: rank 0
reports through the engine protocol (events.py) and writes only its checkpoint.pt and the final
model. The steps, in the order of `main`: setup (process group, model, optimizer, data),
restore (the newest checkpoint, read by rank 0 and handed to every rank), then per epoch
train_epoch, evaluate, report_epoch (waits until the lifecycle has the records on disk) and
save_checkpoint, and at the end save_final_model.

Restarts (`torchrun --max-restarts`): every start restores the newest checkpoint and says so in
its `started` message; the lifecycle cuts the records back to that epoch.
"""
from __future__ import annotations

import math
import os
import signal
import time
from dataclasses import dataclass
from types import FrameType
from typing import Optional, Union

import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import MIN_TORCH
from .checkpoint import TrainState, load_newest, save_checkpoint
from .data import EngineData, open_data
from .events import Batch, Cancelled, Checkpoint, Completed, Epoch, Ended, NonFinite, Replies, ResumePoint, Started, emit
from .files import replace_dir_atomic
from .graph import GraphModel, export_tfjs_weights, load_graph_model
from .job import Job, read_job
from .stats import layer_stats, weight_histograms


class Stop:
    """SIGTERM: a cancel (the launcher wrote the cancel file first) stops after this batch; any other
    SIGTERM (torchrun tearing the group down to restart it) ends the process at once."""

    def __init__(self, cancel_file: str) -> None:
        self.cancel_file = cancel_file
        self.requested = False
        signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, signum: int, frame: Optional[FrameType]) -> None:
        if os.path.exists(self.cancel_file):
            self.requested = True
        else:
            os._exit(143)


@dataclass
class Setup:
    """What every step of a run uses."""

    job: Job
    rank: int
    world: int
    restart: int
    device: torch.device
    model: GraphModel
    model_json: dict
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    data: EngineData
    stop: Stop
    # rank 0 reads the lifecycle's replies; the other ranks have none
    replies: Optional[Replies]

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def writer(self) -> bool:
        return self.rank == 0


@dataclass
class EpochSums:
    """An epoch's training pass over every rank: loss·n, top-1 and top-5 hits, n, and the last step."""

    loss: float
    top1: float
    top5: float
    seen: float
    step: int
    seconds: float


Outcome = Union[EpochSums, Cancelled, NonFinite]


def check_torch_version() -> None:
    version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
    if version < MIN_TORCH:
        raise SystemExit(f"PyTorch {torch.__version__} is too old: the torch engine needs PyTorch ≥ {MIN_TORCH[0]}.{MIN_TORCH[1]}.")


def pick_device(kind: str, local_rank: int) -> torch.device:
    if kind != "cuda":
        # Same results for the same seed, so a resumed run equals an uninterrupted one.
        torch.use_deterministic_algorithms(True, warn_only=True)
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise SystemExit("--device cuda, but this PyTorch sees no CUDA device; use --device cpu or install a CUDA build of PyTorch.")
    torch.cuda.set_device(local_rank % torch.cuda.device_count())
    return torch.device("cuda", torch.cuda.current_device())


def make_optimizer(job: Job, model: torch.nn.Module) -> torch.optim.Optimizer:
    r = job.recipe
    if r.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=r.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=r.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=r.lr, momentum=r.momentum, nesterov=r.nesterov and r.momentum > 0, weight_decay=r.weight_decay)


def setup(job: Job) -> Setup:
    """The process group, the model of the initial model.json, the optimizer and this rank's data."""
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(job.device, local_rank)
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    stop = Stop(job.cancel_file)
    model, model_json = load_graph_model(job.init_model, job.layer_quant)
    model.to(device)
    optimizer = make_optimizer(job, model)
    if job.recipe.batch_size % world != 0:
        raise SystemExit(f"train.batchSize {job.recipe.batch_size} is not a multiple of the world size {world}: use a batch size divisible by the number of processes.")
    local_batch = job.recipe.batch_size // world
    data = open_data(job.data, rank=rank, world=world, local_batch=local_batch, eval_batch=job.eval_batch_size,
                     seed=job.recipe.seed, device=device, workers=job.recipe.workers)
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return Setup(job=job, rank=rank, world=world, restart=int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")), device=device,
                 model=model, model_json=model_json, net=net, optimizer=optimizer, data=data, stop=stop,
                 replies=Replies() if rank == 0 else None)


def restore(s: Setup) -> Optional[TrainState]:
    """The newest checkpoint's state, loaded into the model and optimizer of every rank (rank 0
    reads it and hands it over: nodes need not share a disk); None for a fresh run."""
    loaded = load_newest(s.job.checkpoints) if s.writer else None
    if s.distributed:
        box = [loaded]
        dist.broadcast_object_list(box, src=0)
        loaded = box[0]
    if loaded is None:
        return None
    s.model.load_state_dict(loaded.model)
    s.optimizer.load_state_dict(loaded.optimizer)
    return loaded.state


def loss_and_hits(output: torch.Tensor, labels: torch.Tensor, classes: int, probabilities: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loss and top-1/top-5 hits of server/train/step.ts."""
    logp = torch.log(output.clamp(1e-12, 1)) if probabilities else F.log_softmax(output, dim=1)
    loss = F.nll_loss(logp, labels)
    true_score = output.gather(1, labels.view(-1, 1))
    rank = (output > true_score).sum(1)
    return loss, (rank < 1).sum(), (rank < min(5, classes)).sum()


def train_epoch(s: Setup, state: TrainState, epoch: int, elapsed: "Clock") -> Outcome:
    """Trains epoch `epoch` (0-based) on every rank; rank 0 reports batch records."""
    job = s.job
    lr = job.learning_rates[epoch]
    for group in s.optimizer.param_groups:
        group["lr"] = lr
    # Dropout draws from the global generator: seed it per epoch, so a resumed epoch draws the same.
    torch.manual_seed(job.recipe.seed * 1000003 + epoch * 7919 + s.rank)
    steps = s.data.steps_per_epoch
    report_every = max(1, round(steps / job.batch_records_per_epoch))
    sums = torch.zeros(4, dtype=torch.float64)  # loss·n, top-1 hits, top-5 hits, n (global)
    step = state.step
    started = time.time()
    s.net.train()
    for b, (x, y) in enumerate(s.data.train_batches(epoch)):
        output = s.net(x)
        loss, top1, top5 = loss_and_hits(output, y, job.classes, job.outputs_probabilities)
        s.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        s.optimizer.step()
        step += 1
        # One small all-reduce per step: this batch's sums over the ranks, and whether to stop.
        packed = torch.tensor([loss.item() * y.shape[0], top1.item(), top5.item(), y.shape[0], 1.0 if s.stop.requested else 0.0], dtype=torch.float64)
        if s.distributed:
            dist.all_reduce(packed)
        sums += packed[:4]
        if packed[4] > 0:
            return Cancelled(epoch=epoch + 1)
        batch_loss = packed[0].item() / max(1.0, packed[3].item())
        if not math.isfinite(batch_loss):
            return NonFinite(epoch=epoch + 1, batch=b + 1, step=step, loss=batch_loss)
        if s.writer and ((b + 1) % report_every == 0 or b + 1 == steps):
            seen = sums[3].item()
            emit(Batch({"kind": "batch", "epoch": epoch + 1, "step": step, "progress": (b + 1) / steps, "lr": lr,
                        "loss": sums[0].item() / seen, "top1": sums[1].item() / seen, "top5": sums[2].item() / seen,
                        "imgPerSec": seen / max(1e-9, time.time() - started), "time": elapsed()}))
    return EpochSums(loss=sums[0].item(), top1=sums[1].item(), top5=sums[2].item(), seen=sums[3].item(), step=step, seconds=time.time() - started)


@torch.no_grad()
def evaluate(s: Setup) -> dict[str, float]:
    """Loss and top-1/top-5 on the whole test split; each rank takes its shard, sums are all-reduced (exact)."""
    if s.distributed:
        # BatchNorm's moving statistics are updated on every rank by its own batches (DDP copies
        # rank 0's in before each forward): evaluate every shard with rank 0's, the exported ones.
        for buffer in s.model.buffers():
            dist.broadcast(buffer, 0)
    s.model.eval()
    sums = torch.zeros(4, dtype=torch.float64)
    for x, y in s.data.test_batches():
        output = s.model(x)
        loss, top1, top5 = loss_and_hits(output, y, s.job.classes, s.job.outputs_probabilities)
        sums += torch.tensor([loss.item() * y.shape[0], top1.item(), top5.item(), y.shape[0]], dtype=torch.float64)
    if s.distributed:
        dist.all_reduce(sums)
    s.model.train()
    n = max(1.0, sums[3].item())
    return {"loss": sums[0].item() / n, "top1": sums[1].item() / n, "top5": sums[2].item() / n}


def report_epoch(s: Setup, epoch: int, sums: EpochSums, val: dict[str, float], elapsed: "Clock") -> dict:
    """Rank 0 sends the epoch's records and waits until the lifecycle has them on disk; returns the metrics record."""
    seen = max(1.0, sums.seen)
    metrics = {"kind": "epoch", "epoch": epoch + 1, "step": sums.step, "lr": s.job.learning_rates[epoch], "loss": sums.loss / seen,
               "top1": sums.top1 / seen, "top5": sums.top5 / seen, "valLoss": val["loss"], "valTop1": val["top1"],
               "valTop5": val["top5"], "imgPerSec": sums.seen / max(1e-9, sums.seconds), "time": elapsed()}
    if s.writer and s.replies is not None:
        emit(Epoch(metrics=metrics, layers={"epoch": epoch + 1, "layers": layer_stats(s.model)},
                   histograms={"epoch": epoch + 1, "histograms": weight_histograms(s.model, s.job.histogram_bins)}))
        s.replies.wait_recorded(epoch + 1, s.restart)
    return metrics


def save_final_model(s: Setup, state: TrainState) -> None:
    metadata = {"runId": s.job.run_id, "experiment": s.job.experiment_name, "epochs": state.epoch, "engine": "torch",
                "device": s.device.type, "worldSize": s.world}
    replace_dir_atomic(s.job.model_dir, lambda tmp: export_tfjs_weights(s.model, s.model_json, tmp, metadata), s.job.temp_marker)


class Clock:
    """Training seconds of every session: the checkpoint's, plus this session's."""

    def __init__(self, before: float) -> None:
        self.before = before
        self.start = time.time()

    def __call__(self) -> float:
        return self.before + time.time() - self.start


def train_epochs(s: Setup, state: TrainState) -> Union[Completed, Cancelled, NonFinite]:
    clock = Clock(state.elapsed_seconds)
    for epoch in range(state.epoch, s.job.recipe.epochs):
        s.model.observe_ranges(s.job.activation_ranges, epoch)
        trained = train_epoch(s, state, epoch, clock)
        if not isinstance(trained, EpochSums):
            return trained
        metrics = report_epoch(s, epoch, trained, evaluate(s), clock)
        state = TrainState(epoch=epoch + 1, step=trained.step, elapsed_seconds=clock(), epochs=[*state.epochs, metrics])
        if s.writer:
            save_checkpoint(s.job.checkpoints, s.model, s.optimizer, state)
            emit(Checkpoint(epoch=epoch + 1))
        if s.distributed:
            dist.barrier()  # no rank runs ahead of the checkpoint it would resume from
    if s.writer:
        save_final_model(s, state)
    return Completed()


def main(job_path: str) -> int:
    check_torch_version()
    s = setup(read_job(job_path))
    restored = restore(s)
    state = restored or TrainState()
    if s.writer:
        resumed = ResumePoint(epoch=state.epoch, step=state.step, elapsed_seconds=state.elapsed_seconds, epochs=state.epochs) if restored else None
        emit(Started(steps_per_epoch=s.data.steps_per_epoch, restart=s.restart, resumed=resumed))
    end = train_epochs(s, state)
    if s.writer:
        emit(Ended(end))
    if s.distributed:
        dist.barrier()  # every rank leaves together (run_experiment.py exits without teardown)
    return 0

