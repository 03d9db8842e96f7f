"""`--private-network`: a local study in a network namespace of its own, where Ray listens on nothing another host
can reach.

Ray 2.60 binds its GCS, raylet, worker and agent ports to every interface and has no setting that binds them to
127.0.0.1 (docs/limitations.md). A study that needs no other host (a local Ray, MLflow on SQLite or files, its runs
and checkpoints on a local disk) can run instead in a new network namespace whose only interface is its own
loopback: `unshare --net --map-root-user` (Linux, unprivileged user namespaces; `ip` brings `lo` up), the same
command line re-run inside with `exec`, so the pid, signals (Ctrl-C) and exit code stay the study's. Nothing
outside the namespace can reach those ports, and nothing inside reaches out: a study that reads from or writes to
another host (a Ray cluster, an MLflow server, an object store) is refused with one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from hpstudy.schema.errors import BadInput

INSIDE = "HPSTUDY_PRIVATE_NETWORK"  # set in the namespace: the re-run does not enter another one
FLAG = "--private-network"
# Run by sh in the new namespace: loopback up (it starts down), then the study's own command in its place.
_INSIDE_SCRIPT = 'ip link set lo up && exec "$0" "$@"'


def inside() -> bool:
    return os.environ.get(INSIDE) == "1"


def check(address: str | None, tracking_uri: str | None, storage: str | None) -> None:
    """One line naming what would need another host; the tools the namespace needs, or why they do not work here."""
    remote = [f"{name} {value}" for name, value in (("--address", address), ("--tracking-uri", tracking_uri),
                                                     ("--storage", storage))
              if value and _reaches_out(name, value)]
    if remote:
        raise BadInput(f"{FLAG}: the study runs where no other host is reachable, but {', '.join(remote)} needs one; "
                       f"expected a local Ray, MLflow on sqlite:/// or a folder, and local storage")
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if missing or not sys.platform.startswith("linux"):
        raise BadInput(f"{FLAG}: needs Linux with `unshare` and `ip` (util-linux, iproute2); missing: "
                       f"{', '.join(missing) or sys.platform}")
    probe = subprocess.run(["unshare", "--net", "--map-root-user", "sh", "-c", "ip link set lo up"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise BadInput(f"{FLAG}: this machine refuses a network namespace to this user ({why}); expected "
                       f"unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)")


def _reaches_out(name: str, value: str) -> bool:
    if name == "--address":
        return True  # a cluster is other hosts, or Ray on this one outside the namespace
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    return scheme not in ("", "file", "sqlite")


def command(argv: list[str]) -> list[str]:
    """The command that runs `python -m studies.run ARGV` in a network namespace of its own."""
    return ["unshare", "--net", "--map-root-user", "sh", "-c", _INSIDE_SCRIPT, sys.executable, "-m", "studies.run",
            *argv]


def enter(argv: list[str]) -> None:
    """Replace this process by the study's command in a new network namespace (never returns)."""
    os.environ[INSIDE] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    cmd = command(argv)
    os.execvp(cmd[0], cmd)

