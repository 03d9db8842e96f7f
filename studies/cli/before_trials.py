"""The steps a study runs before its trials, each once, as a Ray task on one trial's resources (its GPU on a
cluster) in a process that exits when it returns: the pretraining (`Study.pretrain`) and the LR range test.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studies.assembly import pretrain
from studies.cli.exit_status import PretrainFailed
from studies.study import Study

if TYPE_CHECKING:
    from studies.tracking.tracker import StudyTracker
    from trainables.config import TrainConfig

FINE_STOPS = frozenset({"early_stopped"})  # a pretraining stop the trials may start from; any other fails the study


def train(cfg: TrainConfig, out: str) -> dict[str, Any]:
    """Train `cfg` to its end (in the Ray task's process), its checkpoint in `out` after every epoch, continuing
    from one there; the final report, numbers and the stop reason only."""
    from trainables.loop import STOP_DETAIL, STOP_REASON, run
    from trainables.train import LocalSink

    last = run(cfg, LocalSink(Path(out), resume=True))
    kept = {k: float(v) for k, v in last.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {**kept, **{k: str(last[k]) for k in (STOP_REASON, STOP_DETAIL) if k in last}}


def pretraining(study: Study, tracker: StudyTracker, runs_dir: Path, tuner) -> str:
    """Run the pretraining once, log it on the parent run, and return its checkpoint's absolute path."""
    from trainables.checkpointing.checkpoint import HISTORY_FILE, STATE_FILE
    from trainables.loop import STOP_DETAIL, STOP_REASON

    cfg, out = study.pretrain, pretrain.folder(runs_dir, tracker.parent_run_id)
    assert cfg is not None
    print(f"pretraining: {cfg.epochs} epochs of {cfg.model.name} on {cfg.data.name}, once, before the trials; "
          f"checkpoint in {out}", flush=True)
    report = tuner.run_once(train, cfg, str(out), cpus=study.cpus_per_trial, gpus=study.gpus_per_trial)
    checkpoint = str(out / STATE_FILE)
    numbers = {k: v for k, v in report.items() if isinstance(v, float) and math.isfinite(v)}
    reason = report.get(STOP_REASON)
    stop = f"{reason}: {report.get(STOP_DETAIL, '')}" if reason else None
    tracker.log_pretraining(checkpoint, cfg, [out / STATE_FILE, out / HISTORY_FILE], numbers, stop)
    if reason and reason not in FINE_STOPS:
        raise PretrainFailed(f"pretraining stopped at epoch {int(report.get('epoch', 0))}: {reason} "
                             f"({report.get(STOP_DETAIL, '')}); no trial starts from it")
    shown = ", ".join(f"{k}={report[k]:.4g}" for k in sorted(report) if k.split("/")[0] in ("val", "test")
                      and isinstance(report[k], float))
    print(f"pretraining done ({int(report.get('epoch', cfg.epochs))} epochs{': ' + shown if shown else ''}); "
          f"every trial starts from {checkpoint}", flush=True)
    return checkpoint


def lr_range(study: Study, steps: int, tracker: StudyTracker, runs_dir: Path, tuner) -> str:
    """Seed 000's recipe as a study step: sweep the LR on the base config, log the curve, return the pick (the
    optim.lr every trial then trains at, as the `--set` value it becomes)."""
    from trainables.optim.lr_range import plot, run_range_test, write_csv

    result = tuner.run_once(run_range_test, study.base, steps=steps, cpus=study.cpus_per_trial,
                            gpus=study.gpus_per_trial)
    out = runs_dir / "lr_range" / tracker.parent_run_id
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result, out / "lr_range.csv")
    plot(result, out / "lr_range.png")
    suggestion = f"{result.suggestion:.4g}"
    tracker.log_lr_range(out, suggestion)
    print(f"LR range test ({len(result.lrs)} steps): every trial trains at optim.lr={suggestion}", flush=True)
    return suggestion
