"""torchrun's entry point for the torch engine: `torchrun [options] run_experiment.py JOB.json`.

A problem the user must fix (unsupported layer or data, CUDA missing, a batch size that does not
split over the processes) is printed as one `@tern {"type": "fatal"}` line, which the launcher
(server/engines/torch/launch.ts) reports as the run's reason, without a traceback.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ternary_torch.data import DataFormatError  # noqa: E402
from ternary_torch.graph import ModelFormatError  # noqa: E402
from ternary_torch.train import main  # noqa: E402


def leave(code):
    """Exits without running destructors: with PyTorch 1.13, tearing down a DDP reducer's gloo
    process group at interpreter exit can deadlock on the GIL (a worker thread frees a tensor
    while the main thread joins it). Every run file is written and flushed by then."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fatal(message):
    sys.stdout.write("@tern " + json.dumps({"type": "fatal", "rank": int(os.environ.get("RANK", "0")), "message": message}) + "\n")
    leave(1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: run_experiment.py JOB.json (written by `tern train --engine torch`)")
    try:
        code = main(sys.argv[1])
    except SystemExit as err:
        if isinstance(err.code, str):
            fatal(err.code)
        raise
    except (DataFormatError, ModelFormatError, ValueError) as err:
        fatal(str(err))
    leave(code or 0)
