"""Our searches through a real `ray.tune.Tuner` beside the same searches on the simulated clock, with one worker so
both see the same events in the same order: each trial's config and the epochs it ran must agree.

`python -m benchmarks.lcbench.through_tune --instances 3945,7593 --budget 8 --seed 0` prints per (instance, method)
"identical" or the first decision that differs; exit 0 only if all are identical.

Both sides spend the same budget the same way: the clock stops dispatching at `budget` epochs, and Tune's run ends
at its `budget`-th reported epoch (`EpochBudget`, a Stopper). Stopping Tune at the simulated run's trial count instead
would need the last trial cut by hand at the epoch the clock cut it, and would feed the Tune run the outcome it checks.
On both sides the trial the budget cuts is not told its end (the clock does not end it; Tune's stop_all terminates
it without on_trial_complete). A trial Tune might start after the last epoch reports nothing and is not a decision.
Both sides seed numpy's global generator with the seed first, as `lcbench_run.run_job` does (ASHA draws from it).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.lcbench.yahpo_surrogate import EPOCHS, MissingSurrogate, Surrogate

METHODS = ("hpstudy-tpe-asha", "hpstudy-random-asha", "hpstudy-motpe-moasha")
INSTANCES = "3945,7593"
BUDGET = 8  # x 52 epochs: 14-77 trials by method and instance, each epoch a Tune result (~3 s a run)
ACC, TIME = "val/acc", "sys/time"  # the keys benchmarks.lcbench.ours reads


@dataclass(frozen=True)
class Decision:
    """What the search decided for one trial, in the order trials started."""

    config: Mapping[str, Any]
    epochs: int  # those it ran: ASHA stopped it there, it reached 52, or the budget ran out


def first_difference(simulated: Sequence[Decision], tuned: Sequence[Decision], *, rel: float = 1e-9) -> str | None:
    """None if both runs decided the same (configs to `rel`), else the first trial where they did not, in words."""
    for i, (a, b) in enumerate(zip(simulated, tuned)):
        if set(a.config) != set(b.config):
            return f"trial {i}: keys {sorted(a.config)} (simulated) vs {sorted(b.config)} (Tune)"
        for key in a.config:
            x, y = a.config[key], b.config[key]
            same = math.isclose(x, y, rel_tol=rel) if isinstance(x, float) or isinstance(y, float) else x == y
            if not same:
                return f"trial {i}: {key} {x!r} (simulated) vs {y!r} (Tune)"
        if a.epochs != b.epochs:
            return f"trial {i}: {a.epochs} epochs (simulated) vs {b.epochs} (Tune)"
    if len(simulated) != len(tuned):
        return f"{len(simulated)} trials (simulated) vs {len(tuned)} (Tune)"
    return None


@lru_cache(maxsize=2)
def _surrogate(folder: str) -> Surrogate:
    return Surrogate(folder)  # once per process: Tune reuses the trial's actor for the next trial


def _evaluate(folder: str, instance: str, config: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = _surrogate(folder).curves(instance, [config])
    return c.time[0], c.val_acc[0], c.test_acc[0]


class _Recorded:
    """A sim_clock.Method that keeps each config it suggested."""

    def __init__(self, method: Any) -> None:
        self.method, self.configs = method, {}

    def suggest(self, trial_id: int):
        self.configs[trial_id] = config = self.method.suggest(trial_id)
        return config

    def report(self, trial_id: int, result: Any) -> bool:
        return self.method.report(trial_id, result)

    def end(self, trial_id: int, result: Any) -> None:
        self.method.end(trial_id, result)


def simulated(folder: str, instance: str, method: str, *, seed: int, budget: int) -> list[Decision]:
    """The method as `python -m benchmarks.lcbench` runs it (lcbench_run.run_job), on one worker."""
    from benchmarks.lcbench import lcbench_run
    from benchmarks.lcbench.sim_clock import simulate

    np.random.seed(seed)  # as run_job: Tune's ASHA draws its bracket from numpy's global generator
    search = _Recorded(lcbench_run.method(method).make(seed, 1))
    log = simulate(search, lambda config: _evaluate(folder, instance, config), workers=1, budget=budget * EPOCHS,
                   max_epochs=EPOCHS)
    epochs = Counter(s.trial for s in log)
    return [Decision(dict(search.configs[t]), epochs[t]) for t in sorted(epochs)]


def _curve_trial(config: dict[str, Any], *, folder: str, instance: str) -> None:
    """A Tune trial: the surrogate's curve for `config`, one result per epoch, as a study's trainer reports them."""
    from ray import tune

    seconds, val, _ = _evaluate(folder, instance, config)
    for e in range(1, EPOCHS + 1):
        tune.report({"epoch": e, ACC: float(val[e - 1]), TIME: float(seconds[e - 1])})


def through_tune(folder: str, instance: str, method: str, *, seed: int, budget: int) -> list[Decision]:
    """The same study's searcher and scheduler, built by `studies.tune.tuner` as `run_tuner` builds them, driving
    Tune trials of the surrogate's curves; Ray must be initialised."""
    from ray import tune

    from benchmarks.lcbench import lcbench_run
    from studies.tune import tuner

    study = lcbench_run.method(method).make(seed, 1).study  # the Study the simulated run searched with
    searcher, limit = tuner._searcher(study, 1)
    metric, mode = (None, None) if study.objectives else (study.metric, study.mode)
    record = _decisions()
    np.random.seed(seed)  # as on the simulated side
    trainable = tune.with_resources(tune.with_parameters(_curve_trial, folder=folder, instance=instance), {"cpu": 1})
    with tempfile.TemporaryDirectory() as storage:
        tune.Tuner(
            trainable, param_space=tuner._space(study),
            tune_config=tune.TuneConfig(metric=metric, mode=mode, search_alg=searcher,
                                        scheduler=tuner._scheduler(study), num_samples=tuner._samples(study),
                                        max_concurrent_trials=limit, reuse_actors=True),
            run_config=tune.RunConfig(name="through_tune", storage_path=storage, stop=_epoch_budget(budget * EPOCHS),
                                      callbacks=[record], verbose=0),
        ).fit()
    return [Decision(config, epochs) for config, epochs in record.trials.values()]


def _decisions():
    from ray.tune import Callback

    class Decisions(Callback):
        """Each trial's config and the last epoch Tune processed, in the order trials first reported."""

        def __init__(self) -> None:
            self.trials: dict[str, tuple[dict[str, Any], int]] = {}

        def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
            self.trials[trial.trial_id] = (dict(trial.config), int(result["epoch"]))

    return Decisions()


def _epoch_budget(epochs: int):
    from ray.tune import Stopper

    class EpochBudget(Stopper):
        """Ends the run once `epochs` epochs are reported (a retried epoch counts once); judges no trial itself,
        so the scheduler sees the last result, as on the clock."""

        def __init__(self) -> None:
            self.seen: set[tuple[str, int]] = set()

        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            if "epoch" in result:
                self.seen.add((trial_id, int(result["epoch"])))
            return False

        def stop_all(self) -> bool:
            return len(self.seen) >= epochs

    return EpochBudget()


def compare(folder: str, instance: str, method: str, *, seed: int, budget: int) -> dict[str, Any]:
    """Both runs of one search, their first difference (None: identical), trials, epochs and wall seconds."""
    start = time.perf_counter()
    sim = simulated(folder, instance, method, seed=seed, budget=budget)
    mid = time.perf_counter()
    tuned = through_tune(folder, instance, method, seed=seed, budget=budget)
    return {"instance": instance, "method": method, "difference": first_difference(sim, tuned),
            "trials": (len(sim), len(tuned)), "epochs": (sum(d.epochs for d in sim), sum(d.epochs for d in tuned)),
            "sim_s": mid - start, "tune_s": time.perf_counter() - mid}


def main(argv: list[str] | None = None) -> int:
    from benchmarks.lcbench.__main__ import SURROGATE

    p = argparse.ArgumentParser(prog="python -m benchmarks.lcbench.through_tune", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--surrogate", type=Path, default=SURROGATE, help="folder of YAHPO Gym's lcbench files")
    p.add_argument("--instances", default=INSTANCES, help="OpenML task ids, comma-separated")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of: {', '.join(METHODS)}")
    p.add_argument("--budget", type=int, default=BUDGET, help="epochs per search, in units of 52 epochs")
    p.add_argument("--seed", type=int, default=0, help="the search's seed (a repetition's, in the benchmark)")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or args.budget < 1:
        p.error(f"methods must be of {', '.join(METHODS)} and budget >= 1, but got ({unknown=}, {args.budget=})")
    try:
        known = _surrogate(str(args.surrogate)).instances
    except MissingSurrogate as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    instances = [s.strip() for s in args.instances.split(",") if s.strip()]
    if not instances or set(instances) - set(known):
        p.error(f"unknown instances {sorted(set(instances) - set(known))}; valid: {', '.join(sorted(known, key=int))}")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0, prints nothing per run (the new one a table)
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    same = True
    for instance in instances:
        for method in methods:
            r = compare(str(args.surrogate), instance, method, seed=args.seed, budget=args.budget)
            same &= r["difference"] is None
            print(f"{instance} {method}: {r['difference'] or 'identical'} ({r['trials'][0]} trials, {r['epochs'][0]} "
                  f"epochs simulated in {r['sim_s']:.2f} s; {r['trials'][1]} trials, {r['epochs'][1]} epochs through "
                  f"Tune in {r['tune_s']:.1f} s)", flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    from benchmarks.lcbench import through_tune  # by its name: Tune's workers unpickle the trial by reference to it

    sys.exit(through_tune.main())
