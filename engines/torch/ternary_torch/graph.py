"""A tfjs LayersModel (model.json + weights.bin, as server/core/modelIO.ts writes it) as a torch
module, and back. The TypeScript side builds every model with the zoo of server/models/ (seeded
Kaiming init included) and hands over its model.json: the torch engine trains exactly the layers,
names and parameter counts of the tfjs engine, and writes the trained weights into the same
model.json layout, so `tern eval`, `tern stats` and Export read a torch run like a tfjs one.

Activations run NCHW (PyTorch's native layout); kernels are stored OIHW (conv) and [out, in]
(dense) and converted from / to tfjs's HWIO and [in, out] on load and export.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .linear import linear
from .quantizer import check_quant, ternary_weight

KERNEL_CLASSES = ("Conv2D", "TernaryConv2D", "Dense", "TernaryDense")
TERNARY_CLASSES = ("TernaryConv2D", "TernaryDense")


class ModelFormatError(Exception):
    """A model.json this engine cannot train; the message says what to do."""


def _activation(name):
    if name in (None, "linear"):
        return None
    table = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "softmax": lambda x: F.softmax(x, dim=1)}
    if name not in table:
        raise ModelFormatError(f"activation '{name}' is not supported by the torch engine (supported: linear, relu, tanh, sigmoid, softmax).")
    return table[name]


def _same_pads(size, kernel, stride):
    """TensorFlow's 'same' padding for one dimension: (before, after); the odd pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x, kernel, stride, value=0.0):
    ph = _same_pads(x.shape[2], kernel[0], stride[0])
    pw = _same_pads(x.shape[3], kernel[1], stride[1])
    if ph == (0, 0) and pw == (0, 0):
        return x
    return F.pad(x, (pw[0], pw[1], ph[0], ph[1]), value=value)


class KernelLayer(nn.Module):
    """Conv2D / Dense and their ternary twins (quant set: the kernel is ternarized every call)."""

    def __init__(self, name, cls, config):
        super().__init__()
        self.layer_name = name
        self.cls = cls
        self.is_conv = cls in ("Conv2D", "TernaryConv2D")
        self.quant = None
        if cls in TERNARY_CLASSES:
            method = config.get("method", "he2019")
            factor = config.get("threshold_factor", 0.05)
            tex = config.get("tex", 1)
            check_quant(method, factor, tex)
            self.quant = (method, factor, tex)
        self.use_bias = config.get("use_bias", True)
        self.act = _activation(config.get("activation"))
        if self.is_conv:
            self.filters = config["filters"]
            self.kernel_size = tuple(config["kernel_size"])
            self.strides = tuple(config.get("strides", [1, 1]))
            self.padding = config.get("padding", "valid")
            if tuple(config.get("dilation_rate", [1, 1])) != (1, 1):
                raise ModelFormatError(f"layer '{name}': dilated convolutions are not supported by the torch engine.")
        else:
            self.units = config["units"]
        self.weight = None
        self.bias = None

    def build(self, tfjs_weights):
        kernel = tfjs_weights["kernel"]
        if self.is_conv:
            # tfjs HWIO → torch OIHW
            self.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
        else:
            # tfjs [in, out] → torch [out, in]
            self.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(kernel.T)))
        if self.use_bias:
            self.bias = nn.Parameter(torch.from_numpy(tfjs_weights["bias"].copy()))

    def export(self):
        w = self.weight.detach().cpu().numpy()
        out = {"kernel": w.transpose(2, 3, 1, 0) if self.is_conv else w.T}
        if self.use_bias:
            out["bias"] = self.bias.detach().cpu().numpy()
        return out

    def effective_weight(self):
        if self.quant is None:
            return self.weight
        return ternary_weight(self.weight, *self.quant)

    def forward(self, x):
        w = self.effective_weight()
        if self.is_conv:
            if self.padding == "same":
                pads_h = _same_pads(x.shape[2], self.kernel_size[0], self.strides[0])
                pads_w = _same_pads(x.shape[3], self.kernel_size[1], self.strides[1])
                if pads_h[0] == pads_h[1] and pads_w[0] == pads_w[1]:
                    y = F.conv2d(x, w, self.bias, self.strides, (pads_h[0], pads_w[0]))
                else:
                    y = F.conv2d(_pad_same(x, self.kernel_size, self.strides), w, self.bias, self.strides)
            else:
                y = F.conv2d(x, w, self.bias, self.strides)
        else:
            y = linear(x, w, self.bias)
        return self.act(y) if self.act else y


class BatchNorm(nn.Module):
    """tfjs-layers' BatchNormalization: batch statistics with the biased variance, and moving
    averages updated with that same biased variance (PyTorch's own uses the unbiased one)."""

    def __init__(self, name, config):
        super().__init__()
        self.layer_name = name
        if config.get("axis", -1) not in (-1, 3, 1):
            raise ModelFormatError(f"layer '{name}': BatchNormalization over axis {config.get('axis')} is not supported.")
        self.momentum = config.get("momentum", 0.99)
        self.eps = config.get("epsilon", 1e-3)
        self.center = config.get("center", True)
        self.scale = config.get("scale", True)

    def build(self, w):
        if self.scale:
            self.gamma = nn.Parameter(torch.from_numpy(w["gamma"].copy()))
        if self.center:
            self.beta = nn.Parameter(torch.from_numpy(w["beta"].copy()))
        self.register_buffer("moving_mean", torch.from_numpy(w["moving_mean"].copy()))
        self.register_buffer("moving_variance", torch.from_numpy(w["moving_variance"].copy()))

    def export(self):
        out = {"moving_mean": self.moving_mean.cpu().numpy(), "moving_variance": self.moving_variance.cpu().numpy()}
        if self.scale:
            out["gamma"] = self.gamma.detach().cpu().numpy()
        if self.center:
            out["beta"] = self.beta.detach().cpu().numpy()
        return out

    def forward(self, x):
        gamma = self.gamma if self.scale else None
        beta = self.beta if self.center else None
        if self.training:
            # One pass of PyTorch's batch norm both normalizes with the batch statistics and hands
            # them out: with momentum 1 its running buffers become the batch mean and the unbiased
            # variance, which (n − 1)/n turns back into the biased one tfjs keeps. (torch.var_mean
            # over N, H, W of an NCHW tensor took 17 ms of every 128-image step of fmnist-cnn.)
            batch_mean = torch.zeros_like(self.moving_mean)
            batch_var = torch.zeros_like(self.moving_variance)
            y = F.batch_norm(x, batch_mean, batch_var, gamma, beta, True, 1.0, self.eps)
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                var = batch_var * ((n - 1) / n) if n > 1 else torch.zeros_like(batch_var)
                decay = 1 - self.momentum
                self.moving_mean.sub_((self.moving_mean - batch_mean) * decay)
                self.moving_variance.sub_((self.moving_variance - var) * decay)
            return y
        return F.batch_norm(x, self.moving_mean, self.moving_variance, gamma, beta, False, 0.0, self.eps)


def _option_a_offset(n, stride):
    # As OptionAShortcut in server/core/layers/optionAShortcut.ts: the rows a 'same' 3×3 conv with
    # this stride centres its windows on.
    return max(0, 1 - max((math.ceil(n / stride) - 1) * stride + 3 - n, 0) // 2)


class Op(nn.Module):
    """A weightless layer."""

    def __init__(self, name, cls, config):
        super().__init__()
        self.layer_name = name
        self.cls = cls
        self.config = config
        if cls == "Activation":
            self.act = _activation(config.get("activation"))

    def forward(self, *xs):
        c = self.config
        x = xs[0]
        if self.cls == "ReLU":
            if c.get("max_value") is not None:
                return torch.clamp(x, 0, c["max_value"])
            return F.relu(x)
        if self.cls == "Activation":
            return self.act(x) if self.act else x
        if self.cls in ("MaxPooling2D", "AveragePooling2D"):
            k = tuple(c["pool_size"])
            s = tuple(c.get("strides") or k)
            if self.cls == "MaxPooling2D":
                if c.get("padding", "valid") == "same":
                    x = _pad_same(x, k, s, value=float("-inf"))
                return F.max_pool2d(x, k, s)
            if c.get("padding", "valid") == "same":
                raise ModelFormatError(f"layer '{self.layer_name}': AveragePooling2D with 'same' padding is not supported by the torch engine.")
            return F.avg_pool2d(x, k, s)
        if self.cls == "GlobalAveragePooling2D":
            return x.mean(dim=(2, 3))
        if self.cls == "Flatten":
            # tfjs flattens NHWC: keep its order so dense kernels mean the same thing.
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) if x.dim() == 4 else x.reshape(x.shape[0], -1)
        if self.cls == "Add":
            out = xs[0]
            for other in xs[1:]:
                out = out + other
            return out
        if self.cls == "Dropout":
            return F.dropout(x, c.get("rate", 0.5), self.training)
        if self.cls == "ZeroPadding2D":
            p = c.get("padding", 1)
            if isinstance(p, int):
                pads = (p, p, p, p)
            else:
                (top, bottom), (left, right) = p
                pads = (left, right, top, bottom)
            return F.pad(x, pads)
        if self.cls == "OptionAShortcut":
            s = c.get("stride", 2)
            out_ch = c["out_channels"]
            if s > 1:
                x = x[:, :, _option_a_offset(x.shape[2], s)::s, _option_a_offset(x.shape[3], s)::s]
            if out_ch > x.shape[1]:
                x = F.pad(x, (0, 0, 0, 0, 0, out_ch - x.shape[1]))
            return x
        raise ModelFormatError(f"layer '{self.layer_name}' of class {self.cls} is not supported by the torch engine.")


SUPPORTED_OPS = ("ReLU", "Activation", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Flatten", "Add", "Dropout", "ZeroPadding2D", "OptionAShortcut")


class GraphModel(nn.Module):
    """The functional tfjs model: its layers in model.json order (a topological order)."""

    def __init__(self, topology):
        super().__init__()
        cfg = topology["config"] if "config" in topology else topology["model_config"]["config"]
        if topology.get("class_name", "Model") not in ("Model", "Functional"):
            raise ModelFormatError(f"only functional tfjs models are supported by the torch engine (got {topology.get('class_name')}).")
        self.name = cfg.get("name", "model")
        self.nodes = []
        self.layers_by_name = nn.ModuleDict()
        self.input_name = cfg["input_layers"][0][0]
        self.output_name = cfg["output_layers"][0][0]
        for layer in cfg["layers"]:
            cls = layer["class_name"]
            name = layer["name"]
            inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            if cls == "InputLayer":
                self.input_shape = layer["config"]["batch_input_shape"][1:]
                continue
            if cls in KERNEL_CLASSES:
                module = KernelLayer(name, cls, layer["config"])
            elif cls == "BatchNormalization":
                module = BatchNorm(name, layer["config"])
            elif cls in SUPPORTED_OPS:
                module = Op(name, cls, layer["config"])
            else:
                raise ModelFormatError(f"layer '{name}' of class {cls} is not supported by the torch engine; train this model with the tfjs engine.")
            self.layers_by_name[_key(name)] = module
            self.nodes.append((name, inbound))

    def kernel_layers(self):
        return [m for m in self.layers_by_name.values() if isinstance(m, KernelLayer)]

    def forward(self, x):
        values = {self.input_name: x}
        for name, inbound in self.nodes:
            values[name] = self.layers_by_name[_key(name)](*[values[i] for i in inbound])
        return values[self.output_name]


def _key(name):
    # ModuleDict keys cannot contain '.'
    return name.replace(".", "_")


DTYPES = {"float32": np.float32, "int32": np.int32}


def read_tfjs_model(model_json_path):
    """(model.json dict, {weight name: numpy array in tfjs layout}) of a tfjs LayersModel."""
    with open(model_json_path, "r", encoding="utf8") as f:
        model_json = json.load(f)
    base = os.path.dirname(model_json_path)
    weights = {}
    for group in model_json["weightsManifest"]:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            dtype = DTYPES[spec.get("dtype", "float32")]
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(spec["shape"]).copy()
            offset += count * 4
            weights[spec["name"]] = arr
    return model_json, weights


def load_graph_model(model_json_path):
    """Builds the torch module of a tfjs model.json with its weights."""
    model_json, weights = read_tfjs_model(model_json_path)
    model = GraphModel(model_json["modelTopology"])
    for module in model.layers_by_name.values():
        if isinstance(module, (KernelLayer, BatchNorm)):
            prefix = module.layer_name + "/"
            own = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
            module.build(own)
    return model, model_json


def export_tfjs_weights(model, model_json, out_dir, metadata=None):
    """Writes model.json + weights.bin into out_dir: the topology and manifest of `model_json`, the
    weights of `model` (converted to tfjs layouts), in manifest order. Weights first, then model.json."""
    os.makedirs(out_dir, exist_ok=True)
    values = {}
    for module in model.layers_by_name.values():
        if isinstance(module, (KernelLayer, BatchNorm)):
            for k, v in module.export().items():
                values[f"{module.layer_name}/{k}"] = np.ascontiguousarray(v, dtype=np.float32)
    specs = [spec for group in model_json["weightsManifest"] for spec in group["weights"]]
    chunks = []
    for spec in specs:
        v = values.get(spec["name"])
        if v is None or list(v.shape) != list(spec["shape"]):
            raise ModelFormatError(f"weight {spec['name']}: the trained model has {None if v is None else list(v.shape)}, model.json expects {spec['shape']}.")
        chunks.append(v.tobytes())
    out = dict(model_json)
    out["weightsManifest"] = [{"paths": ["./weights.bin"], "weights": specs}]
    if metadata:
        out["userDefinedMetadata"] = {**model_json.get("userDefinedMetadata", {}), **metadata}
    _write_atomic(os.path.join(out_dir, "weights.bin"), b"".join(chunks))
    _write_atomic(os.path.join(out_dir, "model.json"), json.dumps(out).encode("utf8"))


def _write_atomic(path, data):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
