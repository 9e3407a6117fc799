"""The data of a run as the training loop takes it: `open_data` gives this rank's batches of an
epoch (depending only on (seed, epoch, rank), so a resumed run sees what an uninterrupted one
would) and of the test split (fixed order), over the in-memory splits of data.py."""
from __future__ import annotations

import math
from typing import Any, Iterator

import torch
from torch.utils.data.distributed import DistributedSampler

from .data import Split, load_split, parse_augment

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


class EngineData:
    def __init__(self, data: dict[str, Any], rank: int, world: int, local_batch: int, eval_batch: int, seed: int, device: torch.device) -> None:
        augment = parse_augment(data["augment"])
        mean, std = data["mean"], data["std"]
        self._train = Split(*load_split(data, "train"), augment, mean, std, device)
        self._test = Split(*load_split(data, "test"), augment, mean, std, device)
        self._rank, self._world, self._seed = rank, world, seed
        self._local_batch, self._eval_batch = local_batch, eval_batch
        # DistributedSampler shards each epoch's seeded permutation over the ranks.
        self._sampler = DistributedSampler(range(len(self._train)), num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)  # pyright: ignore[reportArgumentType] (any sized sequence works)
        self.steps_per_epoch = math.ceil(len(self._sampler) / local_batch)

    def train_batches(self, epoch: int) -> Batches:
        self._sampler.set_epoch(epoch)
        order = list(iter(self._sampler))
        generator = torch.Generator().manual_seed(self._seed * 100003 + epoch * 1009 + self._rank)
        for b in range(self.steps_per_epoch):
            yield self._train.batch(order[b * self._local_batch:(b + 1) * self._local_batch], True, generator)

    def test_batches(self) -> Batches:
        indices = list(range(self._rank, len(self._test), self._world))
        for b in range(0, len(indices), self._eval_batch):
            yield self._test.batch(indices[b:b + self._eval_batch], False, None)


def open_data(data: dict[str, Any], *, rank: int, world: int, local_batch: int, eval_batch: int, seed: int, device: torch.device, workers: int) -> EngineData:
    """This rank's view of the run's data (`workers`: loader processes; the in-memory splits need none)."""
    del workers
    return EngineData(data, rank, world, local_batch, eval_batch, seed, device)
