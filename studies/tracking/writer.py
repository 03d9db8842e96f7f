"""One writer thread for a tracker's MLflow writes: run in the order queued, while Tune's loop goes on; `flush` waits
for them and raises the first that failed (a full disk), once. Also history.csv from per-epoch rows."""

from __future__ import annotations

import csv
import io
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable


class Writer:
    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None  # started on the first write
        self._failed: BaseException | None = None  # the first queued write that raised, until flush raises it

    def defer(self, work: Callable[[], Any]) -> Future:
        """`work()` on the writer thread, after every write queued before it."""
        def run() -> Any:
            try:
                return work()
            except BaseException as err:
                if self._failed is None:
                    self._failed = err
                raise

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpstudy-mlflow")
        return self._pool.submit(run)

    def flush(self) -> None:
        if self._pool is not None:
            self._pool.submit(lambda: None).result()
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed


def history_csv(rows: dict[int, dict[str, float]]) -> str:
    """history.csv: one row per epoch, a column per metric (sorted), empty where an epoch lacks it."""
    keys = sorted({k for row in rows.values() for k in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["epoch", *keys], lineterminator="\n")
    writer.writeheader()
    for step in sorted(rows):
        writer.writerow({"epoch": step, **rows[step]})
    return out.getvalue()
