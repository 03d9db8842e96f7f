"""A sink for the loop that keeps every report and no checkpoint: what a test reads a run's numbers from."""

from __future__ import annotations

from typing import Any


class Reports:
    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []

    def restore(self) -> None:
        return None

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        self.reports.append(metrics)
