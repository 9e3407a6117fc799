"""The job file the TypeScript launcher writes (shared/engineProtocol.ts `TorchJob`), read into a
dataclass. TypeScript resolves everything here (the experiment with its defaults, the learning
rate of every epoch, the histogram bins, the evaluation batch, the data's absolute path and
normalization, how each ternary layer is ternarized, where the checkpoint and the final model go):
Python restates none of it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .activations import RangeRule
from .checkpoint import Slots
from .events import PROTOCOL_VERSION


class JobError(Exception):
    """A job file this package cannot run (another protocol version, a missing field)."""


@dataclass(frozen=True)
class Recipe:
    """The parts of the experiment's `train` block the loop uses."""

    epochs: int
    batch_size: int
    optimizer: str
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    seed: int
    # train.workers: DataLoader processes per rank; None: automatic (data.py's automatic_workers).
    workers: Optional[int]


@dataclass(frozen=True)
class LayerQuant:
    """A ternary layer's quantization as TypeScript resolved it (shared/engineProtocol.ts TorchLayerQuant)."""

    method: str
    threshold: str
    tex: int
    # Fixed thresholds: branch k's Δ is factors[k]·max|W| (he2019) or factors[k]·mean|W| (twn).
    factors: tuple[float, ...]
    # "int8": the layer fake-quantizes its input with its input range (activations.py); None: float.
    input_quant: Optional[str] = None


def parse_layer_quant(raw: Mapping[str, Any]) -> dict[str, LayerQuant]:
    """The job's `layerQuant` (layer name → its settings) as LayerQuant values."""
    out: dict[str, LayerQuant] = {}
    for name, q in raw.items():
        quant = LayerQuant(method=str(q["method"]), threshold=str(q["threshold"]), tex=int(q["tex"]),
                           factors=tuple(float(f) for f in q["factors"]),
                           input_quant=str(q["inputQuant"]) if q.get("inputQuant") is not None else None)
        if quant.input_quant not in (None, "int8"):
            raise JobError(f"layerQuant of layer '{name}': inputQuant {quant.input_quant!r} is not one this engine computes; the engine's Python files and the studio do not match.")
        if len(quant.factors) != quant.tex:
            raise JobError(f"layerQuant of layer '{name}': {len(quant.factors)} threshold factors for t_ex {quant.tex}; the engine's Python files and the studio do not match.")
        out[name] = quant
    return out


@dataclass(frozen=True)
class Job:
    run_id: str
    run_dir: str
    init_model: str
    device: str
    cancel_file: str
    outputs_probabilities: bool
    experiment_name: str
    classes: int
    recipe: Recipe
    layer_quant: dict[str, LayerQuant]
    activation_ranges: RangeRule
    eval_batch_size: int
    checkpoints: Slots
    model_dir: str
    # Temporary names hold it (server/files/atomicFiles.ts TEMP_MARKER), so a resume removes what a killed session left.
    temp_marker: str
    learning_rates: list[float]
    histogram_bins: int
    batch_records_per_epoch: int
    data: dict[str, Any]


def parse_job(raw: dict[str, Any]) -> Job:
    """The Job of a decoded job file; raises JobError naming what does not fit."""
    if raw.get("v") != PROTOCOL_VERSION:
        raise JobError(
            f"the job file is of protocol version {raw.get('v')!r}, this engine speaks {PROTOCOL_VERSION}: "
            "the engine's Python files and the studio do not match (reinstall the extension)."
        )
    try:
        experiment = raw["experiment"]
        train = experiment["train"]
        return Job(
            run_id=raw["runId"],
            run_dir=raw["runDir"],
            init_model=raw["initModel"],
            device=raw["device"],
            cancel_file=raw["cancelFile"],
            outputs_probabilities=bool(raw["outputsProbabilities"]),
            experiment_name=experiment["name"],
            classes=int(experiment["model"]["classes"]),
            recipe=Recipe(
                epochs=int(train["epochs"]),
                batch_size=int(train["batchSize"]),
                optimizer=train["optimizer"],
                lr=float(train["lr"]),
                momentum=float(train["momentum"]),
                nesterov=bool(train["nesterov"]),
                weight_decay=float(train["weightDecay"]),
                seed=int(train["seed"]),
                workers=int(train["workers"]) if train.get("workers") is not None else None,
            ),
            layer_quant=parse_layer_quant(raw["layerQuant"]),
            activation_ranges=RangeRule(observe_epochs=int(raw["activationRanges"]["observeEpochs"]),
                                        momentum=float(raw["activationRanges"]["momentum"])),
            eval_batch_size=int(raw["evalBatchSize"]),
            checkpoints=Slots(dir=raw["checkpoints"]["dir"], file=raw["checkpoints"]["file"], slots=tuple(raw["checkpoints"]["slots"]),
                              temp_marker=raw["tempMarker"]),
            model_dir=raw["modelDir"],
            temp_marker=raw["tempMarker"],
            learning_rates=[float(r) for r in raw["learningRates"]],
            histogram_bins=int(raw["histogramBins"]),
            batch_records_per_epoch=int(raw["batchRecordsPerEpoch"]),
            data=raw["data"],
        )
    except KeyError as err:
        raise JobError(f"the job file lacks {err.args[0]!r}: the engine's Python files and the studio do not match.") from err


def read_job(path: str) -> Job:
    with open(path, "r", encoding="utf8") as f:
        return parse_job(json.load(f))
