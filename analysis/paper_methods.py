"""The paper's Methods: what every table shares, said once (the runs, the protocol, the statistics, the columns),
as Unicode text that analysis.paper_doc renders in Markdown and in LaTeX, so each table's caption says only its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.formats import mde_note
from analysis.seed_table import COUNTED
from analysis.stats import LEVEL, MIN_PAIRS, N_RESAMPLES
from hpstudy.schema import tags as T

if TYPE_CHECKING:  # analysis.paper_doc imports this module to render it
    from analysis.paper_doc import Section

RUNS_HEAD = ["experiment", "study", "profile", "metric", "n", "parent run"]


@dataclass(frozen=True)
class Methods:
    """The Methods' parts, in order: `runs` (text) over the runs table, `paragraphs` after it ((run-in head, text))."""

    runs: str
    head: list[str]
    rows: list[list[str]]
    paragraphs: list[tuple[str, str]]


def n_of(section: Section) -> str:
    """"3" or "2, 3": the distinct counts of seeds per configuration behind the table's Acc column."""
    return ", ".join(map(str, section.table.n)) or "0"


def _git(section: Section) -> str:
    return section.run.parent.data.tags.get(T.GIT_SHA, "?")


def runs_table(sections: list[Section]) -> tuple[list[str], list[list[str]]]:
    """One row per table: where its numbers come from. The git column only where the runs' checkouts differ."""
    shas = {_git(s) for s in sections}
    head = RUNS_HEAD + (["git"] if len(shas) > 1 else [])
    rows = [[s.run.entry.experiment or "—", s.run.entry.name, s.run.profile, s.run.lead, n_of(s),
             s.run.parent.info.run_id] + ([_git(s)] if len(shas) > 1 else []) for s in sections]
    return head, rows


def runs_text(sections: list[Section]) -> str:
    shas = sorted({_git(s) for s in sections})
    git = f"all at git {shas[0]}" if len(shas) == 1 else "each at the git commit its last column names"
    unused = [f"{s.run.entry.name}: {', '.join(s.run.skipped)}" for s in sections if s.run.skipped]
    return (f"Each table is its study's latest finished parent run, {git}. Metric: what the study selected on, val/m "
            f"below; n: seeds per configuration."
            + (f" Newer runs not used (unfinished): {'; '.join(unused)}." if unused else ""))


def protocols(sections: list[Section]) -> str:
    """Each protocol the runs state (their parent run's hpstudy.protocol tag), once, with the studies that ran it;
    a study's metric read as val/m, so that protocols differing only in it are one."""
    by_text: dict[str, list[str]] = {}
    for s in sections:
        text = (s.run.trials.attrs.get("protocol") if s.run.trials is not None else None) or "not recorded"
        text = text.replace(s.run.lead, "val/m") if s.run.lead.startswith("val/") else text
        by_text.setdefault(text, []).append(s.run.entry.name)
    if len(by_text) == 1:
        return next(iter(by_text))
    return " ".join(f"{', '.join(names)}: {text}" for text, names in by_text.items())


def statistics() -> str:
    return (f"A cell is the mean ± std over seeds of the trials with status {', '.join(COUNTED)}; n counts them, "
            f"(+k) a configuration's other trials, not counted. Δ is paired by seed against the study's baseline, "
            f"or, for an SES arm with an SES-off twin (mixup for mixup+ses), against that twin; a Δ vs column names "
            f"the reference where it is not the baseline. Δ is the mean of the per-seed differences, with a "
            f"[{LEVEL:.0%} CI] (bootstrap BCa, {N_RESAMPLES:,} resamples) and p (paired t-test); below {MIN_PAIRS} "
            f"pairs, or with unpaired seeds, a flag stands in their place. " + mde_note())


def columns() -> str:
    return ("The columns follow the study's metric, val/m (m = acc gives Acc; another m names the columns). "
            "Acc is test/m, the test split measured once per trial on the weights of the epoch "
            "test/epoch names; nothing was selected on it. "
            "Gap is train/m of that epoch (the running figure on the augmented training batches, mixed where mixing "
            "is on, as the trainer logs it) minus test/m, sign-flipped where lower is better. Rob is rob/m, the mean "
            "over corruptions and severities, after the last epoch. Time/ep is the mean sys/epoch_s over the trial's "
            "epochs (training and evaluation, robustness excluded); (±k%) is relative to the Δ reference. "
            "Accuracies are in %, their differences in pp; a column without a number says why under its table.")


def methods(sections: list[Section]) -> Methods:
    head, rows = runs_table(sections)
    return Methods(runs_text(sections), head, rows,
                   [("Protocol", protocols(sections)), ("Statistics", statistics()), ("Columns", columns())])
