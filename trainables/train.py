"""Train one configuration without Ray, for debugging: `python -m trainables.train --set optim.lr=0.05 ...`.

Checkpoints go to `--out` every epoch; `--resume` continues from the one there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hpstudy.schema.errors import BadInput
from trainables.checkpointing import checkpoint
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides, parse_set_args
from trainables.loop import INIT_REPORT, run
from trainables.validate import validate


class LocalSink:
    """Prints one JSON line per epoch and keeps the latest checkpoint in a folder."""

    def __init__(self, out: Path, resume: bool) -> None:
        self.out, self.resume = out, resume
        self._last: dict[str, Any] | None = None
        out.mkdir(parents=True, exist_ok=True)

    def restore(self) -> dict[str, Any] | None:
        if self._last is not None:  # an in-process retry continues from the last epoch
            return self._last
        return checkpoint.load(self.out) if self.resume else None

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        if state is not None:
            self._last = state
            checkpoint.save(state, self.out)
        shown = {k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()
                 if k != INIT_REPORT}
        print(json.dumps(shown), flush=True)
        if INIT_REPORT in metrics:
            print(metrics[INIT_REPORT], file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainables.train", description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=Path("hpstudy_runs/single"), help="checkpoint folder")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    args = parser.parse_args(argv)
    try:
        cfg = apply_overrides(TrainConfig(), parse_set_args(args.sets))
        validate(cfg)
    except (ConfigError, ValueError, KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    try:
        run(cfg, LocalSink(args.out, args.resume))
    except BadInput as err:  # e.g. a --resume checkpoint that is not one of ours (trainables.checkpointing.safe_load)
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
