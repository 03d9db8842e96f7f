"""A real local study ends with its best trial's weights on the parent run: the closing line names the model, and
`mlflow.pytorch.load_model("runs:/<parent>/best_model")` gives back that trial's newest checkpoint's weights (slow:
a study of two trials, ~1 min on 2 cores; the same path on a checkpoint alone runs in test_best_model.py)."""

from __future__ import annotations

import mlflow.pytorch
import pytest
import torch

from trainables.checkpointing import checkpoint, trial_store

pytestmark = pytest.mark.slow


def test_the_best_trials_weights_are_an_mlflow_pytorch_model_on_the_parent(finished_study, monkeypatch, tmp_path):
    parent, tags = finished_study.parent.info.run_id, finished_study.parent.data.tags
    best = tags["hpstudy.best_trial_id"]
    assert tags["hpstudy.best_model"] == f"runs:/{parent}/best_model"
    assert tags["hpstudy.best_model.trial_id"] == best and tags["hpstudy.best_model.epoch"] == "2"
    assert tags["hpstudy.best_model.run_id"] == tags["hpstudy.best_trial_run_id"]
    assert f"best model: runs:/{parent}/best_model (trial {best}, epoch 2;" in finished_study.stdout
    runs = finished_study.cwd / "hpstudy_runs"
    with trial_store.newest(str(runs / "ray" / "lr_warmup_dropout"), best) as folder:
        weights = checkpoint.load(folder)["user"]["model"]
    uri = f"sqlite:///{runs / 'mlflow.db'}"
    monkeypatch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    model = mlflow.pytorch.load_model(f"runs:/{parent}/best_model")
    state = model.state_dict()
    assert set(state) == set(weights) and all(torch.equal(state[k], weights[k]) for k in weights)
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)  # MNIST: 28x28 grey, 10 classes
    files = [p for p in (runs / "mlartifacts" / "lr_warmup_dropout" / "models").rglob("*") if p.is_file()]
    assert any(p.name == "model.pt2" for p in files), "pt2: MLflow loads it without unpickling"
