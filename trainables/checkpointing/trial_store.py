"""A trial's checkpoints in the study's storage, kept by hpstudy, not by Ray Tune: `STORAGE/train_<trial id>/
checkpoint_<n>/`, the newest complete one kept, the earlier ones deleted once it is written.

Ray Tune, told of a checkpoint, keeps its path in the experiment's state, and with `CheckpointConfig(num_to_keep)`
snapshots that whole state (every trial's, so it grows with the study) at every checkpoint, lest the state point at
a deleted one: a 1,000-trial study spent most of its driver's time there. Found here by the trial's id instead, a
checkpoint needs no snapshot to be found: Tune snapshots on its own period, and a retried or resumed trial continues
from its newest checkpoint, whatever the last snapshot saw. A worker group's Ray Train run checkpoints into the same
folder (`run_name`), so one reader serves both.

`storage_path` is a folder or a URI pyarrow opens (s3://, gs://, file://), as Ray's own storage. A checkpoint is
written beside its final name and moved there, so a reader never sees half of one (a rename on a local or network
file system; an object store's move copies, and the history file, written last, marks a complete one).
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow.fs

from trainables.checkpointing.checkpoint import HISTORY_FILE

PREFIX = "checkpoint_"
_OURS = re.compile(rf"{PREFIX}(\d+)$")


def run_name(trial_id: str) -> str:
    """The trial's folder in storage: its checkpoints (and a worker group's Ray Train run) live there."""
    return f"train_{trial_id}"


def _open(storage_path: str, trial_id: str) -> tuple[pyarrow.fs.FileSystem, str]:
    fs, root = pyarrow.fs.FileSystem.from_uri(storage_path)
    return fs, f"{root.rstrip('/')}/{run_name(trial_id)}"


def _listing(fs: pyarrow.fs.FileSystem, path: str) -> tuple[list[str], list[str]]:
    """(the checkpoint folders under `path`, oldest first: ours by their number, a Ray Train run's by name, which
    sorts by time; the staging folders a killed save left), from one listing."""
    infos = fs.get_file_info(pyarrow.fs.FileSelector(path, allow_not_found=True))
    folders = [i.base_name for i in infos if i.type == pyarrow.fs.FileType.Directory]
    return ([f"{path}/{n}" for n in sorted((n for n in folders if n.startswith(PREFIX)), key=_order)],
            [f"{path}/{n}" for n in folders if n.startswith(f".{PREFIX}")])


def _order(name: str) -> tuple[int, str]:
    m = _OURS.match(name)
    return (int(m.group(1)) if m else -1, name)


def _history(fs: pyarrow.fs.FileSystem, path: str) -> dict[str, Any] | None:
    try:
        with fs.open_input_stream(f"{path}/{HISTORY_FILE}") as f:
            return json.loads(f.read().decode())  # checkpoint.save's JSON: NaN stays NaN
    except (FileNotFoundError, OSError):  # a folder still being written, or deleted as it is read
        return None


def save(storage_path: str, trial_id: str, write: Callable[[str], Any]) -> str:
    """`write(local folder)` saves a checkpoint; it becomes the trial's newest and the earlier ones are deleted.
    Returns its path in storage."""
    fs, path = _open(storage_path, trial_id)
    fs.create_dir(path, recursive=True)
    done, staged = _listing(fs, path)
    before = done + staged  # a killed save's staging folder goes with the old ones
    numbers = [int(m.group(1)) for f in before if (m := _OURS.match(f.rsplit("/", 1)[-1]))]
    final = f"{path}/{PREFIX}{max(numbers, default=-1) + 1:06d}"
    staging = f"{path}/.{PREFIX}{uuid.uuid4().hex}"  # a name no reader takes for a checkpoint
    with tempfile.TemporaryDirectory() as local:
        write(local)
        local_fs = pyarrow.fs.LocalFileSystem()
        fs.create_dir(staging, recursive=True)
        for info in sorted(local_fs.get_file_info(pyarrow.fs.FileSelector(local, recursive=True)),
                           key=lambda i: i.base_name == HISTORY_FILE):  # the history last: it marks a whole one
            relative = info.path[len(local.rstrip("/")) + 1:]
            if info.type == pyarrow.fs.FileType.Directory:
                fs.create_dir(f"{staging}/{relative}", recursive=True)
            else:
                pyarrow.fs.copy_files(info.path, f"{staging}/{relative}", source_filesystem=local_fs,
                                      destination_filesystem=fs)
    fs.move(staging, final)
    for old in before:
        with contextlib.suppress(FileNotFoundError, OSError):
            fs.delete_dir(old)
    return final


def _newest(fs: pyarrow.fs.FileSystem, path: str) -> tuple[str, dict[str, Any]] | None:
    for folder in reversed(_listing(fs, path)[0]):
        if (history := _history(fs, folder)) is not None:
            return folder, history
    return None


def history(storage_path: str, trial_id: str) -> dict[str, Any] | None:
    """{'epoch', 'history', 'stop'} of the trial's newest complete checkpoint (its weights left in storage), or None.
    One listing and one small read: the driver calls it as each trial ends."""
    fs, path = _open(storage_path, trial_id)
    found = _newest(fs, path)
    return found[1] if found else None


@contextlib.contextmanager
def newest(storage_path: str, trial_id: str) -> Iterator[str | None]:
    """A local folder holding the trial's newest complete checkpoint (downloaded from an object store), or None."""
    fs, path = _open(storage_path, trial_id)
    found = _newest(fs, path)
    if found is None:
        yield None
        return
    if isinstance(fs, pyarrow.fs.LocalFileSystem):
        yield found[0]
        return
    with tempfile.TemporaryDirectory() as local:
        pyarrow.fs.copy_files(found[0], local, source_filesystem=fs, destination_filesystem=pyarrow.fs.LocalFileSystem())
        yield local
