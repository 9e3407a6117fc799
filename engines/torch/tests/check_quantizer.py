"""The torch engine's quantizer against the shared fixtures (test/unit/engines-torch-quantizer.test.ts
runs it): forward and latent-weight gradient of the reference PyTorch code
(test/fixtures/core/torch_reference.json, t_ex 1, 2, 4), and Δ, α and codes of our TypeScript
quantizer (server/core/quantizer.ts, written by the node test) for he2019 and TWN, with fixed and
optimal thresholds (optimal: also Σ_k T_k, which the layers compute with).

    cd engines/torch && python3 -m tests.check_quantizer torch_reference.json ours.json [cpu|cuda]

Prints one JSON line with the largest differences; exits 1 when one is over its tolerance.
"""
import json
import sys

import torch
import torch.nn.functional as F

from ternary_torch.job import parse_layer_quant
from ternary_torch.quantizer import ternarize_branch, ternary_weight, optimal_fit


def main(reference_path: str, ours_path: str, device: str) -> int:
    ref = json.load(open(reference_path))
    ours = json.load(open(ours_path))
    dev = torch.device(device)
    worst = {"output": 0.0, "gradient": 0.0, "delta": 0.0, "alpha": 0.0, "codeMismatches": 0, "optimalWeight": 0.0}
    # The reference code's settings for each t_ex (he2019, f = 0.05), as the job would give them.
    reference_quant = parse_layer_quant(ours["referenceQuant"])
    for c in ref["cases"]:
        # Fixture layouts are tfjs's: x NHWC, kernel HWIO.
        x = torch.tensor(c["x"]).view(c["xShape"]).permute(0, 3, 1, 2).to(dev)
        w = torch.tensor(c["kernel"]).view(c["kernelShape"]).permute(3, 2, 0, 1).contiguous().to(dev).requires_grad_(True)
        r = torch.tensor(c["r"]).view(c["rShape"]).permute(0, 3, 1, 2).to(dev)
        q = reference_quant[str(c["tex"])]
        y = F.conv2d(x, ternary_weight(w, q.method, q.factors), padding=1)
        (y * r).sum().backward()
        assert w.grad is not None
        out = y.detach().permute(0, 2, 3, 1).reshape(-1).cpu()
        grad = w.grad.permute(2, 3, 1, 0).reshape(-1).cpu()
        worst["output"] = max(worst["output"], (out - torch.tensor(c["output"])).abs().max().item())
        worst["gradient"] = max(worst["gradient"], (grad - torch.tensor(c["kernelGrad"])).abs().max().item())
    for case in ours["cases"]:
        w = torch.tensor(case["kernel"], dtype=torch.float32, device=dev)
        quant = parse_layer_quant({"case": case["quant"]})["case"]
        optimal = optimal_fit(w, quant.tex) if quant.threshold == "optimal" else None
        if optimal is not None:
            summed = ternary_weight(w, quant.method, quant.factors, "optimal").detach().cpu()
            worst["optimalWeight"] = max(worst["optimalWeight"], (summed - torch.tensor(case["weight"])).abs().max().item())
        for k, branch in enumerate(case["branches"]):
            if optimal is not None:
                cut = optimal[1][k]
                delta, alpha, codes = torch.tensor(cut.delta), torch.tensor(cut.alpha), optimal[2][k].to(torch.float32)
            else:
                _, delta, alpha, codes = ternarize_branch(w, quant.method, quant.factors[k])
            worst["delta"] = max(worst["delta"], abs(delta.item() - branch["delta"]) / max(1e-12, abs(branch["delta"])))
            worst["alpha"] = max(worst["alpha"], abs(alpha.item() - branch["alpha"]) / max(1e-12, abs(branch["alpha"])))
            worst["codeMismatches"] += int((codes.cpu() != torch.tensor(branch["codes"], dtype=torch.float32)).sum().item())
    ok = (worst["output"] <= 1e-5 and worst["gradient"] <= 1e-4 and worst["delta"] <= 1e-6 and worst["alpha"] <= 1e-6
          and worst["codeMismatches"] == 0 and worst["optimalWeight"] <= 1e-6)
    print(json.dumps({"device": device, "torch": torch.__version__, "ok": ok, **worst}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "cpu"))
