"""`hpstudy COMMAND ...`, the installed console command: `run` is `python -m studies.run`, `list` its `--list`,
`report` is `python -m analysis.report` and `paper` `python -m analysis.paper`, with the same arguments and exit codes.
"""

from __future__ import annotations

import importlib
import sys

# command -> (module whose main(argv) it runs, what it does)
COMMANDS = {
    "run": ("studies.cli.main", "run a study: NAME from the catalogue or PATH to a study file of your own"),
    "list": ("studies.cli.main", "list the catalogue's studies, grouped by the seed note each reproduces"),
    "report": ("analysis.report", "a study's tables, Pareto front and plots from MLflow, written and logged"),
    "paper": ("analysis.paper", "the SES paper (Markdown, LaTeX, CSV, figures) from the studies' latest runs"),
}
EXIT_BAD_INPUT = 2


def usage() -> str:
    width = max(map(len, COMMANDS))
    return "\n".join(["usage: hpstudy COMMAND [ARGS ...]", "", "commands:",
                      *(f"  {name:{width}s}  {what}" for name, (_, what) in COMMANDS.items()),
                      "", "hpstudy COMMAND --help: the command's own arguments"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else EXIT_BAD_INPUT
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}; expected one of {', '.join(COMMANDS)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    module = importlib.import_module(COMMANDS[command][0])
    if command in ("run", "list"):
        return module.main(["--list", *rest] if command == "list" else rest, prog=f"hpstudy {command}")
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main())
