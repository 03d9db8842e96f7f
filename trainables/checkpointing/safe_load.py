"""Reading a .pt file without running code from it: torch's `weights_only` unpickler, which builds tensors and plain
Python values (and numpy arrays) only, and refuses anything else with one line naming the file and what it holds.
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpstudy.schema.errors import BadInput

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover
    from numpy.core.multiarray import _reconstruct, scalar

# numpy's arrays and scalars rebuild from a dtype and raw bytes and call nothing else (object arrays, whose items
# are pickles, stay refused). Allowed for checkpoints written before the RNG state was stored as a tensor, for a
# training function's own state, and for foreign files alike.
_DTYPES = tuple(t for t in vars(np.dtypes).values()
                if isinstance(t, type) and issubclass(t, np.dtype) and t is not np.dtypes.ObjectDType)
NUMPY = (np.ndarray, np.dtype, _reconstruct, scalar, *_DTYPES)
_ALLOWED_NAMES = frozenset(f"{g.__module__}.{g.__qualname__}" for g in NUMPY)
_REFUSAL = "Weights only load failed"  # how torch's weights_only refusal begins (other errors: an unreadable file)
_GLOBAL = re.compile(r"GLOBAL (\S+)")  # how it names the global it would not import


class UnsafeFile(BadInput):
    """A .pt file that holds pickled objects beyond tensors and plain values, or no torch data at all; one line."""


def load(path: str | Path, *, what: str, hint: str, shown: str | Path | None = None, mmap: bool = False) -> Any:
    """The contents of `path`, built from tensors and plain values only; UnsafeFile ('`what`: `shown` holds ...;
    `hint`') for a file that would run code, or that torch cannot read at all. `mmap`: tensors stay on disk."""
    path = Path(path)
    shown = shown or path
    try:
        with torch.serialization.safe_globals(list(NUMPY)), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Detected pickle protocol")  # a raw pickle: refused below anyway
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        if _REFUSAL in str(err):
            raise UnsafeFile(f"{what}: {shown} holds {_refused(path, err)}; refused, as unpickling anything but "
                             f"tensors and plain values could run code; {hint}") from None
        unreadable = err
    except Exception as err:  # noqa: BLE001 - a non-torch or truncated file fails in many ways; say which file
        unreadable = err
    first = str(unreadable).strip().splitlines()[0] if str(unreadable).strip() else ""
    raise UnsafeFile(f"{what}: cannot read {shown} as a torch file ({type(unreadable).__name__}: {first})")


def _refused(path: Path, err: Exception) -> str:
    """What the file holds that is refused: every such global, where torch can list them, else the one it met."""
    try:
        names = [g for g in torch.serialization.get_unsafe_globals_in_checkpoint(path) if g not in _ALLOWED_NAMES]
    except Exception:  # noqa: BLE001 - only zip-format files can be inspected; a raw pickle is not one
        names = []
    names = names or _GLOBAL.findall(str(err)) or re.findall(r"got <class '([^']+)'>", str(err))
    return ", ".join(dict.fromkeys(names)) if names else "data other than tensors and plain values"
