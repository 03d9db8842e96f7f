"""The MLflow writer process of a study's driver (studies.tracking.writer.ProcessWriter):
`python -m studies.tracking.writer_process OPS_FD REPLIES_FD`.

Reads ("open", tracking URI) from OPS_FD (not its command line, which `ps` shows to everyone), then writes, in order;
runs each with its own MLflow client and answers each on REPLIES_FD with (seq, ok, result or error). Ignores Ctrl-C
(the driver's interruption path flushes it, then closes it); stops on ("close",), and when the driver is gone (its
pipe closed, or another parent): then it writes nothing more, as a writer thread would not have.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from multiprocessing.connection import Connection

from studies.tracking.writer import Executor, picklable

# MLflow's schema set-up and migrations check are not news to a user (the driver made the store already).
_QUIET_LOGGERS = ("mlflow.store.db.utils", "alembic")


def serve(ops: Connection, replies: Connection, parent: int) -> None:
    try:
        _, tracking_uri = ops.recv()
    except (EOFError, OSError):
        return
    executor = Executor(lambda: _client(tracking_uri))  # made on the first write that uses it
    while True:
        try:
            message = ops.recv()
        except (EOFError, OSError):
            return  # the driver is gone
        if message[0] == "close" or os.getppid() != parent:
            return
        _, seq, fn, args, keep = message
        try:
            reply = (seq, True, executor.run(seq, fn, args, keep))
        except BaseException as err:  # the driver raises it at its next flush
            reply = (seq, False, picklable(err))
        try:
            replies.send(reply)
        except OSError:
            return


def _client(tracking_uri: str):
    from mlflow.tracking import MlflowClient  # seconds to import: the process serves at once, and imports it here

    return MlflowClient(tracking_uri)


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    ops_fd, replies_fd = int(argv[0]), int(argv[1])
    serve(Connection(ops_fd, writable=False), Connection(replies_fd, readable=False), os.getppid())


if __name__ == "__main__":
    main(sys.argv[1:])
