"""Where a study's Ray experiment and its trials' checkpoints live (`--storage`): a folder on this machine (the
default, `RUNS_DIR/ray`), a folder every node of a cluster mounts, or an object store URI (`s3://`, `gs://`, ...)
that Ray's `storage_path` opens through pyarrow. What the driver alone writes stays under `--runs-dir` on the driver:
the MLflow store and the study's resume state (`latest.json`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from hpstudy.schema.errors import BadInput

# pyarrow.fs.FileSystem.from_uri's schemes (pyarrow 25): a local URI, S3 (and S3-compatible stores), Google Cloud
# Storage, HDFS, Azure. Only the scheme is checked here: opening an object store would reach the network.
SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")


class StorageError(BadInput):
    """A --storage value that is neither a path nor a URI Ray can store to."""


def resolve(value: str | None, runs_dir: Path, study: str) -> str:
    """The study's storage root as Ray's `storage_path` takes it: `runs_dir/ray/STUDY` by default, a path made
    absolute (Ray's trials run in its own folders), a URI as given with the study's name appended."""
    if value is None:
        return str(runs_dir / "ray" / study)
    if not is_uri(value):
        return str(Path(value).expanduser().resolve() / study)
    scheme = urlparse(value).scheme
    if scheme not in SCHEMES:
        raise StorageError(f"--storage {value}: expected a path or a URI with one of the schemes "
                           f"{', '.join(s + '://' for s in SCHEMES)}")
    if scheme == "file" and urlparse(value).netloc not in ("", "localhost"):  # file://x/y: host x, path /y
        raise StorageError(f"--storage {value}: a file:// URI needs an absolute path (file:///shared/hpstudy)")
    return join(value, study)


def is_uri(value: str) -> bool:
    return "://" in value


def join(root: str, *parts: str) -> str:
    """`root/part/...` for a path or a URI (whose query, if any, stays at the end)."""
    if not is_uri(root):
        return str(Path(root).joinpath(*parts))
    parsed = urlparse(root)
    path = "/".join([parsed.path.rstrip("/"), *parts])
    return parsed._replace(path=path).geturl()
