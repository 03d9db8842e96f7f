"""The two sides `benchmarks.driver_scale` times, each run in a process of its own: hpstudy's CLI on the closed-form
trial, and plain Ray Tune with the same searcher and scheduler. Each returns its start and every trial's end (s)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

STUDY = "lr_warmup_dropout"  # its local profile: 1 CPU a trial, TPE, ASHA (grace 1, reduction 2)


def hpstudy_side(trials: int, epochs: int, runs: Path, log: Path, profiler=None,
                 tracking_uri: str | None = None) -> dict[str, Any]:
    """`python -m studies.run lr_warmup_dropout --profile local --num-samples N --set epochs=E` in this process,
    each trial the closed form; the trials' ends are their MLflow runs' end times, which the driver sets.
    `profiler` (a cProfile.Profile) runs during the CLI's `main` only; `tracking_uri`: an MLflow server's (default:
    SQLite under `runs`)."""
    from benchmarks.driver_scale_trial import HpstudyTrial
    from studies.cli.main import main

    argv = [STUDY, "--profile", "local", "--num-samples", str(trials), "--set", f"epochs={epochs}",
            "--runs-dir", str(runs), *(["--tracking-uri", tracking_uri] if tracking_uri else [])]
    start = time.time()
    with open(log, "w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        if profiler is not None:
            profiler.enable()
        try:
            code = main(argv, trial_factory=HpstudyTrial())
        finally:
            if profiler is not None:
                profiler.disable()
    returned = time.time()
    if code != 0:
        raise SystemExit(f"error: the hpstudy run exited {code}; its output is in {log}")
    return {"start": start, "ends": _mlflow_trial_ends(tracking_uri or f"sqlite:///{runs / 'mlflow.db'}"),
            "returned": returned, "command": argv}


def _mlflow_trial_ends(tracking_uri: str) -> list[float]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(STUDY)
    ends: list[float] = []
    token = None
    while True:
        page = client.search_runs([experiment.experiment_id], "tags.`hpstudy.role` = 'trial'", max_results=1000,
                                  page_token=token)
        ends += [r.info.end_time / 1000 for r in page if r.info.end_time]
        token = page.token
        if not token:
            return sorted(ends)


def tune_side(trials: int, epochs: int, runs: Path, log: Path) -> dict[str, Any]:
    """Plain Ray Tune: a function trainable, OptunaSearch with hpstudy's TPE sampler, ASHAScheduler on the epoch
    axis, a trial per core at a time (as hpstudy), reuse_actors, Tune's default checkpointing, no MLflow; Tune's
    TensorBoard/CSV loggers off and its JSON one on, as hpstudy runs Tune. A trial's end: Tune's
    on_trial_complete/_error."""
    start = time.time()
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    import ray
    from ray import tune
    from ray.tune.logger import JsonLoggerCallback
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    from benchmarks.driver_scale_trial import plain_trainable

    class Ends(tune.Callback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_trial_complete(self, iteration, trials, trial, **info) -> None:
            self.ends.append(time.time())

        def on_trial_error(self, iteration, trials, trial, **info) -> None:
            self.ends.append(time.time())

    space = {"optim.lr": tune.loguniform(1e-3, 0.5), "sched.warmup_epochs": tune.randint(0, 2),
             "model.drop_rate": tune.uniform(0.0, 0.3), "optim.weight_decay": tune.loguniform(1e-5, 1e-3)}
    with open(log, "w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        sampler = hpstudy_sampler(trials, epochs)
        ends = Ends()
        tuner = tune.Tuner(
            tune.with_resources(plain_trainable(epochs), {"cpu": 1}),
            param_space=space,
            tune_config=tune.TuneConfig(
                metric="val/acc", mode="max", num_samples=trials, max_concurrent_trials=os.cpu_count(),
                reuse_actors=True, search_alg=OptunaSearch(sampler=sampler),
                scheduler=ASHAScheduler(time_attr="epoch", max_t=epochs, grace_period=1, reduction_factor=2)),
            run_config=tune.RunConfig(name="plain", storage_path=str(runs), verbose=0,
                                      callbacks=[ends, JsonLoggerCallback()]),
        )
        tuner.fit()
        returned = time.time()
        ray.shutdown()
    return {"start": start, "ends": sorted(ends.ends), "returned": returned, "command": ["plain Ray Tune"]}


def hpstudy_sampler(trials: int, epochs: int):
    """The Optuna sampler hpstudy's side searches with: the study's own (studies.tune.optuna_search.SAMPLERS), its
    search seed and its start-up trials (studies.tune.tuner.tpe_startup), so both sides sample alike."""
    from studies.assembly.assemble import build_study
    from studies.catalog import lr_warmup_dropout
    from studies.tune.optuna_search import SAMPLERS
    from studies.tune.tuner import tpe_startup

    study = build_study(lr_warmup_dropout, "local", {"epochs": str(epochs)}, trials)
    return SAMPLERS[study.search](study.search_seed, tpe_startup(study))


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="driver_scale_"))
