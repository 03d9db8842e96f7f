"""The best trial's weights as an MLflow PyTorch model on the study's parent run, loaded with
`mlflow.pytorch.load_model("runs:/<parent run id>/best_model")`; tags on the parent say whose weights, or why none.

The model is rebuilt from the trial's newest checkpoint (trainables.checkpointing.model_spec), read with
`weights_only`, and saved in MLflow's `pt2` format: a `torch.export` graph, which MLflow loads without unpickling
anything (a pickled model would need MLFLOW_ALLOW_PICKLE_DESERIALIZATION, and could run code when loaded).
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

from mlflow.entities import LoggedModelOutput, LoggedModelStatus, RunTag

from hpstudy.schema import params as P
from hpstudy.schema import tags as T
from studies.tracking.summary import TrialRow
from trainables.checkpointing import checkpoint, model_spec, trial_store
from trainables.trial import USER

if TYPE_CHECKING:
    from studies.tracking.tracker import StudyTracker

OWN = "a training function of one's own: hpstudy cannot rebuild a model from what its checkpoints hold"
NO_SPEC = "its checkpoint holds no model spec (saved by an older hpstudy, or not by hpstudy's trainer)"


def log_best_model(tracker: StudyTracker, best: TrialRow | None, storage: str, *, own: bool) -> str | None:
    """Log `best`'s weights on `tracker`'s parent run (a finished study's, its summary's best trial); returns the
    closing report's line, None without a best trial. Where the trial's checkpoint holds no model of hpstudy's
    trainer nothing is logged and a tag says why; a failure to log is tagged, then raised. `storage`: the study's,
    which holds its trials' checkpoints (trainables.checkpointing.trial_store)."""
    if best is None:  # no trial completed: the summary says so
        return None
    client, parent = tracker.client, tracker.parent_run_id
    whose = {T.BEST_MODEL_TRIAL_ID: best.trial_id, T.BEST_MODEL_RUN_ID: best.run_id}
    try:
        rebuilt, epoch, why = _rebuild(storage, best.trial_id) if not own else (None, None, OWN)
        if rebuilt is not None:
            whose[T.BEST_MODEL_EPOCH] = str(epoch)
            _log(tracker, *rebuilt, tags=whose)
    except Exception as err:
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        client.log_batch(parent, tags=_tags({T.BEST_MODEL: f"not logged: {type(err).__name__}: {first}", **whose}))
        raise
    if rebuilt is None:
        client.log_batch(parent, tags=_tags({T.BEST_MODEL: f"not logged: {why}", **whose}))
        return f"best model: not logged ({why})"
    uri = f"runs:/{parent}/{P.BEST_MODEL}"
    client.log_batch(parent, tags=_tags({T.BEST_MODEL: uri, **whose}))
    return f"best model: {uri} (trial {best.trial_id}, epoch {epoch}; mlflow.pytorch.load_model loads it)"


def _rebuild(storage: str, trial_id: str) -> tuple[Any, int | None, str]:
    """((model, example input) or None, the epochs its weights trained, why there is no model)."""
    with trial_store.newest(storage, trial_id) as folder:
        if folder is None:
            return None, None, "its trial left no checkpoint"
        state = checkpoint.load(folder)  # weights_only: a tampered file is refused, in one line
    if state is None:
        return None, None, "its checkpoint holds no weights"
    trained = state.get(USER, state)  # the trainer's state, as the trial's handle keeps it (trainables.trial)
    return model_spec.rebuild(trained), state.get("epoch"), NO_SPEC


def _log(tracker: StudyTracker, model, example, *, tags: dict[str, str]) -> None:
    """MLflow's `Model.log` through the tracker's client (no process-wide tracking URI, experiment or active run): a
    logged model in the parent run's experiment, saved in a temporary folder and uploaded to the artifact store."""
    import mlflow.pytorch
    import numpy as np
    import torch
    from mlflow.models import Model, ModelSignature
    from mlflow.types import Schema, TensorSpec

    client, parent = tracker.client, tracker.parent_run_id
    with torch.no_grad():
        output = model(example)
    signature = ModelSignature(  # -1: any batch size, the one dimension pt2 exports as dynamic
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *example.shape[1:]))]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *output.shape[1:]))]))
    logged = client.create_logged_model(tracker.experiment_id(), name=P.BEST_MODEL, source_run_id=parent, tags=tags)
    try:
        with tempfile.TemporaryDirectory() as local:
            meta = Model(artifact_path=logged.artifact_location, run_id=parent, model_id=logged.model_id)
            mlflow.pytorch.save_model(model, f"{local}/model", mlflow_model=meta, input_example=example,
                                      signature=signature, serialization_format="pt2",
                                      pip_requirements=mlflow.pytorch.get_default_pip_requirements())
            client.log_model_artifacts(logged.model_id, f"{local}/model")
        client.log_outputs(parent, [LoggedModelOutput(logged.model_id, step=0)])
    except BaseException:
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)


def _tags(values: dict[str, str]) -> list[RunTag]:
    return [RunTag(k, v) for k, v in values.items()]
