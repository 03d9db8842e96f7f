"""A small SQLite MLflow store in hpstudy's layout, built once per test session (MLflow's schema setup is slow).

Three studies: `ses_beta_sweep` (its parent runs tagged as seed 001's Exp 2), an older and a newer invocation. The
newer: baseline and beta=0.3 x 3 seeds + 1 early-stopped + 1 failed; beta=0.5 x seeds 0-2; beta=0.9 x seeds 0, 1, 4 (two pairs, one unpaired seed); with
cost (sys/*), train/acc and robustness metrics (rob/acc*) of known values. And two searches: `lr_search` (no
config_name tags, one trial without a status tag) and `tpe_search` (one config_name label for two learning rates).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from analysis import load_trials
from hpstudy.schema import tags as T

T0 = 1_700_000_000_000  # ms; fixed start times make "most recent parent" deterministic


# Final val/acc per seed of the configs added for the report (the first two follow a formula in val_acc).
FINAL = {"beta=0.5": {0: 0.915, 1: 0.905, 2: 0.935}, "beta=0.9": {0: 0.93, 1: 0.94, 4: 0.95}}
SEEDS = {"beta=0.3": range(4), "baseline": range(4), "beta=0.5": range(3), "beta=0.9": (0, 1, 4)}
EPOCH_S = [1.1, 1.0, 0.9]  # x the config's cost: sys/epoch_s per epoch, mean 1.0
COST = {"baseline": 1.0}  # SES configs: 1.2, i.e. +20% epoch time


def ses_tags(experiment: str, description: str = "") -> dict[str, str]:
    """The catalogue tags the study runner writes on the parent run of a study of seed note 001 (`--list`'s line)."""
    return {T.SEED_NOTE: "001", T.EXPERIMENT: experiment, T.DESCRIPTION: description or f"{experiment}, as a test"}


def val_acc(config: str, seed: int) -> list[float]:
    """Known per-epoch val/acc; the last epoch is below the best one, so final and best differ."""
    if config == "baseline":
        return [0.50, 0.92 + 0.01 * seed, 0.90 + 0.01 * seed]
    if config in FINAL:
        return [0.55, FINAL[config][seed] + 0.02, FINAL[config][seed]]
    return [0.55, 0.93 + 0.02 * seed, 0.91 + 0.02 * seed]


def cost(config: str) -> float:
    return COST.get(config, 1.2)


def gap(seed: int) -> float:
    """train/acc - val/acc of every epoch of a trial."""
    return 0.01 * (1 + seed % 2)


def rob(config: str, seed: int) -> dict[str, float]:
    """Final robustness metrics: per corruption, and their mean as rob/acc."""
    final = val_acc(config, seed)[-1]
    per = {"rob/acc/gaussian_noise": final - 0.3, "rob/acc/fog": final - (0.1 if config == "baseline" else 0.05)}
    return {"rob/acc": sum(per.values()) / 2, **per}


def _trial(client, exp_id, parent_id, start, *, params, tags, accs, mlflow_status="FINISHED", extra=None):
    tags = {"mlflow.parentRunId": parent_id, "hpstudy.role": "trial", **tags}
    run = client.create_run(exp_id, start_time=start, tags=tags)
    n = len(accs)
    # The last epoch is logged first, with the earliest timestamp: "final" must mean last step, not last write.
    order = [n - 1, *range(n - 1)]
    metrics = [Metric("val/acc", accs[i], T0 + k, i + 1) for k, i in enumerate(order)]
    # the trainer's running best (trainables.watch.monitors): its last value is the trial's best epoch
    metrics += [Metric("val/acc_best", max(accs[: i + 1]), T0 + i, i + 1) for i in range(n)]
    metrics += [Metric("train/loss", 1.0 / (i + 1), T0 + i, i + 1) for i in range(n)]
    metrics += [Metric("lr", 0.1 * (n - i) / n, T0 + i, i + 1) for i in range(n)]
    metrics += [Metric(k, v, T0 + i, i + 1) for i, epoch in enumerate(extra or []) for k, v in epoch.items()]
    client.log_batch(run.info.run_id, metrics=metrics, params=[Param(k, str(v)) for k, v in params.items()])
    # a known duration for sys/trial_s: 10 s per epoch
    client.set_terminated(run.info.run_id, mlflow_status, end_time=start + 10_000 * n)
    return run.info.run_id


def _extra(config: str, seed: int, accs: list[float], completed: bool) -> list[dict[str, float]]:
    """Per-epoch train/acc and sys/* (peak memory max 500 MB x cost, at the last epoch); rob/* once, at the
    last epoch of a completed trial, as an end-of-training evaluation."""
    epochs = []
    for i, (acc, s) in enumerate(zip(accs, EPOCH_S)):
        epoch_s = s * cost(config)
        epochs.append({"train/acc": acc + gap(seed), "sys/epoch_s": epoch_s, "sys/samples_per_s": 1000 / epoch_s,
                       "sys/peak_mem_mb": 500.0 * cost(config) - 10 * (len(accs) - 1 - i)})
    if completed:
        epochs[-1].update(rob(config, seed))
    return epochs


def _ses_params(config: str, seed: int) -> dict:
    beta = 0.7 if config == "baseline" else float(config.split("=")[1])
    return {"epochs": 3, "seed": seed, "optim.lr": 0.1, "ses.enabled": config != "baseline", "ses.beta": beta,
            "model.name": "small_cnn", "sched.milestones": (20, 35, 45)}


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    study_tags = {"hpstudy.role": "study", "hpstudy.study": "ses_beta_sweep", "hpstudy.profile": "local",
                  "hpstudy.baseline": "baseline", **ses_tags("Exp 2")}

    exp = client.create_experiment("ses_beta_sweep", artifact_location=(tmp / "artifacts").as_uri())
    old = client.create_run(exp, start_time=T0, tags=study_tags).info.run_id
    _trial(client, exp, old, T0 + 1, params=_ses_params("baseline", 0), accs=val_acc("baseline", 0),
           tags={"hpstudy.trial_id": "old_0", "hpstudy.seed": "0", "hpstudy.config_name": "baseline",
                 "hpstudy.status": "completed"})
    parent = client.create_run(exp, start_time=T0 + 10_000, tags=study_tags).info.run_id
    trials, t = {}, T0 + 10_001
    for config, seeds in SEEDS.items():
        for seed in seeds:
            accs, status, stop, reason = val_acc(config, seed), "completed", 3, ""
            if seed == 3 and config == "baseline":
                accs, status, stop, reason = accs[:2], "early_stopped", 2, "ASHA at epoch 2"
            elif seed == 3:
                accs, status, stop, reason = accs[:1], "failed", 1, "RuntimeError: CUDA out of memory"
            tid = f"{config}_{seed}"
            trials[tid] = _trial(
                client, exp, parent, t, params=_ses_params(config, seed), accs=accs,
                mlflow_status="FAILED" if status == "failed" else "FINISHED",
                extra=_extra(config, seed, accs, completed=status == "completed"),
                tags={"hpstudy.trial_id": tid, "hpstudy.seed": str(seed), "hpstudy.config_name": config,
                      "hpstudy.status": status, "hpstudy.stop_reason": reason, "hpstudy.stop_epoch": str(stop)},
            )
            t += 1

    search = client.create_experiment("lr_search", artifact_location=(tmp / "artifacts_lr").as_uri())
    search_tags = {"hpstudy.role": "study", "hpstudy.study": "lr_search", "hpstudy.profile": "local"}
    # its task's own metric (as studies.run tags every parent run): val/p_true, a fraction, higher is better
    own = '[["p_true", "max", "fraction", "mean softmax probability of the true class"]]'
    search_parent = client.create_run(search, start_time=T0, tags={**search_tags, "hpstudy.metric_specs": own}
                                      ).info.run_id
    for i, (lr, seed) in enumerate([(0.1, 0), (0.01, 0), (0.01, 1)]):
        tags = {"hpstudy.trial_id": f"t{i}", "hpstudy.seed": str(seed)}
        if i < 2:  # the last trial died before its status tag was written
            tags["hpstudy.status"] = "completed"
        _trial(client, search, search_parent, T0 + 1 + i, params={"seed": seed, "optim.lr": lr, "epochs": 3},
               accs=[0.5, 0.6 + lr], tags=tags, mlflow_status="FINISHED" if i < 2 else "FAILED",
               extra=[{"val/p_true": 0.3}, {"val/p_true": 0.4 + lr}])

    # A TPE search names trials by rounded values: two learning rates share the label "lr=0.0123".
    tpe = client.create_experiment("tpe_search", artifact_location=(tmp / "artifacts_tpe").as_uri())
    tpe_parent = client.create_run(tpe, start_time=T0, tags={**search_tags, "hpstudy.study": "tpe_search"}).info.run_id
    for i, (lr, seed) in enumerate([(0.01234, 0), (0.01226, 0), (0.01234, 1)]):
        tags = {"hpstudy.trial_id": f"t{i}", "hpstudy.seed": str(seed), "hpstudy.config_name": "lr=0.0123",
                "hpstudy.status": "completed"}
        _trial(client, tpe, tpe_parent, T0 + 1 + i, params={"seed": seed, "optim.lr": lr, "epochs": 3},
               accs=[0.5, 0.6], tags=tags)

    return SimpleNamespace(uri=uri, parent=parent, old_parent=old, trials=trials, search_parent=search_parent,
                           val_acc=val_acc, gap=gap, rob=rob, cost=cost, tmp=tmp)


@pytest.fixture(scope="session")
def trials(store):
    """The newer `ses_beta_sweep` invocation, loaded once; tests must not modify it."""
    return load_trials("ses_beta_sweep", tracking_uri=store.uri)
