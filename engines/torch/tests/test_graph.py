"""ternary_torch/graph.py's own logic: 'same' padding, axes and layouts, weight layouts both ways,
a model.json round trip, and the errors for what the engine cannot train."""
import json
import os
import tempfile
import unittest
from typing import Any, Dict, List

import numpy as np
import torch

from ternary_torch.graph import (
    ACTIVATIONS,
    DepthwiseConv,
    GraphModel,
    KernelLayer,
    ModelFormatError,
    Op,
    activation,
    export_tfjs_weights,
    from_tfjs_layout,
    load_graph_model,
    same_pads,
    to_tfjs_layout,
    torch_axis,
)
from ternary_torch.job import LayerQuant


def layer(cls: str, name: str, inbound: List[str], **config: Any) -> Dict[str, Any]:
    return {"class_name": cls, "name": name, "config": {"name": name, **config}, "inbound_nodes": [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


def topology(layers: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"class_name": "Model", "config": {"name": "m", "layers": layers, "input_layers": [[layers[0]["name"], 0, 0]], "output_layers": [[layers[-1]["name"], 0, 0]]}}


class SamePadding(unittest.TestCase):
    def test_odd_pixel_goes_after(self) -> None:
        self.assertEqual(same_pads(7, 3, 2), (1, 1))
        self.assertEqual(same_pads(8, 3, 2), (0, 1))
        self.assertEqual(same_pads(224, 7, 2), (2, 3))
        self.assertEqual(same_pads(5, 1, 1), (0, 0))

    def test_never_negative(self) -> None:
        self.assertEqual(same_pads(4, 1, 4), (0, 0))


class Axes(unittest.TestCase):
    def test_nhwc_axes_of_rank_4(self) -> None:
        self.assertEqual([torch_axis(a, 4) for a in (-1, 1, 2, 3, -3)], [1, 2, 3, 1, 2])

    def test_other_ranks_unchanged(self) -> None:
        self.assertEqual(torch_axis(-1, 2), 1)
        self.assertEqual(torch_axis(2, 3), 2)

    def test_out_of_range(self) -> None:
        with self.assertRaises(ModelFormatError):
            torch_axis(4, 4)

    def test_layout_round_trip(self) -> None:
        x = torch.arange(2 * 3 * 4 * 5).view(2, 3, 4, 5)
        self.assertEqual(list(to_tfjs_layout(x).shape), [2, 4, 5, 3])
        self.assertTrue(torch.equal(from_tfjs_layout(to_tfjs_layout(x)), x))
        flat = torch.arange(6).view(2, 3)
        self.assertIs(to_tfjs_layout(flat), flat)


class WeightLayouts(unittest.TestCase):
    def test_conv_kernel_hwio_round_trip(self) -> None:
        k = np.random.default_rng(1).standard_normal((3, 2, 4, 5)).astype(np.float32)
        m = KernelLayer("c", "Conv2D", {"filters": 5, "kernel_size": [3, 2], "use_bias": False}, None)
        m.build({"kernel": k})
        self.assertEqual(list(m.weight.shape), [5, 4, 3, 2])
        self.assertTrue(np.array_equal(m.export()["kernel"], k))

    def test_depthwise_kernel_orders_outputs_channel_by_channel(self) -> None:
        k = np.random.default_rng(2).standard_normal((3, 3, 4, 2)).astype(np.float32)
        m = DepthwiseConv("d", {"kernel_size": [3, 3], "depth_multiplier": 2, "use_bias": False})
        m.build({"depthwise_kernel": k})
        # output channel c·m + j of input channel c is tfjs's kernel[:, :, c, j]
        self.assertTrue(np.array_equal(m.weight.detach().numpy()[2 * 2 + 1, 0], k[:, :, 2, 1]))
        self.assertTrue(np.array_equal(m.export()["depthwise_kernel"], k))


class Activations(unittest.TestCase):
    def test_linear_is_none_and_names_are_tfjs(self) -> None:
        self.assertIsNone(activation("linear", "x"))
        self.assertIsNone(activation(None, "x"))
        self.assertIs(activation("hardSigmoid", "x"), ACTIVATIONS["hard_sigmoid"])

    def test_softmax_over_channels_of_maps(self) -> None:
        fn = activation("softmax", "x")
        assert fn is not None
        y = fn(torch.randn(2, 3, 4, 4))
        self.assertTrue(torch.allclose(y.sum(dim=1), torch.ones(2, 4, 4)))

    def test_unknown_names_the_layer(self) -> None:
        with self.assertRaisesRegex(ModelFormatError, "layer 'a'.*'crelu'"):
            activation("crelu", "layer 'a'")


class Ops(unittest.TestCase):
    def test_dropout_scales_kept_values_in_training_only(self) -> None:
        op = Op("d", "Dropout", {"rate": 0.5})
        x = torch.ones(1000)
        op.train()
        y = op(x)
        self.assertTrue(bool(((y == 0) | (y == 2)).all()))
        op.eval()
        self.assertTrue(torch.equal(op(x), x))

    def test_flatten_keeps_tfjs_order(self) -> None:
        x = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
        y = Op("f", "Flatten", {})(x)
        self.assertTrue(torch.equal(y, x.permute(0, 2, 3, 1).reshape(2, -1)))


class Refusals(unittest.TestCase):
    def test_unknown_class(self) -> None:
        with self.assertRaisesRegex(ModelFormatError, "layer 'u' of class UpSampling2D.*tfjs engine"):
            GraphModel(topology([layer("InputLayer", "in", [], batch_input_shape=[None, 4, 4, 1]), layer("UpSampling2D", "u", ["in"])]), {})

    def test_dilated_conv(self) -> None:
        with self.assertRaisesRegex(ModelFormatError, "dilated"):
            KernelLayer("c", "Conv2D", {"filters": 1, "kernel_size": [3, 3], "dilation_rate": [2, 2]}, None)

    def test_a_ternary_layer_takes_its_settings_from_the_job_only(self) -> None:
        config = {"filters": 1, "kernel_size": [3, 3], "method": "twn", "threshold_factor": 0.3, "tex": 1}
        with self.assertRaisesRegex(ModelFormatError, "layer 'c' \\(TernaryConv2D\\) is ternary, but the job gives no quantization"):
            KernelLayer("c", "TernaryConv2D", config, None)
        job_quant = LayerQuant(method="he2019", threshold="optimal", tex=2, factors=(0.05, 0.1))
        self.assertEqual(KernelLayer("c", "TernaryConv2D", config, job_quant).quant, job_quant)

    def test_channels_first(self) -> None:
        with self.assertRaisesRegex(ModelFormatError, "channels_first"):
            Op("p", "MaxPooling2D", {"pool_size": [2, 2], "data_format": "channels_first"})


class ModelJsonRoundTrip(unittest.TestCase):
    def test_export_then_load_gives_the_same_weights_and_outputs(self) -> None:
        rng = np.random.default_rng(3)
        weights = {
            "conv/kernel": rng.standard_normal((3, 3, 2, 4)).astype(np.float32),
            "conv/bias": rng.standard_normal(4).astype(np.float32),
            "bn/gamma": np.ones(4, np.float32), "bn/beta": np.zeros(4, np.float32),
            "bn/moving_mean": np.zeros(4, np.float32), "bn/moving_variance": np.ones(4, np.float32),
            "fc/kernel": rng.standard_normal((4, 3)).astype(np.float32),
            "fc/bias": np.zeros(3, np.float32),
        }
        model_json = {
            "modelTopology": topology([
                layer("InputLayer", "in", [], batch_input_shape=[None, 5, 5, 2]),
                layer("Conv2D", "conv", ["in"], filters=4, kernel_size=[3, 3], padding="same", activation="relu"),
                layer("BatchNormalization", "bn", ["conv"], momentum=0.9, epsilon=1e-5),
                layer("GlobalAveragePooling2D", "gap", ["bn"]),
                layer("Dense", "fc", ["gap"], units=3),
            ]),
            "weightsManifest": [{"paths": ["./weights.bin"], "weights": [{"name": k, "shape": list(v.shape), "dtype": "float32"} for k, v in weights.items()]}],
        }
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "model.json"), "w", encoding="utf8") as f:
                json.dump(model_json, f)
            with open(os.path.join(tmp, "weights.bin"), "wb") as f:
                f.write(b"".join(v.tobytes() for v in weights.values()))
            model, loaded_json = load_graph_model(os.path.join(tmp, "model.json"), {})
            self.assertEqual(model.input_shape, [5, 5, 2])
            model.eval()
            x = torch.randn(2, 2, 5, 5)
            y = model(x)
            out = os.path.join(tmp, "out")
            export_tfjs_weights(model, loaded_json, out, {"note": 1})
            again, again_json = load_graph_model(os.path.join(out, "model.json"), {})
            again.eval()
            self.assertTrue(torch.equal(again(x), y))
            self.assertEqual(again_json["userDefinedMetadata"], {"note": 1})


if __name__ == "__main__":
    unittest.main()
