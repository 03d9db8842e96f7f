"""A study's pretraining step (`Study.pretrain`): trained once before the trials, as a Ray task on one trial's
resources; every trial then starts from its final checkpoint (`init.checkpoint`, with the base's mode and keep).
Also which of the steps before the trials (pretraining, LR range test) a user's settings replace.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studies.study import Study
from studies.tracking.logged_config import config_dict
from trainables.checkpointing.checkpoint import HISTORY_FILE, STATE_FILE
from trainables.config import TrainConfig

if TYPE_CHECKING:
    from studies.tracking.tracker import StudyTracker

# Parent-run keys (they belong with schema.params' once that module takes them; kept here while it is not ours).
CHECKPOINT_PARAM = "pretrain.checkpoint"  # the state.pt every trial's init.checkpoint names
METRIC_PREFIX = "pretrain/"  # the pretraining's final report: pretrain/val/acc, pretrain/test/acc, ...
STOP_PARAM = "pretrain.stop"  # how it ended when a monitor stopped it (stop/reason: stop/detail)
ARTIFACTS = "pretrain"  # parent artifacts: state.pt, history.json, config.yaml
FINE_STOPS = frozenset({"early_stopped"})  # a stop the trials may start from; any other (diverged, ...) fails


class PretrainFailed(RuntimeError):
    """The pretraining ended in a state no trial should start from (diverged, collapsed, out of memory)."""


def folder(runs_dir: Path, parent_run_id: str) -> Path:
    return runs_dir / "pretrain" / parent_run_id


def fit(study: Study, sets: dict[str, str]) -> Study:
    """`study` (as studies.assembly.assemble built it) whose pretraining has the user's `--set` too, but init.* (the trials'
    init.checkpoint is the pretraining's; a user's replaces it), its paths absolute as the trials' are, and, in a
    rehearsal, its sizes shrunk after the sets, as the trials' are. One place, called wherever a study is built to
    run or to show."""
    if study.pretrain is None:
        return study
    from studies.assembly import smoke
    from trainables.config.overrides import apply_overrides
    from trainables.config.paths import absolute_paths

    cfg = absolute_paths(apply_overrides(study.pretrain, {k: v for k, v in sets.items() if not k.startswith("init.")}))
    if study.profile == "smoke":
        root = study.pretrain.data.root  # shrink already put the rehearsal's data there
        cfg, _ = smoke.shrink_config(cfg, Path(root) if root else None)
    return replace(study, pretrain=cfg)


def replaced_by(study: Study) -> str | None:
    """The init.checkpoint that replaces the study's pretraining (a user's --set), or None: it runs."""
    if study.pretrain is None or not study.base.init.checkpoint:
        return None
    return study.base.init.checkpoint


def start_from(study: Study, checkpoint: str) -> Study:
    """`study` whose every trial starts from `checkpoint` (an absolute path), with the base's init.mode/keep."""
    return replace(study, base=replace(study.base, init=replace(study.base.init, checkpoint=checkpoint)))


def train(cfg: TrainConfig, out: str) -> dict[str, Any]:
    """Train `cfg` to its end (in the Ray task's process), its checkpoint in `out` after every epoch, continuing
    from one there; the final report, numbers and the stop reason only."""
    from trainables.loop import STOP_DETAIL, STOP_REASON, run
    from trainables.train import LocalSink

    last = run(cfg, LocalSink(Path(out), resume=True))
    kept = {k: float(v) for k, v in last.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {**kept, **{k: str(last[k]) for k in (STOP_REASON, STOP_DETAIL) if k in last}}


def step(study: Study, tracker: StudyTracker, runs_dir: Path, tune) -> str:
    """Run the pretraining once, log it on the parent run, and return its checkpoint's absolute path."""
    from trainables.loop import STOP_DETAIL, STOP_REASON

    cfg, out = study.pretrain, folder(runs_dir, tracker.parent_run_id)
    assert cfg is not None
    print(f"pretraining: {cfg.epochs} epochs of {cfg.model.name} on {cfg.data.name}, once, before the trials; "
          f"checkpoint in {out}", flush=True)
    report = tune.run_once(train, cfg, str(out), cpus=study.cpus_per_trial, gpus=study.gpus_per_trial)
    parent = tracker.parent_run_id
    checkpoint = str(out / STATE_FILE)
    tracker.client.log_param(parent, CHECKPOINT_PARAM, checkpoint)
    tracker.client.log_dict(parent, config_dict(cfg), f"{ARTIFACTS}/config.yaml")
    for name in (STATE_FILE, HISTORY_FILE):
        tracker.client.log_artifact(parent, str(out / name), ARTIFACTS)
    numbers = {f"{METRIC_PREFIX}{k}": v for k, v in report.items()
               if isinstance(v, float) and math.isfinite(v)}
    if numbers:
        tracker.client.log_batch(parent, metrics=_metrics(numbers))
    reason = report.get(STOP_REASON)
    if reason:
        tracker.client.log_param(parent, STOP_PARAM, f"{reason}: {report.get(STOP_DETAIL, '')}"[:500])
        if reason not in FINE_STOPS:
            raise PretrainFailed(f"pretraining stopped at epoch {int(report.get('epoch', 0))}: {reason} "
                                 f"({report.get(STOP_DETAIL, '')}); no trial starts from it")
    shown = ", ".join(f"{k}={report[k]:.4g}" for k in sorted(report) if k.split("/")[0] in ("val", "test")
                      and isinstance(report[k], float))
    print(f"pretraining done ({int(report.get('epoch', cfg.epochs))} epochs{': ' + shown if shown else ''}); "
          f"every trial starts from {checkpoint}", flush=True)
    return checkpoint


def lr_range_steps(study: Study, sets: dict[str, str], flag: int | None) -> int:
    """The LR range test's steps: --lr-range's, else the study's own unless the user's --set optim.lr chose it."""
    if flag is not None:
        return flag
    return 0 if "optim.lr" in sets else study.lr_range_steps


def replaced_steps(study: Study, sets: dict[str, str], flag: int | None) -> list[str]:
    """A line for each step of the study that the user's settings replace, so it is not run."""
    notes = []
    checkpoint = replaced_by(study)
    if checkpoint is not None:
        notes.append(f"init.checkpoint={checkpoint} replaces the study's pretraining, which is not run; every "
                     f"trial starts from that checkpoint (init.mode={study.base.init.mode})")
    if study.lr_range_steps and flag is None and "optim.lr" in sets:
        notes.append(f"optim.lr={sets['optim.lr']} replaces the study's LR range test, which is not run")
    return notes


def _metrics(values: dict[str, float]) -> list:
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    return [Metric(key, value, now, 0) for key, value in values.items()]
