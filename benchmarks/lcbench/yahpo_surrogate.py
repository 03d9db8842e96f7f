"""YAHPO Gym's LCBench surrogate read with onnxruntime directly, as `yahpo_gym`'s `BenchmarkSet` does it (its
`_config_to_xs`): the instance integer-encoded by `encoding.json`, the rest as floats in the `lcbench` config's order.

`yahpo-gym` itself pins numpy < 2, so it is not a dependency; this file is the ~30 lines of it we need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EPOCHS = 52  # LCBench's fidelity: epochs 1..52
# yahpo_gym's `lcbench` config: cont_names (fidelity first) and y_names, in the model's order
INPUTS = ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units", "max_dropout")
OUTPUTS = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
           "test_balanced_accuracy")
INTEGERS = ("batch_size", "num_layers", "max_units")  # YAHPO's domain: rounded after sampling on a log scale
FILES = ("model.onnx", "encoding.json", "config_space.json")


class MissingSurrogate(FileNotFoundError):
    """The surrogate's folder lacks a file; the CLI prints this one line and exits 2."""


@dataclass(frozen=True)
class Curves:
    """A batch of configurations' learning curves on one instance: arrays of shape (n, epochs asked for)."""

    time: np.ndarray  # seconds of the real run, cumulative to the epoch's end
    val_acc: np.ndarray  # validation accuracy, percent
    test_acc: np.ndarray  # test balanced accuracy, percent (LCBench's surrogate has no plain test accuracy)


class Surrogate:
    """`Surrogate(folder)`: the ONNX model of one YAHPO Gym release's `lcbench` scenario."""

    def __init__(self, folder: Path | str, *, threads: int = 1) -> None:
        folder = Path(folder)
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise MissingSurrogate(f"the LCBench surrogate folder {folder} lacks {', '.join(missing)} (YAHPO Gym's "
                                   f"`lcbench` files: give --surrogate)")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads  # one core per worker process
        self.session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                    providers=["CPUExecutionProvider"])
        self.encoding: dict[str, int] = json.loads((folder / "encoding.json").read_text())["OpenML_task_id"]
        space = json.loads((folder / "config_space.json").read_text())["hyperparameters"]
        self.instances: tuple[str, ...] = tuple(next(h for h in space if h["name"] == "OpenML_task_id")["choices"])
        self.bounds = {h["name"]: (h["lower"], h["upper"], bool(h.get("log"))) for h in space if "lower" in h}

    def curves(self, instance: str, configs: Sequence[Mapping[str, float]], epochs: Sequence[int] = ()) -> Curves:
        """Each configuration (keys: INPUTS but epoch) at `epochs` (default: every epoch), in one ONNX call; the
        arrays are (n, len(epochs))."""
        if instance not in self.encoding:
            raise KeyError(f"unknown LCBench instance {instance!r}; valid: {', '.join(self.instances)}")
        epochs = np.asarray(epochs or range(1, EPOCHS + 1), dtype=np.float32)
        n, m = len(configs), len(epochs)
        x = np.empty((n, m, len(INPUTS)), dtype=np.float32)
        x[:, :, 0] = epochs
        for j, name in enumerate(INPUTS[1:], start=1):
            values = np.array([float(c[name]) for c in configs])
            x[:, :, j] = (np.round(values) if name in INTEGERS else values)[:, None]
        cat = np.full((n * m, 1), self.encoding[instance], dtype=np.int32)
        out = self.session.run(None, {"x_cat": cat, "x_cont": x.reshape(n * m, len(INPUTS))})[0]
        out = out.reshape(n, m, len(OUTPUTS)).astype(float)
        return Curves(time=out[..., 0], val_acc=out[..., 1], test_acc=100.0 * out[..., 5])

    def sample(self, rng: np.random.Generator, n: int) -> list[dict[str, float]]:
        """`n` configurations uniformly from YAHPO's search space (log scale where config_space.json says log)."""
        cols = {}
        for name in INPUTS[1:]:
            low, high, log = self.bounds[name]
            u = rng.uniform(np.log(low), np.log(high), n) if log else rng.uniform(low, high, n)
            cols[name] = np.exp(u) if log else u
        cols["num_layers"] = rng.integers(1, 6, n).astype(float)  # an integer range: each layer count equally likely
        return [{k: float(v[i]) for k, v in cols.items()} for i in range(n)]
