"""Where a study's files live by default: the one owner of the runs folder and the MLflow store's URI, so the study
CLI (`python -m studies.run`) and the analysis (`python -m analysis.report`, `analysis.paper`) find the same runs.
"""

from __future__ import annotations

from pathlib import Path

RUNS_DIR = Path("hpstudy_runs")  # --runs-dir's default, relative to the folder a command runs in
MLFLOW_DB = "mlflow.db"  # the SQLite store inside the runs folder
ARTIFACTS = "mlartifacts"  # the runs' artifacts inside the runs folder


def default_tracking_uri(runs_dir: Path = RUNS_DIR) -> str:
    """The SQLite store under `runs_dir`, absolute: trials run with Ray's temporary folder as their cwd."""
    return f"sqlite:///{(Path(runs_dir) / MLFLOW_DB).resolve()}"


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI; None for a server or any other store."""
    return Path(tracking_uri[len("sqlite:///"):]) if tracking_uri.startswith("sqlite:///") else None
