"""What `--resume` needs to continue a study: its Tune experiment, MLflow parent run, the original arguments and
what its steps before the trials produced (the pretraining's checkpoint; the LR range test's pick is in `sets`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class StudyState:
    study: str
    profile: str
    sets: dict[str, str]
    num_samples: int | None
    experiment: str  # Tune experiment name under the study's storage folder
    parent_run_id: str
    tracking_uri: str
    finished: bool = False
    seeds: list[int] | None = None  # --seeds; None: the study's own (and a state saved before --seeds existed)
    pretrain_checkpoint: str | None = None  # the finished pretraining's state.pt (Study.pretrain): a resume reuses it
    workers: int | None = None  # Train workers per trial as run (--workers or the study's); None: a state from before


def state_path(storage: Path) -> Path:
    return storage / "latest.json"


def save_state(storage: Path, state: StudyState) -> None:
    storage.mkdir(parents=True, exist_ok=True)
    tmp = state_path(storage).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(state_path(storage))


def load_state(storage: Path) -> StudyState | None:
    path = state_path(storage)
    return StudyState(**json.loads(path.read_text())) if path.exists() else None
