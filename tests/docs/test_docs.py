"""The docs as a reader meets them: a README that stays a landing page, an index that reaches every page, links that
resolve (to a file, and to a heading where they name one), and no issue numbers anywhere a user reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 12 * 1024  # a landing page, as Optuna's and Syne Tune's are; the manual is docs/

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
_ISSUE = re.compile(r"\bissues?\s*#?\s*\d+", re.IGNORECASE)


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _prose(text: str) -> str:
    """The text a link can live in: fenced blocks and inline code removed."""
    return _CODE.sub("", _FENCE.sub("", text))


def _links(page: Path) -> list[tuple[str, Path, str]]:
    """(link as written, the file it points to, its #anchor or '') for every relative link of `page`."""
    out = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        out.append((target, (page.parent / path).resolve() if path else page, anchor))
    return out


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation but '-' and '_' dropped, spaces to '-', repeats numbered."""
    seen: dict[str, int] = {}
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
    return {f"{s}-{n}" if n else s for s, count in seen.items() for n in range(count + 1)}


def test_the_readme_is_a_landing_page():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, (f"README.md is {size:,} bytes, over {README_MAX_BYTES:,}: move detail into "
                                      "docs/ and link it")


def test_the_index_links_every_page():
    index = DOCS / "index.md"
    linked = {path for _, path, _ in _links(index)}
    missing = [str(p.relative_to(ROOT)) for p in _pages() if p != index and p not in linked]
    assert not missing, f"docs/index.md does not link {', '.join(missing)}"


@pytest.mark.parametrize("page", [README, *_pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target, path, anchor in _links(page):
        if not path.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target} (no heading #{anchor} in {path.relative_to(ROOT)})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {'; '.join(broken)}"


@pytest.mark.parametrize("page", [README, *_pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_issue_numbers(page):
    found = [f"line {n}: {m.group(0)!r}" for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
             for m in _ISSUE.finditer(line)]
    assert not found, f"{page.relative_to(ROOT)} names issues by number ({'; '.join(found)}): say what changed instead"


def test_the_readmes_diff_is_the_examples_own():
    """The README's "your own training script" diff is the two example files' (GNU diff -U1), as they are."""
    import subprocess

    command = ["diff", "-U1", "--label", "train_digits.py", "--label", "study_digits.py", "train_digits.py",
               "study_digits.py"]
    diff = subprocess.run(command, cwd=ROOT / "examples" / "own_script", capture_output=True, text=True).stdout
    shown = re.search(r"```diff\n(.*?)```", README.read_text(), re.DOTALL).group(1)
    assert shown == diff, f"the README's diff is stale; regenerate it: cd examples/own_script && {' '.join(command)}"
