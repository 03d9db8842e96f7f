"""`python -m analysis.paper`: the latest finished run of every SES study in the store (seed 001) as one document.

Writes paper.md, paper.tex and paper.csv (every table's numbers) with the figures under figures/, named as the seed
names them, and with --pdf paper.pdf (analysis.paper_pdf); bad input (no store, no finished run at all, --pdf without
pdflatex) is one `error: ...` line on stderr, exit code 2, and a LaTeX error one line, exit code 1. The SES
studies are those the store holds parent runs of tagged with seed note 001 (analysis.paper_runs): a study never run
is not known to the paper, which lists the studies found, not the catalogue.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from analysis.load import AnalysisError
from analysis.paper_cross import cross_figures
from analysis.paper_doc import FIGURE_DIR, Figure, Section, document_latex, document_markdown
from analysis.paper_figures import draw_each, figures_of, owners
from analysis.paper_pdf import LatexError, NoTeX, compile_pdf
from analysis.paper_runs import SES_SEED, SMOKE, StudyRun, collect
from analysis.report import EXIT_BAD_INPUT
from analysis.seed_table import seed_table
from hpstudy.schema.locations import RUNS_DIR, default_tracking_uri, sqlite_path
from hpstudy.schema.tags import SEED_NOTE

PROFILES = ("full", "local", SMOKE)
EXIT_LATEX = 1  # the document did not compile: not the input's fault, and no traceback tells more than TeX's log


def default_out(tracking_uri: str) -> Path:
    """`paper/` next to a SQLite store (in hpstudy_runs/), else ./hpstudy_runs/paper."""
    path = sqlite_path(tracking_uri)
    return (path.parent if path is not None else RUNS_DIR.resolve()) / "paper"


def _figures(run: StudyRun, table, out: Path, tracking_uri: str, owned: dict[str, str]) -> list[Figure]:
    """Each of the study's figures, drawn or with the reason it is not."""
    n = ", ".join(map(str, table.n))
    title = f"{run.entry.experiment}: {run.entry.name} (profile {run.profile}, n = {n} seeds)"
    return draw_each(figures_of(run.entry.name, run.entry.experiment, owned), run.trials, table, out / FIGURE_DIR,
                     title, tracking_uri, run.entry.name)


def build(runs: list[StudyRun], out: Path, tracking_uri: str) -> list[Section]:
    # over every SES study found, finished or not: a figure's name does not move with a run's status
    sections, owned = [], owners([(r.entry.name, r.entry.experiment) for r in runs])
    for run in runs:
        if run.parent is None:
            continue
        table = seed_table(run.trials, run.lead, run.trials.attrs.get("baseline"))
        sections.append(Section(run, table, _figures(run, table, out, tracking_uri, owned)))
    return sections


def numbers(sections: list[Section]) -> pd.DataFrame:
    """Every table's rows in one frame (study, profile, parent run, config, ...): what paper.csv holds."""
    parts = [s.table.rows.reset_index().assign(study=s.run.entry.name, experiment=s.run.entry.experiment,
                                               profile=s.run.profile, parent_run_id=s.run.parent.info.run_id)
             for s in sections]
    frame = pd.concat(parts, ignore_index=True)
    first = ["study", "experiment", "profile", "parent_run_id", "config"]
    return frame[first + [c for c in frame.columns if c not in first]]


def check_store(tracking_uri: str) -> None:
    # MLflow would create an empty database at a mistyped path and then find no runs in it.
    path = sqlite_path(tracking_uri)
    if path is not None and not path.is_file():
        raise AnalysisError(f"no MLflow store at {path}; give --runs-dir (the folder `python -m studies.run` "
                            "wrote, default hpstudy_runs) or --tracking-uri")


def make_paper(tracking_uri: str, out: Path | None = None,
               profile: str | None = None) -> tuple[Path, list[Section], list[StudyRun], list]:
    check_store(tracking_uri)
    runs = collect(tracking_uri, profile)
    if not runs:
        raise AnalysisError(f"no SES study in {tracking_uri}: no parent run tagged {SEED_NOTE}={SES_SEED} (the study "
                            "runner writes it; runs logged before it did are not found)")
    if not any(r.parent is not None for r in runs):
        kind = f" of profile {profile}" if profile else ""
        raise AnalysisError(f"no finished run{kind} of any SES study in {tracking_uri}; studies found in the store: "
                            + "; ".join(f"{r.entry.name} ({r.missing})" for r in runs))
    out = out or default_out(tracking_uri)
    out.mkdir(parents=True, exist_ok=True)
    sections = build(runs, out, tracking_uri)
    cross = cross_figures(sections, runs, out, tracking_uri)
    (out / "paper.md").write_text(document_markdown(sections, runs, tracking_uri, cross), encoding="utf-8")
    (out / "paper.tex").write_text(document_latex(sections, runs, tracking_uri, cross), encoding="utf-8")
    numbers(sections).to_csv(out / "paper.csv", index=False)
    return out, sections, runs, cross


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m analysis.paper", description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tracking-uri", help="MLflow store (default: the study runner's, under --runs-dir)")
    where.add_argument("--runs-dir", type=Path, default=RUNS_DIR,
                       help="the runs folder `python -m studies.run` used (default: hpstudy_runs)")
    p.add_argument("--out", type=Path, help="output folder (default: paper/ next to the store)")
    p.add_argument("--profile", choices=PROFILES,
                   help="only runs of this profile (default: any but smoke, the newest finished one)")
    p.add_argument("--pdf", action="store_true", help="also compile paper.tex to paper.pdf (needs pdflatex on PATH)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    uri = args.tracking_uri or default_tracking_uri(args.runs_dir)
    try:
        out, sections, runs, cross = make_paper(uri, args.out, args.profile)
    except AnalysisError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    drawn = sum(f.drawn for s in [*sections, *cross] for f in s.figures)
    print(f"paper: {out / 'paper.md'}, {out / 'paper.tex'}, {out / 'paper.csv'}: {len(sections)} of the {len(runs)} "
          f"SES studies found in the store, {drawn} figures in {out / FIGURE_DIR}; without a finished run: "
          + (", ".join(r.entry.name for r in runs if r.parent is None) or "none"))
    return write_pdf(out / "paper.tex") if args.pdf else 0


def write_pdf(tex: Path) -> int:
    """Compile the written paper.tex: the exit code; the .md, .tex and .csv stand whatever happens here."""
    try:
        path, pages = compile_pdf(tex)
    except NoTeX as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except LatexError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_LATEX
    print(f"pdf: {path}" + (f", {pages} pages" if pages else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
