"""The data of an experiment for the torch engine: IDX (MNIST / Fashion-MNIST, raw or .gz) and
CIFAR binary batches read into memory as uint8 NHWC, as server/data/idx.ts and cifar.ts read them
(same files, same `limitTrain` / `limitTest` in file order). The TypeScript side has already opened
the data with its own readers, so a missing or malformed file is reported there, with its message.

Augmentation and normalization follow server/data/augment.ts and normalize.ts: crop<s>pad<p>
(zero padding of the raw pixels, then a random s×s window; the evaluation twin takes the centre),
hflip (probability 0.5), then (pixel / 255 − mean) / std per channel.
"""
import gzip
import os
import re

import numpy as np
import torch
import torch.nn.functional as F


class DataFormatError(Exception):
    pass


def _read_maybe_gzip(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _find_idx(root, prefix, kind):
    suffix = "idx3-ubyte" if kind == "images" else "idx1-ubyte"
    names = [f"{prefix}-{kind}-{suffix}", f"{prefix}-{kind}.{suffix}"]
    place = (lambda n: os.path.join(root, n)) if os.path.isdir(root) else (lambda n: root + n)
    for n in names:
        for candidate in (place(n), place(n) + ".gz"):
            if os.path.exists(candidate):
                return candidate
    raise DataFormatError(f"{root}: no {prefix} {kind} file ({names[0]} or {names[0]}.gz).")


def _parse_idx(buf, limit):
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    header = 4 + 4 * ndim
    count = dims[0] if limit is None else min(limit, dims[0])
    item = int(np.prod(dims[1:])) if len(dims) > 1 else 1
    arr = np.frombuffer(buf, dtype=np.uint8, count=count * item, offset=header)
    return arr.reshape([count] + dims[1:])


def load_idx(root, split, limit):
    prefix = "train" if split == "train" else "t10k"
    images = _parse_idx(_read_maybe_gzip(_find_idx(root, prefix, "images")), limit)
    labels = _parse_idx(_read_maybe_gzip(_find_idx(root, prefix, "labels")), limit)
    return images.reshape(images.shape[0], images.shape[1], images.shape[2], 1), labels.astype(np.int64)


CIFAR = {
    "cifar10-bin": (1, [f"data_batch_{i}.bin" for i in range(1, 6)], ["test_batch.bin"], "cifar-10-batches-bin"),
    "cifar100-bin": (2, ["train.bin"], ["test.bin"], "cifar-100-binary"),
}


def load_cifar(root, split, fmt, limit):
    label_bytes, train_files, test_files, archive = CIFAR[fmt]
    if not os.path.exists(os.path.join(root, (train_files if split == "train" else test_files)[0])) and os.path.isdir(os.path.join(root, archive)):
        root = os.path.join(root, archive)
    record = label_bytes + 3072
    images, labels = [], []
    total = 0
    for name in train_files if split == "train" else test_files:
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


def load_split(data, split):
    fmt = data["format"]
    limit = data.get("limitTrain") if split == "train" else data.get("limitTest")
    if fmt == "idx":
        return load_idx(data["path"], split, limit)
    if fmt in CIFAR:
        return load_cifar(data["path"], split, fmt, limit)
    raise DataFormatError(f"data.format \"{fmt}\" is not supported by the torch engine yet (idx, cifar10-bin, cifar100-bin); train it with the tfjs engine.")


CROP = re.compile(r"^crop(\d+)pad(\d+)$")


def parse_augment(names):
    """[(kind, args)] for the supported augmentations; raises for the others (image folders)."""
    out = []
    for name in names:
        m = CROP.match(name)
        if m:
            out.append(("crop", (int(m.group(1)), int(m.group(2)))))
        elif name == "hflip":
            out.append(("hflip", ()))
        else:
            raise DataFormatError(f"augmentation \"{name}\" is not supported by the torch engine yet (crop<s>pad<p>, hflip); train it with the tfjs engine.")
    return out


class Split:
    """One split in memory; `batch(indices, train, generator)` gives normalized NCHW floats + labels."""

    def __init__(self, images, labels, augment, mean, std, device):
        self.images = torch.from_numpy(np.array(images, copy=True))  # N H W C uint8
        self.labels = torch.from_numpy(labels)
        self.augment = augment
        c = images.shape[3]
        mean = mean if len(mean) == c else mean * c
        std = std if len(std) == c else std * c
        self.scale = torch.tensor([1.0 / (255.0 * s) for s in std], dtype=torch.float32).view(1, c, 1, 1).to(device)
        self.bias = torch.tensor([-m / s for m, s in zip(mean, std)], dtype=torch.float32).view(1, c, 1, 1).to(device)
        self.device = device

    def __len__(self):
        return self.labels.shape[0]

    def batch(self, indices, train, generator):
        idx = torch.as_tensor(indices, dtype=torch.long)
        x = self.images[idx].to(self.device).permute(0, 3, 1, 2).float()  # N C H W, 0..255
        for kind, args in self.augment:
            if kind == "crop":
                size, pad = args
                padded = F.pad(x, (pad, pad, pad, pad)) if pad else x
                h, w = padded.shape[2], padded.shape[3]
                if train:
                    tops = torch.randint(0, h - size + 1, (x.shape[0],), generator=generator).tolist()
                    lefts = torch.randint(0, w - size + 1, (x.shape[0],), generator=generator).tolist()
                    x = torch.stack([padded[i, :, t:t + size, l:l + size] for i, (t, l) in enumerate(zip(tops, lefts))])
                else:
                    t = round((h - size) / 2)
                    l = round((w - size) / 2)
                    x = padded[:, :, t:t + size, l:l + size]
            elif kind == "hflip" and train:
                flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(self.device)
                x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
        x = x * self.scale + self.bias
        return x.contiguous(), self.labels[idx].to(self.device)
