"""Everything a run needs to continue exactly where it stopped: weights, optimizer, scaler, position, RNG state."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trainables.checkpointing import safe_load

STATE_FILE = "state.pt"
HISTORY_FILE = "history.json"  # the per-epoch metrics and how the run stopped, readable without torch or weights


def capture(model: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, *,
            epoch: int, step: int, history: list[dict[str, Any]],
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CPU-side snapshot after `epoch` epochs (`step` optimizer steps) have completed.

    `extra` holds the state of optional parts (EMA weights, monitor counters, loss weights), kept at the top level.
    """
    return {
        "epoch": epoch,
        "step": step,  # the LR and beta schedules are pure functions of this
        "history": [dict(h) for h in history],  # per-epoch metrics: the tracker logs what a crash kept from it
        # Copies, not views: on CPU .cpu() returns the live tensor, and a kept state must not change later.
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "scaler": scaler.state_dict(),
        "rng": rng_state(),
        **(extra or {}),
    }


def rng_state() -> dict[str, Any]:
    """Python's, numpy's and torch's (every device's) RNG state, to continue a run's draws exactly; tensors and plain
    values only, so the checkpoint loads with `weights_only` (numpy's state is an array: its words become a tensor)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, words, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"name": str(name), "keys": torch.from_numpy(keys.astype(np.int64)),  # uint32 words, exactly
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": [int(version), list(words), gauss_next],  # gauss_next: a float or None
    }


def set_rng_state(rng: dict[str, Any]) -> None:
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    state = rng["numpy"]
    if isinstance(state, dict):
        state = (state["name"], state["keys"].numpy().astype(np.uint32), state["pos"], state["has_gauss"],
                 state["cached_gaussian"])
    np.random.set_state(state)  # a checkpoint from before the state was a tensor holds numpy's own tuple
    version, words, gauss_next = rng["python"]
    random.setstate((version, tuple(words), gauss_next))


def restore(state: dict[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer,
            scaler: torch.amp.GradScaler) -> None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # it would otherwise train the state's own tensors
    scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])


def save(state: dict[str, Any], directory: str | Path) -> Path:
    path = Path(directory) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    _check_loadable(tmp, path)
    tmp.replace(path)  # atomic: an interrupted save never leaves a truncated checkpoint behind
    history = {"epoch": state.get("epoch", 0), "history": state.get("history", []), "stop": state.get("stop")}
    tmp = path.with_name(HISTORY_FILE + ".tmp")
    tmp.write_text(json.dumps(history, default=float))  # NaN stays NaN: Python's json reads it back
    tmp.replace(path.with_name(HISTORY_FILE))
    return path


def load_history(directory: str | Path) -> dict[str, Any] | None:
    """{'epoch', 'history', 'stop'} of the checkpoint in `directory`, without loading its weights; None if none."""
    path = Path(directory) / HISTORY_FILE
    return json.loads(path.read_text()) if path.exists() else None


def load(directory: str | Path) -> dict[str, Any] | None:
    """The state saved in `directory` (None if none), read without running code from it: a file holding anything
    beyond tensors and plain values was not written by `save` and is refused (safe_load.UnsafeFile, one line)."""
    path = Path(directory) / STATE_FILE
    if not path.exists():
        return None
    return safe_load.load(path, what="checkpoint", hint=_ALTERED)


_ALTERED = ("checkpoint.save writes tensors and plain values only, so this file was altered or written by other "
            "code; delete it to train this trial from its start")


def _check_loadable(tmp: Path, path: Path) -> None:
    """Refuse, when it is written, a state that `load` would refuse when a resume needs it (a training function's
    own checkpoint holding, say, an argparse.Namespace); the earlier checkpoint stays. Memory-mapped: the pickle is
    read, the tensors are not."""
    try:
        safe_load.load(tmp, what="checkpoint", shown=path, mmap=True,
                       hint="a resume reads back only tensors, plain Python values and numpy arrays: store plain "
                            "values in the state (vars(args), not args)")
    except safe_load.UnsafeFile:
        tmp.unlink()
        raise
