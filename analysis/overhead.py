"""What each configuration costs relative to the baseline: epoch time, throughput, peak memory, trial time.

"+19% time" next to "+0.5 pp val/acc" is how a method's gain is weighed against its cost.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.tables import multiseed_table

# (trials column, what it is, unit, decimals); columns a study did not log are left out of the table
RESOURCES = (
    ("sys/epoch_s/mean", "epoch time", "s", 2),
    ("sys/samples_per_s/mean", "throughput", "samples/s", 0),
    ("sys/peak_mem_mb/max", "peak memory", "MB", 0),
    ("sys/trial_s", "trial time", "s", 1),
)
EPOCH_TIME = RESOURCES[0][0]


def overhead_table(
    trials: pd.DataFrame, baseline: str | None = None, statuses: Iterable[str] = ("completed",)
) -> pd.DataFrame:
    """Per config: n, then for each resource logged its mean over counted trials and, with a baseline,
    `<column>/rel`: mean / baseline's mean - 1 (0.19 = 19% more than the baseline)."""
    present = [r for r in RESOURCES if r[0] in trials.columns and trials[r[0]].notna().any()]
    out = None
    for column, *_ in present:
        table = multiseed_table(trials, column, baseline=None, statuses=statuses)
        if out is None:
            out = table[["n"]].copy()
        out[column] = table["mean"]
        if baseline is not None:
            out[f"{column}/rel"] = table["mean"] / table.loc[baseline, "mean"] - 1
    if out is None:
        return pd.DataFrame(index=pd.Index([], name="config"))
    if baseline is not None:  # the baseline first, as in the metric tables
        out = out.loc[[baseline, *[c for c in out.index if c != baseline]]]
    out.attrs = {"baseline": baseline, "statuses": tuple(statuses)}
    return out


def _rel(x: float) -> str:
    return "—" if pd.isna(x) else "±0%" if abs(x) < 0.005 else f"{x:+.0%}"


def format_overhead_markdown(table: pd.DataFrame) -> str:
    """"1.93 s (+19%)" cells: absolute mean over seeds, change relative to the baseline in parentheses."""
    if table.empty:
        return "no cost metrics (sys/epoch_s, sys/samples_per_s, sys/peak_mem_mb) were logged\n"
    baseline = table.attrs.get("baseline")
    present = [r for r in RESOURCES if r[0] in table.columns]
    head = ["config", "n", *[f"{name} ({unit})" for _, name, unit, _ in present]]
    lines = ["mean over counted trials (status " + ", ".join(table.attrs.get("statuses", ("completed",)))
             + ")" + (f"; (±k%): relative to {baseline}" if baseline is not None else "") + ".", "",
             "| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for config, row in table.iterrows():
        cells = [str(config).replace("|", "\\|"), str(int(row["n"]))]
        for column, _, _, dec in present:
            cell = "—" if pd.isna(row[column]) else f"{row[column]:,.{dec}f}"
            if baseline is not None and config != baseline and not pd.isna(row[column]):
                cell += f" ({_rel(row[f'{column}/rel'])})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def overhead_summary(table: pd.DataFrame) -> list[str]:
    """One phrase per non-baseline config, "beta=0.5 +19%" (epoch time), for the terminal."""
    baseline = table.attrs.get("baseline")
    if baseline is None or f"{EPOCH_TIME}/rel" not in table.columns:
        return []
    return [f"{c} {_rel(r[f'{EPOCH_TIME}/rel'])}" for c, r in table.iterrows() if c != baseline]
