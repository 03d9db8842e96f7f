"""Markdown and LaTeX (booktabs) renderings of `multiseed_table` results, with units and honest notes.

Cells are built once as Unicode text (±, ×, —) and translated for LaTeX, so both outputs always agree. Units and
directions come from the study's metric table (`analysis.load.metric_table_of`), handed to each function needing one.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from analysis.stats import ALPHA, LEVEL, MIN_PAIRS, MIN_SEEDS, N_RESAMPLES, POWER
from hpstudy.schema.metrics import MetricTable

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}", "<": r"\textless{}",
                ">": r"\textgreater{}"}
_TEX_UNICODE = {"±": r"$\pm$", "×": r"$\times$", "—": "--", "Δ": r"$\Delta$", "≥": r"$\geq$"}
# hpstudy.schema.metrics unit -> (scale, unit shown, unit of a difference); others are shown as logged, with no unit
_SHOWN = {"fraction": (100.0, "%", "pp"), "fraction difference": (100.0, "pp", "pp"), "s": (1.0, "s", "s"),
          "samples/s": (1.0, "samples/s", "samples/s"), "MB": (1.0, "MB", "MB")}


def metric_unit(metric: str, metric_table: MetricTable) -> tuple[float, str, str]:
    """(scale, unit, unit of a difference) from the study's metric table: accuracies in %, their differences in pp."""
    row = metric_table.find(metric)
    return _SHOWN.get(row.unit, (1.0, "", "")) if row is not None else (1.0, "", "")


def metric_direction(metric: str, metric_table: MetricTable) -> str | None:
    """Which way is better in the study's metric table: 'max' | 'min', or None where no side is (gap) or the key is
    unknown."""
    row = metric_table.find(metric)
    return row.direction if row is not None else None


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _decimals(table: pd.DataFrame, scale: float, unit: str) -> int:
    if unit in ("%", "pp"):
        return 2
    biggest = (table["mean"].abs() * scale).max()
    return 1 if not _missing(biggest) and biggest >= 10 else 3


def _num(x, scale: float, dec: int, sign: bool = False) -> str:
    if _missing(x):
        return "—"
    return f"{x * scale:+.{dec}f}" if sign else f"{x * scale:.{dec}f}"


def _p(p) -> str:
    return "—" if _missing(p) else "<0.001" if p < 0.001 else f"{p:.3f}"


def _label(metric: str, unit: str) -> str:
    return f"{metric} ({unit})" if unit else metric


def _interval(low, high, scale: float, dec: int, sign: bool = False) -> str:
    return "—" if _missing(low) else f"[{_num(low, scale, dec, sign)}, {_num(high, scale, dec, sign)}]"


def mde_cell(mde, sd, n_pairs, scale: float, dec: int) -> str:
    """The MDE, or "—" with the reason where the pairs (below 2: the flag says why) or their spread give none."""
    if not _missing(mde):
        return _num(mde, scale, dec)
    return "— (sd of Δ 0)" if not _missing(n_pairs) and n_pairs >= MIN_SEEDS and sd == 0 else "—"


def _paired_cells(row: pd.Series, scale: float, dec: int) -> list[str]:
    """CI of Δ, p (or the flag that replaces it), Holm's p, MDE, d_z, variance ratio."""
    # below 1e-3: the seeds agree to float noise (identical runs give 1e-28, not 0)
    ratio = ("—" if _missing(row["var_ratio"]) else "≈0×" if row["var_ratio"] < 1e-3 else f"{row['var_ratio']:.2g}×")
    return [_interval(row["delta_ci_low"], row["delta_ci_high"], scale, dec, sign=True), row["flag"] or _p(row["p"]),
            _p(row["p_holm"]), mde_cell(row["mde"], row["sd_delta"], row["n_pairs"], scale, dec),
            "—" if _missing(row["d_z"]) else f"{row['d_z']:.2f}", ratio]


def metric_rows(table: pd.DataFrame, metric: str, scale: float, unit: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one metric's table as Unicode text cells."""
    baseline = table.attrs.get("baseline")
    dunit = "pp" if unit == "%" else unit
    dec = _decimals(table, scale, unit)
    has_delta, paired = "delta" in table.columns, "flag" in table.columns
    head = ["config", "n", _label(metric, unit), f"{LEVEL:.0%} CI"]
    if has_delta:
        head.append(f"Δ vs baseline ({dunit})" if dunit else "Δ vs baseline")
    if paired:
        head += [f"{LEVEL:.0%} CI of Δ", "p (paired t)", "p (Holm)", f"MDE ({dunit})" if dunit else "MDE", "d_z",
                 "var ratio"]
    rows = []
    for config, row in zip(table.index, table.to_dict("records")):  # not iterrows: a Series per row is slow
        n, n_other = int(row["n"]), int(row["n_other"])
        value = _num(row["mean"], scale, dec) + (f" ± {_num(row['std'], scale, dec)}" if n >= 2 else "")
        cells = [str(config), f"{n} (+{n_other})" if n_other else f"{n}", value,
                 _interval(row["ci_low"], row["ci_high"], scale, dec)]
        if has_delta:
            cells.append("—" if config == baseline else _num(row["delta"], scale, dec, sign=True))
        if paired:
            cells += ["—"] * 6 if config == baseline else _paired_cells(row, scale, dec)
        rows.append(cells)
    if "decision" in table.columns:  # sequential replication: each comparison's end, first thing after the config
        head.insert(1, "decision")
        for cells, decision in zip(rows, table["decision"]):
            cells.insert(1, str(decision) if isinstance(decision, str) and decision else "—")
    return head, rows


def notes(table: pd.DataFrame) -> list[str]:
    """What the numbers are, above every table: which trials count, which test, which interval."""
    statuses = ", ".join(table.attrs.get("statuses", ("completed",)))
    out = [f"mean ± std (ddof=1) over seeds; n counts trials with status {statuses}; (+k): trials of that config "
           f"not counted; {LEVEL:.0%} CI: t-interval of the mean."]
    if "flag" in table.columns:
        out.append(f"Δ: difference of means; paired over the seeds both configs have: p (paired t-test), "
                   f"{LEVEL:.0%} CI of Δ (bootstrap BCa, {N_RESAMPLES:,} resamples), d_z = mean Δ / sd Δ; "
                   f"var ratio = variance / baseline's. No p-value below {MIN_PAIRS} pairs or with unpaired seeds. "
                   + mde_note())
    return out


def mde_note() -> str:
    """What p (Holm) and MDE are, in one sentence each: the tables' and the paper's."""
    return (f"p (Holm): p adjusted over the table's paired tests (its configurations with a p), Holm's step-down. "
            f"MDE: the smallest true Δ that a two-sided paired t-test at alpha = {ALPHA:g} detects with power "
            f"{POWER:g} over the seeds both configs have, from the sd of their per-seed differences (exact "
            f"noncentral t); none below {MIN_SEEDS} pairs.")


def _markdown(head: list[str], rows: list[list[str]]) -> list[str]:
    esc = [[c.replace("|", "\\|") for c in r] for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in esc]


def format_markdown(table: pd.DataFrame, metric: str, metric_table: MetricTable, scale: float | None = None,
                    unit: str | None = None, *, with_notes: bool = True) -> str:
    """A Markdown table of `multiseed_table`'s output, notes first; `scale`/`unit` default to `metric_unit`'s."""
    if scale is None or unit is None:
        scale, unit, _ = metric_unit(metric, metric_table)
    head, rows = metric_rows(table, metric, scale, unit)
    return "\n".join([*(notes(table) + [""] if with_notes else []), *_markdown(head, rows)]) + "\n"


def overview_rows(tables: dict[str, pd.DataFrame],
                  metric_table: MetricTable) -> tuple[list[str], list[list[str]], list[list[bool]]]:
    """(header, rows, bold) for all metrics side by side: mean ± std, the best mean of each metric bold."""
    first = next(iter(tables.values()))
    head, rows = ["config", "n"], [[str(c), str(int(n))] for c, n in zip(first.index, first["n"])]
    bold = [[False, False] for _ in rows]
    firsts = [int(n) for n in first["n"]]
    for metric, table in tables.items():
        scale, unit, _ = metric_unit(metric, metric_table)
        dec = _decimals(table, scale, unit)
        head.append(_label(metric, unit))
        means = table["mean"].reindex(first.index)
        records = table.reindex(first.index)[["n", "mean", "std"]].to_dict("records")  # a row by label: slow
        # none bold where no side is better (a smaller train-val gap can be underfitting as well)
        direction = metric_direction(metric, metric_table)
        best = None if direction is None else means.max() if direction == "max" else means.min()
        for i, row in enumerate(records):
            n = int(row["n"])
            cell = _num(row["mean"], scale, dec) + (f" ± {_num(row['std'], scale, dec)}" if n >= 2 else "")
            rows[i].append(cell + (f" (n={n})" if n != firsts[i] else ""))
            # compared as printed, so two means that read the same are both bold
            bold[i].append(best is not None and not _missing(row["mean"])
                           and round(row["mean"] * scale, dec) == round(best * scale, dec))
    return head, rows, bold


def format_overview_markdown(tables: dict[str, pd.DataFrame], metric_table: MetricTable) -> str:
    head, rows, bold = overview_rows(tables, metric_table)
    rows = [[f"**{c}**" if b else c for c, b in zip(r, bs)] for r, bs in zip(rows, bold)]
    return "\n".join(_markdown(head, rows)) + "\n"


def tex(cell: str) -> str:
    """Unicode table text -> LaTeX: specials escaped, then ±, ×, — and minus signs as LaTeX."""
    out = "".join(_TEX_SPECIAL.get(ch, ch) for ch in cell)
    for uni, latex in _TEX_UNICODE.items():
        out = out.replace(uni, latex)
    return re.sub(r"(?<![\w.])-(?=\d)", "$-$", out)


def _tabular(head: list[str], rows: list[list[str]], bold: list[list[bool]] | None = None) -> list[str]:
    bold = bold or [[False] * len(r) for r in rows]
    body = [" & ".join(rf"\textbf{{{tex(c)}}}" if b else tex(c) for c, b in zip(r, bs)) + r" \\"
            for r, bs in zip(rows, bold)]
    return [rf"\begin{{tabular}}{{l{'r' * (len(head) - 1)}}}", r"\toprule", " & ".join(map(tex, head)) + r" \\",
            r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A Markdown table of Unicode text cells, numbers right-aligned (`|` in a cell escaped)."""
    return "\n".join(_markdown(head, rows)) + "\n"


def latex_tabular(head: list[str], rows: list[list[str]]) -> str:
    """The same cells as a booktabs tabular (needs \\usepackage{booktabs})."""
    return "\n".join(_tabular(head, rows)) + "\n"


def format_latex(tables: dict[str, pd.DataFrame], metric_table: MetricTable, title: str = "") -> str:
    """booktabs tables: all metrics side by side (best bold), then one comparison table per metric."""
    caption = f"{title}: " if title else ""
    lines = [r"% needs \usepackage{booktabs}", r"\begin{table}[t]", r"\centering",
             rf"\caption{{{tex(caption + 'mean ± std (ddof=1) over seeds; the best mean of each metric in bold.')}}}"]
    lines += _tabular(*overview_rows(tables, metric_table)) + [r"\end{table}", ""]
    for metric, table in tables.items():
        scale, unit, _ = metric_unit(metric, metric_table)
        text = f"{caption}{metric}. " + " ".join(notes(table))
        lines += [r"\begin{table}[t]", r"\centering", rf"\caption{{{tex(text)}}}"]
        lines += _tabular(*metric_rows(table, metric, scale, unit)) + [r"\end{table}", ""]
    return "\n".join(lines)
