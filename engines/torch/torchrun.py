"""`python torchrun.py [torchrun options] script args`: torchrun (torch.distributed.run), with one
fix: on Python ≥ 3.11, PyTorch < 2's `Std.from_str("0")` returns None (iterating an IntFlag no
longer yields its zero member), so every launch with the default --redirects/--tee fails in
`to_map`. The launcher (server/engines/torch/torchrun.ts) always starts torchrun through here."""
from __future__ import annotations

import sys
from typing import Any

from torch.distributed.elastic.multiprocessing import api


def _patch_std() -> None:
    original = api.Std.from_str

    def from_str(vm: str) -> Any:
        value = original(vm)
        if value is None:
            return api.Std.NONE
        if isinstance(value, dict):
            return {k: api.Std.NONE if v is None else v for k, v in value.items()}
        return value

    api.Std.from_str = from_str


if __name__ == "__main__":
    if api.Std.from_str("0") is None:
        _patch_std()
    from torch.distributed.run import main

    sys.exit(main())
