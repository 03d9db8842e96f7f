"""A small SQLite MLflow store in hpstudy's layout, built once per test session (MLflow's schema setup is slow).

Two studies: `ses_beta_sweep` (an older and a newer invocation; 2 configs x 3 seeds + 1 early-stopped + 1 failed)
and `lr_search` (no config_name tags, one trial without a status tag).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from analysis import load_trials

T0 = 1_700_000_000_000  # ms; fixed start times make "most recent parent" deterministic


def val_acc(config: str, seed: int) -> list[float]:
    """Known per-epoch val/acc; the last epoch is below the best one, so final and best differ."""
    if config == "baseline":
        return [0.50, 0.92 + 0.01 * seed, 0.90 + 0.01 * seed]
    return [0.55, 0.93 + 0.02 * seed, 0.91 + 0.02 * seed]


def _trial(client, exp_id, parent_id, start, *, params, tags, accs, mlflow_status="FINISHED"):
    tags = {"mlflow.parentRunId": parent_id, "hpstudy.role": "trial", **tags}
    run = client.create_run(exp_id, start_time=start, tags=tags)
    n = len(accs)
    # The last epoch is logged first, with the earliest timestamp: "final" must mean last step, not last write.
    order = [n - 1, *range(n - 1)]
    metrics = [Metric("val/acc", accs[i], T0 + k, i + 1) for k, i in enumerate(order)]
    metrics += [Metric("train/loss", 1.0 / (i + 1), T0 + i, i + 1) for i in range(n)]
    metrics += [Metric("lr", 0.1 * (n - i) / n, T0 + i, i + 1) for i in range(n)]
    client.log_batch(run.info.run_id, metrics=metrics, params=[Param(k, str(v)) for k, v in params.items()])
    client.set_terminated(run.info.run_id, mlflow_status)
    return run.info.run_id


def _ses_params(config: str, seed: int) -> dict:
    beta = 0.7 if config == "baseline" else 0.3
    return {"epochs": 3, "seed": seed, "optim.lr": 0.1, "ses.enabled": config != "baseline", "ses.beta": beta,
            "model.name": "small_cnn", "sched.milestones": (20, 35, 45)}


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    study_tags = {"hpstudy.role": "study", "hpstudy.study": "ses_beta_sweep", "hpstudy.profile": "local",
                  "hpstudy.baseline": "baseline"}

    exp = client.create_experiment("ses_beta_sweep", artifact_location=(tmp / "artifacts").as_uri())
    old = client.create_run(exp, start_time=T0, tags=study_tags).info.run_id
    _trial(client, exp, old, T0 + 1, params=_ses_params("baseline", 0), accs=val_acc("baseline", 0),
           tags={"hpstudy.trial_id": "old_0", "hpstudy.seed": "0", "hpstudy.config_name": "baseline",
                 "hpstudy.status": "completed"})
    parent = client.create_run(exp, start_time=T0 + 10_000, tags=study_tags).info.run_id
    trials, t = {}, T0 + 10_001
    for config in ("beta=0.3", "baseline"):
        for seed in range(4):
            accs, status, stop, reason = val_acc(config, seed), "completed", 3, ""
            if seed == 3 and config == "baseline":
                accs, status, stop, reason = accs[:2], "early_stopped", 2, "ASHA at epoch 2"
            elif seed == 3:
                accs, status, stop, reason = accs[:1], "failed", 1, "RuntimeError: CUDA out of memory"
            tid = f"{config}_{seed}"
            trials[tid] = _trial(
                client, exp, parent, t, params=_ses_params(config, seed), accs=accs,
                mlflow_status="FAILED" if status == "failed" else "FINISHED",
                tags={"hpstudy.trial_id": tid, "hpstudy.seed": str(seed), "hpstudy.config_name": config,
                      "hpstudy.status": status, "hpstudy.stop_reason": reason, "hpstudy.stop_epoch": str(stop)},
            )
            t += 1

    search = client.create_experiment("lr_search", artifact_location=(tmp / "artifacts_lr").as_uri())
    search_tags = {"hpstudy.role": "study", "hpstudy.study": "lr_search", "hpstudy.profile": "local"}
    search_parent = client.create_run(search, start_time=T0, tags=search_tags).info.run_id
    for i, (lr, seed) in enumerate([(0.1, 0), (0.01, 0), (0.01, 1)]):
        tags = {"hpstudy.trial_id": f"t{i}", "hpstudy.seed": str(seed)}
        if i < 2:  # the last trial died before its status tag was written
            tags["hpstudy.status"] = "completed"
        _trial(client, search, search_parent, T0 + 1 + i, params={"seed": seed, "optim.lr": lr, "epochs": 3},
               accs=[0.5, 0.6 + lr], tags=tags, mlflow_status="FINISHED" if i < 2 else "FAILED")

    return SimpleNamespace(uri=uri, parent=parent, old_parent=old, trials=trials, search_parent=search_parent,
                           val_acc=val_acc)


@pytest.fixture(scope="session")
def trials(store):
    """The newer `ses_beta_sweep` invocation, loaded once; tests must not modify it."""
    return load_trials("ses_beta_sweep", tracking_uri=store.uri)
