"""Trains one resolved experiment under torchrun (one process per rank; WORLD_SIZE 1 runs alone).

The job file (written by server/engines/torch/launch.ts) holds the resolved experiment, the run
folder, the initial model (a tfjs model.json from the zoo of server/models/) and the resolved data
settings. Every rank trains; only rank 0 writes the run folder and prints progress lines
(`@tern {json}` on stdout) that the TypeScript side turns into the listener events of a tfjs run.

Restarts (`torchrun --max-restarts`): every start resumes from checkpoints/last when there is one,
after cutting metrics.jsonl, layers.jsonl and histograms/ back to the checkpoint's epoch, so the
files hold every epoch once whatever was killed when.
"""
import json
import math
import os
import shutil
import signal
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import MIN_TORCH
from .data import load_split, parse_augment, Split
from .graph import export_tfjs_weights, load_graph_model
from .stats import layer_stats, model_summary, weight_histograms

BATCH_LINES_PER_EPOCH = 50
HISTOGRAM_BINS = 64
PROGRESS_PREFIX = "@tern "


def emit(kind, payload):
    sys.stdout.write(PROGRESS_PREFIX + json.dumps({"type": kind, **payload}) + "\n")
    sys.stdout.flush()


def log(level, message):
    emit("log", {"level": level, "message": message})


# ---- run files (rank 0)

def write_json_atomic(path, value):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf8") as f:
        f.write(json.dumps(value, indent=1) + "\n")
    os.replace(tmp, path)


def append_json_line(path, value):
    with open(path, "a", encoding="utf8") as f:
        f.write(json.dumps(value) + "\n")


def read_json_lines(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "r", encoding="utf8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # the partial last line of a killed writer
    return out


def write_json_lines_atomic(path, records):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    os.replace(tmp, path)


def replace_dir_atomic(target, fill):
    """Fills a fresh folder, then swaps it in: a reader sees the old or the new folder, never half."""
    tmp = f"{target}.tmp-{os.getpid()}"
    old = f"{target}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    fill(tmp)
    if os.path.exists(target):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def find_checkpoint(path):
    for p in (path, f"{path}.old"):
        if os.path.exists(os.path.join(p, "checkpoint.pt")):
            return os.path.join(p, "checkpoint.pt")
    return None


def lr_at(epoch, lr, schedule, gammas):
    """learningRateAt of server/train/schedule.ts."""
    rate = lr
    for s, g in zip(schedule, gammas):
        if epoch >= s:
            rate *= g
    return rate


def best_of(epochs):
    best = {"top1": 0, "top5": 0, "loss": float("nan"), "epoch": 0}
    for r in epochs:
        top1 = r.get("valTop1", r["top1"])
        if best["epoch"] == 0 or top1 > best["top1"]:
            best = {"top1": top1, "top5": r.get("valTop5", r.get("top5", 0)), "loss": r.get("valLoss", r["loss"]), "epoch": r["epoch"]}
    return best


def final_of(epochs):
    if not epochs:
        return {"top1": 0, "top5": 0, "loss": float("nan")}
    last = epochs[-1]
    return {"top1": last.get("valTop1", last["top1"]), "top5": last.get("valTop5", last.get("top5", 0)), "loss": last.get("valLoss", last["loss"])}


def json_safe(v):
    """NaN → null in summaries (JSON has no NaN; the tfjs engine's JSON.stringify writes null too)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_safe(x) for x in v]
    return v


# ---- the loss and hits of server/train/step.ts

def loss_and_hits(output, labels, classes, probabilities):
    logp = torch.log(output.clamp(1e-12, 1)) if probabilities else F.log_softmax(output, dim=1)
    loss = F.nll_loss(logp, labels)
    true_score = output.gather(1, labels.view(-1, 1))
    rank = (output > true_score).sum(1)
    top1 = (rank < 1).sum()
    top5 = (rank < min(5, classes)).sum()
    return loss, top1, top5


def checkpoint_note(epoch, last_dir, run_dir):
    """What a stopped run left to resume from, in the words of server/train/trainer.ts's checkpointNote."""
    if epoch > 0:
        return f"the checkpoint of epoch {epoch} is in {last_dir} (continue with --resume {run_dir})"
    return "no epoch had completed, so there is no checkpoint to resume from; start a new run"


class Stop:
    """SIGTERM: a cancel (the launcher wrote the cancel file first) stops after this batch; any other
    SIGTERM (torchrun tearing the group down to restart it) ends the process at once."""

    def __init__(self, cancel_file):
        self.cancel_file = cancel_file
        self.requested = False
        signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, signum, frame):
        if self.cancel_file and os.path.exists(self.cancel_file):
            self.requested = True
        else:
            os._exit(143)


def main(job_path):
    version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
    if version < MIN_TORCH:
        raise SystemExit(f"PyTorch {torch.__version__} is too old: the torch engine needs PyTorch ≥ {MIN_TORCH[0]}.{MIN_TORCH[1]}.")
    with open(job_path, "r", encoding="utf8") as f:
        job = json.load(f)
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    device_kind = job.get("device", "cpu")
    if device_kind == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda, but this PyTorch sees no CUDA device; use --device cpu or install a CUDA build of PyTorch.")
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device("cpu")
    distributed = world > 1
    if distributed:
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    writer = rank == 0
    stop = Stop(job.get("cancelFile"))

    experiment = job["experiment"]
    recipe = experiment["train"]
    classes = experiment["model"]["classes"]
    epochs_total = recipe["epochs"]
    torch.manual_seed(recipe["seed"])

    run_dir = job["runDir"]
    paths = {
        "metrics": os.path.join(run_dir, "metrics.jsonl"),
        "layers": os.path.join(run_dir, "layers.jsonl"),
        "histograms": os.path.join(run_dir, "histograms"),
        "last": os.path.join(run_dir, "checkpoints", "last"),
        "best": os.path.join(run_dir, "checkpoints", "best"),
        "model": os.path.join(run_dir, "model"),
        "summary": os.path.join(run_dir, "summary.json"),
    }

    # ---- model and optimizer
    model, model_json = load_graph_model(job["initModel"])
    model.to(device)
    probabilities = job.get("outputsProbabilities", False)
    if recipe["optimizer"] == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=recipe["weightDecay"])
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=recipe["lr"], momentum=recipe["momentum"],
                                    nesterov=recipe["nesterov"] and recipe["momentum"] > 0, weight_decay=recipe["weightDecay"])

    # ---- resume: rank 0 reads the checkpoint and hands it to every rank (nodes need not share a disk)
    state = {"epoch": 0, "step": 0, "rng": {"seed": recipe["seed"], "nextEpoch": 0}, "epochs": [], "elapsedSeconds": 0}
    checkpoint = None
    if writer:
        found = find_checkpoint(paths["last"])
        if found:
            checkpoint = torch.load(found, map_location="cpu")
    if distributed:
        box = [checkpoint]
        dist.broadcast_object_list(box, src=0)
        checkpoint = box[0]
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        state = checkpoint["state"]
    if writer:
        os.makedirs(paths["histograms"], exist_ok=True)
        os.makedirs(os.path.dirname(paths["last"]), exist_ok=True)
        # Drop what a killed session wrote after its last checkpoint, so the files read as one run.
        keep = lambda r: r["epoch"] <= state["epoch"]
        write_json_lines_atomic(paths["metrics"], [r for r in read_json_lines(paths["metrics"]) if keep(r)])
        write_json_lines_atomic(paths["layers"], [r for r in read_json_lines(paths["layers"]) if keep(r)])
        for name in os.listdir(paths["histograms"]):
            if name.startswith("epoch-") and name.endswith(".json") and int(name[6:-5]) > state["epoch"]:
                os.remove(os.path.join(paths["histograms"], name))

    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    # ---- data: DistributedSampler shards each epoch's seeded permutation over the ranks
    augment = parse_augment(job["data"]["augment"])
    mean, std = job["data"]["mean"], job["data"]["std"]
    train_split = Split(*load_split(job["data"], "train"), augment, mean, std, device)
    test_split = Split(*load_split(job["data"], "test"), augment, mean, std, device)
    global_batch = recipe["batchSize"]
    if global_batch % world != 0:
        raise SystemExit(f"train.batchSize {global_batch} is not a multiple of the world size {world}: use a batch size divisible by the number of processes.")
    local_batch = global_batch // world
    sampler = torch.utils.data.distributed.DistributedSampler(range(len(train_split)), num_replicas=world, rank=rank, shuffle=True, seed=recipe["seed"], drop_last=False)
    steps_per_epoch = math.ceil(len(sampler) / local_batch)
    log_every = max(1, round(steps_per_epoch / BATCH_LINES_PER_EPOCH))

    start_time = time.time()
    elapsed = lambda: state["elapsedSeconds"] + (time.time() - start_time)
    backend_name = f"torch-{device_kind}"
    engine_info = {"engine": "torch", "device": device_kind, "worldSize": world}

    def summary_of(status, reason=None):
        stats = layer_stats(model)
        sizes = model_summary(model, stats)
        s = {"runId": job["runId"], "experiment": experiment["name"], "status": status, "epochs": state["epoch"]}
        if reason:
            s["reason"] = reason
        s.update({"final": final_of(state["epochs"]), "best": best_of(state["epochs"]), "backend": backend_name,
                  "fp32Bytes": sizes["fp32Bytes"], "ternaryBytes": sizes["ternaryBytes"], "compression": sizes["compression"],
                  "wallSeconds": elapsed(), **engine_info})
        return json_safe(s)

    def finish(status, reason=None):
        if writer:
            s = summary_of(status, reason)
            write_json_atomic(paths["summary"], s)
            if reason:
                log("error" if status == "failed" else "info", reason)
            emit("end", {"summary": s})
        if distributed:
            dist.barrier()  # every rank leaves together (run_experiment.py exits without teardown)
        return 0

    if writer:
        write_json_atomic(paths["summary"], summary_of("running"))
        emit("start", {"runId": job["runId"], "runDir": run_dir, "experiment": experiment["name"], "epochs": epochs_total,
                       "stepsPerEpoch": steps_per_epoch, "backend": backend_name, "resumedEpoch": state["epoch"], "restart": restart, **engine_info})
        if restart > 0:
            log("warn", f"the worker group restarted (restart {restart}); resuming after epoch {state['epoch']} of {epochs_total}")
        elif state["epoch"] > 0:
            log("info", f"resuming {run_dir} after epoch {state['epoch']} of {epochs_total}")

    for epoch in range(state["epoch"], epochs_total):
        lr = lr_at(epoch, recipe["lr"], recipe["schedule"], recipe["gammas"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        epoch_number = epoch + 1
        sampler.set_epoch(epoch)
        order = list(iter(sampler))
        generator = torch.Generator().manual_seed(recipe["seed"] * 100003 + epoch * 1009 + rank)
        sums = torch.zeros(4, dtype=torch.float64)  # loss·n, top-1 hits, top-5 hits, n (global)
        step = state["step"]
        epoch_start = time.time()
        net.train()
        for b in range(steps_per_epoch):
            x, y = train_split.batch(order[b * local_batch:(b + 1) * local_batch], True, generator)
            output = net(x)
            loss, top1, top5 = loss_and_hits(output, y, classes, probabilities)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            # One small all-reduce per step: this batch's sums over the ranks, and whether to stop.
            packed = torch.tensor([loss.item() * y.shape[0], top1.item(), top5.item(), y.shape[0], 1.0 if stop.requested else 0.0], dtype=torch.float64)
            if distributed:
                dist.all_reduce(packed)
            sums += packed[:4]
            if packed[4] > 0:
                return finish("cancelled", f"Cancelled during epoch {epoch_number}; {checkpoint_note(state['epoch'], paths['last'], run_dir)}.")
            batch_loss = packed[0].item() / max(1.0, packed[3].item())
            if not math.isfinite(batch_loss):
                kept = (f"The last good checkpoint (epoch {state['epoch']}) stays in {paths['last']}." if state["epoch"] > 0
                        else "No epoch had completed, so there is no checkpoint.")
                return finish("failed", f"Training loss became {batch_loss} at epoch {epoch_number}, batch {b + 1} (step {step}); the run stopped. "
                              f"Try a lower learning rate (train.lr is {recipe['lr']}), check the input normalization (data.normalize) and the labels, or use a smaller thresholdFactor. {kept}")
            if writer and ((b + 1) % log_every == 0 or b + 1 == steps_per_epoch):
                seen = sums[3].item()
                record = {"kind": "batch", "epoch": epoch_number, "step": step, "progress": (b + 1) / steps_per_epoch, "lr": lr,
                          "loss": sums[0].item() / seen, "top1": sums[1].item() / seen, "top5": sums[2].item() / seen,
                          "imgPerSec": seen / max(1e-9, time.time() - epoch_start), "time": elapsed()}
                append_json_line(paths["metrics"], record)
                emit("metrics", {"record": record})
        train_seconds = time.time() - epoch_start
        val = evaluate(model, test_split, max(global_batch, 256), classes, probabilities, rank, world, distributed)
        seen = max(1.0, sums[3].item())
        epoch_record = {"kind": "epoch", "epoch": epoch_number, "step": step, "lr": lr, "loss": sums[0].item() / seen,
                        "top1": sums[1].item() / seen, "top5": sums[2].item() / seen, "valLoss": val["loss"], "valTop1": val["top1"],
                        "valTop5": val["top5"], "imgPerSec": sums[3].item() / max(1e-9, train_seconds), "time": elapsed()}
        state = {"epoch": epoch_number, "step": step, "rng": {"seed": recipe["seed"], "nextEpoch": epoch_number},
                 "epochs": state["epochs"] + [epoch_record], "elapsedSeconds": state["elapsedSeconds"]}
        if writer:
            append_json_line(paths["metrics"], epoch_record)
            emit("metrics", {"record": epoch_record})
            stats = layer_stats(model)
            layers_record = {"epoch": epoch_number, "layers": stats, "summary": model_summary(model, stats)}
            append_json_line(paths["layers"], layers_record)
            emit("layers", {"record": layers_record})
            hist = {"epoch": epoch_number, "histograms": weight_histograms(model, HISTOGRAM_BINS)}
            write_json_atomic(os.path.join(paths["histograms"], f"epoch-{epoch_number:03d}.json"), hist)
            emit("histograms", {"record": hist})
            saved = {"format": "ternary-studio-torch-checkpoint/1", "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "state": {**state, "elapsedSeconds": elapsed()}}
            replace_dir_atomic(paths["last"], lambda tmp: torch.save(saved, os.path.join(tmp, "checkpoint.pt")))
            if best_of(state["epochs"])["epoch"] == epoch_number:
                replace_dir_atomic(paths["best"], lambda tmp: shutil.copy(os.path.join(paths["last"], "checkpoint.pt"), os.path.join(tmp, "checkpoint.pt")))
            write_json_atomic(paths["summary"], summary_of("running"))
        if distributed:
            dist.barrier()  # no rank runs ahead of the checkpoint it would resume from

    if writer:
        replace_dir_atomic(paths["model"], lambda tmp: export_tfjs_weights(model, model_json, tmp, {"runId": job["runId"], "experiment": experiment["name"], "epochs": state["epoch"], **engine_info}))
    return finish("completed")


@torch.no_grad()
def evaluate(model, split, batch_size, classes, probabilities, rank, world, distributed):
    """Loss and top-1/top-5 on the whole split; each rank takes every world-th example, sums are all-reduced (exact)."""
    if distributed:
        # BatchNorm's moving statistics are updated on every rank by its own batches (DDP copies
        # rank 0's in before each forward): evaluate every shard with rank 0's, the exported ones.
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)
    model.eval()
    indices = list(range(rank, len(split), world))
    sums = torch.zeros(4, dtype=torch.float64)
    for b in range(0, len(indices), batch_size):
        x, y = split.batch(indices[b:b + batch_size], False, None)
        output = model(x)
        loss, top1, top5 = loss_and_hits(output, y, classes, probabilities)
        sums += torch.tensor([loss.item() * y.shape[0], top1.item(), top5.item(), y.shape[0]], dtype=torch.float64)
    if distributed:
        dist.all_reduce(sums)
    model.train()
    n = sums[3].item()
    if n == 0:
        return {"loss": float("nan"), "top1": 0, "top5": 0}
    return {"loss": sums[0].item() / n, "top1": sums[1].item() / n, "top5": sums[2].item() / n}
