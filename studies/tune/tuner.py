"""The Ray Tune adapter: search space translation, searcher/ASHA, the Tuner and its resume, Ray tasks (`run_once`).

With the rest of this room (the cluster, trial events, trial errors, the Optuna searcher, replicates, MO-ASHA), the
only modules of `studies` that import Ray; a Ray API change touches these and
`trainables/ray_train.py`.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import optuna
import ray
from ray import cloudpickle, tune
from ray.exceptions import RayTaskError
from ray.tune.logger import JsonLoggerCallback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import BasicVariantGenerator
from ray.tune.search.repeater import TRIAL_INDEX

from search_spaces import Choice, Grid, IntRange, LogUniform, Uniform, Variants
from studies.packing import concurrency
from studies.study import SEED_KEY, Study
from studies.trial_config import kind
from studies.tune import signals
from studies.tune.cluster import DRIVER_RESOURCE, Cluster
from studies.tune.events import TrialEvents, trainer_result  # noqa: F401 (re-exported: the adapter's API)
from studies.tune.mo_asha import MOASHAScheduler
from studies.tune.optuna_replicates import MeanOfReplicates
from studies.tune.optuna_search import STARTUP, make_searcher
from studies.tune.storage import join as join_storage
from studies.tune.trial_errors import error_reason, root_cause, tracebacks_to  # noqa: F401 (error_reason: re-exported)
from trainables.ray_train import WorkerResources, checkpointed, make_trial


def _epochs(study: Study) -> int:
    """The epochs a trial trains when nothing stops it: ASHA's max_t, and where Optuna calls a trial COMPLETE."""
    return kind(study.base).epochs(study.base)


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
    and how the group ended (studies.tune.optuna_replicates), and each trial's config carries its seed in place of
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
        tpe = make_searcher(_optuna_space(study), objectives, max_epochs=_epochs(study), seed=study.search_seed,
                            sampler=study.search if study.search in ("random", "gp") else study.sampler, startup=tpe_startup(study))
        return (_Replicates(tpe, study.replicates()) if study.replicates() else tpe), limit
    if study.search == "random":
        # Tune's default samples anew for every grid point; a Grid of seeds must replicate one sample instead.
        # random_state: Tune's default draws from numpy's global generator, which nothing seeds (not reproducible).
        return BasicVariantGenerator(constant_grid_search=True, max_concurrent=limit,
                                     random_state=study.search_seed), None
    if study.replicates():  # grid: seed by seed (_seed_rounds)
        return BasicVariantGenerator(points_to_evaluate=_seed_rounds(study), max_concurrent=limit), None
    return None, limit  # grid: Tune's basic variant generator


def tpe_startup(study: Study) -> int:
    """TPE's random trials before its model: Optuna's 10, and under ASHA up to 10·η while that is at most a quarter of
    the study's configurations. Under ASHA only one trial in η passes the first rung, so 10·η give the model as many
    that went on as 10 would without ASHA (LCBench's tuning half: docs/research/lcbench.md, "The default"); a small
    study keeps 10, so that most of it is still modelled."""
    if study.asha is None:
        return STARTUP
    return max(STARTUP, min(STARTUP * study.asha.reduction_factor, study.num_samples // 4))


def _seed_rounds(study: Study) -> list[dict[str, Any]]:
    """A grid's trials seed by seed, every configuration's first seed, then every one's second, ...: Tune's
    variant generator given one preset per round (each takes one of `_samples`). Its own order runs a configuration's
    seeds together, so the first configuration's trials alone start in fresh processes and time their warm-up.
    `studies.cli.dry_run.grid_trials` lists this order."""
    return [{SEED_KEY: seed} for _ in range(study.num_samples) for seed in study.replicates()]


def _samples(study: Study) -> int:
    """TuneConfig's num_samples: Repeater counts each seed's trial of a TPE search (configurations x seeds); a grid
    counts its seed rounds, its whole grid once per num_samples without a seed Grid."""
    if study.sampled_by_optuna():
        return study.total_trials()
    if study.search == "grid" and study.replicates():
        return len(_seed_rounds(study))
    return study.num_samples


def _scheduler(study: Study):
    if study.asha is None:
        return FIFOScheduler()
    if study.objectives:  # successive halving by non-dominated sorting over every objective (studies.search.mo_rungs)
        return MOASHAScheduler(objectives=list(study.objectives), time_attr="epoch", max_t=_epochs(study),
                               grace_period=study.asha.grace(_epochs(study)),
                               reduction_factor=study.asha.reduction_factor)
    # time_attr is our epoch counter: training_iteration keeps counting across Train retries.
    return ASHAScheduler(time_attr="epoch", max_t=_epochs(study), grace_period=study.asha.grace(_epochs(study)),
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
    # A local-mode trial of hpstudy's trainer leaves nothing behind in its process (the loop builds all it uses,
    # seeds and sets its threads itself), so the next trial reuses the process and its imports of torch, timm and
    # the trainer. A function of one's own may keep module-level state: each of its trials gets a fresh process.
    own = study.train is not None
    if own and not study.train.__module__.startswith(("studies.", "trainables.")):
        # A study file's function travels to the workers by value: its module need not import there (a cluster's
        # nodes, a Ray started before the study). The modules it imports must: its folder is on their path.
        cloudpickle.register_pickle_by_value(sys.modules[study.train.__module__])
    trial = make_trial(resolve, storage, resources, **({"train": study.train} if own else {}),
                       objectives=(study.metric,))
    return TrialFn(trial, resources=resources.trial(),
                   checkpointed=partial(checkpointed, storage), max_failures=resources.max_failures,
                   reuse_process=resources.workers == 1 and not own)


def _live(tuner: tune.Tuner, events: TrialEvents) -> None:
    """Point a restored experiment's trial events at this session's handlers. Tuner.restore unpickles the run
    config's callbacks from tuner.pkl: left alone, a resumed run's events reach a copy of the first session's tracker,
    progress line and trial log, and the live ones never hear of a trial (a second Ctrl-C then left trials RUNNING).
    The restored callback keeps what was pickled with it on purpose: the ASHA scheduler and its stop reasons."""
    internal = getattr(tuner, "_local_tuner", None)
    callbacks = (internal.get_run_config().callbacks if internal is not None else None) or []
    restored = [c for c in callbacks if isinstance(c, TrialEvents)]
    if not restored:
        raise RuntimeError("the restored experiment has no TrialEvents callback to reconnect; Ray's Tuner changed")
    for callback in restored:
        callback.on_start, callback.on_result = events.on_start, events.on_result
        callback.on_end, callback.on_retry, callback.on_restore = events.on_end, events.on_retry, events.on_restore
        callback.on_snapshot = events.on_snapshot


def can_resume(storage: str, name: str) -> bool:
    """Whether experiment `name` under `storage` was saved by Tune, so `run_tuner(resume=True)` continues it."""
    return tune.Tuner.can_restore(join_storage(storage, name))


def run_tuner(study: Study, trial: TrialFn, *, cluster: Cluster, storage: str, name: str, events: TrialEvents,
              resume: bool, failure_log: Path | None = None) -> None:
    """Run (or resume) the study's Tune experiment; Ctrl-C makes it return early, with its state saved."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # Optuna's study creation is not news to a user
    driver = {"cpu": 0, DRIVER_RESOURCE: 1} if cluster.has_driver_resource else {"cpu": 0.01}
    trainable = tune.with_resources(trial.fn, driver if trial.resources is None else trial.resources)
    space = _space(study)
    path = join_storage(storage, name)
    if resume:
        tuner = tune.Tuner.restore(path, trainable, resume_unfinished=True, resume_errored=False,
                                   param_space=space)
        _live(tuner, events)
        if events.on_restore is not None:  # the trials its saved state holds (the tracker adopts lost ones' runs)
            events.on_restore([t.trial_id for t in tune.ExperimentAnalysis(path).trials])
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
                num_samples=_samples(study),
                max_concurrent_trials=limit, reuse_actors=trial.reuse_process,
            ),
            run_config=tune.RunConfig(name=name, storage_path=storage, callbacks=[events, JsonLoggerCallback()],
                                      verbose=0,
                                      # No checkpoint reaches Tune (trainables.checkpointing.trial_store): it
                                      # snapshots the experiment on its own period (<= 5% of the driver's time),
                                      # not at every trial's every epoch, a cost that grew with the study.
                                      failure_config=tune.FailureConfig(max_failures=trial.max_failures)),
        )
    quiet = tracebacks_to(failure_log) if failure_log is not None else contextlib.nullcontext()
    with signals.forward_sigterm(signal.SIGUSR1), quiet:  # Tune stops on SIGUSR1 as on Ctrl-C (ray.tune.tune)
        tuner.fit()
