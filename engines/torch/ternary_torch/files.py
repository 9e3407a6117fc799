"""Durable, atomic writes for the files Python owns in a run folder (checkpoints/*/checkpoint.pt
and model/), with the discipline of server/files/atomicFiles.ts: write into a temporary folder,
flush every file and the folder (fsync), then rename into place."""
from __future__ import annotations

import os
import shutil
from typing import Callable

def fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fill_temp_dir(target: str, fill: Callable[[str], None], marker: str) -> str:
    """A fresh temporary folder next to `target`, filled by `fill` and flushed to disk; its name holds
    `marker` (the job's tempMarker), so a resumed run's lifecycle removes it if this process is killed."""
    tmp = f"{target}{marker}{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        fill(tmp)
        for name in os.listdir(tmp):
            fsync_path(os.path.join(tmp, name))
        fsync_path(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def replace_dir_atomic(target: str, fill: Callable[[str], None], marker: str) -> None:
    """Replaces the folder `target` with one filled by `fill`: a reader sees the old or the new one, never half."""
    tmp = fill_temp_dir(target, fill, marker)
    old = f"{target}{marker}old-{os.getpid()}"
    if os.path.exists(target):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
    os.rename(tmp, target)
    fsync_path(os.path.dirname(target))
    shutil.rmtree(old, ignore_errors=True)
