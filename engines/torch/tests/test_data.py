"""Unit tests of ternary_torch/data.py (test/unit/engines-torch-data.test.ts runs them):

    python3 -m unittest discover -s engines/torch/tests -p test_data.py

IDX files whose image i is filled with the value i show which examples a batch holds; a small
image folder (PNG and JPEG, RGB, grayscale, 16-bit, odd sizes) goes through every transform.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ternary_torch.data import DataFormatError, EngineData, open_data, random_resized_crop_box, sample_rng  # noqa: E402

CPU = torch.device("cpu")


def write_idx(root: str, prefix: str, count: int) -> None:
    """Images 4×4 filled with their index; label = index mod 3."""
    images = np.repeat(np.arange(count, dtype=np.uint8), 16).reshape(count, 4, 4)
    with open(os.path.join(root, f"{prefix}-images-idx3-ubyte"), "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (count, 4, 4)) + images.tobytes())
    with open(os.path.join(root, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + count.to_bytes(4, "big") + (np.arange(count) % 3).astype(np.uint8).tobytes())


def indices_of(x: torch.Tensor) -> list[int]:
    """The example indices of a batch of write_idx images, normalized with mean 0, std 1."""
    return [round(float(v) * 255) for v in x[:, 0, 0, 0]]


class MemoryData(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="tern-data-py-")
        write_idx(self.dir, "train", 21)
        write_idx(self.dir, "t10k", 7)

    def tearDown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def data(self, train: list[str] | None = None, eval: list[str] | None = None) -> dict[str, object]:
        return {"format": "idx", "path": self.dir, "mean": [0.0], "std": [1.0], "transforms": {"train": train or [], "eval": eval or []}}

    def open(self, rank: int = 0, world: int = 1, workers: int | None = 0, train: list[str] | None = None,
             eval: list[str] | None = None) -> EngineData:
        return open_data(self.data(train, eval), rank=rank, world=world, local_batch=4, eval_batch=3, seed=11, device=CPU, workers=workers)

    def test_ranks_split_each_epoch_into_a_seeded_permutation(self) -> None:
        for epoch in (0, 1):
            shards = [[i for x, _ in self.open(rank=r, world=2).train_batches(epoch) for i in indices_of(x)] for r in (0, 1)]
            # DistributedSampler pads 21 examples to 2 × 11 by repeating the first of the permutation.
            self.assertEqual(len(shards[0]), 11)
            self.assertEqual(len(shards[1]), 11)
            self.assertEqual(sorted(set(shards[0] + shards[1])), list(range(21)))
        e0 = [i for x, _ in self.open().train_batches(0) for i in indices_of(x)]
        e1 = [i for x, _ in self.open().train_batches(1) for i in indices_of(x)]
        self.assertEqual(sorted(e0), list(range(21)))
        self.assertNotEqual(e0, e1)
        self.assertEqual(e1, [i for x, _ in self.open().train_batches(1) for i in indices_of(x)], "a fresh start (resume) sees the same epoch")
        self.assertEqual(self.open().steps_per_epoch, 6)
        self.assertEqual(self.open(world=2).steps_per_epoch, 3)

    def test_labels_follow_their_images(self) -> None:
        for x, y in self.open(train=["hflip"]).train_batches(0):
            self.assertEqual([i % 3 for i in indices_of(x)], y.tolist())

    def test_test_split_is_read_in_file_order_rank_by_rank(self) -> None:
        self.assertEqual([indices_of(x) for x, _ in self.open().test_batches()], [[0, 1, 2], [3, 4, 5], [6]])
        self.assertEqual([i for x, _ in self.open(rank=1, world=2).test_batches() for i in indices_of(x)], [1, 3, 5])

    def test_normalization(self) -> None:
        data = {**self.data(), "mean": [0.5], "std": [0.25]}
        x, _ = next(iter(open_data(data, rank=0, world=1, local_batch=30, eval_batch=30, seed=1, device=CPU, workers=0).test_batches()))
        expected = (torch.arange(7, dtype=torch.float32) / 255 - 0.5) / 0.25
        torch.testing.assert_close(x[:, 0, 0, 0], expected)

    def test_crop_with_padding(self) -> None:
        # crop4pad2 of a 4×4 image: a window of the 8×8 zero-padded image; evaluation: the image itself.
        zeros = 0
        for x, _ in self.open(train=["crop4pad2"]).train_batches(0):
            self.assertEqual(tuple(x.shape[1:]), (1, 4, 4))
            zeros += int((x == 0).sum())
        self.assertGreater(zeros, 0)
        x, _ = next(iter(self.open(train=["crop4pad2"], eval=["crop4pad2"]).test_batches()))
        self.assertEqual(indices_of(x), [0, 1, 2])
        self.assertTrue(bool((x[1] == 1 / 255).all()))
        x, _ = next(iter(self.open(eval=["crop3pad0"]).test_batches()))
        self.assertEqual(tuple(x.shape), (3, 1, 3, 3))

    def test_workers_change_nothing(self) -> None:
        train, eval = ["rrc3", "hflip"], ["resize4center3"]
        single = [(x, y) for x, y in self.open(workers=0, train=train, eval=eval).train_batches(2)]
        two = [(x, y) for x, y in self.open(workers=2, train=train, eval=eval).train_batches(2)]
        self.assertEqual(len(single), len(two))
        for (a, ya), (b, yb) in zip(single, two):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
            self.assertEqual(ya.tolist(), yb.tolist())


class ImageFolder(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="tern-folder-py-")
        rng = np.random.default_rng(1)
        self.files: list[str] = []
        self.labels: list[int] = []
        # class 0: an RGB JPEG and a grayscale PNG; class 1: a 16-bit PNG and an RGBA PNG.
        images = [
            ("a/1.jpg", 0, Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8), "RGB")),
            ("a/2.png", 0, Image.fromarray(np.full((20, 25), 77, dtype=np.uint8), "L")),
            ("b/1.png", 1, Image.fromarray(np.full((20, 25), 0x8080, dtype=np.uint16))),
            ("b/2.png", 1, Image.fromarray(np.dstack([np.full((33, 21, 3), 200, np.uint8), np.zeros((33, 21, 1), np.uint8)]), "RGBA")),
        ]
        for name, label, img in images:
            os.makedirs(os.path.join(self.dir, os.path.dirname(name)), exist_ok=True)
            img.save(os.path.join(self.dir, name))
            self.files.append(name)
            self.labels.append(label)
        self.listing_path = os.path.join(self.dir, "listing.json")
        with open(self.listing_path, "w", encoding="utf8") as f:
            json.dump({"dir": self.dir, "classNames": ["a", "b"], "files": self.files, "labels": self.labels}, f)

    def tearDown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def open(self, train: list[str], eval: list[str], resize_to: list[int] | None = None) -> EngineData:
        data: dict[str, object] = {"format": "image-folder", "path": self.dir, "mean": [0.0], "std": [1.0],
                                   "transforms": {"train": train, "eval": eval},
                                   "listings": {"train": self.listing_path, "test": self.listing_path}}
        if resize_to:
            data["resizeTo"] = resize_to
        return open_data(data, rank=0, world=1, local_batch=4, eval_batch=4, seed=3, device=CPU, workers=0)

    def test_decoding_to_rgb_in_file_order(self) -> None:
        x, y = next(iter(self.open([], [], resize_to=[20, 25]).test_batches()))
        self.assertEqual(tuple(x.shape), (4, 3, 20, 25))
        self.assertEqual(y.tolist(), self.labels)
        pixels = (x * 255).round()
        self.assertTrue(bool((pixels[1] == 77).all()), "grayscale copied into 3 channels")
        self.assertTrue(bool((pixels[2] == 0x80).all()), "16-bit scaled to 8 bits")
        self.assertEqual(pixels[3, :, 5, 5].tolist(), [200.0, 200.0, 200.0], "alpha dropped")

    def test_rrc_flip_and_resize_center_sizes(self) -> None:
        data = self.open(["rrc16", "hflip"], ["resize18center16"])
        for epoch in (0, 1):
            x, _ = next(iter(data.train_batches(epoch)))
            self.assertEqual(tuple(x.shape), (4, 3, 16, 16))
        x, _ = next(iter(data.test_batches()))
        self.assertEqual(tuple(x.shape), (4, 3, 16, 16))
        # Resize(18) of the 20×25 grayscale image, centre 16×16: still uniform grey.
        self.assertTrue(bool(((x[1] * 255).round() == 77).all()))

    def test_unreadable_image(self) -> None:
        with open(os.path.join(self.dir, "a", "1.jpg"), "wb") as f:
            f.write(b"not an image")
        with self.assertRaisesRegex(DataFormatError, r"a/1\.jpg: unreadable image: .*corrupt or truncated; replace or remove it"):
            list(self.open([], [], resize_to=[8, 8]).test_batches())


class Draws(unittest.TestCase):
    def test_random_resized_crop_box_stays_inside_with_torchvision_ranges(self) -> None:
        for i in range(300):
            top, left, h, w = random_resized_crop_box(60, 90, sample_rng(5, 0, i))
            self.assertTrue(0 <= top and top + h <= 60 and 0 <= left and left + w <= 90)
            self.assertGreaterEqual(h * w, 0.08 * 60 * 90 * 0.9)
        # No fitting box in 10 tries (a 1-pixel-high strip): the centred fallback, aspect clamped to 4/3.
        self.assertEqual(random_resized_crop_box(1, 50, sample_rng(1, 0, 0)), (0, 24, 1, 1))

    def test_sample_draws_depend_on_seed_epoch_and_index_only(self) -> None:
        self.assertEqual(sample_rng(1, 2, 3).random(), sample_rng(1, 2, 3).random())
        self.assertNotEqual(sample_rng(1, 2, 3).random(), sample_rng(1, 2, 4).random())
        self.assertNotEqual(sample_rng(1, 2, 3).random(), sample_rng(1, 3, 3).random())
        self.assertNotEqual(sample_rng(1, 2, 3).random(), sample_rng(2, 2, 3).random())


if __name__ == "__main__":
    unittest.main()
