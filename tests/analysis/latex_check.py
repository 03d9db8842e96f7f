"""What can be checked of `analysis.paper`'s LaTeX without a TeX engine (the compile test needs pdflatex, which
`.ci/run` installs from Debian's packages; elsewhere it may be missing): it parses strictly (pylatexenc: braces and environments balance), uses only macros that LaTeX,
geometry, booktabs and graphicx define, and has no character pdflatex stops at (a special outside math, a tabular
or a file name; any non-ASCII one). Not a compilation: a package option or a float that does not fit is not caught.
"""

from __future__ import annotations

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
)

# LaTeX's own and those of the three packages paper.tex loads; escapes of specials (\%, \_, ...) and \\ (newline)
MACROS = frozenset({
    "documentclass", "usepackage", "section", "centering", "caption", "linewidth", "resizebox", "includegraphics",
    "toprule", "midrule", "bottomrule", "item", "textbf", "textbackslash", "textasciitilde", "textless",
    "textgreater", "pm", "times", "Delta", "geq", "\\", "%", "_", "&", "$", "#", "{", "}", "^",
    "ifdim", "width", "else", "fi",  # TeX's own: a table shrunk to the page width only when wider
})
MATH_ONLY = frozenset({"pm", "times", "Delta", "geq"})
ENVIRONMENTS = frozenset({"document", "table", "tabular", "figure", "itemize"})
SPECIALS = "_#^&%$"  # a character pdflatex stops at in text, unescaped
FILE_ARGUMENT = "includegraphics"  # its argument is a file name: "_" is fine there


def problems(text: str) -> list[str]:
    """Each reason pdflatex would stop, as far as a parser sees; [] for a document that passes."""
    try:
        nodes, _, _ = LatexWalker(text, tolerant_parsing=False).get_latex_nodes()
    except Exception as err:  # noqa: BLE001 -- pylatexenc's parse errors: the reason is the finding
        return [f"does not parse: {str(err).splitlines()[0]}"]
    found: list[str] = []
    _walk(nodes, found, tabular=False, math=False)
    found += [f"non-ASCII character {ch!r} (pdflatex without a font for it stops)"
              for ch in sorted({c for c in text if ord(c) > 127})]
    return found


def _walk(nodes, found: list[str], *, tabular: bool, math: bool) -> None:
    for node in nodes or []:
        if isinstance(node, LatexMacroNode):
            name = node.macroname
            if name not in MACROS:
                found.append(f"unknown macro \\{name}")
            elif name in MATH_ONLY and not math:
                found.append(f"\\{name} outside math")
            if name != FILE_ARGUMENT and node.nodeargd is not None:
                _walk([a for a in node.nodeargd.argnlist or [] if a is not None], found, tabular=tabular, math=math)
        elif isinstance(node, LatexEnvironmentNode):
            if node.environmentname not in ENVIRONMENTS:
                found.append(f"unknown environment {node.environmentname}")
            _walk(node.nodelist, found, tabular=tabular or node.environmentname == "tabular", math=math)
        elif isinstance(node, LatexMathNode):
            _walk(node.nodelist, found, tabular=tabular, math=True)
        elif isinstance(node, LatexGroupNode):
            _walk(node.nodelist, found, tabular=tabular, math=math)
        elif isinstance(node, LatexCommentNode):
            if node.comment.strip():  # "{%" at a line's end keeps the space out; anything else was text
                found.append(f"text after an unescaped %: {node.comment.strip()[:40]!r}")
        elif isinstance(node, LatexSpecialsNode):  # "&", "~", "--", ...: only the alignment tab is out of place
            if node.specials_chars == "&" and not tabular:
                found.append("unescaped '&' outside a tabular")
        elif isinstance(node, LatexCharsNode):
            for ch in SPECIALS:
                if ch in node.chars and not (ch == "&" and tabular) and not (math and ch in "_^"):
                    found.append(f"unescaped {ch!r} in {node.chars.strip()[:40]!r}")
