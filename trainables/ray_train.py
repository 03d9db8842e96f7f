"""The Ray Train adapter: one trial = one `TorchTrainer` run of `trainables.loop.run`, reporting to Ray Tune.

The only module of `trainables` that imports Ray; the loop sees a `Sink` and nothing else.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import ray.train
import ray.tune
from ray.train.torch import TorchTrainer
from ray.tune.integration.ray_train import TuneReportCallback

from trainables import checkpoint
from trainables.config import TrainConfig
from trainables.loop import run
from trainables.overrides import apply_overrides


@dataclass(frozen=True)
class WorkerResources:
    cpus: float = 1.0  # per Train worker; also its torch thread count
    gpus: float = 0.0
    max_failures: int = 2  # worker crashes Ray Train retries from the last checkpoint


class _RayTrainSink:
    """Checkpoints through Ray Train's storage, so a retried or resumed trial continues from its last epoch."""

    def __init__(self) -> None:
        self._last: dict[str, Any] | None = None  # what an in-process retry (out of memory) continues from

    def restore(self) -> dict[str, Any] | None:
        if self._last is not None:
            return self._last
        ckpt = ray.train.get_checkpoint()
        if ckpt is None:
            return None
        with ckpt.as_directory() as directory:
            return checkpoint.load(directory)

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        if state is None:  # a stopped run's last words: nothing worth resuming from
            ray.train.report(metrics)
            return
        self._last = state
        with tempfile.TemporaryDirectory() as directory:
            checkpoint.save(state, directory)
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(directory))


def _worker_loop(loop_config: dict[str, Any]) -> None:
    cfg = apply_overrides(TrainConfig(), loop_config["overrides"])
    run(cfg, _RayTrainSink())


def run_name(trial_id: str) -> str:
    """The Train run of Tune trial `trial_id`: its checkpoints are under storage_path/run_name(trial_id)/."""
    return f"train_{trial_id}"


def checkpointed(storage_path: str, trial_id: str) -> dict[str, Any] | None:
    """{'epoch', 'history', 'stop'} of the trial's latest checkpoint (read in the driver, weights left on disk)."""
    saved = [checkpoint.load_history(d) for d in (Path(storage_path) / run_name(trial_id)).glob("checkpoint_*")]
    saved = [s for s in saved if s is not None]
    return max(saved, key=lambda s: s["epoch"]) if saved else None


def make_trial(resolve: Callable[[dict[str, Any]], dict[str, Any]], storage_path: str,
               resources: WorkerResources) -> Callable[[dict[str, Any]], None]:
    """A Tune function trainable. `resolve` turns the sampled trial config into the full override dict.

    The Train run is named after the Tune trial, so a resumed trial finds its own checkpoints in `storage_path`.
    """

    def trial(config: dict[str, Any]) -> None:
        overrides = resolve(config)
        if not overrides.get("num_threads"):  # one torch thread per reserved CPU, so trials never oversubscribe
            overrides["num_threads"] = max(1, int(resources.cpus))
        trainer = TorchTrainer(
            _worker_loop,
            train_loop_config={"overrides": overrides},
            scaling_config=ray.train.ScalingConfig(
                num_workers=1, use_gpu=resources.gpus > 0,
                resources_per_worker={"CPU": resources.cpus, **({"GPU": resources.gpus} if resources.gpus else {})},
            ),
            run_config=ray.train.RunConfig(
                name=run_name(ray.tune.get_context().get_trial_id()),
                storage_path=storage_path,
                callbacks=[TuneReportCallback()],
                failure_config=ray.train.FailureConfig(max_failures=resources.max_failures),
                checkpoint_config=ray.train.CheckpointConfig(num_to_keep=1),
            ),
        )
        trainer.fit()

    return trial
