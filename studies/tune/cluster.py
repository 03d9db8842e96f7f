"""The Ray cluster a study runs on: a local Ray started with the settings trials need, or a cluster joined with
`--address`; what it holds (CPUs, GPUs); and shutting it down. Only `ray` is imported here, so a run starts Ray
while Ray Tune and the trainer are still being imported (`studies.tune.tuner`).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray

from hpstudy.schema.errors import BadInput

DRIVER_RESOURCE = "hpstudy_driver"  # Tune trial functions only drive Train runs; they must not hold worker CPUs
_ENV = {
    # Train V2 polls its workers every 2 s by default, which delays each epoch's report to Tune (and ASHA).
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    # Worker start-up imports torch and timm; on 2 busy cores the 60 s default can pass while a trial is starting.
    "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S": "300",
    # Tune's legacy output engine prints nothing at verbose=0; the new one still prints its experiment box, the
    # results folder and a TensorBoard hint. Progress is ours (studies.tracking.progress), results are in MLflow.
    "RAY_AIR_NEW_OUTPUT": "0",
    # Tune's own per-trial result files duplicate MLflow, and tensorboardX prints "NaN or Inf found in input
    # tensor." for every non-finite value reported (a κ(J) of inf): of its loggers only the JSON one is kept
    # (run_tuner passes it), which Tune's end-of-run ResultGrid reads (without it: a warning per trial).
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    # A trial keeps the folder the study runs from as its working directory (on this machine; a cluster's nodes
    # use the study file's uploaded folder), not Tune's trial folder: a relative path in a training function's
    # defaults means what it meant where the user typed the command. Our trainer's paths are absolute already.
    "RAY_CHDIR_TO_TRIAL_DIR": "0",
}
# Only for a Ray this process starts (a cluster joined with --address keeps its own settings):
_LOCAL_ENV = {
    # Tune's trial functions, Train's controllers and workers are ~4 processes per trial: on 2 cores the
    # raylet warns about "4x the maximum expected startup concurrency" (= cores) with only two trials running.
    # More may start at once; on few cores they just share them while they import torch.
    "RAY_worker_maximum_startup_concurrency": str(max(8, os.cpu_count() or 1)),
}
# What a user does not need to read: Ray's INFO lines (cluster started, result files written) and Optuna's
# study creation. Warnings and errors still show, but for the one below.
_QUIET_LOGGERS = ("ray", "ray.tune", "ray.train")
# "Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out": Ray's default for
# a new local cluster, announced as a warning on every start. (Setting RAY_AUTH_MODE=token here instead would
# come too late: Ray reads it when it is imported.)
_TOKEN_NOTICE_LOGGER = "ray._private.authentication.authentication_token_setup"


@dataclass(frozen=True)
class Cluster:
    cpus: float
    gpus: float
    has_driver_resource: bool


def connect(address: str | None, worker_groups: bool = True, code_dirs: list[Path] | None = None) -> Cluster:
    """Start a local Ray of its own (all cores; with `worker_groups`, the dashboard for Train's State-API cleanup of
    a worker group's placement group) or join `address`. A cluster already running on this machine (`ray start`,
    another study's) is joined only when `address` names it. One-worker trials run in Train's local mode and need no
    dashboard: leaving it out saves a second of start-up and the CPU of its processes.

    `code_dirs`: folders whose modules the trials import (a study file's own folder). A local Ray's processes get
    them on PYTHONPATH; a cluster joined with `address` gets the first as the job's `working_dir`, which Ray uploads
    to every node (so keep data out of that folder: Ray refuses one over its upload limit)."""
    os.environ.update(_ENV)
    code = [str(Path(d).resolve()) for d in code_dirs or []]
    runtime_env: dict[str, Any] = {"env_vars": dict(_ENV)}
    if not address:
        for key, value in _LOCAL_ENV.items():
            os.environ.setdefault(key, value)  # a user's own setting wins
        if code:  # Ray's workers inherit this process's environment, and runtime_env's PYTHONPATH would replace it
            os.environ["PYTHONPATH"] = os.pathsep.join([*code, *filter(None, [os.environ.get("PYTHONPATH")])])
    elif code:
        runtime_env["working_dir"] = code[0]
    _quiet()
    kwargs: dict[str, Any] = dict(runtime_env=runtime_env, log_to_driver=False, logging_level=logging.WARNING)
    if address:
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise BadInput(f"--address {address}: {first}; start a cluster (ray start --head) or drop "
                                    "--address to run on this machine") from None
    elif not worker_groups:
        ray.init(address="local", num_cpus=os.cpu_count(), resources={DRIVER_RESOURCE: 10_000},
                 include_dashboard=False, **kwargs)
    else:
        # Train's workers find the State API by scanning this machine for Ray instances; with a second one running
        # (another study, a notebook's Ray) that fails ("Found multiple active Ray instances") and the trial's
        # worker group never starts. So the dashboard gets a port chosen here and every process is told it.
        port = free_port()
        env = {**runtime_env["env_vars"], "RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{port}"}
        ray.init(address="local", num_cpus=os.cpu_count(), resources={DRIVER_RESOURCE: 10_000}, include_dashboard=True,
                 dashboard_host="127.0.0.1", dashboard_port=port,
                 **{**kwargs, "runtime_env": {**runtime_env, "env_vars": env}})
    res = ray.cluster_resources()
    return Cluster(cpus=res.get("CPU", 0.0), gpus=res.get("GPU", 0.0), has_driver_resource=DRIVER_RESOURCE in res)


def free_port() -> int:
    """A TCP port nothing listens on now (the OS's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quiet() -> None:
    """Warnings and errors only from Ray (_QUIET_LOGGERS)."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger(_TOKEN_NOTICE_LOGGER).setLevel(logging.ERROR)


def held_placement_groups(wait_s: float = 20.0) -> int:
    """Placement groups still reserving resources; Train frees a stopped trial's asynchronously, so wait a little."""
    deadline = time.monotonic() + wait_s
    while True:
        held = [pg for pg in ray.util.placement_group_table().values() if pg["state"] != "REMOVED"]
        if not held or time.monotonic() > deadline:
            return len(held)
        time.sleep(0.5)


def shutdown() -> None:
    """Stop the local Ray (or leave the cluster), saying so if trials left resources reserved."""
    if ray.is_initialized():
        held = held_placement_groups()
        if held:
            print(f"warning: {held} placement group(s) were still reserved when the study ended", file=sys.stderr)
    ray.shutdown()
