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
    seeds: list[int] | str | None = None  # --seeds ("auto": in waves); None: the study's own
    replication: str | None = None  # --replication's overrides of the study's policy
    confirm: int | None = None  # --confirm K
    wave: int = 0  # sequential replication: the number of the last wave started (studies.cli.waves)
    wave_configs: list[str] | None = None  # that wave's configurations (the baseline first) and seeds: a resume
    wave_seeds: list[int] | None = None  # finishes it as it was planned
    pretrain_checkpoint: str | None = None  # the finished pretraining's state.pt (Study.pretrain): a resume reuses it
    workers: int | None = None  # Train workers per trial as run (--workers or the study's); None: a state from before
    storage: str | None = None  # Ray's storage for the study (studies.tune.storage.resolve); None: RUNS_DIR/ray/STUDY


def state_path(folder: Path) -> Path:
    """`folder`: RUNS_DIR/ray/STUDY on the driver, wherever --storage puts Ray's experiment."""
    return folder / "latest.json"


def save_state(folder: Path, state: StudyState) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = state_path(folder).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(state_path(folder))


def load_state(folder: Path) -> StudyState | None:
    path = state_path(folder)
    return StudyState(**json.loads(path.read_text())) if path.exists() else None
