"""What a trial trained on, as an MLflow dataset input (the runs table's Dataset column): a name, the source it was
read from, and a digest of everything that decides which examples it saw (the dataset, its root, the split and its
seed, a training limit, the image size), so two runs with the same digest trained on the same data.

hpstudy's trainer's `DataConfig` says all of it. A training function of one's own: its defaults' `dataset` (or
`data`) value, a name or a path, when it has one; otherwise no input is logged (nothing is guessed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from mlflow.entities import Dataset, DatasetInput, InputTag

CONTEXT_TAG = "mlflow.data.context"  # MLflow's own tag: which role the dataset played in the run
_SELECTS = ("name", "root", "val_fraction", "split_seed", "limit_train", "image_size")  # DataConfig: which examples
_OWN_KEYS = ("dataset", "data")


@dataclass(frozen=True)
class TrialData:
    name: str
    source: str
    selection: dict[str, Any]

    def digest(self) -> str:
        text = json.dumps({"name": self.name, "source": self.source, **self.selection}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def input(self) -> DatasetInput:
        dataset = Dataset(name=self.name, digest=self.digest(), source_type="local" if self.source.startswith("/")
                          else "code", source=json.dumps({"uri": self.source}),
                          profile=json.dumps(self.selection, default=str))
        return DatasetInput(dataset=dataset, tags=[InputTag(key=CONTEXT_TAG, value="training")])


def of_config(cfg: Any, own: bool) -> TrialData | None:
    """The data a trial's resolved config trains on; None for a function whose defaults name none."""
    if own:
        value = next((cfg[k] for k in _OWN_KEYS if isinstance(cfg.get(k), str) and cfg[k]), None)
        if value is None:
            return None
        return TrialData(name=value.rstrip("/").rsplit("/", 1)[-1] or value, source=value, selection={})
    data = cfg.data
    selection = {k: getattr(data, k) for k in _SELECTS if k not in ("name", "root")}
    source = data.root if data.root else f"built-in:{data.name}"  # mnist5k, digits, ... ship with their packages
    name = data.name + (f" (first {data.limit_train})" if data.limit_train else "")
    return TrialData(name=name, source=source, selection=selection)
