"""The Ray Train adapter: one trial = one `TorchTrainer` run of `trainables.loop.run`, reporting to Ray Tune.

The only module of `trainables` that imports Ray; the loop sees a `Sink` and nothing else.

A one-worker trial runs in Ray Train's local mode (`ScalingConfig(num_workers=0)`): the loop runs in the Tune
trial's own process, which holds the trial's CPUs and GPUs. A worker group (a controller and a worker process,
each importing torch, with Train's placement group, health checks and storage sync) cost a trial ~20 s of start-up
and ~26 CPU-s on 2 cores, several times what a local profile's training takes. In local mode Ray Train
2.60's `ray.train.report` keeps only the last metrics and persists no checkpoint, and `ray.train.get_checkpoint()`
sees none of an earlier attempt, so this sink reports through the Tune trial's session (`ray.tune.report`): each
epoch reaches Tune (and ASHA) as it ends. Its checkpoints are hpstudy's, in the trial's folder in the study's storage
(trainables.checkpointing.trial_store), never handed to Tune: Tune's `FailureConfig` restarts a trial whose process
died, and the trial continues from its newest checkpoint there, as a resumed one does.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any, Callable

import ray.train
import ray.tune
from ray.train.torch import TorchTrainer
from ray.tune.integration.ray_train import TuneReportCallback

from trainables.checkpointing import checkpoint, trial_store
from trainables.checkpointing.trial_store import run_name
from trainables.loop import STOP_DETAIL, STOP_REASON
from trainables.loop import train as builtin_train
from trainables.trial import TrainFn
from trainables.trial import run as run_trial


@dataclass(frozen=True)
class WorkerResources:
    cpus: float = 1.0  # per Train worker; also its torch thread count
    gpus: float = 0.0
    workers: int = 1  # 1: the loop runs in the trial's own process (Train's local mode); N > 1: a worker group
    max_failures: int = 2  # worker crashes Ray Train retries from the last checkpoint (worker groups only)

    def trial(self) -> dict[str, float] | None:
        """What the Tune trial itself holds: everything in local mode; None (a driver slot) for a worker group."""
        if self.workers > 1:
            return None
        return {"cpu": self.cpus, **({"gpu": self.gpus} if self.gpus else {})}


class _Sink:
    """Checkpoints in the study's storage, so a retried or resumed trial continues from its last epoch: a worker
    group's through Ray Train's run, a local-mode trial's in its folder there (trial_store), unknown to Tune."""

    def __init__(self, api, storage_path: str = "", trial_id: str = "") -> None:
        self._api = api  # ray.train (a worker group) or ray.tune (local mode: storage_path and trial_id given)
        self._storage, self._trial_id = storage_path, trial_id
        self._last: dict[str, Any] | None = None  # what an in-process retry (out of memory) continues from
        self._saved: dict[str, Any] | None = None  # the restored checkpoint's {'epoch', 'history', 'stop'}
        self._reports = 0  # made in this process

    def restore(self) -> dict[str, Any] | None:
        if self._last is not None:
            return self._last
        if self._api is ray.tune:
            with trial_store.newest(self._storage, self._trial_id) as directory:
                if directory is None:
                    return None
                self._saved = checkpoint.load_history(directory)
                return checkpoint.load(directory)
        ckpt = self._api.get_checkpoint()
        if ckpt is None:
            return None
        with ckpt.as_directory() as directory:
            return checkpoint.load(directory)

    def resend_last(self) -> None:
        """A restarted trial that had nothing left to train (its last epoch checkpointed, then the driver was killed
        or stopped before Tune saw it end) reports that epoch again, with how it stopped: Tune ends a trial on its
        last result, which must hold the study's metric. The tracker logs no epoch twice."""
        if self._reports or not self._saved or not self._saved.get("history"):
            return
        last = dict(self._saved["history"][-1])
        if self._saved.get("stop"):
            last[STOP_REASON], last[STOP_DETAIL] = self._saved["stop"]
        self._api.report(last)

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        self._reports += 1
        if state is None:  # a stopped run's last words: nothing worth resuming from
            self._api.report(metrics)
            return
        self._last = state
        if self._api is ray.train and ray.train.get_context().get_world_rank() != 0:
            self._api.report(metrics)  # every rank reports (the same figures: trainables.distributed); rank 0 saves
            return
        if self._api is ray.tune:  # saved before its report: the driver may read the checkpoint as it ends
            trial_store.save(self._storage, self._trial_id, lambda directory: checkpoint.save(state, directory))
            self._api.report(metrics)
            return
        with tempfile.TemporaryDirectory() as directory:
            checkpoint.save(state, directory)
            self._api.report(metrics, checkpoint=self._api.Checkpoint.from_directory(directory))


def _worker_loop(loop_config: dict[str, Any]) -> None:
    """A Train worker's body: the trial's training function, through its handle (trainables.trial)."""
    sink = (_Sink(ray.tune, loop_config["storage"], loop_config["trial_id"]) if loop_config["local"]
            else _Sink(ray.train))
    run_trial(loop_config["train"], loop_config["config"], sink, objectives=loop_config["objectives"],
              threads=loop_config["threads"])
    if loop_config["local"]:
        sink.resend_last()


def checkpointed(storage_path: str, trial_id: str) -> dict[str, Any] | None:
    """{'epoch', 'history', 'stop'} of the trial's newest checkpoint (read in the driver, weights left in storage),
    a local-mode trial's or a worker group's: both are under storage_path/run_name(trial_id)/ (trial_store)."""
    return trial_store.history(storage_path, trial_id)


def make_trial(resolve: Callable[[dict[str, Any]], dict[str, Any]], storage_path: str, resources: WorkerResources,
               train: TrainFn = builtin_train, objectives: tuple[str, ...] = ()) -> Callable[[dict[str, Any]], None]:
    """A Tune function trainable running `train(config, trial)` (hpstudy's trainer unless a study names its own) in
    a Ray Train run. `resolve` turns the sampled trial config into the config the function gets; `objectives`: the
    metrics its first report must hold.

    The Train run is named after the Tune trial, so a resumed trial finds its own checkpoints in `storage_path`.
    """
    local = resources.workers == 1
    threads = max(1, int(resources.cpus))  # one torch thread per reserved CPU, so trials never oversubscribe

    def trial(config: dict[str, Any]) -> None:
        gpu = {"GPU": resources.gpus} if resources.gpus else {}
        trial_id = ray.tune.get_context().get_trial_id()
        trainer = TorchTrainer(
            _worker_loop,
            train_loop_config={"train": train, "config": resolve(config), "local": local, "objectives": objectives,
                               "threads": threads, "storage": storage_path, "trial_id": trial_id},
            scaling_config=ray.train.ScalingConfig(num_workers=0) if local else ray.train.ScalingConfig(
                num_workers=resources.workers, use_gpu=resources.gpus > 0,
                resources_per_worker={"CPU": resources.cpus, **gpu},
            ),
            run_config=ray.train.RunConfig(
                name=run_name(trial_id),
                storage_path=storage_path,
                callbacks=[] if local else [TuneReportCallback()],
                failure_config=ray.train.FailureConfig(max_failures=resources.max_failures),
                checkpoint_config=ray.train.CheckpointConfig(num_to_keep=1),
            ),
        )
        trainer.fit()

    return trial
