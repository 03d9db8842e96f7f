"""Pareto fronts: the non-dominated set on plain arrays, and a thin adapter for seed-aggregated configs.

Written here rather than taken from Optuna, whose front works on single trials; ours compares means over seeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.formats import metric_unit
from analysis.load import AnalysisError
from analysis.tables import multiseed_table
from hpstudy.schema.metrics import MetricTable

DIRECTIONS = ("max", "min")


def pareto_front(points, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask over the rows of `points` (n, k): True where no other row dominates.

    Row a dominates b when a is at least as good in every objective and better in one, so identical rows never
    dominate each other (all copies of a front point are on it). Rows with a NaN are never on the front and
    dominate nothing.
    """
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(directions):
        raise ValueError(f"points must be (n, {len(directions)}) for {len(directions)} directions, got {p.shape}")
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad:
        raise ValueError(f"directions must be 'max' or 'min', got {bad}")
    # Flip minimized objectives so that larger is better everywhere.
    q = p * np.where(np.asarray(directions) == "max", 1.0, -1.0)
    valid = ~np.isnan(q).any(axis=1)
    q = q[valid]
    at_least = (q[:, None, :] >= q[None, :, :]).all(axis=2)  # [a, b]: a at least as good as b everywhere
    better = (q[:, None, :] > q[None, :, :]).any(axis=2)
    dominated = (at_least & better).any(axis=0)
    mask = np.zeros(len(p), dtype=bool)
    mask[np.flatnonzero(valid)] = ~dominated
    return mask


def parse_objectives(specs: Iterable[str]) -> list[tuple[str, str]]:
    """"val/acc:max" -> ("val/acc", "max"); a spec without a direction is an error, not a guess."""
    out = []
    for spec in specs:
        metric, _, direction = spec.rpartition(":")
        if not metric or direction not in DIRECTIONS:
            raise AnalysisError(f"objective {spec!r} must be METRIC:max or METRIC:min, e.g. val/acc:max")
        out.append((metric, direction))
    if not 2 <= len(out) <= 3:
        raise AnalysisError(f"give 2 or 3 objectives, got {len(out)}: {', '.join(specs)}")
    return out


def pareto_table(
    trials: pd.DataFrame, objectives: Sequence[tuple[str, str]], statuses: Iterable[str] = ("completed",)
) -> pd.DataFrame:
    """Per config: n, `<metric>` (mean over seeds) and `<metric>/std` for each objective, and `on_front`.

    Configs without a counted trial for every objective get NaN means and are never on the front.
    """
    statuses = tuple(statuses)
    tables = {m: multiseed_table(trials, m, statuses=statuses) for m, _ in objectives}
    first = tables[objectives[0][0]]
    out = pd.DataFrame({"n": first["n"]})
    for metric, table in tables.items():
        out[metric] = table["mean"].reindex(out.index)
        out[f"{metric}/std"] = table["std"].reindex(out.index)
    out["on_front"] = pareto_front(out[[m for m, _ in objectives]].to_numpy(), [d for _, d in objectives])
    out.attrs = {"objectives": list(objectives), "statuses": statuses}
    return out


def format_pareto_markdown(table: pd.DataFrame, metric_table: MetricTable) -> str:
    """Front members first, then the dominated configs, each with its objective means in the units of the study's
    `metric_table`."""
    objectives = table.attrs["objectives"]
    arrows = ", ".join(f"{m} {'↑' if d == 'max' else '↓'}" for m, d in objectives)
    front = [str(c) for c in table.index[table["on_front"]]]
    sep = "; " if any("," in c for c in front) else ", "  # a search's names are "lr=..., drop_rate=..."
    units = {m: metric_unit(m, metric_table) for m, _ in objectives}
    lines = [f"Pareto front over mean per config ({arrows}): {sep.join(front) or '(none)'}", "",
             "| config | n | " + " | ".join(f"{m} ({units[m][1]})" if units[m][1] else m for m, _ in objectives)
             + " | on front |", "|---|---:|" + "---:|" * len(objectives) + "---|"]
    for config, row in table.sort_values("on_front", ascending=False, kind="stable").iterrows():
        vals = ["—" if pd.isna(row[m]) else f"{row[m] * units[m][0]:.2f}" if units[m][1] in ("%", "pp")
                else f"{row[m] * units[m][0]:.4g}" for m, _ in objectives]
        cells = [str(config).replace("|", "\\|"), str(int(row["n"])), *vals, "yes" if row["on_front"] else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
