"""Unit tests of the torch engine's own run logic (unittest; run by
test/unit/engines-torch-package.test.ts): the checkpoint
rotation and the choice of the newest intact one, the wait for the lifecycle's replies, and the
job file's checks."""
from __future__ import annotations

import io
import json
import os
import tempfile
import threading
import unittest

import torch

from ternary_torch.checkpoint import Slots, TrainState, load_newest, save_checkpoint
from ternary_torch.events import PROTOCOL_VERSION, Replies
from ternary_torch.job import JobError, parse_job


def model_and_optimizer() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    model = torch.nn.Linear(3, 2)
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def slots(run: str) -> Slots:
    """The slots the job names (server/runs/checkpointSlots.ts), under an arbitrary folder and file name."""
    return Slots(dir=os.path.join(run, "ckpt"), file="state.pt", slots=("last", "previous", "last.old"), temp_marker=".tmp-")


class CheckpointTest(unittest.TestCase):
    def test_rotation_keeps_the_previous_one_and_loads_the_newest(self) -> None:
        with tempfile.TemporaryDirectory() as run:
            checkpoints = slots(run)
            model, optimizer = model_and_optimizer()
            for epoch in (1, 2):
                save_checkpoint(checkpoints, model, optimizer, TrainState(epoch=epoch, step=epoch * 4, elapsed_seconds=1.5 * epoch))
            os.makedirs(os.path.join(checkpoints.dir, "last.old"))
            save_checkpoint(checkpoints, model, optimizer, TrainState(epoch=3, step=12, elapsed_seconds=4.5))
            self.assertEqual(sorted(os.listdir(checkpoints.dir)), ["last", "previous"], "the leftover slot is gone")
            loaded = load_newest(checkpoints)
            assert loaded is not None
            self.assertEqual((loaded.slot, loaded.state.epoch, loaded.state.step), ("last", 3, 12))

    def test_a_damaged_last_falls_back_to_previous(self) -> None:
        with tempfile.TemporaryDirectory() as run:
            checkpoints = slots(run)
            model, optimizer = model_and_optimizer()
            for epoch in (1, 2):
                save_checkpoint(checkpoints, model, optimizer, TrainState(epoch=epoch))
            with open(os.path.join(checkpoints.dir, "last", checkpoints.file), "wb") as f:
                f.write(b"torn")
            loaded = load_newest(checkpoints)
            assert loaded is not None
            self.assertEqual((loaded.slot, loaded.state.epoch), ("previous", 1))

    def test_no_checkpoint(self) -> None:
        with tempfile.TemporaryDirectory() as run:
            self.assertIsNone(load_newest(slots(run)))


class RepliesTest(unittest.TestCase):
    def test_replies_of_an_earlier_worker_group_are_skipped(self) -> None:
        lines = [{"v": PROTOCOL_VERSION, "type": "recorded", "epoch": 2, "restart": 0},
                 {"v": PROTOCOL_VERSION, "type": "recorded", "epoch": 2, "restart": 1}]
        ended = threading.Event()
        replies = Replies(io.StringIO("".join(json.dumps(r) + "\n" for r in lines)), on_end=ended.set)
        replies.wait_recorded(2, 1)
        self.assertTrue(replies._lines.empty(), "both replies were read: the one of restart 0 skipped")
        self.assertTrue(ended.wait(5))


class JobTest(unittest.TestCase):
    def test_another_protocol_version_is_refused_with_advice(self) -> None:
        with self.assertRaisesRegex(JobError, f"protocol version {PROTOCOL_VERSION + 1}, this engine speaks {PROTOCOL_VERSION}"):
            parse_job({"v": PROTOCOL_VERSION + 1})

    def test_a_missing_field_is_named(self) -> None:
        with self.assertRaisesRegex(JobError, "lacks 'experiment'"):
            parse_job({"v": PROTOCOL_VERSION})


if __name__ == "__main__":
    unittest.main()
