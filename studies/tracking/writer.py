"""A tracker's MLflow writes, run in the order queued while Tune's loop goes on: on a thread of the driver, or in a
process of their own (studies.tracking.writer_process) where a study's many short trials make MLflow's Python
compete with Tune's loop for the driver's GIL. `flush` waits for them and raises the first that failed (a full
disk), once. Also history.csv from per-epoch rows.

A write is `fn(client, *args)`, `fn` a module-level function (studies.tracking.writes: it travels to the process by
name). An argument that is a Future of this writer's (a run's creation) is replaced, where it runs, by that write's
result: a trial's epochs are queued before its run exists.
"""

from __future__ import annotations

import atexit
import csv
import fcntl
import io
import os
import pickle
import queue
import subprocess
import sys
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable

THREAD, PROCESS = "thread", "process"
# A study of this many trials writes from a process: with many short trials, MLflow's Python on the driver's GIL
# slowed Tune's loop 2-3x (docs/benchmarks.md, "Driver scale"); a process costs a second interpreter importing
# MLflow (~2 CPU-s), nothing beside a smaller study's training.
PROCESS_FROM_TRIALS = 100
_PIPE_BYTES = 1 << 20  # the queue to the process: Tune's loop blocks only when this much is unwritten
_CLOSE_S = 120.0  # the most close() waits for the process to write what is queued


@dataclass(frozen=True)
class Ref:
    """The result of the queued write `seq` (a run id), where the write runs."""
    seq: int


class LazyClient:
    """The MLflow client `make()` returns, made when a write first uses it (importing MLflow takes seconds)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make, self._made = make, None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            self._made = self._make()
        return getattr(self._made, name)


class Executor:
    """Runs writes in order against one client; keeps the results of those asked to (run ids) for later `Ref`s."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = LazyClient(client)
        self._kept: dict[int, Any] = {}  # seq -> result (a BaseException: the write failed); one per trial's run

    def run(self, seq: int, fn: Callable[..., Any], args: tuple, keep: bool) -> Any:
        try:
            value = fn(self._client, *(self._resolve(a) for a in args))
        except BaseException as err:
            if keep:
                self._kept[seq] = err
            raise
        if keep:
            self._kept[seq] = value
        return value

    def _resolve(self, arg: Any) -> Any:
        if not isinstance(arg, Ref):
            return arg
        value = self._kept[arg.seq]
        if isinstance(value, BaseException):
            raise value  # a write that needs a run whose creation failed fails as it did
        return value


class Writer:
    """The queue's parent side: `defer` returns a Future of the write's result; `flush` waits for every write queued
    before it and raises the first failure, once; `close` flushes and stops the writer."""

    def __init__(self) -> None:
        self._seq = 0
        self._lock = threading.Lock()
        self._failed: BaseException | None = None  # the first queued write that raised, until flush raises it
        self._closed = False
        # A driver that exits without close() (a script's own tracker) still writes what it queued, as the thread
        # pool this replaced did: the writer thread is a daemon, the process stops when the driver is gone.
        atexit.register(_close_at_exit, weakref.ref(self))

    def defer(self, fn: Callable[..., Any], *args: Any, keep: bool = False) -> Future:
        """`fn(client, *args)` after every write queued before it; `keep`: later writes may take its Future as an
        argument."""
        with self._lock:
            self._seq += 1
            seq, future = self._seq, Future()
            future.hpstudy_seq = seq  # type: ignore[attr-defined]
            self._submit(seq, fn, tuple(self._arg(a) for a in args), keep, future)
        return future

    @staticmethod
    def _arg(arg: Any) -> Any:
        seq = getattr(arg, "hpstudy_seq", None)
        if seq is None:
            return arg
        done = arg.done() and arg.exception() is None
        return arg.result() if done else Ref(seq)

    def _settle(self, future: Future, ok: bool, value: Any) -> None:
        if ok:
            future.set_result(value)
            return
        if self._failed is None:
            self._failed = value
        future.set_exception(value)

    @property
    def alive(self) -> bool:
        """Whether writes queued now will be written (a writer process may have died)."""
        return True

    def raise_failed(self) -> None:
        """Raise the first write known to have failed (once), without waiting for the queue."""
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    def flush(self) -> None:
        try:
            self.defer(_nothing).result()
        except Exception:  # noqa: BLE001 -- raised below, once (the writer itself gone: its error is the first failure)
            pass
        self.raise_failed()

    def _submit(self, seq: int, fn: Callable[..., Any], args: tuple, keep: bool, future: Future) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush, then stop the writer; once (a second call, and the one at exit, do nothing)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._stop()

    def _stop(self) -> None:
        raise NotImplementedError


def _nothing(client: Any) -> None:
    return None


def _close_at_exit(ref: weakref.ref) -> None:
    writer = ref()
    if writer is not None:
        try:
            writer.close()
        except Exception as err:  # noqa: BLE001 -- at exit there is no one left to raise to but the terminal
            print(f"warning: MLflow writes queued at exit failed: {type(err).__name__}: {err}", file=sys.stderr)


class ThreadWriter(Writer):
    """One writer thread of the driver, writing through the tracker's own client."""

    def __init__(self, client: Callable[[], Any]) -> None:
        super().__init__()
        self._executor = Executor(client)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None  # started on the first write

    def _submit(self, seq, fn, args, keep, future) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="hpstudy-mlflow", daemon=True)
            self._thread.start()
        self._queue.put((seq, fn, args, keep, future))

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            seq, fn, args, keep, future = item
            try:
                self._settle(future, True, self._executor.run(seq, fn, args, keep))
            except BaseException as err:
                self._settle(future, False, err)

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


class ProcessWriter(Writer):
    """A process of its own (`python -m studies.tracking.writer_process`) with its own MLflow client: its Python runs
    beside Tune's loop, not on the driver's GIL. It sits outside the driver's process group (a Ctrl-C reaches the
    driver alone, whose interruption path then flushes it) and stops when the driver is gone, writing nothing more:
    what was queued then is lost as a thread's would be, and the trials' checkpoints hold those epochs."""

    def __init__(self, tracking_uri: str) -> None:
        super().__init__()
        ops_read, ops_write = os.pipe()
        replies_read, replies_write = os.pipe()
        for fd in (ops_write, replies_write):
            _widen(fd)
        path = os.pathsep.join(os.path.abspath(p or os.curdir) for p in sys.path)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "studies.tracking.writer_process", str(ops_read), str(replies_write)],
            pass_fds=(ops_read, replies_write), start_new_session=True, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path})
        os.close(ops_read)
        os.close(replies_write)
        self._ops = Connection(ops_write, readable=False)
        self._replies = Connection(replies_read, writable=False)
        self._ops.send(("open", tracking_uri))  # not on its command line, which `ps` shows (a URI may hold a password)
        self._pending: dict[int, Future] = {}
        self._gone: BaseException | None = None  # why the process no longer writes
        self._reader = threading.Thread(target=self._read, name="hpstudy-mlflow-replies", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self._gone is None

    def _submit(self, seq, fn, args, keep, future) -> None:
        if self._gone is not None:
            self._settle(future, False, self._gone)
            return
        try:
            message = pickle.dumps(("op", seq, fn, args, keep))
        except Exception as err:  # noqa: BLE001 -- a value that cannot travel fails its write, raised at the flush
            self._settle(future, False, err)
            return
        self._pending[seq] = future
        try:
            self._ops.send_bytes(message)
        except OSError as err:  # the process died: the reader fails what it held
            self._pending.pop(seq, None)
            future.set_exception(self._gone or err)

    def _read(self) -> None:
        while True:
            try:
                seq, ok, value = self._replies.recv()
            except (EOFError, OSError):
                break
            future = self._pending.pop(seq, None)
            if future is not None:
                self._settle(future, ok, value)
        code = self._process.wait()
        gone = RuntimeError(f"the MLflow writer process exited (code {code}) with writes queued")
        with self._lock:
            self._gone = gone
            pending, self._pending = self._pending, {}
        for future in pending.values():
            self._settle(future, False, gone)

    def _stop(self) -> None:
        if self._gone is None:
            try:
                self._ops.send(("close",))
            except OSError:
                pass
        self._ops.close()
        try:
            self._process.wait(timeout=_CLOSE_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._reader.join()
        self._replies.close()


def _widen(fd: int) -> None:
    """A pipe of _PIPE_BYTES where the platform allows (Linux), so the driver seldom waits on a busy writer."""
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setpipe is not None:
        try:
            fcntl.fcntl(fd, setpipe, _PIPE_BYTES)
        except OSError:
            pass  # over the system's limit: the default size


def picklable(err: BaseException) -> BaseException:
    """`err`, or a RuntimeError naming it where it cannot travel back to the driver."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")


def writer_for(trials: int) -> str:
    """The writer a study of `trials` trials uses."""
    return PROCESS if trials >= PROCESS_FROM_TRIALS else THREAD


def make_writer(kind: str, tracking_uri: str, client: Callable[[], Any]) -> Writer:
    if kind == PROCESS:
        return ProcessWriter(tracking_uri)
    if kind == THREAD:
        return ThreadWriter(client)
    raise ValueError(f"writer kind {kind!r}: expected {THREAD!r} or {PROCESS!r}")


def history_csv(rows: dict[int, dict[str, float]]) -> str:
    """history.csv: one row per epoch, a column per metric (sorted), empty where an epoch lacks it."""
    keys = sorted({k for row in rows.values() for k in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["epoch", *keys], lineterminator="\n")
    writer.writeheader()
    for step in sorted(rows):
        writer.writerow({"epoch": step, **rows[step]})
    return out.getvalue()
