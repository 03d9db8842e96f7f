"""Where a study's results came from: the code's git SHA and the versions of the packages that produced them."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("hpstudy", "torch", "torchvision", "timm", "ray", "optuna", "mlflow", "numpy", "pandas")


def git_sha(repo: Path | None = None) -> str:
    """HEAD of the git checkout holding `repo` (default: the one this code runs from), with '-dirty' when it has
    uncommitted changes; 'unknown' outside one (an installed hpstudy)."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
