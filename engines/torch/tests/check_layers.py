"""The torch engine's layers against tfjs-layers (test/unit/engines-torch-layers.test.ts runs it):
for each case the test wrote (a small tfjs model.json with its ternary layers' settings, an input x, the output gradient dy, and what
tfjs computed), the engine's own loader builds the model, runs it forward and backward, and the
largest relative differences of y, dL/dx, dL/dW of every weight and the weights after the step are
reported, next to the layer classes and activations the engine supports.

    cd engines/torch && python3 -m tests.check_layers cases.json

Prints one JSON line {"classes": [...], "activations": [...], "cases": {name: {metric: relative}}}.
"""
import json
import sys
from typing import Dict, List, Sequence

import numpy as np
import torch

from ternary_torch.activations import RangeRule
from ternary_torch.graph import ACTIVATIONS, SUPPORTED_CLASSES, from_tfjs_layout, load_graph_model, to_tfjs_layout
from ternary_torch.job import parse_layer_quant


def relative(ours: np.ndarray, theirs: Sequence[float]) -> float:
    """max |ours − theirs| / max |theirs| (∞ when the sizes differ)."""
    a = np.asarray(ours, dtype=np.float64).reshape(-1)
    b = np.asarray(theirs, dtype=np.float64).reshape(-1)
    if a.size != b.size:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def check_case(case: Dict) -> Dict[str, float]:
    model, _ = load_graph_model(case["model"], parse_layer_quant(case["quant"]))
    model.train(case["training"])
    rule = case["activationRanges"]
    model.observe_ranges(RangeRule(observe_epochs=int(rule["observeEpochs"]), momentum=float(rule["momentum"])), int(case["epoch"]))
    x = from_tfjs_layout(torch.tensor(case["x"], dtype=torch.float32).view(case["xShape"])).contiguous().requires_grad_(True)
    y = model(x)
    dy = from_tfjs_layout(torch.tensor(case["dy"], dtype=torch.float32).view(to_tfjs_layout(y).shape))
    y.backward(dy)
    assert x.grad is not None
    out = {"y": relative(to_tfjs_layout(y).detach().numpy(), case["y"]), "dx": relative(to_tfjs_layout(x.grad).numpy(), case["dx"])}
    grads: Dict[str, np.ndarray] = {}
    after: Dict[str, np.ndarray] = {}
    for layer in model.weighted_layers():
        grads.update({f"{layer.layer_name}/{k}": v for k, v in layer.tfjs_grads().items()})
        after.update({f"{layer.layer_name}/{k}": v for k, v in layer.export().items()})
    for name, expected in case["grads"].items():
        out[f"grad {name}"] = relative(grads[name], expected) if name in grads else float("inf")
    for name, expected in case["weightsAfter"].items():
        out[f"after {name}"] = relative(after[name], expected) if name in after else float("inf")
    return out


def main(argv: List[str]) -> int:
    with open(argv[1], encoding="utf8") as f:
        cases = json.load(f)
    torch.set_num_threads(1)
    results = {c["name"]: check_case(c) for c in cases}
    print(json.dumps({"classes": list(SUPPORTED_CLASSES), "activations": list(ACTIVATIONS), "cases": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
