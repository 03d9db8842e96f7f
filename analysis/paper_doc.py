"""The paper document as text: the Methods, then each study's seed table and figures, in Markdown and in LaTeX.

Cells are Unicode text built once (as `analysis.formats` does) and translated for LaTeX, so both documents agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.formats import latex_tabular, markdown_table, mde_cell, metric_unit, tex
from analysis.paper_methods import methods, n_of
from analysis.paper_runs import StudyRun
from analysis.seed_table import MEASURED, PAIRED, SeedTable

FIGURE_DIR = "figures"  # next to paper.md / paper.tex
UNFINISHED = "Without a finished run"  # the heading over the studies found in the store that have no table
ALL_FINISHED = "(every SES study found has a finished run)"


@dataclass
class Figure:
    name: str  # the seed's file name
    drawn: bool
    why: str = ""  # why it was not drawn


@dataclass
class Section:
    run: StudyRun
    table: SeedTable
    figures: list[Figure] = field(default_factory=list)


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _num(x, scale: float, dec: int, sign: bool = False) -> str:
    return "—" if _missing(x) else f"{float(x) * scale:+.{dec}f}" if sign else f"{float(x) * scale:.{dec}f}"


def _scale(key: str, table: SeedTable) -> tuple[float, int, str, str]:
    """(scale, decimals, unit, unit of a difference) of a key in the study's table: accuracies in % and pp with 2
    decimals."""
    scale, unit, dunit = metric_unit(key, table.metric_table)
    return scale, 2, unit, dunit


def _name(table: SeedTable, column: str) -> str:
    leaf = table.keys.acc.split("/", 1)[-1]
    return column if leaf == "acc" else column.replace("Acc", leaf)


def head(table: SeedTable, with_vs: bool) -> list[str]:
    cols = ["configuration", "n"] + (["Δ vs"] if with_vs else [])
    for column, attr in (*MEASURED[:3], *PAIRED, MEASURED[3]):
        _, _, unit, dunit = _scale(getattr(table.keys, attr), table)
        unit = dunit if column.startswith("Δ") or column == "Gap" else unit
        cols.append(f"{_name(table, column)} ({unit})" if unit else _name(table, column))
    return cols


def _measured(row: pd.Series, attr: str, table: SeedTable, n: int) -> str:
    if attr not in row or _missing(row[attr]):
        return "—"
    scale, dec, _, _ = _scale(getattr(table.keys, attr), table)
    k = int(row[f"{attr}/n"])
    cell = _num(row[attr], scale, dec) + (f" ± {_num(row[f'{attr}/std'], scale, dec)}" if k >= 2 else "")
    return cell + (f" (n={k})" if k != n else "")


def _paired(row: pd.Series, attr: str, table: SeedTable) -> str:
    if _missing(row["vs"]) or f"d_{attr}" not in row or _missing(row[f"d_{attr}"]):
        flag = row.get(f"d_{attr}/flag")
        return "—" if _missing(row["vs"]) or _missing(flag) or not flag else f"— ({flag})"
    scale, dec, _, _ = _scale(getattr(table.keys, attr), table)
    cell = _num(row[f"d_{attr}"], scale, dec, sign=True)
    mde = mde_cell(row.get(f"d_{attr}/mde"), row.get(f"d_{attr}/sd"), row.get(f"d_{attr}/pairs"), scale, dec)
    mde = "" if mde.startswith("—") else f"; MDE {mde}"
    if row[f"d_{attr}/flag"]:
        return f"{cell} ({row[f'd_{attr}/flag']}{mde})"
    p, holm = row[f"d_{attr}/p"], row.get(f"d_{attr}/p_holm")
    p = "p<0.001" if p < 0.001 else f"p={p:.3f}"
    holm = "" if _missing(holm) else f" (Holm {holm:.3f})"
    return (f"{cell} [{_num(row[f'd_{attr}/low'], scale, dec, True)}, {_num(row[f'd_{attr}/high'], scale, dec, True)}]"
            f" {p}{holm}{mde}")


def _time(row: pd.Series, table: SeedTable, n: int) -> str:
    cell = _measured(row, "time", table, n)
    rel = row.get("time/rel")
    return cell if cell == "—" or _missing(rel) else cell + (" (±0%)" if abs(rel) < 0.005 else f" ({rel:+.0%})")


def rows(table: SeedTable, with_vs: bool) -> list[list[str]]:
    out = []
    for config, row in table.rows.iterrows():
        n = int(row["acc/n"]) if "acc/n" in row and not _missing(row["acc/n"]) else 0
        other = int(row["acc/other"]) if "acc/other" in row and not _missing(row["acc/other"]) else 0
        cells = [str(config), f"{n} (+{other})" if other else str(n)]
        cells += [str(row["vs"]) if not _missing(row["vs"]) else "—"] if with_vs else []
        cells += [_measured(row, attr, table, n) for _, attr in MEASURED[:3]]
        cells += [_paired(row, attr, table) for _, attr in PAIRED]
        out.append(cells + [_time(row, table, n)])
    return out


def _needs_vs(table: SeedTable) -> bool:
    return any(not _missing(v) and v != table.baseline for v in table.rows["vs"])


def own_notes(section: Section) -> list[str]:
    """What only this table has to say (the Methods say what every table shares): why a column holds no number."""
    table = section.table
    out = ["No baseline: this study declares none, so no Δ."] if table.baseline is None else []
    return out + [f"{column} —: {why}." for column, why in table.missing.items() if not column.startswith("Δ")]


def caption(section: Section) -> str:
    """The table's own: study, profile, n."""
    return (f"{_title(section.run)}, profile `{section.run.profile}`, n = {n_of(section)} seeds per "
            "configuration.")


def _title(run: StudyRun) -> str:
    return f"{run.entry.experiment or 'no experiment'}: {run.entry.name}"


def _figures_markdown(figures: list[Figure]) -> list[str]:
    parts = []
    for fig in figures:
        parts += [f"![{fig.name}]({FIGURE_DIR}/{fig.name})", ""] if fig.drawn else [
            f"_{fig.name} not drawn: {fig.why}._", ""]
    return parts


def _figures_latex(figures: list[Figure], title: str) -> list[str]:
    lines = []
    for fig in figures:
        if fig.drawn:  # [H]: here, in its section, at the width it was drawn for
            lines += [r"\begin{figure}[H]", r"\centering",
                      rf"\includegraphics[width=\linewidth]{{{FIGURE_DIR}/{fig.name}}}",
                      rf"\caption{{{tex(title + ': ' + fig.name)}}}", r"\end{figure}", ""]
        else:
            lines += [tex(f"{fig.name} not drawn: {fig.why}."), ""]
    return lines


def _left(table: str, columns: int) -> str:
    """A table of names set left: analysis.formats sets every column but the first right, for numbers."""
    right = {rf"\begin{{tabular}}{{l{'r' * (columns - 1)}}}": rf"\begin{{tabular}}{{{'l' * columns}}}",
             "|---|" + "---:|" * (columns - 1): "|---|" + "---|" * (columns - 1)}
    for spec, left in right.items():
        table = table.replace(spec, left, 1)
    return table


# graphicx's \resizebox to the text width where the table is wider (\width: its natural width), never larger
FIT = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"


def _table_latex(head_: list[str], rows_: list[list[str]], text: str, left: bool = False) -> list[str]:
    """A table where it stands ([H]), its caption above it, narrowed to the text width; `left`: names."""
    tabular = latex_tabular(head_, rows_).rstrip()
    tabular = _left(tabular, len(head_)) if left else tabular
    return [r"\begin{table}[H]", r"\centering", rf"\caption{{{tex(text.replace('`', ''))}}}", FIT, tabular + "}",
            r"\end{table}", ""]


def section_markdown(section: Section) -> str:
    with_vs = _needs_vs(section.table)
    parts = [f"## {_title(section.run)}", "", section.run.entry.description, "",
             *[f"{line}\n" for line in own_notes(section)], f"_Table: {caption(section)}_", "",
             markdown_table(head(section.table, with_vs), rows(section.table, with_vs))]
    return "\n".join(parts + _figures_markdown(section.figures))


def section_latex(section: Section) -> str:
    table, run = section.table, section.run
    with_vs = _needs_vs(table)
    lines = [rf"\section{{{tex(_title(run))}}}", tex(run.entry.description), ""]
    lines += [tex(line.replace("`", "")) + "\n" for line in own_notes(section)]
    lines += _table_latex(head(table, with_vs), rows(table, with_vs), caption(section))
    return "\n".join(lines + _figures_latex(section.figures, _title(run)))


def methods_markdown(sections: list[Section]) -> str:
    m = methods(sections)
    parts = ["## Methods", "", f"**Runs.** {m.runs}", "", _left(markdown_table(m.head, m.rows), len(m.head))]
    return "\n".join(parts + [f"**{name}.** {text}\n" for name, text in m.paragraphs])


def methods_latex(sections: list[Section]) -> str:
    m = methods(sections)
    lines = [r"\section{Methods}", rf"\textbf{{Runs.}} {tex(m.runs)}", ""]
    lines += _table_latex(m.head, m.rows, "The runs behind the tables.", left=True)
    return "\n".join(lines + [rf"\textbf{{{name}.}} {tex(text)}" + "\n" for name, text in m.paragraphs])


def cross_markdown(group) -> str:
    """A group of figures joined across studies (analysis.paper_cross.CrossFigures)."""
    return "\n".join([f"## {group.title}", "", *([group.note, ""] if group.note else []),
                      *_figures_markdown(group.figures)])


def cross_latex(group) -> str:
    lines = [rf"\section{{{tex(group.title)}}}", *([tex(group.note.replace('`', '')), ""] if group.note else [])]
    return "\n".join(lines + _figures_latex(group.figures, group.title))


def _not_run(runs: list[StudyRun]) -> list[str]:
    return [f"{r.entry.experiment or '-'}: {r.entry.name} — {r.missing}" for r in runs if r.parent is None]


def summary(sections: list[Section], runs: list[StudyRun], source: str) -> str:
    """Which studies the document covers: those the store holds, since a study never run leaves no trace in it."""
    return (f"From {source}: the latest finished run of each of the {len(runs)} SES studies found in the store "
            f"(parent runs tagged with seed note 001; a study never run is not listed); {len(sections)} with a "
            f"finished run, {len(runs) - len(sections)} without.")


def document_markdown(sections: list[Section], runs: list[StudyRun], source: str, cross=()) -> str:
    """The document; `cross`: figures joined across studies (analysis.paper_cross), after the studies' sections."""
    parts = ["# SES: the paper's tables", "", summary(sections, runs, source), "", methods_markdown(sections),
             *[section_markdown(s) for s in sections], *[cross_markdown(g) for g in cross], f"## {UNFINISHED}", ""]
    return "\n".join(parts + [f"- {line}" for line in _not_run(runs) or [ALL_FINISHED]]) + "\n"


# In LaTeX's default OT1 encoding \textless, \textgreater (and itemize's bullet) take their glyphs from the TS1 font,
# which TeX Live without cm-super draws as a bitmap (METAFONT at compile time); math's < and > are Type 1 fonts.
_VECTOR = {r"\textless{}": "$<$", r"\textgreater{}": "$>$"}
PACKAGES = ("geometry", "booktabs", "graphicx", "float")  # float: [H], a float where it stands, in its section


def document_latex(sections: list[Section], runs: list[StudyRun], source: str, cross=()) -> str:
    lines = [r"\documentclass{article}", r"\usepackage[margin=2cm]{geometry}",
             *[rf"\usepackage{{{p}}}" for p in PACKAGES[1:]], r"\begin{document}",
             r"\section*{SES: the paper's tables}", tex(summary(sections, runs, source)), "", methods_latex(sections)]
    lines += [section_latex(s) for s in sections] + [cross_latex(g) for g in cross]
    missing = _not_run(runs)
    lines += [rf"\section*{{{tex(UNFINISHED)}}}"]
    lines += [f"{tex(m)}\n" for m in missing] or [tex(ALL_FINISHED)]  # no itemize: its bullet is a TS1 glyph
    text = "\n".join(lines + [r"\end{document}", ""])
    for escaped, vector in _VECTOR.items():
        text = text.replace(escaped, vector)
    return text
