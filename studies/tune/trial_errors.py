"""Why a Ray trial failed, in a line a person reads first: the trial code's own error out of Ray's wrappers."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ray import cloudpickle
from ray.exceptions import RayTaskError
from ray.train import ControllerError, WorkerGroupError


def root_cause(error: BaseException) -> BaseException:
    """The error a trial's code raised, out of Ray's wrappers (a task error around Train's worker-group error
    around the worker's own): what a person needs to read first."""
    for _ in range(10):  # a chain is a few links deep; never loop on a cycle
        if isinstance(error, RayTaskError) and error.cause is not None:
            error = error.cause
        elif isinstance(error, WorkerGroupError) and error.worker_failures:
            error = error.worker_failures[min(error.worker_failures)]
        elif isinstance(error, ControllerError):
            error = error.controller_failure
        else:
            break
    return error


def error_reason(error: BaseException | None) -> str:
    """'DataError: cifar10: no CIFAR-10 data at ...': the root cause's type and first line."""
    if error is None:
        return "error (Ray recorded none)"
    cause = root_cause(error)
    lines = [line for line in str(cause).splitlines() if line.strip()]
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def trial_error(trial) -> BaseException | None:
    """The exception a trial ended with. Tune pickles it into the trial's local folder first; `get_error()` reads
    the storage copy, which is synced later, so it is still missing when `on_trial_error` runs."""
    path = getattr(trial, "pickled_error_file", None)
    if path and os.path.exists(path):
        try:
            with open(path, "rb") as f:
                return cloudpickle.load(f)
        except Exception:  # noqa: BLE001 - an unpicklable error: fall back to Tune's text trace
            pass
    return trial.get_error()


# Where Ray Tune logs each failed trial's ~35-line traceback (at ERROR, to the terminal through the "ray" logger)
CONTROLLER_LOGGER = "ray.tune.execution.tune_controller"


@contextmanager
def tracebacks_to(path: Path) -> Iterator[None]:
    """Ray Tune's trial-failure tracebacks written to `path` (created on the first one) instead of the terminal,
    which keeps one line per failed trial (studies.cli.exit_status) and the path."""
    logger = logging.getLogger(CONTROLLER_LOGGER)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        handler.close()
