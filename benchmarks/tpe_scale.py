"""What Optuna's TPE costs a trial as a study grows, and what `studies.tune.tpe.HistoryTPESampler` costs:
`python -m benchmarks.tpe_scale [--trials 10000] [--asks 20]`.

Builds one single-objective study of `--trials` trials shaped like `benchmarks.driver_scale`'s (lr_warmup_dropout's
four parameters, one density each, constant liar; each trial ends at epoch 1, 1, 1, 1, 2, 2, 4 or 10, PRUNED before
10) with the history sampler, then at 1/10, 1/4, 1/2 and all of it times `--asks` asks (ask, the four suggestions,
the tell) with Optuna's `TPESampler` and with the history sampler, each on its own copy of the study as it stood,
in the same run. Prints milliseconds per ask, the ratio, and whether both proposed the same parameters.
"""

from __future__ import annotations

import argparse
import copy
import random
import time
import warnings

EPOCHS = 10


def suggest(trial) -> dict[str, float]:
    return {"optim.lr": trial.suggest_float("optim.lr", 1e-3, 0.5, log=True),
            "sched.warmup_epochs": trial.suggest_int("sched.warmup_epochs", 0, 1),
            "model.drop_rate": trial.suggest_float("model.drop_rate", 0.0, 0.3),
            "optim.weight_decay": trial.suggest_float("optim.weight_decay", 1e-5, 1e-3, log=True)}


def accuracy(params: dict[str, float], epoch: int) -> float:
    from benchmarks.driver_scale_trial import accuracy as closed_form  # the driver_scale trial's val/acc

    return closed_form(params["optim.lr"], params["model.drop_rate"], params["sched.warmup_epochs"], epoch)


def run_trials(study, n: int, rng: random.Random) -> list[dict[str, float]]:
    import optuna

    from benchmarks.closing_scale import STOPS  # the epoch each trial ends at, as in driver_scale's store

    proposed = []
    for _ in range(n):
        trial = study.ask()
        params = suggest(trial)
        proposed.append(params)
        stop = rng.choice(STOPS)
        for epoch in range(1, stop + 1):
            trial.report(accuracy(params, epoch), epoch)
        if stop == EPOCHS:
            study.tell(trial, accuracy(params, stop))
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return proposed


def sampler(kind: str, seed: int):
    import optuna

    from studies.tune.tpe import HistoryTPESampler

    cls = optuna.samplers.TPESampler if kind == "optuna" else HistoryTPESampler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return cls(seed=seed, n_startup_trials=20, multivariate=False, constant_liar=True)


def timed_asks(study, kind: str, asks: int, seed: int) -> tuple[float, list[dict[str, float]]]:
    study = copy.deepcopy(study)
    study.sampler = sampler(kind, seed)
    start = time.perf_counter()
    proposed = run_trials(study, asks, random.Random(seed))
    return (time.perf_counter() - start) / asks * 1000, proposed


def main(argv: list[str] | None = None) -> int:
    import optuna

    parser = argparse.ArgumentParser(prog="python -m benchmarks.tpe_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--asks", type=int, default=20)
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", sampler=sampler("history", 0))
    rng, built = random.Random(0), 0
    print(f"{'trials':>7} {'optuna ms/ask':>14} {'history ms/ask':>15} {'ratio':>6}  same proposals")
    for at in sorted({max(1, args.trials // 10), args.trials // 4, args.trials // 2, args.trials}):
        run_trials(study, at - built, rng)
        built = at
        optunas, expected = timed_asks(study, "optuna", args.asks, at)
        ours, proposed = timed_asks(study, "history", args.asks, at)
        print(f"{at:>7} {optunas:>14.1f} {ours:>15.2f} {optunas / ours:>6.0f}  {proposed == expected}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
