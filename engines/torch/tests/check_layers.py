"""The torch engine's BatchNorm (training step) and dense layer against tfjs's, on values computed
by test/unit/engines-torch-layers.test.ts with tfjs-layers (cpu backend):

  - BatchNormalization in training: the output, and the moving mean and variance after the step
    (tfjs keeps the biased batch variance; ternary_torch/graph.py's BatchNorm takes it from
    F.batch_norm's unbiased one);
  - Dense: y = x·W + b and the gradients dL/dx, dL/dW, dL/db of L = Σ y ⊙ dy, through
    ternary_torch/linear.py (oneDNN's inner product on the CPU).

    python3 check_layers.py tfjs.json

Prints one JSON line with the largest relative differences; exits 1 when one is above 1e-5.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ternary_torch.graph import BatchNorm  # noqa: E402
from ternary_torch.linear import linear  # noqa: E402


def rel(a, b):
    a = a.detach().double()
    b = torch.as_tensor(b, dtype=torch.float64).view(a.shape)
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-30)).item()


def main(path):
    cases = json.load(open(path))
    worst = {}

    def note(key, value):
        worst[key] = max(worst.get(key, 0.0), value)

    for c in cases["batchNorm"]:
        shape = c["shape"]  # NHWC or [N, C]
        x = torch.tensor(c["x"], dtype=torch.float32).view(shape)
        if len(shape) == 4:
            x = x.permute(0, 3, 1, 2).contiguous()
        bn = BatchNorm("bn", {"momentum": c["momentum"], "epsilon": c["epsilon"]})
        bn.build({k: np.array(c[k], dtype=np.float32) for k in ("gamma", "beta", "moving_mean", "moving_variance")})
        bn.train()
        y = bn(x)
        if len(shape) == 4:
            y = y.permute(0, 2, 3, 1)
        note("bnOutput", rel(y, c["y"]))
        note("bnMovingMean", rel(bn.moving_mean, c["movingMeanAfter"]))
        note("bnMovingVariance", rel(bn.moving_variance, c["movingVarianceAfter"]))

    for c in cases["dense"]:
        n, i, o = c["n"], c["in"], c["out"]
        x = torch.tensor(c["x"], dtype=torch.float32).view(n, i).requires_grad_(True)
        w = torch.tensor(c["kernel"], dtype=torch.float32).view(i, o).t().contiguous().requires_grad_(True)  # [in, out] → [out, in]
        b = torch.tensor(c["bias"], dtype=torch.float32).requires_grad_(True)
        y = linear(x, w, b)
        y.backward(torch.tensor(c["dy"], dtype=torch.float32).view(n, o))
        note("denseOutput", rel(y, c["y"]))
        note("denseGradX", rel(x.grad, c["dx"]))
        note("denseGradW", rel(w.grad.t(), c["dW"]))
        note("denseGradB", rel(b.grad, c["db"]))

    worst["ok"] = all(v <= 1e-5 for v in worst.values())
    print(json.dumps(worst))
    return 0 if worst["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
