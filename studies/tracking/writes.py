"""The MLflow writes a tracker queues (studies.tracking.writer): module-level functions of (client, ...), so that they
travel to a writer process by name. Each is what one tracker method wrote directly before it was queued."""

from __future__ import annotations

from typing import Any

import yaml
from mlflow.entities import DatasetInput, Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from hpstudy.schema import params as P
from studies.tracking.writer import history_csv

BATCH = 100  # MLflow's log_batch limit on params per call
METRICS_PER_BATCH = 1000  # ... and on metrics and tags together
MAX_TAG = 5000  # characters; MLflow refuses longer tag values


def tags_of(values: dict[str, Any]) -> list[RunTag]:
    """No empty tags: a tag that is there says something (an absent stop_reason: the trial just completed)."""
    return [RunTag(k, str(v)[:MAX_TAG]) for k, v in values.items() if v is not None and str(v) != ""]


def log_params(client: MlflowClient, run_id: str, params: dict[str, Any]) -> None:
    items = [Param(k, str(v)) for k, v in params.items()]
    for i in range(0, len(items), BATCH):
        client.log_batch(run_id, params=items[i:i + BATCH])


def create_run(client: MlflowClient, experiment_id: str, name: str, tags: list[RunTag], params: dict[str, Any],
               config: dict[str, Any] | None, dataset: DatasetInput | None) -> str:
    """A trial's run: its tags, params, config.yaml and dataset. Returns its id."""
    run_id = client.create_run(experiment_id, run_name=name, tags={t.key: t.value for t in tags}).info.run_id
    log_params(client, run_id, params)
    if config is not None:
        client.log_text(run_id, yaml_text(config), P.TRIAL_CONFIG)
    if dataset is not None:
        client.log_inputs(run_id, datasets=[dataset])
    return run_id


def log_metrics(client: MlflowClient, run_id: str, metrics: list[Metric]) -> None:
    for i in range(0, len(metrics), METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[i:i + METRICS_PER_BATCH])


def log_text(client: MlflowClient, run_id: str, text: str, name: str) -> None:
    client.log_text(run_id, text, name)


def log_new_params(client: MlflowClient, run_id: str, params: dict[str, Any]) -> None:
    """Those of `params` the run does not hold yet: MLflow never changes a logged param."""
    logged = client.get_run(run_id).data.params
    log_params(client, run_id, {k: v for k, v in params.items() if k not in logged})


def end_trial(client: MlflowClient, run_id: str, history: str | None, tags: list[RunTag], status: str,
              metrics: list[Metric] = ()) -> None:
    """A trial's end: its last epochs (`metrics`, held by the tracker: written with the tags, in one batch where
    they fit), its history.csv (None: read back from the run, a resumed trial's, after those epochs), its ending
    tags, its MLflow status."""
    metrics = list(metrics)
    if history is None or len(metrics) + len(tags) > METRICS_PER_BATCH:  # written first: apart from the tags
        log_metrics(client, run_id, metrics)
        metrics = []
    if history is None:
        history = run_history(client, run_id)
    client.log_text(run_id, history, P.TRIAL_HISTORY)
    client.log_batch(run_id, metrics=metrics, tags=tags)
    client.set_terminated(run_id, status=status)


def yaml_text(config: dict[str, Any]) -> str:
    """`config` as MlflowClient.log_dict writes a .yaml (same options), by libyaml's emitter where PyYAML has it: a
    trial's config in a fifth of the time."""
    return yaml.dump(config, Dumper=getattr(yaml, "CDumper", yaml.Dumper), indent=2, default_flow_style=False)


def run_history(client: MlflowClient, run_id: str) -> str:
    """history.csv of what the run holds: one row per epoch (MLflow's step), a column per metric; a step logged twice
    shows its latest value."""
    rows: dict[int, dict[str, float]] = {}
    for key in sorted(client.get_run(run_id).data.metrics):
        for m in sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp)):
            rows.setdefault(m.step, {})[key] = m.value
    return history_csv(rows)
