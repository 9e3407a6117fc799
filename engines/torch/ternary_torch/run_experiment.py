"""torchrun's entry point for the torch engine: `torchrun [options] --module
ternary_torch.run_experiment JOB.json` (the launcher, server/engines/torch/torchrun.ts, puts the
package's folder on PYTHONPATH).

A problem the user must fix (unsupported layer or data, CUDA missing, a batch size that does not
split over the processes) is sent as one `fatal` message (events.py), which the launcher reports
as the run's reason, without a traceback.
"""
from __future__ import annotations

import os
import sys

from .data import DataFormatError
from .events import Fatal, emit, leave
from .graph import ModelFormatError
from .job import JobError
from .train import main


def fatal(message: str) -> None:
    emit(Fatal(rank=int(os.environ.get("RANK", "0")), message=message))
    leave(1)


def run(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m ternary_torch.run_experiment JOB.json (written by `tern train --engine torch`)")
    try:
        code = main(argv[1])
    except SystemExit as err:
        if isinstance(err.code, str):
            fatal(err.code)
        raise
    except (DataFormatError, ModelFormatError, JobError, ValueError) as err:
        fatal(str(err))
        return
    leave(code or 0)


if __name__ == "__main__":
    run(sys.argv)
