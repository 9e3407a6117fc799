"""The torch engine's checkpoint, in the folder, file and slots of server/runs/checkpointSlots.ts
that the job names (`Slots`), written like server/train/checkpointStore.ts writes the tfjs
engine's: into a temporary folder, flushed, then the newest slot's → the one before and the new
one → the newest, so no crash loses the last committed epoch. The run lifecycle (TypeScript)
copies the best one and reads none of it."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from .files import fill_temp_dir, fsync_path

FORMAT = "ternary-studio-torch-checkpoint/1"


@dataclass(frozen=True)
class Slots:
    """The job's `checkpoints` (shared/engineProtocol.ts): folder, file name, slots newest role
    first — written into slots[0], the one it replaces kept as slots[1], a leftover slots[2] removed."""

    dir: str
    file: str
    slots: tuple[str, ...]
    # The job's tempMarker: the slot is written under a temporary name holding it.
    temp_marker: str


@dataclass
class TrainState:
    """Where training stands after `epoch` completed epochs."""

    epoch: int = 0
    step: int = 0
    elapsed_seconds: float = 0.0
    epochs: list[dict[str, Any]] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "step": self.step, "elapsedSeconds": self.elapsed_seconds, "epochs": self.epochs}


def save_checkpoint(where: Slots, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState) -> None:
    """Saves the newest slot durably, keeping the one it replaces in the slot before."""
    os.makedirs(where.dir, exist_ok=True)
    payload = {"format": FORMAT, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state.wire()}
    last, previous, *leftovers = (os.path.join(where.dir, slot) for slot in where.slots)
    tmp = fill_temp_dir(last, lambda d: torch.save(payload, os.path.join(d, where.file)), where.temp_marker)
    if os.path.exists(os.path.join(last, where.file)):
        shutil.rmtree(previous, ignore_errors=True)
        os.rename(last, previous)
    else:
        shutil.rmtree(last, ignore_errors=True)
    os.rename(tmp, last)
    fsync_path(where.dir)
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)


@dataclass
class Loaded:
    state: TrainState
    model: dict[str, Any]
    optimizer: dict[str, Any]
    slot: str


def load_newest(where: Slots) -> Optional[Loaded]:
    """The checkpoint of the most epochs among the slots that load; None when none does."""
    best: Optional[Loaded] = None
    for slot in where.slots:
        path = os.path.join(where.dir, slot, where.file)
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
