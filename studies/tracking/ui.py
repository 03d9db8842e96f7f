"""Where a researcher browses a study's runs: the `mlflow ui` command for a local store, the server's address for a
team's, and the link to one study's runs in the UI's model-training view."""

from __future__ import annotations

from pathlib import Path

from hpstudy.schema.locations import ARTIFACTS

LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` (mlflow_ui_command) serves


def is_server(tracking_uri: str) -> bool:
    return tracking_uri.startswith(("http://", "https://"))


def mlflow_ui_command(tracking_uri: str, runs_dir: Path) -> str:
    if is_server(tracking_uri):
        return f"open {tracking_uri}"
    return (f"mlflow ui --backend-store-uri {tracking_uri} "
            f"--default-artifact-root {(runs_dir / ARTIFACTS).resolve().as_uri()} --host 127.0.0.1")


def runs_url(tracking_uri: str, experiment_id: str) -> str:
    """The study's runs in the UI's model-training view: the server's, or the one `mlflow ui` starts."""
    base = tracking_uri.rstrip("/") if is_server(tracking_uri) else LOCAL_UI
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
