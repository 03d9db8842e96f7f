"""Multi-seed summary of a study's trials: n, mean, std per config and the difference to a baseline.

Works on the frame `analysis.load.load_trials` returns; Markdown output reads fine in a terminal too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pandas as pd

from analysis.load import TRIAL_COLUMNS, AnalysisError

_NUMBER = re.compile(r"(\d+(?:\.\d+)?(?:[eE]-?\d+)?)")


def _natural_key(label: str) -> tuple:
    # "beta=0.05" < "beta=0.3" < "beta=1.0", which plain string order gets wrong; split() alternates text, number.
    parts = _NUMBER.split(label)
    return tuple(float(p) if i % 2 else p for i, p in enumerate(parts))


def metric_columns(trials: pd.DataFrame) -> list[str]:
    """Columns of a trials frame that hold metrics (everything but the fixed columns and `param.*`)."""
    return [c for c in trials.columns if c not in TRIAL_COLUMNS and not c.startswith("param.")]


def multiseed_table(
    trials: pd.DataFrame,
    metric: str = "val/acc",
    baseline: str | None = None,
    statuses: Iterable[str] = ("completed",),
) -> pd.DataFrame:
    """Per config (index): n, n_other, mean, std (ddof=1, NaN below n=2), and `delta` vs `baseline`'s mean.

    `n` counts trials whose status is in `statuses` and that have a value for `metric`; `n_other` counts the
    rest of that config's trials, so a config's failures stay visible. Configs with n=0 keep a row (mean NaN).
    Rows: the baseline first, then configs in natural order of their labels. `attrs` records metric,
    statuses and baseline for the formatters.
    """
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    if metric not in trials.columns:
        raise AnalysisError(f"no metric {metric!r}; metric columns: {', '.join(metric_columns(trials)) or '(none)'}")
    configs = list(dict.fromkeys(trials["config"]))
    if baseline is not None and baseline not in configs:
        raise AnalysisError(f"no baseline config {baseline!r}; configs: {', '.join(map(str, configs)) or '(none)'}")

    counted = trials["status"].isin(statuses) & trials[metric].notna()
    values = trials[metric].where(counted)  # NaN outside `counted`, so mean/std/count skip it
    grouped = values.groupby(trials["config"], sort=False)
    table = pd.DataFrame(
        {
            "n": grouped.count(),
            "n_other": (~counted).groupby(trials["config"], sort=False).sum(),
            "mean": grouped.mean(),
            "std": grouped.std(ddof=1),
        }
    ).astype({"n": "int64", "n_other": "int64"})
    table.index.name = "config"

    rest = sorted((c for c in configs if c != baseline), key=lambda c: _natural_key(str(c)))
    table = table.loc[([baseline] if baseline is not None else []) + rest]
    if baseline is not None:
        table["delta"] = table["mean"] - table.loc[baseline, "mean"]
    table.attrs = {"metric": metric, "statuses": statuses, "baseline": baseline}
    return table


def _num(x: float, scale: float, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x * scale:+.2f}" if sign else f"{x * scale:.2f}"


def format_markdown(table: pd.DataFrame, metric: str, scale: float = 100.0, unit: str = "%") -> str:
    """A Markdown table of `multiseed_table`'s output: `mean ± std` in `unit` (after `scale`), Δ vs baseline.

    A note above the table says which statuses were counted; `(+k)` after n counts the trials that were not.
    """
    statuses = table.attrs.get("statuses", ("completed",))
    baseline = table.attrs.get("baseline")
    # A difference of percentages is in percentage points, not percent.
    delta_unit = "pp" if unit == "%" else unit
    has_delta = "delta" in table.columns
    head = ["config", "n", f"{metric} ({unit})" if unit else metric]
    if has_delta:
        head.append(f"Δ vs baseline ({delta_unit})" if delta_unit else "Δ vs baseline")
    lines = [
        f"mean ± std (ddof=1) over seeds; n counts trials with status {', '.join(statuses)}; "
        "(+k): trials of that config not counted.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|",
    ]
    for config, row in table.iterrows():
        # iterrows() hands back floats for a mixed-dtype row
        n, n_other = int(row["n"]), int(row["n_other"])
        value = _num(row["mean"], scale) + (f" ± {_num(row['std'], scale)}" if n >= 2 else "")
        cells = [str(config).replace("|", "\\|"), f"{n} (+{n_other})" if n_other else f"{n}", value]
        if has_delta:
            cells.append("—" if config == baseline else _num(row["delta"], scale, sign=True))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
