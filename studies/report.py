"""The table printed when a study ends: per configuration n, mean ± std of the study metric, Δ vs the baseline."""

from __future__ import annotations

from analysis import format_markdown, load_trials, multiseed_table
from studies.study import Study


def print_summary(study: Study, tracking_uri: str, parent_run_id: str) -> None:
    trials = load_trials(parent_run_id=parent_run_id, tracking_uri=tracking_uri)
    counts = ", ".join(f"{n} {s}" for s, n in trials["status"].value_counts().items())
    print(f"\n{study.name} ({study.profile}): {len(trials)} trials: {counts}")
    table = multiseed_table(trials, metric=study.metric, baseline=study.baseline)
    if study.baseline is None:  # a search: best configurations first
        table = table.sort_values("mean", ascending=study.mode == "min", na_position="last")
    scale, unit = (100.0, "%") if study.metric.endswith("acc") else (1.0, "")
    print(format_markdown(table, study.metric, scale=scale, unit=unit))
