"""The Ray Tune adapter: cluster connection, search space translation, searcher/ASHA, resume.

With the rest of this room (trial events, trial errors) and `studies/search/` (the Optuna searcher, replicates,
MO-ASHA), the only modules of `studies` that import Ray; a Ray API change touches these and
`trainables/ray_train.py`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import ray
from ray import tune
from ray.exceptions import RayTaskError
from ray.tune.logger import JsonLoggerCallback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import BasicVariantGenerator
from ray.tune.search.repeater import TRIAL_INDEX

from schema.errors import BadInput
from search_spaces import Choice, Grid, IntRange, LogUniform, Uniform, Variants
from studies.packing import concurrency
from studies.search.mo_asha import MOASHAScheduler
from studies.search.optuna_replicates import MeanOfReplicates
from studies.search.optuna_search import make_searcher
from studies.study import SEED_KEY, Study
from studies.tune import signals
from studies.tune.events import TrialEvents, trainer_result  # noqa: F401 (re-exported: the adapter's API)
from studies.tune.storage import join as join_storage
from studies.tune.trial_errors import error_reason, root_cause  # noqa: F401 (error_reason: re-exported)
from trainables.ray_train import WorkerResources, checkpointed, make_trial

DRIVER_RESOURCE = "hpstudy_driver"  # Tune trial functions only drive Train runs; they must not hold worker CPUs
_ENV = {
    # Train V2 polls its workers every 2 s by default, which delays each epoch's report to Tune (and ASHA).
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    # Worker start-up imports torch and timm; on 2 busy cores the 60 s default can pass while a trial is starting.
    "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S": "300",
    # Tune's legacy output engine prints nothing at verbose=0; the new one still prints its experiment box, the
    # results folder and a TensorBoard hint. Progress is ours (studies.tracking.progress), results are in MLflow.
    "RAY_AIR_NEW_OUTPUT": "0",
    # Keeping one checkpoint per trial (CheckpointConfig(num_to_keep=1)) makes Tune snapshot the experiment state
    # at each checkpoint, and warn about it at every epoch of a short local trial: a small JSON file, no bottleneck.
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    # Tune's own per-trial result files duplicate MLflow, and tensorboardX prints "NaN or Inf found in input
    # tensor." for every non-finite value reported (a κ(J) of inf): of its loggers only the JSON one is kept
    # (run_tuner passes it), which Tune's end-of-run ResultGrid reads (without it: a warning per trial).
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
}
# Only for a Ray this process starts (a cluster joined with --address keeps its own settings):
_LOCAL_ENV = {
    # Tune's trial functions, Train's controllers and workers are ~4 processes per trial: on 2 cores the
    # raylet warns about "4x the maximum expected startup concurrency" (= cores) with only two trials running.
    # More may start at once; on few cores they just share them while they import torch.
    "RAY_worker_maximum_startup_concurrency": str(max(8, os.cpu_count() or 1)),
}
# What a user does not need to read: Ray's INFO lines (cluster started, result files written) and Optuna's
# study creation. Warnings and errors still show, but for the one below.
_QUIET_LOGGERS = ("ray", "ray.tune", "ray.train")
# "Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out": Ray's default for
# a new local cluster, announced as a warning on every start. (Setting RAY_AUTH_MODE=token here instead would
# come too late: Ray reads it when it is imported.)
_TOKEN_NOTICE_LOGGER = "ray._private.authentication.authentication_token_setup"


@dataclass(frozen=True)
class Cluster:
    cpus: float
    gpus: float
    has_driver_resource: bool


def connect(address: str | None, worker_groups: bool = True) -> Cluster:
    """Start a local Ray (all cores; with `worker_groups`, the dashboard for Train's State-API cleanup of a worker
    group's placement group) or join `address`. One-worker trials run in Train's local mode and need no dashboard:
    leaving it out saves a second of start-up and the CPU of its processes."""
    os.environ.update(_ENV)
    if not address:
        for key, value in _LOCAL_ENV.items():
            os.environ.setdefault(key, value)  # a user's own setting wins
    _quiet()
    kwargs: dict[str, Any] = dict(runtime_env={"env_vars": dict(_ENV)}, log_to_driver=False,
                                  logging_level=logging.WARNING)
    if address:
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise BadInput(f"--address {address}: {first}; start a cluster (ray start --head) or drop "
                                    "--address to run on this machine") from None
    elif not worker_groups:
        ray.init(num_cpus=os.cpu_count(), resources={DRIVER_RESOURCE: 10_000}, include_dashboard=False, **kwargs)
    else:
        # Train's workers find the State API by scanning this machine for Ray instances; with a second one running
        # (another study, a notebook's Ray) that fails ("Found multiple active Ray instances") and the trial's
        # worker group never starts. So the dashboard gets a port chosen here and every process is told it.
        port = free_port()
        env = {**kwargs["runtime_env"]["env_vars"], "RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{port}"}
        ray.init(num_cpus=os.cpu_count(), resources={DRIVER_RESOURCE: 10_000}, include_dashboard=True,
                 dashboard_host="127.0.0.1", dashboard_port=port, **{**kwargs, "runtime_env": {"env_vars": env}})
    res = ray.cluster_resources()
    return Cluster(cpus=res.get("CPU", 0.0), gpus=res.get("GPU", 0.0), has_driver_resource=DRIVER_RESOURCE in res)


def free_port() -> int:
    """A TCP port nothing listens on now (the OS's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quiet() -> None:
    """Warnings and errors only from Ray (_QUIET_LOGGERS) and from Optuna under Ray Tune's searcher."""
    import optuna  # OptunaSearch imported it already; its own setter, or its first log resets the level

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger(_TOKEN_NOTICE_LOGGER).setLevel(logging.ERROR)


def held_placement_groups(wait_s: float = 20.0) -> int:
    """Placement groups still reserving resources; Train frees a stopped trial's asynchronously, so wait a little."""
    deadline = time.monotonic() + wait_s
    while True:
        held = [pg for pg in ray.util.placement_group_table().values() if pg["state"] != "REMOVED"]
        if not held or time.monotonic() > deadline:
            return len(held)
        time.sleep(0.5)


def shutdown() -> None:
    """Stop the local Ray (or leave the cluster), saying so if trials left resources reserved."""
    if ray.is_initialized():
        held = held_placement_groups()
        if held:
            print(f"warning: {held} placement group(s) were still reserved when the study ended", file=sys.stderr)
    ray.shutdown()


def _tune_param(value: Any) -> Any:
    if isinstance(value, Variants):
        return tune.grid_search(list(value.configs))
    if isinstance(value, Grid):
        return tune.grid_search(list(value.values))
    if isinstance(value, Choice):
        return tune.choice(list(value.values))
    if isinstance(value, LogUniform):
        return tune.loguniform(value.low, value.high)
    if isinstance(value, Uniform):
        return tune.uniform(value.low, value.high)
    if isinstance(value, IntRange):
        return tune.randint(value.low, value.high + 1)  # Tune's upper bound is exclusive
    return value


class _Replicates(MeanOfReplicates):
    """Each configuration the searcher proposes, trained once per seed; the searcher is told their per-epoch mean
    and how the group ended (studies.search.optuna_replicates), and each trial's config carries its seed in place of
    Repeater's index."""

    def __init__(self, searcher, seeds: tuple[int, ...]) -> None:
        super().__init__(searcher, repeat=len(seeds), set_index=True)
        self.seeds = seeds

    def suggest(self, trial_id: str):
        config = super().suggest(trial_id)  # Repeater's own copy
        if isinstance(config, dict) and TRIAL_INDEX in config:
            config[SEED_KEY] = self.seeds[config.pop(TRIAL_INDEX)]
        return config


def _space(study: Study) -> dict[str, Any]:
    """Tune's param space; empty where Optuna samples: its searcher holds the space (Optuna's define-by-run, with
    conditional parameters) and replicates the seeds (_searcher)."""
    if study.sampled_by_optuna():
        return {}
    return {k: _tune_param(v) for k, v in study.space.items()}


def _optuna_space(study: Study) -> dict[str, Any]:
    return {k: v for k, v in study.space.items() if not (study.replicates() and k == SEED_KEY)}


def _searcher(study: Study, limit: int):
    """(search algorithm, max_concurrent_trials for TuneConfig): `limit` trials at once either way."""
    if study.sampled_by_optuna():
        # Optuna is told the truth: an ASHA-stopped trial is PRUNED with every epoch's value, a labelled stop is
        # PRUNED or FAIL with its reason, only a trial that trained all its epochs is COMPLETE (studies.search.endings)
        objectives = dict(study.objectives) if study.objectives else {study.metric: study.mode}
        tpe = make_searcher(_optuna_space(study), objectives, max_epochs=study.base.epochs, seed=study.search_seed,
                            sampler="random" if study.search == "random" else study.sampler)
        return (_Replicates(tpe, study.replicates()) if study.replicates() else tpe), limit
    if study.search == "random":
        # Tune's default samples anew for every grid point; a Grid of seeds must replicate one sample instead.
        return BasicVariantGenerator(constant_grid_search=True, max_concurrent=limit), None
    return None, limit  # grid: Tune's basic variant generator


def _scheduler(study: Study):
    if study.asha is None:
        return FIFOScheduler()
    if study.objectives:  # successive halving by non-dominated sorting over every objective (studies.search.mo_rungs)
        return MOASHAScheduler(objectives=list(study.objectives), time_attr="epoch", max_t=study.base.epochs,
                               grace_period=study.asha.grace_period, reduction_factor=study.asha.reduction_factor)
    # time_attr is our epoch counter: training_iteration keeps counting across Train retries.
    return ASHAScheduler(time_attr="epoch", max_t=study.base.epochs, grace_period=study.asha.grace_period,
                         reduction_factor=study.asha.reduction_factor)


def max_concurrent(study: Study, cluster: Cluster) -> int:
    """As many trials as the cluster's CPUs (and GPUs) can hold at once; more would only queue Train workers."""
    return concurrency(cpus=cluster.cpus, gpus=cluster.gpus, cpus_per_worker=study.cpus_per_trial,
                       gpus_per_worker=study.gpus_per_trial, workers=study.workers_per_trial)


def run_once(fn: Callable, *args: Any, cpus: float, gpus: float, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` as a Ray task on `cpus`/`gpus` in a worker process that exits afterwards, so the
    memory it used (a GPU's, too) goes back; its exceptions are re-raised as the task's root cause."""
    def call(*a: Any, **k: Any) -> Any:  # a plain function: ray.remote takes no builtins or partials
        return fn(*a, **k)

    task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_calls=1)(call)
    try:
        return ray.get(task.remote(*args, **kwargs))
    except RayTaskError as err:
        raise root_cause(err) from None


@dataclass(frozen=True)
class TrialFn:
    """What Tune runs for each trial: `fn(sampled config)`, holding `resources` while it runs."""

    fn: Callable[[dict[str, Any]], None]
    resources: dict[str, float] | None = None  # None: a driver slot and no CPU, for a `fn` that drives a Train run
    # trial id -> its last checkpoint's {'epoch', 'history', 'stop'}: what the tracker backfills from
    checkpointed: Callable[[str], dict[str, Any] | None] | None = None
    # True: one process may run trial after trial (Tune's reuse_actors), for a `fn` that leaves nothing behind in it;
    # a process start is ~1 s on 2 cores, a lot for a closed-form trial and nothing beside a Train run's start-up.
    reuse_process: bool = False
    # Tune retries a trial whose process died (or whose `fn` raised) this many times, from its last checkpoint.
    max_failures: int = 0


# (study, resolve, storage) -> TrialFn; `train_trial` is the real one, tests pass a closed-form objective.
TrialFactory = Callable[[Study, Callable[[dict[str, Any]], dict[str, Any]], str], TrialFn]


def train_trial(study: Study, resolve: Callable[[dict[str, Any]], dict[str, Any]], storage: str) -> TrialFn:
    """Each trial one Ray Train run of the training loop on the study's per-trial CPUs/GPUs; `resolve` turns the
    sampled config into the full override dict, `storage` keeps the trials' checkpoints for a resume."""
    resources = WorkerResources(cpus=study.cpus_per_trial, gpus=study.gpus_per_trial, workers=study.workers_per_trial)
    # A local-mode trial leaves nothing behind in its process (the loop builds all it uses, seeds and sets its
    # threads itself), so the next trial reuses the process and its imports of torch, timm and the trainer.
    return TrialFn(make_trial(resolve, storage, resources), resources=resources.trial(),
                   checkpointed=partial(checkpointed, storage), max_failures=resources.max_failures,
                   reuse_process=resources.workers == 1)


def run_tuner(study: Study, trial: TrialFn, *, cluster: Cluster, storage: str, name: str, events: TrialEvents,
              resume: bool) -> None:
    """Run (or resume) the study's Tune experiment; Ctrl-C makes it return early, with its state saved."""
    driver = {"cpu": 0, DRIVER_RESOURCE: 1} if cluster.has_driver_resource else {"cpu": 0.01}
    trainable = tune.with_resources(trial.fn, driver if trial.resources is None else trial.resources)
    space = _space(study)
    path = join_storage(storage, name)
    if resume:
        tuner = tune.Tuner.restore(path, trainable, resume_unfinished=True, resume_errored=False,
                                   param_space=space)
    else:
        searcher, limit = _searcher(study, max_concurrent(study, cluster))
        scheduler = _scheduler(study)
        if isinstance(scheduler, MOASHAScheduler):
            events.stop_reasons = scheduler.stopped  # one dict: it pickles with both into tuner.pkl
        if study.asha is not None:
            events.scheduler = scheduler  # its rungs are saved with the experiment as the callback's state
        # Several objectives: the searcher and the scheduler each hold all of them; Tune's single metric stays unset
        metric, mode = (None, None) if study.objectives else (study.metric, study.mode)
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(
                metric=metric, mode=mode, search_alg=searcher, scheduler=scheduler,
                # Repeater counts each seed's trial: a TPE search's configurations x seeds
                num_samples=study.total_trials() if study.sampled_by_optuna() else study.num_samples,
                max_concurrent_trials=limit, reuse_actors=trial.reuse_process,
            ),
            run_config=tune.RunConfig(name=name, storage_path=storage, callbacks=[events, JsonLoggerCallback()], verbose=0,
                                      failure_config=tune.FailureConfig(max_failures=trial.max_failures),
                                      checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
        )
    with signals.forward_sigterm(signal.SIGUSR1):  # Tune stops on SIGUSR1 as on Ctrl-C (ray.tune.tune)
        tuner.fit()
