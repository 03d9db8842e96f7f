"""Our searches as a study runs them: the searcher and scheduler `studies.tune.tuner` builds for a `Study` (Optuna's
TPE through `HonestOptunaSearch`, Ray's ASHA, our MO-ASHA), called in the order Ray Tune's controller calls them
(`TuneController._process_trial_result` and `stop_trial`), on the simulated clock instead of Ray's actors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.lcbench.sim_clock import Result
from benchmarks.lcbench.yahpo_surrogate import EPOCHS
from search_spaces import IntRange, LogUniform, Uniform

# LCBench's space as YAHPO's param_set.R declares it: integers sampled on a log scale, rounded by the surrogate
SPACE = {"batch_size": LogUniform(16, 512), "learning_rate": LogUniform(1e-4, 1e-1), "momentum": Uniform(0.1, 0.99),
         "weight_decay": Uniform(1e-5, 1e-1), "num_layers": IntRange(1, 5), "max_units": LogUniform(64, 1024),
         "max_dropout": Uniform(0.0, 1.0)}
BASE = {"epochs": EPOCHS, "batch_size": 91, "learning_rate": 3e-3, "momentum": 0.545, "weight_decay": 0.05,
        "num_layers": 3, "max_units": 256, "max_dropout": 0.5}  # YAHPO's defaults; a study needs a base
ACC, TIME = "val/acc", "sys/time"
MANY = 10**6  # num_samples: the budget, not the study, ends a search


def _unused_train(config: dict[str, Any], trial: Any) -> None:
    raise RuntimeError("the LCBench benchmark's trials are the surrogate's; this function only types the study")


def study(search: str, *, asha: Any, seed: int, two_objectives: bool = False):
    """The Study a user would declare for LCBench: `search` 'tpe', 'gp' or 'random', `asha` an `Asha` or None."""
    from studies.study import Study

    objectives = ((ACC, "max"), (TIME, "min")) if two_objectives else ()
    metric = {} if two_objectives else {"metric": ACC, "mode": "max"}
    return Study(profile="local", base=dict(BASE), space=dict(SPACE), name="lcbench", search=search, asha=asha,
                 num_samples=MANY, search_seed=seed, train=_unused_train, objectives=objectives, **metric)


@dataclass(frozen=True)
class _Trial:
    trial_id: str  # all Ray's ASHA and our MO-ASHA read of a trial


class StudySearch:
    """A `sim_clock.Method` made of a study's own searcher and scheduler."""

    def __init__(self, study: Any, *, workers: int, searcher: Any = None) -> None:
        import optuna
        from ray.tune.schedulers import TrialScheduler

        from studies.tune import tuner

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # as studies.tune.tuner.run_tuner sets it
        self.study = study
        self.searcher = searcher or (tuner._searcher(study, workers)[0] if study.sampled_by_optuna() else None)
        self.scheduler = tuner._scheduler(study)
        if not study.objectives:  # TuneConfig's metric and mode, as Tune hands them to the scheduler
            self.scheduler.set_search_properties(study.metric, study.mode)
        # Tune's random search (BasicVariantGenerator) samples each Domain with numpy; the same Domains here
        self.domains = {k: tuner._tune_param(v) for k, v in study.space.items()}
        self.rng = np.random.default_rng(study.search_seed)
        self.CONTINUE = TrialScheduler.CONTINUE
        self.last: dict[int, dict[str, Any]] = {}

    def suggest(self, trial_id: int) -> Mapping[str, Any] | None:
        if self.searcher is not None:
            config = self.searcher.suggest(str(trial_id))
        else:
            config = {k: d.sample(random_state=self.rng) for k, d in self.domains.items()}
        self.scheduler.on_trial_add(None, _Trial(str(trial_id)))
        return config

    def report(self, trial_id: int, result: Result) -> bool:
        flat = {"epoch": result.epoch, ACC: result.val_acc, TIME: result.time}
        self.last[trial_id] = flat
        if self.scheduler.on_trial_result(None, _Trial(str(trial_id)), flat) != self.CONTINUE:
            return False
        if self.searcher is not None:  # Tune tells the searcher only results it does not stop on
            self.searcher.on_trial_result(str(trial_id), flat)
        return True

    def end(self, trial_id: int, result: Result) -> None:
        flat = self.last.pop(trial_id)
        self.scheduler.on_trial_complete(None, _Trial(str(trial_id)), flat)
        if self.searcher is not None:
            self.searcher.on_trial_complete(str(trial_id), result=flat)


def tpe_search(tpe: dict[str, Any], asha: Any, *, seed: int, workers: int) -> StudySearch:
    """A study's searcher with the TPE settings `tpe` (TPESampler keywords; constant liar unless said) and `asha`:
    the defaults before 2026-12-07 (`before_default`) and the variants `default_sweep` compared."""
    import warnings

    import optuna

    from studies.tune.optuna_search import HonestOptunaSearch, define_by_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, **{"constant_liar": True, **tpe})
    s = study("tpe", asha=asha, seed=seed)
    searcher = HonestOptunaSearch(define_by_run(s.space), metric=ACC, mode="max", max_epochs=EPOCHS, sampler=sampler)
    return StudySearch(s, workers=workers, searcher=searcher)


def before_default(seed: int, workers: int) -> StudySearch:
    """The default search until 2026-12-07, kept for comparison: multivariate, grouped TPE with Optuna's 10 random
    start-up trials, and ASHA with grace 1 and η 2 (every trial stoppable after its first epoch)."""
    from studies.study import Asha

    return tpe_search({"multivariate": True, "group": True}, Asha(grace_period=1, reduction_factor=2), seed=seed,
                      workers=workers)
