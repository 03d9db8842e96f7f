"""paper.tex -> paper.pdf with the TeX engine on PATH (pdflatex, else latexmk); a failure is one line: no engine and
how to install one, or the log's first error with the log's path.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from hpstudy.schema.errors import BadInput

ENGINES = {  # on PATH, first found: the command compiling NAME.tex in its folder, never stopping for input
    "pdflatex": ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"],
    "latexmk": ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error"],
}
INSTALL = ("apt-get install texlive-latex-base texlive-latex-recommended (Debian, Ubuntu; as root), or any TeX "
           "distribution that puts pdflatex on PATH")
TIMEOUT_S = 300  # a few seconds per page; a TeX that waits for input never returns


class NoTeX(BadInput):
    """No TeX engine on PATH: bad surroundings, one line and exit 2."""


class LatexError(Exception):
    """The document did not compile; the message is one line: the log's first error and the log's path."""


def engine() -> list[str]:
    """The compile command of the first engine on PATH; NoTeX saying how to install one."""
    for name, command in ENGINES.items():
        if shutil.which(name):
            return command
    raise NoTeX(f"--pdf needs pdflatex or latexmk on PATH, and neither is there; install them: {INSTALL}")


def first_error(log: str) -> str:
    """'line 3: Undefined control sequence, at "\\kappa"': the log's first `!` line and where TeX stopped (`l.3`)."""
    lines = log.splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith("!")), None)
    if at is None:
        return "no error line in the log"
    message = lines[at].lstrip("! ").rstrip(".")
    where = next((m for m in (re.match(r"l\.(\d+) ?(.*)", line) for line in lines[at + 1:at + 20]) if m), None)
    if where is None:
        return message
    context = where.group(2).strip()
    return f"line {where.group(1)}: {message}" + (f', at "{context[-40:]}"' if context else "")


def pages(log: str) -> int | None:
    """The page count TeX's log states ("Output written on paper.pdf (5 pages, ...)")."""
    found = re.search(r"Output written on .*?\((\d+) pages?", log, re.S)
    return int(found.group(1)) if found else None


def compile_pdf(tex: Path) -> tuple[Path, int | None]:
    """`tex` compiled in its folder (its figures are relative to it): (the PDF, its page count)."""
    command, log_path, pdf = engine(), tex.with_suffix(".log"), tex.with_suffix(".pdf")
    for older in (pdf, log_path):  # an earlier compile's must not pass for this one's
        older.unlink(missing_ok=True)
    try:
        done = subprocess.run([*command, tex.name], cwd=tex.parent, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise LatexError(f"{command[0]} did not finish {tex} in {TIMEOUT_S} s (log: {log_path})") from None
    log = log_path.read_text(errors="replace") if log_path.is_file() else done.stdout
    if done.returncode != 0 or not pdf.is_file():
        raise LatexError(f"{command[0]} failed on {tex.name}: {first_error(log)} (exit {done.returncode}; log: "
                         f"{log_path})")
    return pdf, pages(log)
