"""The data of an experiment for the torch engine, on torchvision's pipeline.

`open_data(job_data, …)` gives the batches one rank trains and evaluates on. `job_data` is the
experiment's data section as server/engines/torch/dataJob.ts resolves it: the TypeScript side has
already opened the data with its own readers (a missing or malformed file is reported there, with
its message), listed image folders (classes, labels and file order are its listing, written to the
job folder), expanded `data.augment` into the training and evaluation transform lists and the
normalization preset into mean/std. This module only reads pixels and applies the transforms:

- IDX (MNIST / Fashion-MNIST, raw or .gz) and CIFAR binary batches are read into memory as uint8
  NHWC, as server/data/idx.ts and cifar.ts read them (same files, same limits in file order);
- image folders are decoded by PIL, file by file, in `DataLoader` worker processes.

Transforms are torchvision's PIL ops (torchvision.transforms.functional_pil, what its functional
API runs for PIL images), with the definitions of docs/data.md
(the draws are ours, from a generator per sample, so the same seed gives the same images whatever
the number of workers; the pixels are PIL's, so they equal the tfjs engine's statistically, not bit
for bit). Batches leave the workers as uint8 NCHW (pinned on CUDA) and are scaled and normalized on
the device: (pixel / 255 − mean) / std per channel.

Sharding: `DistributedSampler` draws each epoch's permutation from (seed, epoch) and gives every
rank its slice; the test split is read in file order, rank r taking every world-th example.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence, Union, cast

import numpy as np
import numpy.typing as npt
import torch
import torchvision.transforms.functional_pil as F_pil
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.data.distributed import DistributedSampler

Batch = tuple[torch.Tensor, torch.Tensor]
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


class DataFormatError(Exception):
    pass


# ---- IDX and CIFAR binary, in memory

def _read_maybe_gzip(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _find_idx(root: str, prefix: str, kind: str) -> str:
    suffix = "idx3-ubyte" if kind == "images" else "idx1-ubyte"
    names = [f"{prefix}-{kind}-{suffix}", f"{prefix}-{kind}.{suffix}"]
    place: Callable[[str], str] = (lambda n: os.path.join(root, n)) if os.path.isdir(root) else (lambda n: root + n)
    for n in names:
        for candidate in (place(n), place(n) + ".gz"):
            if os.path.exists(candidate):
                return candidate
    raise DataFormatError(f"{root}: no {prefix} {kind} file ({names[0]} or {names[0]}.gz).")


def _parse_idx(buf: bytes, limit: int | None) -> U8:
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    header = 4 + 4 * ndim
    count = dims[0] if limit is None else min(limit, dims[0])
    item = int(np.prod(dims[1:])) if len(dims) > 1 else 1
    arr = np.frombuffer(buf, dtype=np.uint8, count=count * item, offset=header)
    return arr.reshape([count] + dims[1:])


def load_idx(root: str, split: str, limit: int | None) -> tuple[U8, I64]:
    prefix = "train" if split == "train" else "t10k"
    images = _parse_idx(_read_maybe_gzip(_find_idx(root, prefix, "images")), limit)
    labels = _parse_idx(_read_maybe_gzip(_find_idx(root, prefix, "labels")), limit)
    return images.reshape(images.shape[0], images.shape[1], images.shape[2], 1), labels.astype(np.int64)


CIFAR: dict[str, tuple[int, list[str], list[str], str]] = {
    "cifar10-bin": (1, [f"data_batch_{i}.bin" for i in range(1, 6)], ["test_batch.bin"], "cifar-10-batches-bin"),
    "cifar100-bin": (2, ["train.bin"], ["test.bin"], "cifar-100-binary"),
}


def load_cifar(root: str, split: str, fmt: str, limit: int | None) -> tuple[U8, I64]:
    label_bytes, train_files, test_files, archive = CIFAR[fmt]
    files = train_files if split == "train" else test_files
    if not os.path.exists(os.path.join(root, files[0])) and os.path.isdir(os.path.join(root, archive)):
        root = os.path.join(root, archive)
    record = label_bytes + 3072
    images: list[U8] = []
    labels: list[I64] = []
    total = 0
    for name in files:
        raw = np.frombuffer(_read_maybe_gzip(os.path.join(root, name)), dtype=np.uint8).reshape(-1, record)
        if limit is not None:
            raw = raw[: max(0, limit - total)]
        total += raw.shape[0]
        labels.append(raw[:, label_bytes - 1].astype(np.int64))
        # 1024 red, 1024 green, 1024 blue, rows of 32 → HWC
        images.append(raw[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        if limit is not None and total >= limit:
            break
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


# ---- the transforms of docs/data.md on PIL images

Transform = Callable[[Image.Image, random.Random], Image.Image]

CROP = re.compile(r"^crop(\d+)pad(\d+)$")
RRC = re.compile(r"^rrc(\d+)$")
RESIZE_CENTER = re.compile(r"^resize(\d+)center(\d+)$")


def _round_half_up(x: float) -> int:
    """JavaScript's Math.round, which server/data/augment.ts uses for the evaluation crop's corner."""
    return math.floor(x + 0.5)


def random_resized_crop_box(height: int, width: int, rng: random.Random) -> tuple[int, int, int, int]:
    """torchvision RandomResizedCrop.get_params, scale (0.08, 1), ratio (3/4, 4/3), drawn from `rng`:
    (top, left, height, width), as randomResizedCropBox in server/data/augment.ts."""
    area = height * width
    log_lo, log_hi = math.log(3 / 4), math.log(4 / 3)
    for _ in range(10):
        target_area = area * rng.uniform(0.08, 1.0)
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randrange(height - h + 1), rng.randrange(width - w + 1), h, w
    ratio = width / height
    w, h = width, height
    if ratio < 3 / 4:
        h = round(w / (3 / 4))
    elif ratio > 4 / 3:
        w = round(h * (4 / 3))
    return (height - h) // 2, (width - w) // 2, h, w


def _crop(size: int, pad: int, train: bool) -> Transform:
    def apply(img: Image.Image, rng: random.Random) -> Image.Image:
        w, h = img.size
        if not train and size == h and size == w:
            return img
        padded = F_pil.pad(img, pad, fill=0) if pad else img
        pw, ph = padded.size
        if train:
            top, left = rng.randrange(ph - size + 1), rng.randrange(pw - size + 1)
        else:
            top, left = _round_half_up((ph - size) / 2), _round_half_up((pw - size) / 2)
        return F_pil.crop(padded, top, left, size, size)
    return apply


def _hflip(img: Image.Image, rng: random.Random) -> Image.Image:
    return F_pil.hflip(img) if rng.random() < 0.5 else img


def _rrc(size: int) -> Transform:
    def apply(img: Image.Image, rng: random.Random) -> Image.Image:
        w, h = img.size
        top, left, ch, cw = random_resized_crop_box(h, w, rng)
        return F_pil.resize(F_pil.crop(img, top, left, ch, cw), [size, size], Image.BILINEAR)
    return apply


def _resize_center(resize: int, crop: int) -> Transform:
    def apply(img: Image.Image, rng: random.Random) -> Image.Image:
        # Resize(r): the shorter side to r, the longer int(r · long / short); CenterCrop(c) at
        # round((size − c) / 2), Python's round (half to even), as torchvision computes them.
        w, h = img.size
        size = [resize, int(resize * w / h)] if h <= w else [int(resize * h / w), resize]
        resized = F_pil.resize(img, size, Image.BILINEAR)
        h, w = size
        return F_pil.crop(resized, round((h - crop) / 2), round((w - crop) / 2), crop, crop)
    return apply


def _resize_to(height: int, width: int) -> Transform:
    def apply(img: Image.Image, rng: random.Random) -> Image.Image:
        if img.size == (width, height):
            return img
        return F_pil.resize(img, [height, width], Image.BILINEAR)
    return apply


def transform_of(name: str, train: bool) -> Transform | None:
    """The op named in a resolved transform list (dataJob.ts); None for hflip when evaluating."""
    m = CROP.match(name)
    if m:
        return _crop(int(m.group(1)), int(m.group(2)), train)
    if name == "hflip":
        return _hflip if train else None
    m = RRC.match(name)
    if m and train:
        return _rrc(int(m.group(1)))
    m = RESIZE_CENTER.match(name)
    if m:
        return _resize_center(int(m.group(1)), int(m.group(2)))
    raise DataFormatError(f"the torch engine has no {'training' if train else 'evaluation'} transform \"{name}\" (from data.augment).")


def sample_rng(seed: int, epoch: int, index: int) -> random.Random:
    """The generator of one sample's augmentation draws: a function of (seed, epoch, sample index)
    only, so neither the number of workers nor the batch a sample falls in changes its image."""
    return random.Random((seed & 0xFFFFFFFF) << 64 | (epoch & 0xFFFFFFFF) << 32 | (index & 0xFFFFFFFF))


# ---- sources of PIL images

class ImageFolderFiles:
    """A split of an image folder as dataJob.ts listed it: files relative to `dir`, their labels."""

    def __init__(self, listing_path: str) -> None:
        with open(listing_path, "r", encoding="utf8") as f:
            listing = json.load(f)
        self.dir: str = listing["dir"]
        self.files: list[str] = listing["files"]
        self.labels = torch.tensor(listing["labels"], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> Image.Image:
        path = os.path.join(self.dir, self.files[index])
        try:
            with Image.open(path) as img:
                if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                    # 16-bit grayscale: scaled to 8 bits (PIL's convert would clip), as server/data/decode.ts does.
                    img = Image.fromarray((np.asarray(img, dtype=np.uint32) >> 8).astype(np.uint8), "L")
                return img.convert("RGB")
        except (OSError, ValueError) as err:
            raise DataFormatError(f"{path}: unreadable image: {err}. The file is corrupt or truncated; replace or remove it.") from err


class MemoryImages:
    """IDX or CIFAR pixels in memory (uint8 NHWC) with their labels."""

    def __init__(self, images: U8, labels: I64) -> None:
        self.pixels = torch.from_numpy(np.array(images, copy=True))
        self.labels = torch.from_numpy(labels)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def image(self, index: int) -> Image.Image:
        px = self.pixels[index].numpy()
        return Image.fromarray(px[:, :, 0], "L") if px.shape[2] == 1 else Image.fromarray(px, "RGB")


Source = Union[ImageFolderFiles, MemoryImages]


def _to_chw(img: Image.Image) -> torch.Tensor:
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


class Batches(Dataset[Batch]):
    """Item (epoch, indices) → one batch as uint8 NCHW and int64 labels, built in a worker."""

    def __init__(self, source: Source, transforms: Sequence[Transform], seed: int) -> None:
        self.source = source
        self.transforms = list(transforms)
        self.seed = seed

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, item: tuple[int, list[int]]) -> Batch:  # type: ignore[override]
        epoch, indices = item
        idx = torch.tensor(indices, dtype=torch.int64)
        if isinstance(self.source, MemoryImages) and not self.transforms:
            return self.source.pixels[idx].permute(0, 3, 1, 2).contiguous(), self.source.labels[idx]
        images: list[torch.Tensor] = []
        for i in indices:
            img = self.source.image(i)
            rng = sample_rng(self.seed, epoch, i)
            for t in self.transforms:
                img = t(img, rng)
            images.append(_to_chw(img))
        return torch.stack(images), self.source.labels[idx]


class EpochBatches(Sampler[tuple[int, list[int]]]):
    """The batches of the epoch last set, as (epoch, indices) items."""

    def __init__(self, make: Callable[[int], list[list[int]]]) -> None:
        self.make = make
        self.epoch = 0

    def __iter__(self) -> Iterator[tuple[int, list[int]]]:
        return ((self.epoch, b) for b in self.make(self.epoch))

    def __len__(self) -> int:
        return len(self.make(self.epoch))


# ---- the engine's view

def automatic_workers(image_folder: bool) -> int:
    """`train.workers` left out: image folders get one worker per spare core of this process's share
    of the machine (at least 1, at most 8); data in memory is batched in the training process. (The
    workers are forked; events.py's reply thread reads a private copy of stdin so that they can be.)"""
    if not image_folder:
        return 0
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(8, cores // local - 1))


@dataclass
class EngineData:
    steps_per_epoch: int
    train_size: int
    test_size: int
    _train: DataLoader[Batch]
    _train_batches: EpochBatches
    _test: DataLoader[Batch]
    _device: torch.device
    _scale: torch.Tensor
    _bias: torch.Tensor

    def _normalized(self, loader: Iterable[Batch]) -> Iterator[Batch]:
        for x, y in loader:
            x = x.to(self._device, non_blocking=True).float()
            yield x * self._scale + self._bias, y.to(self._device, non_blocking=True)

    def train_batches(self, epoch: int) -> Iterator[Batch]:
        """This rank's shard of epoch `epoch`'s batches (0-based), augmented and normalized."""
        self._train_batches.epoch = epoch
        return self._normalized(self._train)

    def test_batches(self) -> Iterator[Batch]:
        """This rank's shard of the test split in file order, with the evaluation transforms."""
        return self._normalized(self._test)


def _source(data: dict[str, object], split: str) -> Source:
    fmt = str(data["format"])
    limit = data.get("limitTrain" if split == "train" else "limitTest")
    lim = int(limit) if isinstance(limit, (int, float)) else None
    if fmt == "image-folder":
        listings = data["listings"]
        assert isinstance(listings, dict)
        return ImageFolderFiles(str(listings[split]))
    if fmt == "idx":
        return MemoryImages(*load_idx(str(data["path"]), split, lim))
    if fmt in CIFAR:
        return MemoryImages(*load_cifar(str(data["path"]), split, fmt, lim))
    raise DataFormatError(f"data.format \"{fmt}\" is not one the torch engine reads (idx, cifar10-bin, cifar100-bin, image-folder).")


def _transforms(data: dict[str, object], train: bool) -> list[Transform]:
    lists = data["transforms"]
    assert isinstance(lists, dict)
    out: list[Transform] = []
    resize_to = data.get("resizeTo")
    if isinstance(resize_to, list):
        out.append(_resize_to(int(resize_to[0]), int(resize_to[1])))
    for name in lists["train" if train else "eval"]:
        t = transform_of(str(name), train)
        if t is not None:
            out.append(t)
    return out


def open_data(data: dict[str, object], *, rank: int, world: int, local_batch: int, eval_batch: int, seed: int,
              device: torch.device, workers: int | None) -> EngineData:
    """The batches of rank `rank` of `world`: `local_batch` examples per training step, `eval_batch`
    per evaluation batch. `workers` is `train.workers` (None: automatic_workers)."""
    train_source = _source(data, "train")
    test_source = _source(data, "test")
    channels = int(train_source.pixels.shape[3]) if isinstance(train_source, MemoryImages) else 3
    mean = [float(v) for v in data["mean"]]  # type: ignore[attr-defined]
    std = [float(v) for v in data["std"]]  # type: ignore[attr-defined]
    if len(mean) != channels:
        mean = mean * channels
    if len(std) != channels:
        std = std * channels
    scale = torch.tensor([1.0 / (255.0 * s) for s in std], dtype=torch.float32).view(1, channels, 1, 1).to(device)
    bias = torch.tensor([-m / s for m, s in zip(mean, std)], dtype=torch.float32).view(1, channels, 1, 1).to(device)

    sampler = DistributedSampler(cast(Dataset[int], range(len(train_source))), num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
    steps = math.ceil(len(sampler) / local_batch)

    def train_order(epoch: int) -> list[list[int]]:
        sampler.set_epoch(epoch)
        order = list(iter(sampler))
        return [order[b * local_batch:(b + 1) * local_batch] for b in range(steps)]

    test_indices = list(range(rank, len(test_source), world))
    test_order = [test_indices[b:b + eval_batch] for b in range(0, len(test_indices), eval_batch)]
    n_workers = automatic_workers(isinstance(train_source, ImageFolderFiles)) if workers is None else workers
    pin = device.type == "cuda"
    epoch_batches = EpochBatches(train_order)

    def loader(batches: Batches, order: Sampler[tuple[int, list[int]]] | list[tuple[int, list[int]]]) -> DataLoader[Batch]:
        return DataLoader(batches, batch_size=None, sampler=order, num_workers=n_workers, pin_memory=pin,
                          persistent_workers=n_workers > 0)

    train_loader = loader(Batches(train_source, _transforms(data, True), seed), epoch_batches)
    test_loader = loader(Batches(test_source, _transforms(data, False), seed), [(0, b) for b in test_order])
    return EngineData(steps_per_epoch=steps, train_size=len(train_source), test_size=len(test_source),
                      _train=train_loader, _train_batches=epoch_batches, _test=test_loader,
                      _device=device, _scale=scale, _bias=bias)
