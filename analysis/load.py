"""Read a study's trials from MLflow into pandas: one row per trial, final metrics as columns, and the study's own
metric table (`metric_table_of`) attached, which every table and figure of that study is then handed.

Reads the layout hpstudy writes (a parent run per study invocation, one nested child run per trial) and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from hpstudy.schema.errors import BadInput
from hpstudy.schema.metrics import METRICS, MetricSpec, MetricTable, specs_from_json
from hpstudy.schema.params import RUN_SPECIFIC, STUDY_PREFIX


class AnalysisError(BadInput):
    """A study, run, config or metric that is not there; the message lists what is."""


# Columns every trial frame has, in this order; everything else is `param.<key>` or a metric.
TRIAL_COLUMNS = ("run_id", "trial_id", "config", "seed", "status", "stop_reason", "stop_epoch", "phase", "decision")
# Per-trial reductions of a metric's history, `<key>/<reduction>` (hpstudy.schema.metrics.DERIVED): one MLflow call per
# run and key. The last epoch alone is a noisy cost estimate. (The best val/acc is the trainer's val/acc_best.)
AGGREGATES = (
    ("sys/epoch_s/mean", "sys/epoch_s", np.mean),
    ("sys/epochs", "sys/epoch_s", len),  # epochs the trial trained: what it cost a search (analysis.hypervolume)
    ("sys/samples_per_s/mean", "sys/samples_per_s", np.mean),
    ("sys/peak_mem_mb/max", "sys/peak_mem_mb", np.max),
)
TRIAL_S, GAP = "sys/trial_s", "gap"  # derived from the run's times, and from the final train and split accuracy
_PAGE = 1000  # runs or experiments per search request; MLflow's default page size


def _client(tracking_uri: str | None) -> MlflowClient:
    # Explicit URI: `mlflow.search_runs` reads the process-global tracking URI, which analysis must not depend on.
    return MlflowClient(tracking_uri=tracking_uri)


def all_pages(search, **kwargs) -> list:
    """Every item an MLflow client search (`search_runs`, `search_experiments`) finds, page by page."""
    items, token = [], None
    while True:
        page = search(max_results=_PAGE, page_token=token, **kwargs)
        items.extend(page)
        token = page.token
        if not token:
            return items


def _studies(client: MlflowClient) -> list[str]:
    # "Default" is MLflow's own; hpstudy never logs there, so listing it would only mislead.
    exps = all_pages(client.search_experiments)
    return sorted(e.name for e in exps if e.name != "Default")


def find_study_run(
    study: str | None = None, *, parent_run_id: str | None = None, tracking_uri: str | None = None
) -> Run:
    """The study's parent run: `parent_run_id` if given, else the most recently started one of `study`."""
    client = _client(tracking_uri)
    if parent_run_id is not None:
        run = _check_run(client, parent_run_id, tracking_uri)
        role, name = run.data.tags.get(T.ROLE), run.data.tags.get(T.STUDY)
        if role != T.ROLE_STUDY:
            raise AnalysisError(f"run {parent_run_id!r} is not a study run ({T.ROLE}={role!r})")
        if study is not None and name != study:
            raise AnalysisError(f"run {parent_run_id!r} belongs to study {name!r}, not {study!r}")
        return run
    if study is None:
        raise AnalysisError("give a study name or a parent_run_id")
    exp = client.get_experiment_by_name(study)
    if exp is None:
        raise AnalysisError(f"no study {study!r}; studies in this store: {', '.join(_studies(client)) or '(none)'}")
    runs = client.search_runs([exp.experiment_id], f"tags.`{T.ROLE}` = '{T.ROLE_STUDY}'", ViewType.ACTIVE_ONLY, 1,
                              ["attributes.start_time DESC"])
    if not runs:
        raise AnalysisError(f"study {study!r} has no parent run (tag {T.ROLE}={T.ROLE_STUDY})")
    return runs[0]


def _coerce(col: pd.Series) -> pd.Series:
    """Whole-column typing, so a column never mixes numbers and strings: bools, then numbers, else strings."""
    present = col.dropna()
    if len(present) and present.isin(["True", "False"]).all():
        return col.map({"True": True, "False": False})
    try:
        return pd.to_numeric(col)
    except (ValueError, TypeError):
        return col


def _config_labels(tags: pd.Series, params: pd.DataFrame) -> pd.Series:
    """The config_name tag, else "k=v, k=v" over the params that vary across the study (searches carry no tag)."""
    keys = [k for k in sorted(params.columns) if k not in RUN_SPECIFIC and params[k].nunique(dropna=False) > 1]
    # "default": a study of one configuration has no varying params to name it by; a param a trial did not log
    # (its section was off) is not part of its label
    labels = [", ".join(f"{k}={rec[k]}" for k in keys if not pd.isna(rec[k])) or "default"
              for rec in params.to_dict("records")]
    compact = pd.Series(labels, index=params.index, dtype=object)
    return tags.where(tags.notna(), compact)


def _split_collisions(labels: pd.Series, params: pd.DataFrame) -> pd.Series:
    """Append the differing params to a label shared by trials whose configs differ (sampled labels round to 3
    digits, so two nearby learning rates can share one); trials that logged no params keep the plain label."""
    keys = sorted(k for k in params.columns if k not in RUN_SPECIFIC)
    out = labels.copy()
    shared = labels[labels.duplicated(keep=False)]  # only a label two trials share can collide
    for label, idx in shared.groupby(shared, sort=False).groups.items():
        group = params.loc[idx, keys]
        group = group[group.notna().any(axis=1)]
        varying = [k for k in keys if group[k].nunique(dropna=False) > 1]
        if varying:
            out[group.index] = [f"{label} [{', '.join(f'{k}={rec[k]}' for k in varying)}]"
                                for rec in group[varying].to_dict("records")]
    return out


def _decision(verdicts: pd.Series, pairs: pd.Series) -> pd.Series:
    return pd.Series([f"{v} at n={n}" if isinstance(v, str) else None for v, n in zip(verdicts, pairs)],
                     index=verdicts.index, dtype=object)


def _int_tag(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("Int64")


def _reduce(history: dict[tuple[str, str], list[float]], client: MlflowClient, run: Run, key: str,
            reduction) -> float:
    """`reduction` of the run's values of `key`, each history fetched once however many reductions read it."""
    if key not in run.data.metrics:
        return np.nan
    if (run.info.run_id, key) not in history:
        history[run.info.run_id, key] = [m.value for m in client.get_metric_history(run.info.run_id, key)]
    return float(reduction(history[run.info.run_id, key]))


def _derived(client: MlflowClient, runs: list[Run], finals: pd.DataFrame) -> dict[str, object]:
    """AGGREGATES, `gap` (final train/acc - val/acc, or test/acc without a validation split: how much the model
    overfits) and `sys/trial_s` (run end - start, so a resumed trial's pause counts too); columns only for what
    was logged."""
    cols: dict[str, object] = {}
    history: dict[tuple[str, str], list[float]] = {}
    for column, key, reduction in AGGREGATES:
        if key in finals:
            cols[column] = [_reduce(history, client, r, key, reduction) for r in runs]
    for split in ("val", "test"):  # the split each epoch was measured on: test only without a validation split
        if {"train/acc", f"{split}/acc"} <= set(finals.columns):
            cols[GAP] = finals["train/acc"] - finals[f"{split}/acc"]
            break
    ends = [(r.info.end_time - r.info.start_time) / 1000 if r.info.end_time and r.info.start_time else np.nan
            for r in runs]
    if runs:
        cols[TRIAL_S] = ends
    return cols


def load_trials(
    study: str | None = None, *, parent_run_id: str | None = None, tracking_uri: str | None = None,
    children: list[Run] | None = None,
) -> pd.DataFrame:
    """One row per trial of the study invocation: TRIAL_COLUMNS, `param.<key>`, final metrics, derived metrics.

    `config` is the hpstudy.config_name tag, else every param but the seed (and run-specific keys) that varies.
    Derived (hpstudy.schema.metrics.DERIVED): `sys/epoch_s/mean`, `sys/epochs`, `sys/samples_per_s/mean`,
    `sys/peak_mem_mb/max`, `gap` (final train/acc - the acc of the split every epoch was measured on: val, or test
    without a validation split) and `sys/trial_s`. Failed, early-stopped and interrupted trials stay in,
    marked by `status`. `attrs` carries the study name, parent run id, the study's baseline config (or None), its
    task's `metric_specs` and its `metrics` table (read it with `metric_table_of`). `children`: the study run's
    nested runs already read (a study's driver at its end passes its own read): not searched for again.
    """
    client = _client(tracking_uri)
    parent = find_study_run(study, parent_run_id=parent_run_id, tracking_uri=tracking_uri)
    pid = parent.info.run_id
    if children is None:
        children = all_pages(client.search_runs, experiment_ids=[parent.info.experiment_id],
                             filter_string=f"tags.`{T.PARENT_RUN_ID}` = '{pid}'")
    # Other nested runs (none today) would not be trials; untagged ones are, from before the role tag existed.
    runs = [r for r in children if r.data.tags.get(T.ROLE, T.ROLE_TRIAL) == T.ROLE_TRIAL]
    runs.sort(key=lambda r: (r.info.start_time or 0, r.info.run_id))

    tags = pd.DataFrame([r.data.tags for r in runs], index=range(len(runs)), dtype=object)

    def tag(key: str) -> pd.Series:
        return tags[key] if key in tags else pd.Series(None, index=tags.index, dtype=object)

    params = pd.DataFrame([r.data.params for r in runs], index=tags.index, dtype=object)
    # `run.data.metrics` holds MLflow's latest value: the one at the highest step, i.e. the last epoch.
    finals = pd.DataFrame([r.data.metrics for r in runs], index=tags.index, dtype=float)
    # only for a run without the status tag (killed before it could be written)
    mlflow_status = pd.Series([statuses.from_mlflow(r.info.status) for r in runs], dtype=object)
    seeds = tag(T.SEED)
    if "seed" in params:
        seeds = seeds.where(seeds.notna(), params["seed"])

    out = pd.DataFrame(
        {
            "run_id": [r.info.run_id for r in runs],
            "trial_id": tag(T.TRIAL_ID),
            "config": _split_collisions(_config_labels(tag(T.CONFIG), params), params),
            "seed": _int_tag(seeds),
            "status": tag(T.STATUS).where(tag(T.STATUS).notna(), mlflow_status),
            "stop_reason": tag(T.STOP_REASON),
            "stop_epoch": _int_tag(tag(T.STOP_EPOCH)),
            "phase": tag(T.PHASE),  # "confirm": a search's confirmation trial; None: the study's own
            # sequential replication (--seeds auto): its configuration's end against the baseline, "better at n=5"
            "decision": _decision(tag(T.DECISION), tag(T.DECISION_N)),
        },
        columns=list(TRIAL_COLUMNS),
    )
    param_cols = {f"param.{k}": _coerce(params[k]) for k in sorted(params.columns)}
    metric_cols = {k: finals[k] for k in sorted(finals.columns)} | _derived(client, runs, finals)
    out = pd.concat([out, pd.DataFrame(param_cols), pd.DataFrame(metric_cols)], axis=1)
    ptags = parent.data.tags
    specs = _metric_specs(ptags)
    out.attrs = {"metric_specs": specs, "metrics": METRICS.with_specs(specs) if specs else METRICS,
                 "study": ptags.get(T.STUDY), "parent_run_id": pid, "baseline": ptags.get(T.BASELINE),
                 # one sentence each: what the study selected on and how it used the test split; what a --smoke
                 # rehearsal resolved differently (absent for studies logged before they existed)
                 "protocol": ptags.get(T.PROTOCOL), "notes": ptags.get(T.NOTES),
                 "study_metric": parent.data.params.get(f"{STUDY_PREFIX}metric")}  # what its decisions are on
    return out


def metric_table_of(trials: pd.DataFrame) -> MetricTable:
    """The study's metric table that `load_trials` attached to its trials: hpstudy.schema.metrics' built-in keys plus the
    task's own, with their units and directions; the built-in table alone for a frame not read from a store."""
    return trials.attrs.get("metrics", METRICS)


def _metric_specs(tags: dict[str, str]) -> tuple[MetricSpec, ...]:
    """The task's metrics the study logged on its parent run; () for a study logged before the tag existed."""
    if T.METRIC_SPECS not in tags:
        return ()
    try:
        return specs_from_json(tags[T.METRIC_SPECS])
    except ValueError as err:
        raise AnalysisError(str(err)) from None


def load_history(
    run_ids: str | Iterable[str], keys: str | Iterable[str], *, tracking_uri: str | None = None
) -> pd.DataFrame:
    """Per-step values in long format (run_id, key, step, value), sorted by run (as given), key, step."""
    client = _client(tracking_uri)
    run_ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    keys = [keys] if isinstance(keys, str) else list(keys)
    rows = []
    for rid in run_ids:
        found = [(rid, key, m.step, m.value) for key in keys for m in _history(client, rid, key)]
        # An unknown run id has no history either; say so rather than hand back a silently empty frame.
        if not found:
            _check_run(client, rid, tracking_uri)
        rows += found
    return pd.DataFrame(rows, columns=["run_id", "key", "step", "value"]).astype({"step": "int64", "value": float})


def _history(client: MlflowClient, run_id: str, key: str) -> list:
    return sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))


def _check_run(client: MlflowClient, run_id: str, tracking_uri: str | None) -> Run:
    try:
        return client.get_run(run_id)
    except MlflowException:
        raise AnalysisError(f"no run {run_id!r} in {tracking_uri or 'the default store'}") from None
