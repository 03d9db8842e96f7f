"""The `gpu`-marked tests, for the GPU check: `pytest -m gpu` over the test files that hold such a test only, so that
collecting them needs none of Ray, Optuna or MLflow (a bare GPU machine has none of them).

They run in this process, last, after the timed parts: torch, timm and the trainer are imported already, and the
CUDA context is up. pytest's output goes to stderr, so stdout keeps the table alone.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARK = re.compile(r"^\s*@pytest\.mark\.gpu\b|^pytestmark\s*=.*\bpytest\.mark\.gpu\b", re.MULTILINE)
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")  # pytest's stats keys, deselected left out


def marked_files(tests: Path = REPO / "tests") -> list[Path]:
    """Test files with a `gpu`-marked test, sorted."""
    return sorted(p for p in tests.rglob("test_*.py") if MARK.search(p.read_text(encoding="utf-8")))


class _Outcomes:
    """A pytest plugin that keeps the session's outcome counts."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for outcome in OUTCOMES:
            self.counts[outcome] = len(terminalreporter.stats.get(outcome, []))


def run(files: list[Path]) -> tuple[dict[str, int], int]:
    """({outcome: count}, pytest's exit status) of `pytest -m gpu FILES`; status 5: no test was collected."""
    if not files:
        return {}, 5
    import pytest

    outcomes = _Outcomes()
    args = ["-m", "gpu", "-q", "-p", "no:cacheprovider", "--rootdir", str(REPO), *map(str, files)]
    with contextlib.redirect_stdout(sys.stderr):
        status = pytest.main(args, plugins=[outcomes])
    return {k: n for k, n in outcomes.counts.items() if n}, int(status)


def verdict(counts: dict[str, int], status: int, *, need_pass: bool) -> bool:
    """No failure, error or unexpected pass; on a GPU, at least one test passed (on CPU they skip, saying why)."""
    bad = counts.get("failed", 0) + counts.get("error", 0) + counts.get("xpassed", 0)
    return status in (0, 5) and bad == 0 and (counts.get("passed", 0) > 0 or not need_pass)
