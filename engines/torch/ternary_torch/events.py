"""Rank 0's side of the engine protocol (shared/engineProtocol.ts, the one definition): the
messages as dataclasses, written one per line on stdout after PREFIX, and the `recorded` replies
the TypeScript lifecycle writes on stdin once an epoch's records are on disk.

When the TypeScript side is gone (stdout closed, stdin at its end) there is nobody to record the
run: the process ends at once instead of training on unrecorded."""
from __future__ import annotations

import json
import math
import os
import queue
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Literal, Optional, TextIO, Union

PROTOCOL_VERSION = 3
PREFIX = "@tern "
# Exit status when the TypeScript side went away (its pipes closed).
EXIT_PEER_GONE = 3

Record = dict[str, Any]
Level = Literal["info", "warn", "error"]


@dataclass(frozen=True)
class ResumePoint:
    epoch: int
    step: int
    elapsed_seconds: float
    epochs: list[Record]

    def wire(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "step": self.step, "elapsedSeconds": self.elapsed_seconds, "epochs": self.epochs}


@dataclass(frozen=True)
class Started:
    steps_per_epoch: int
    restart: int
    resumed: Optional[ResumePoint]

    def wire(self) -> dict[str, Any]:
        return {"stepsPerEpoch": self.steps_per_epoch, "restart": self.restart, "resumed": self.resumed.wire() if self.resumed else None}


@dataclass(frozen=True)
class Batch:
    record: Record

    def wire(self) -> dict[str, Any]:
        return {"record": self.record}


@dataclass(frozen=True)
class Epoch:
    metrics: Record
    layers: Record
    histograms: Record

    def wire(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "layers": self.layers, "histograms": self.histograms}


@dataclass(frozen=True)
class Checkpoint:
    epoch: int

    def wire(self) -> dict[str, Any]:
        return {"epoch": self.epoch}


@dataclass(frozen=True)
class Log:
    level: Level
    message: str

    def wire(self) -> dict[str, Any]:
        return {"level": self.level, "message": self.message}


@dataclass(frozen=True)
class Completed:
    def wire(self) -> dict[str, Any]:
        return {"status": "completed"}


@dataclass(frozen=True)
class Cancelled:
    epoch: int

    def wire(self) -> dict[str, Any]:
        return {"status": "cancelled", "epoch": self.epoch}


@dataclass(frozen=True)
class NonFinite:
    epoch: int
    batch: int
    step: int
    loss: float

    def wire(self) -> dict[str, Any]:
        shown = "NaN" if math.isnan(self.loss) else ("Infinity" if self.loss > 0 else "-Infinity")
        return {"status": "nonFinite", "epoch": self.epoch, "batch": self.batch, "step": self.step, "loss": shown}


End = Union[Completed, Cancelled, NonFinite]


@dataclass(frozen=True)
class Ended:
    end: End

    def wire(self) -> dict[str, Any]:
        return {"end": self.end.wire()}


@dataclass(frozen=True)
class Fatal:
    rank: int
    message: str

    def wire(self) -> dict[str, Any]:
        return {"rank": self.rank, "message": self.message}


Message = Union[Started, Batch, Epoch, Checkpoint, Log, Ended, Fatal]

TYPE_NAMES: dict[type, str] = {
    Started: "started",
    Batch: "batch",
    Epoch: "epoch",
    Checkpoint: "checkpoint",
    Log: "log",
    Ended: "ended",
    Fatal: "fatal",
}


def encode(message: Message) -> str:
    """The protocol line of a message (JSON without NaN: a non-finite number is a bug to report, not to send)."""
    body = {"v": PROTOCOL_VERSION, "type": TYPE_NAMES[type(message)], **message.wire()}
    return PREFIX + json.dumps(body, allow_nan=False) + "\n"


def leave(code: int) -> None:
    """Exits without running destructors: with PyTorch 1.13, tearing down a DDP reducer's gloo
    process group at interpreter exit can deadlock on the GIL (a worker thread frees a tensor
    while the main thread joins it). Every file is written and flushed by then."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def emit(message: Message, out: TextIO = sys.stdout) -> None:
    try:
        out.write(encode(message))
        out.flush()
    except BrokenPipeError:
        leave(EXIT_PEER_GONE)


def private_stdin() -> TextIO:
    """A file object of its own on a duplicate of stdin's descriptor, for the reply thread. A thread
    blocked reading `sys.stdin` holds the lock of its buffer; a `DataLoader` worker forked meanwhile
    closes `sys.stdin` first thing (multiprocessing's child bootstrap) and would wait for that lock
    for ever. Nothing else touches this one, so forked workers start whatever the thread is doing."""
    return os.fdopen(os.dup(sys.stdin.fileno()), "r", encoding="utf8")


class Replies:
    """The `recorded` replies on stdin, read by a background thread (rank 0 only)."""

    def __init__(self, source: Optional[TextIO] = None, on_end: Callable[[], None] = lambda: leave(EXIT_PEER_GONE)) -> None:
        self._lines: "queue.Queue[str]" = queue.Queue()
        self._source = source if source is not None else private_stdin()
        self._on_end = on_end
        threading.Thread(target=self._read, name="tern-replies", daemon=True).start()

    def _read(self) -> None:
        for line in self._source:
            self._lines.put(line)
        # stdin's end: the lifecycle that records this run is gone (killed); stop training now.
        self._on_end()

    def wait_recorded(self, epoch: int, restart: int) -> None:
        """Blocks until the lifecycle says the records of `epoch` are on disk; leaves if it is gone.
        Replies meant for a worker group before a restart (another `restart`) are skipped."""
        while True:
            line = self._lines.get()
            reply = json.loads(line)
            if reply.get("v") != PROTOCOL_VERSION or reply.get("type") != "recorded":
                raise ValueError(f"unexpected reply from the studio on stdin: {line.strip()[:120]}")
            if reply["epoch"] == epoch and reply["restart"] == restart:
                return
