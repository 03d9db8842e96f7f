"""Everything a study report says, computed from the trials frame: per-metric tables, overhead and Pareto front.

Pure computation (no files, no MLflow), so a bad baseline, metric or objective fails before anything is written; the
study's metric table comes with its trials (`analysis.load.metric_table_of`) and stays with the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from analysis.formats import format_markdown, format_overview_markdown, metric_direction, metric_unit, notes
from analysis.hypervolume import EPOCHS, format_hypervolume_markdown, hypervolume_history
from analysis.load import AnalysisError, metric_table_of
from analysis.overhead import format_overhead_markdown, overhead_summary, overhead_table
from analysis.pareto import format_pareto_markdown, pareto_table
from analysis.tables import metric_columns, multiseed_table, sort_best_first
from hpstudy.schema import tags as T
from hpstudy.schema.metrics import MetricTable

# The first present one leads the report; test/acc: measured once per trial at its end (or every epoch without a
# validation split), never selected on.
CONFIRM_BASELINE = "baseline"  # the base config in a search's confirmation (studies.cli.confirm)
DEFAULT_METRICS = ("val/acc", "test/acc", "val/acc_best", "rob/acc", "gap")
COST_OBJECTIVE = ("sys/epoch_s/mean", "min")


@dataclass
class Report:
    trials: pd.DataFrame
    baseline: str | None
    metrics: list[str]
    tables: dict[str, pd.DataFrame]  # metric -> multiseed_table, rows in report order
    overhead: pd.DataFrame
    pareto: pd.DataFrame | None  # None with fewer than two objectives logged
    metric_table: MetricTable  # the study's: units and directions of its metrics, its task's own included
    hypervolume: pd.DataFrame | None = None  # analysis.hypervolume's history; with the Pareto front of a search
    statuses: tuple[str, ...] = ("completed",)
    left_out: list[str] = field(default_factory=list)  # what the report could not include, and why
    # a search's confirmation (hpstudy.phase=confirm): its best configurations retrained on fresh seeds against the
    # base config; what the report leads with
    confirmation: Report | None = None

    @property
    def study(self) -> str:
        return str(self.trials.attrs.get("study"))

    @property
    def parent_run_id(self) -> str:
        return str(self.trials.attrs.get("parent_run_id"))

    @property
    def configs(self) -> list[str]:
        """Configs in report order: the baseline first, or the best mean of the lead metric first in a search."""
        return [str(c) for c in self.tables[self.metrics[0]].index]

    def counts(self) -> str:
        """"10 trials: 9 completed, 1 failed": every trial of the invocation, however it ended."""
        by_status = ", ".join(f"{n} {s}" for s, n in self.trials["status"].value_counts().items())
        return f"{len(self.trials)} trials: {by_status or 'none'}"

    def headline(self) -> str:
        return f"{self.study}: {self.counts()}"

    def protocol_lines(self) -> list[str]:
        """What the study selected on and how it used the test split; what a rehearsal ran differently."""
        attrs = self.trials.attrs
        return ([f"Protocol: {attrs['protocol']}"] if attrs.get("protocol") else []) + (
            [f"Note: {attrs['notes']}"] if attrs.get("notes") else [])

    def main_table(self) -> str:
        """The lead metric's table: what a terminal shows first."""
        return format_markdown(self.tables[self.metrics[0]], self.metrics[0], self.metric_table)

    def confirmation_gap(self) -> str | None:
        """How the search's best value compares with its confirmation on fresh seeds."""
        if self.confirmation is None or not self.configs:
            return None
        metric, best = self.metrics[0], self.configs[0]
        table, confirmed = self.tables[metric], self.confirmation.tables[metric]
        first = next((c for c in confirmed.index if str(c).startswith("#1 ")), None)
        if first is None or pd.isna(table.loc[best, "mean"]):
            return None
        scale, unit, dunit = metric_unit(metric, self.metric_table)
        row, found = confirmed.loc[first], table.loc[best]
        spread = f" ± {row['std'] * scale:.2f}" if row["n"] >= 2 else ""
        gap = (row["mean"] - found["mean"]) * scale
        return (f"the search's best, {best}: {metric} {found['mean'] * scale:.2f}{unit} (n={int(found['n'])}, the "
                f"maximum over {len(table)} configurations); confirmed on fresh seeds: {row['mean'] * scale:.2f}"
                f"{spread}{unit} (n={int(row['n'])}); gap {gap:+.2f}{dunit}")

    def markdown(self) -> str:
        """table.md: headline, all metrics side by side (best bold), then one detailed table per metric; a search
        with a confirmation leads with the confirmation's."""
        if self.confirmation is not None:
            c = self.confirmation
            lead = [f"# {self.study}: confirmation", "", "The search's best configurations and the base config, "
                    "retrained on fresh seeds and paired: the unbiased table, what the study reports.", "",
                    *[f"{line}\n" for line in [self.confirmation_gap()] if line],
                    format_markdown(c.tables[c.metrics[0]], c.metrics[0], c.metric_table), ""]
            return "\n".join(lead) + "\n" + replace(self, confirmation=None).markdown().replace(
                f"# {self.study}", f"# {self.study}: the search (its best is optimistic)", 1)
        base = f"; baseline `{self.baseline}`" if self.baseline is not None else "; no baseline (best first)"
        lead = self.tables[self.metrics[0]]
        parts = [f"# {self.study}", "", f"{self.headline()}; parent run `{self.parent_run_id}`{base}.", "",
                 *[f"{line}\n" for line in self.protocol_lines()], *notes(lead), "", "## Overview", "",
                 format_overview_markdown(self.tables, self.metric_table)]
        for metric, table in self.tables.items():
            parts += [f"## {metric}", "", format_markdown(table, metric, self.metric_table, with_notes=False)]
        parts += [f"_{note}_\n" for note in self.left_out]
        return "\n".join(parts)

    def test_summary(self) -> str | None:
        """After the lead table: a sweep's test table; for a search, the test figure of the configuration it
        selected (best first by the lead metric). None when the test split was not measured or leads already."""
        test = test_metric(self.metrics[0])
        if test not in self.tables or self.metrics[0] == test:
            return None
        table = self.tables[test]
        if self.baseline is not None:
            return format_markdown(table, test, self.metric_table, with_notes=False)
        selected = self.configs[0]
        row = table.loc[selected]
        scale, unit, _ = metric_unit(test, self.metric_table)
        spread = f" ± {row['std'] * scale:.2f}" if row["n"] >= 2 else ""
        return (f"selected on {self.metrics[0]}: {selected}: {test} {row['mean'] * scale:.2f}{spread}{unit} "
                f"(n={int(row['n'])})")

    def overhead_markdown(self) -> str:
        return format_overhead_markdown(self.overhead)

    def pareto_markdown(self) -> str | None:
        return None if self.pareto is None else format_pareto_markdown(self.pareto, self.metric_table)

    def hypervolume_markdown(self) -> str | None:
        return None if self.hypervolume is None else format_hypervolume_markdown(self.hypervolume)

    def hypervolume_line(self) -> str | None:
        """When the search had found most of its front: the epochs spent until 90% of the final hypervolume."""
        h = self.hypervolume
        if h is None or h["of_final"].isna().all():
            return None
        first = h[h["of_final"] >= 0.9].iloc[0]
        return (f"hypervolume: 90% of its final value after {int(first['trial'])} of {len(h)} trials, "
                f"{int(first['epochs_spent'])} of {int(h['epochs_spent'].iloc[-1])} epochs spent")

    def terminal_lines(self) -> list[str]:
        """The short version after the main table: who is on the Pareto front, how soon the search found it,
        what each config costs."""
        lines = [self.pareto_markdown().splitlines()[0]] if self.pareto is not None else []
        lines += [line for line in [self.hypervolume_line()] if line]
        cost = overhead_summary(self.overhead)
        if cost:
            lines.append(f"epoch time vs {self.baseline}: " + ", ".join(cost))
        return lines


def _logged(trials: pd.DataFrame, metric: str) -> bool:
    return metric in trials.columns and bool(trials[metric].notna().any())


def _check_metrics(trials: pd.DataFrame, metrics: Iterable[str]) -> None:
    missing = [m for m in metrics if not _logged(trials, m)]
    if missing:
        have = [m for m in metric_columns(trials) if _logged(trials, m)]
        raise AnalysisError(f"metric {', '.join(map(repr, missing))} never logged in this study; "
                            f"logged: {', '.join(have) or '(none)'}")


def test_metric(lead: str) -> str:
    """The test split's counterpart of the lead metric (val/fscore -> test/fscore)."""
    return "test/" + lead.split("/", 1)[-1]


def default_metrics(trials: pd.DataFrame, lead: str | None = None) -> list[str]:
    """`lead` (the study's metric) first, then its test, train, best-so-far and train-val gap versions (the seed
    003 gap analysis, for whatever the task's lead metric is), then those of DEFAULT_METRICS, all as logged."""
    out = [lead] if lead else []
    if lead:
        leaf = lead.split("/", 1)[-1]
        related = [f"test/{leaf}", f"train/{leaf}", f"val/{leaf}_best", f"gap/train_val_{leaf}"]
        out += [m for m in related if m not in out and _logged(trials, m)]
    return out + [m for m in DEFAULT_METRICS if m not in out and _logged(trials, m)]


def default_objectives(trials: pd.DataFrame, lead: str, mode: str,
                       metric_table: MetricTable) -> list[tuple[str, str]]:
    """The lead metric, robustness when measured, and epoch time: gain against robustness against cost."""
    out = [(lead, mode)]
    if lead != "rob/acc" and _logged(trials, "rob/acc"):
        out.append(("rob/acc", metric_table.direction("rob/acc")))
    if _logged(trials, COST_OBJECTIVE[0]):
        out.append(COST_OBJECTIVE)
    return out


def build_report(
    trials: pd.DataFrame,
    *,
    baseline: str | None = None,
    metrics: Sequence[str] | None = None,
    objectives: Sequence[tuple[str, str]] | None = None,
    mode: str | None = None,
    statuses: Iterable[str] = ("completed",),
) -> Report:
    """Tables for `metrics` (default: `default_metrics`), compared with `baseline` when given, else sorted best
    first by the first metric in `mode` (default: its direction in the study's metric table, which `trials` carries
    from `load_trials`); overhead; Pareto front of `objectives`."""
    statuses = tuple(statuses)
    confirmed, trials = split_confirmation(trials)
    metric_table = metric_table_of(trials)
    metrics = list(metrics) if metrics else default_metrics(trials)
    if not metrics:
        _check_metrics(trials, DEFAULT_METRICS[:1])
    _check_metrics(trials, metrics)
    mode = mode or _direction(metrics[0], metric_table)
    tables = {m: multiseed_table(trials, m, baseline=baseline, statuses=statuses) for m in metrics}
    if baseline is None:  # a search: best configurations first, every metric in the same row order
        order = sort_best_first(tables[metrics[0]], mode).index
        tables = {m: _reordered(t, order) for m, t in tables.items()}
    left_out = []
    objectives = list(objectives) if objectives else default_objectives(trials, metrics[0], mode, metric_table)
    _check_metrics(trials, [m for m, _ in objectives])
    pareto = hypervolume = None
    if len(objectives) >= 2:
        pareto = pareto_table(trials, objectives, statuses)
        if baseline is None and _logged(trials, EPOCHS):  # a search: how fast it found its front
            hypervolume = hypervolume_history(trials, objectives, statuses)
    else:
        left_out.append(f"no Pareto front: only {objectives[0][0]} of the default objectives was logged "
                     f"(it adds rob/acc and {COST_OBJECTIVE[0]} when they are)")
    confirmation = None if confirmed is None else build_report(
        confirmed, baseline=CONFIRM_BASELINE, metrics=[m for m in metrics if _logged(confirmed, m)] or None,
        mode=mode, statuses=statuses)
    return Report(trials=trials, baseline=baseline, metrics=metrics, tables=tables,
                  overhead=overhead_table(trials, baseline, statuses), pareto=pareto, metric_table=metric_table,
                  hypervolume=hypervolume, statuses=statuses, left_out=left_out, confirmation=confirmation)


def split_confirmation(trials: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """(a search's confirmation trials, its own trials); (None, trials) for a study without a confirmation."""
    mask = trials["phase"] == T.CONFIRM if "phase" in trials else pd.Series(False, index=trials.index)
    if not mask.any() or mask.all():  # no confirmation, or the confirmation's own frame
        return None, trials
    confirmed, own = trials[mask].reset_index(drop=True), trials[~mask].reset_index(drop=True)
    confirmed.attrs, own.attrs = dict(trials.attrs), dict(trials.attrs)
    return confirmed, own


def _direction(metric: str, metric_table: MetricTable) -> str:
    direction = metric_direction(metric, metric_table)
    if direction is None:
        why = ("no side is better" if metric in metric_table
               else "neither hpstudy.schema.metrics nor the study's task (its hpstudy.metric_specs tag) knows it")
        raise AnalysisError(f"metric {metric!r} has no direction to rank configs by ({why}); give a mode "
                            "(max or min)")
    return direction


def _reordered(table: pd.DataFrame, order) -> pd.DataFrame:
    out = table.loc[order]
    out.attrs = table.attrs
    return out
