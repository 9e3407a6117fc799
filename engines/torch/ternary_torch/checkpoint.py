"""The torch engine's checkpoint: `checkpoint.pt` in the slots of server/runs/checkpointSlots.ts
(last, previous), written like server/train/checkpointStore.ts writes the tfjs engine's: into a
temporary folder, flushed, then last → previous and the new one → last, so no crash loses the
last committed epoch. The run lifecycle (TypeScript) copies the best one and reads none of it."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from .files import fill_temp_dir, fsync_path

FORMAT = "ternary-studio-torch-checkpoint/1"
FILE = "checkpoint.pt"
# Newest role first; `last.old` is what older versions left after a crash.
RESUME_SLOTS = ("last", "previous", "last.old")


@dataclass
class TrainState:
    """Where training stands after `epoch` completed epochs."""

    epoch: int = 0
    step: int = 0
    elapsed_seconds: float = 0.0
    epochs: list[dict[str, Any]] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "step": self.step, "elapsedSeconds": self.elapsed_seconds, "epochs": self.epochs}


def save_checkpoint(checkpoints_dir: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState) -> None:
    """Saves checkpoints/last durably, keeping the one it replaces as checkpoints/previous."""
    os.makedirs(checkpoints_dir, exist_ok=True)
    payload = {"format": FORMAT, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state.wire()}
    last = os.path.join(checkpoints_dir, "last")
    previous = os.path.join(checkpoints_dir, "previous")
    tmp = fill_temp_dir(last, lambda d: torch.save(payload, os.path.join(d, FILE)))
    if os.path.exists(os.path.join(last, FILE)):
        shutil.rmtree(previous, ignore_errors=True)
        os.rename(last, previous)
    else:
        shutil.rmtree(last, ignore_errors=True)
    os.rename(tmp, last)
    fsync_path(checkpoints_dir)
    shutil.rmtree(os.path.join(checkpoints_dir, "last.old"), ignore_errors=True)


@dataclass
class Loaded:
    state: TrainState
    model: dict[str, Any]
    optimizer: dict[str, Any]
    slot: str


def load_newest(checkpoints_dir: str) -> Optional[Loaded]:
    """The checkpoint of the most epochs among the slots that load; None when none does."""
    best: Optional[Loaded] = None
    for slot in RESUME_SLOTS:
        path = os.path.join(checkpoints_dir, slot, FILE)
        if not os.path.exists(path):
            continue
        try:
            raw = torch.load(path, map_location="cpu")
        except Exception:  # noqa: BLE001 - a torn or damaged file: the next slot may hold an intact one
            continue
        s = raw["state"]
        state = TrainState(epoch=s["epoch"], step=s["step"], elapsed_seconds=s["elapsedSeconds"], epochs=list(s["epochs"]))
        if best is None or state.epoch > best.state.epoch:
            best = Loaded(state=state, model=raw["model"], optimizer=raw["optimizer"], slot=slot)
    return best
