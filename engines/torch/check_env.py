"""Prints what the torch engine needs to know about this Python, as one JSON line: the launcher
(server/engines/torch/python.ts) runs it before training to give one clear message when PyTorch or
torchvision is missing, PyTorch is too old, or CUDA was asked for but is not there."""
from __future__ import annotations

import json
import sys

info: dict[str, object] = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import torch
    import torch.distributed

    info["torch"] = torch.__version__
    info["cuda"] = bool(torch.cuda.is_available())
    info["cudaDevices"] = torch.cuda.device_count() if torch.cuda.is_available() else 0
    info["gloo"] = bool(torch.distributed.is_available() and torch.distributed.is_gloo_available())
except Exception as err:  # noqa: BLE001 - any import failure means "no usable torch"
    info["torchError"] = f"{type(err).__name__}: {err}"
if "torch" in info:
    try:
        import torchvision

        info["torchvision"] = torchvision.__version__
    except Exception as err:  # noqa: BLE001 - any import failure means "no usable torchvision"
        info["torchvisionError"] = f"{type(err).__name__}: {err}"
print(json.dumps(info))
