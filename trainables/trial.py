"""A training function and the one handle it gets: `train(config, trial)`, the contract every trial runs through,
hpstudy's own trainer (`trainables.loop.train`) and a researcher's function alike. No Ray here: a `Sink` (Ray
Tune's, Ray Train's, or a local folder) decides where reports and checkpoints go.

`trial.report(epoch, metrics, checkpoint=None)` once per epoch; `trial.checkpoint()` the last state it saved (a
resumed, retried or promoted trial continues from it); `trial.seed` (Python's, numpy's and torch's RNGs seeded with
it before the function runs), `trial.device`, `trial.rank` / `trial.world_size` (`--workers N`: DDP).
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from hpstudy.schema.metrics import METRICS
from trainables import distributed
from trainables.checkpointing.checkpoint import rng_state, set_rng_state

# Report keys that are not metrics: the epoch and step axes, and the platform's own strings (a labelled stop, the
# warm-start report, what an out-of-memory retry changed).
AXES = ("epoch", "step")
TEXT_KEYS = frozenset({"stop/reason", "stop/detail", "init/report", "config/changed"})
USER = "user"  # the function's own state, inside the checkpoint the sink keeps (with the history and RNG state)


class Sink(Protocol):
    def restore(self) -> dict[str, Any] | None: ...  # the last checkpoint state of this run, if any
    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None: ...


class TrialError(RuntimeError):
    """A training function broke the contract (never reported, reported an epoch twice, left out the study's
    metric, reported a value that is not a number); the trial fails with this one line."""


TrainFn = Callable[[dict[str, Any], "Trial"], None]


class Trial:
    """What a training function knows of its trial, and how it reports. Built by `run`; not by the function."""

    def __init__(self, sink: Sink, *, seed: int, device: torch.device, objectives: Sequence[str] = ()) -> None:
        self._sink, self._objectives = sink, tuple(objectives)
        self.seed, self.device = seed, device
        self.rank, self.world_size = distributed.rank(), distributed.world()
        saved = sink.restore()
        self._history: list[dict[str, Any]] = list(saved["history"]) if saved else []
        # A checkpoint written before trials ran through this handle is the loop's own state, at the top level.
        self._state = (saved.get(USER, saved if "model" in saved else None)) if saved else None
        self._rng = saved.get("rng") if saved else None
        self.reported = 0  # reports made in this process

    @property
    def last_epoch(self) -> int:
        """The last epoch reported (in this process or, resumed, before it); 0 before the first."""
        return int(self._history[-1]["epoch"]) if self._history else 0

    def checkpoint(self) -> Any:
        """The state the function last passed to `report(..., checkpoint=...)`, or None: start from scratch. The
        RNGs are put back as they were when it was saved, so a resumed run draws what an unbroken one would."""
        if self._state is not None and self._rng is not None:
            set_rng_state(self._rng)
            self._rng = None
        return self._state

    def report(self, epoch: int, metrics: Mapping[str, Any], checkpoint: Any = None) -> None:
        """Epoch `epoch`'s metrics (namespaced: `val/acc`, `train/loss`), and the state to continue from after it
        (tensors, plain values and numpy arrays: weights, optimizer state, epoch, ...; read back with
        torch.load(weights_only=True)). Each epoch once, in increasing order."""
        clean = _checked(epoch, metrics, self.last_epoch, self._objectives if not self._history else ())
        report = {**clean, "epoch": epoch}
        self._history.append({k: v for k, v in report.items() if k not in TEXT_KEYS})
        state = None
        if checkpoint is not None:
            self._state = checkpoint
            state = {"epoch": epoch, "history": list(self._history), "stop": _stop(report), USER: checkpoint,
                     "rng": rng_state()}
        self._sink.report(report, state)
        self.reported += 1


def _checked(epoch: Any, metrics: Mapping[str, Any], last: int, objectives: Sequence[str]) -> dict[str, Any]:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 1:
        raise TrialError(f"trial.report: epoch must be an integer >= 1, got {epoch!r}")
    if epoch <= last:
        raise TrialError(f"trial.report: epoch {epoch} reported twice or out of order (the last was {last}); "
                         "report each epoch once, counting up")
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if key == "epoch":  # the argument says it
            continue
        if key == "step":
            out[key] = int(value)
            continue
        if not isinstance(key, str) or ("/" not in key and key not in METRICS):  # METRICS: lr, best_epoch, ...
            raise TrialError(f"trial.report: metric {key!r} is not namespaced; name it split/metric, e.g. "
                             "val/acc, train/loss")
        if key in TEXT_KEYS:
            out[key] = str(value)
            continue
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TrialError(f"trial.report: {key}={value!r} is not a number")
        out[key] = float(value)
    missing = [m for m in objectives if m not in out and "stop/reason" not in out]
    if missing:
        raise TrialError(f"trial.report: the study optimizes {', '.join(missing)}, which the first report (epoch "
                         f"{epoch}) does not have; it reported {', '.join(sorted(out)) or 'nothing'}")
    return out


def _stop(report: Mapping[str, Any]) -> tuple[str, str] | None:
    return (report["stop/reason"], report.get("stop/detail", "")) if "stop/reason" in report else None


def seed_everything(seed: int) -> None:
    """Python's, numpy's and torch's RNGs (every device's) from `seed`, before a training function runs."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run(train: TrainFn, config: dict[str, Any], sink: Sink, *, objectives: Sequence[str] = (),
        threads: int = 0) -> Trial:
    """Run `train(config, trial)` on a fresh handle: the RNGs seeded with config['seed'] (0 without one), `threads`
    torch threads (0: torch's default), the device CUDA when this process sees one. Raises TrialError when it
    returns without having reported an epoch (and had none to report: a resumed run may have finished)."""
    seed = int(config.get("seed", 0))
    seed_everything(seed)
    if threads > 0:
        torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    trial = Trial(sink, seed=seed, device=device, objectives=objectives)
    train(dict(config), trial)
    if trial.reported == 0 and trial.last_epoch == 0:
        raise TrialError(f"the training function {getattr(train, '__qualname__', train)!r} returned without calling "
                         "trial.report(epoch, metrics): a trial reports every epoch")
    return trial

