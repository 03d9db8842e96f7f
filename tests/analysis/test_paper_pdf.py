"""`analysis.paper_pdf`: a document that compiles gives its PDF and page count; one that does not, or no TeX engine on
PATH, gives one line (the log's first error and the log's path; how to install TeX). The paper itself is compiled in
test_paper.py, from its store."""

from __future__ import annotations

import contextlib
import io
import shutil

import pytest

from analysis.paper import write_pdf
from analysis.paper_pdf import INSTALL, LatexError, NoTeX, compile_pdf, engine, first_error, pages

HAS_TEX = shutil.which("pdflatex") or shutil.which("latexmk")
NO_TEX = f"no pdflatex or latexmk on PATH (.ci/run installs them as root with apt): {INSTALL}"
LOG = r"""This is pdfTeX, Version 3.141592653-2.6-1.40.24 (TeX Live 2022/Debian) (preloaded format=pdflatex)
(./paper.tex
! Undefined control sequence.
l.3 \begin{document} \kappa
                            \end{document}
Here is how much of TeX's memory you used:
! Emergency stop.
"""


def test_the_first_error_is_the_first_bang_line_with_where_tex_stopped():
    assert first_error(LOG) == r'line 3: Undefined control sequence, at "\begin{document} \kappa"'
    missing = "! LaTeX Error: File `figures/x.png' not found.\n\nSee the LaTeX manual.\n"
    assert first_error(missing) == "LaTeX Error: File `figures/x.png' not found"
    assert first_error("(./paper.tex)\n") == "no error line in the log"


def test_the_page_count_is_read_from_the_log():
    assert pages("Output written on paper.pdf (5 pages, 123456 bytes).") == 5
    assert pages("Output written on /a/very/long/path/to/\npaper.pdf (1 page, 99 bytes).") == 1
    assert pages("No pages of output.") is None


def test_without_an_engine_on_path_it_says_how_to_install_one(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NoTeX, match=r"^--pdf needs pdflatex or latexmk on PATH, and neither is there; install them: "
                                    r"apt-get install texlive-latex-base texlive-latex-recommended"):
        engine()


def _fake_pdflatex(folder, script: str) -> None:
    """A `pdflatex` on PATH that runs `script` in the document's folder."""
    path = folder / "bin" / "pdflatex"
    path.parent.mkdir()
    path.write_text(f"#!/bin/sh\nPATH=/usr/bin:/bin\n{script}\n")  # the test's PATH holds only this folder
    path.chmod(0o755)


def test_a_failed_compile_is_one_line_with_the_logs_first_error_and_path(monkeypatch, tmp_path):
    """Without a TeX engine too: a stand-in pdflatex that fails as pdflatex does (writes its log, exit 1)."""
    (tmp_path / "paper.tex").write_text("\\kappa\n")
    (tmp_path / "log.txt").write_text(LOG)
    _fake_pdflatex(tmp_path, f"cp {tmp_path / 'log.txt'} paper.log; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(LatexError) as err:
        compile_pdf(tmp_path / "paper.tex")
    assert str(err.value) == (r'pdflatex failed on paper.tex: line 3: Undefined control sequence, at '
                              rf'"\begin{{document}} \kappa" (exit 1; log: {tmp_path}/paper.log)')


@pytest.mark.parametrize("script, code", [(None, 2), ("echo '! Emergency stop.' > paper.log; exit 1", 1)])
def test_the_command_says_it_in_one_line_exit_2_without_tex_and_1_on_a_latex_error(monkeypatch, tmp_path, script,
                                                                                    code):
    (tmp_path / "paper.tex").write_text("x\n")
    if script is not None:
        _fake_pdflatex(tmp_path, script)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert write_pdf(tmp_path / "paper.tex") == code
    assert err.getvalue().count("\n") == 1 and err.getvalue().startswith(
        "error: --pdf needs pdflatex" if code == 2 else "error: pdflatex failed on paper.tex: Emergency stop (exit 1")


def test_an_older_pdf_does_not_pass_for_the_new_one(monkeypatch, tmp_path):
    (tmp_path / "paper.tex").write_text("x\n")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.5 from an earlier run")
    _fake_pdflatex(tmp_path, "exit 0")  # exits 0, writes nothing
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(LatexError, match="no error line in the log"):
        compile_pdf(tmp_path / "paper.tex")


@pytest.mark.skipif(not HAS_TEX, reason=NO_TEX)
def test_tex_compiles_a_document_and_stops_at_an_error(tmp_path):
    (tmp_path / "ok.tex").write_text("\\documentclass{article}\n\\begin{document}\nA page.\n\\end{document}\n")
    pdf, n = compile_pdf(tmp_path / "ok.tex")
    assert pdf == tmp_path / "ok.pdf" and pdf.read_bytes().startswith(b"%PDF") and n == 1
    (tmp_path / "broken.tex").write_text("\\documentclass{article}\n\\begin{document}\n\\nosuchmacro\n"
                                         "\\end{document}\n")
    with pytest.raises(LatexError) as err:
        compile_pdf(tmp_path / "broken.tex")
    message = str(err.value)
    assert message.startswith(r'pdflatex failed on broken.tex: line 3: Undefined control sequence, at "\nosuchmacro"')
    assert message.endswith(f"log: {tmp_path / 'broken.log'})") and "\n" not in message
