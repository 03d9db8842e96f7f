"""Start a run from a checkpoint (`InitConfig`): `continue` keeps chosen state under the run's own new schedule,
`warm` copies every tensor whose name and shape match and reports, by name, what it could not copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from trainables.checkpointing import safe_load
from trainables.checkpointing.checkpoint import STATE_FILE
from trainables.config import InitConfig
from trainables.config.overrides import ConfigError

MODES = ("continue", "warm")
KEEP = ("model", "ema", "optimizer")
PREFIXES = ("module.", "_orig_mod.")  # DDP / ModelEmaV3, torch.compile
WEIGHT_KEYS = ("model", "state_dict", "model_state_dict")  # ours first, then common foreign layouts
SHOWN = 3  # problem layers named in the one-line summary


@dataclass
class InitReport:
    """What was taken from the checkpoint, by name: the run logs `as_params()` and `as_text()` to MLflow."""

    mode: str
    path: str  # the file actually read
    keep: tuple[str, ...]  # continue: the state actually taken over; warm: ("model",)
    total: int  # tensors in the model's state_dict
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # in the model, missing in the checkpoint: left as initialized
    unexpected: list[str] = field(default_factory=list)  # in the checkpoint, not in the model: unused
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # (name, checkpoint shape, model shape)
    left_out: list[str] = field(default_factory=list)  # named by init.skip: left as initialized on purpose
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.skipped or self.unexpected or self.mismatched or self.left_out)

    def summary(self) -> str:
        problems = [*self.skipped, *self.left_out, *self.unexpected, *(n for n, _, _ in self.mismatched)]
        shown = ", ".join(problems[:SHOWN]) + (", ..." if len(problems) > SHOWN else "")
        left = f"{len(self.left_out)} left out by init.skip, " if self.left_out else ""
        return (f"{self.mode} from {self.path}: {len(self.copied)}/{self.total} model tensors copied; "
                f"{left}{len(self.skipped)} missing in checkpoint, {len(self.unexpected)} unexpected, "
                f"{len(self.mismatched)} shape-mismatched" + (f" ({shown})" if problems else ""))

    def as_params(self) -> dict[str, str]:
        # Not init.mode / init.checkpoint / init.keep: the flattened config already logs those, and MLflow refuses
        # a second, different value for a param.
        return {"init.coverage": f"{len(self.copied)}/{self.total} tensors", "init.source": self.path,
                "init.taken": ",".join(self.keep) or "none"}

    def error(self, hint: str) -> ValueError:
        """First line: the summary and what to do; then the full report."""
        return ValueError("\n".join([f"{self.summary()}; {hint}", *self.as_text().splitlines()[1:]]))

    def as_text(self) -> str:
        lines = [self.summary(), *self.notes]
        lines += [f"copied      {n}" for n in self.copied]
        lines += [f"skipped     {n}  (missing in checkpoint; left as initialized)" for n in self.skipped]
        lines += [f"left out    {n}  (init.skip; left as initialized)" for n in self.left_out]
        lines += [f"unexpected  {n}  (in checkpoint, unused)" for n in self.unexpected]
        lines += [f"mismatched  {n}  checkpoint {list(a)} vs model {list(b)}" for n, a, b in self.mismatched]
        return "\n".join(lines) + "\n"


def check(cfg: InitConfig) -> None:
    """Raise ConfigError (a one-line ValueError) for a mode, keep entry or path that `apply_init` would trip over."""
    if cfg.mode not in MODES:
        raise ConfigError(f"init.mode: {cfg.mode!r} is not one of {', '.join(MODES)}")
    unknown = [k for k in cfg.keep if k not in KEEP]
    if unknown:
        raise ConfigError(f"init.keep: unknown {', '.join(map(repr, unknown))}; valid entries: {', '.join(KEEP)}")
    if cfg.skip and (cfg.mode != "warm" or not cfg.allow_partial):
        raise ConfigError(f"init.skip={list(cfg.skip)} leaves layers as initialized: it needs init.mode=warm and "
                          f"init.allow_partial=true (got mode={cfg.mode!r}, allow_partial={cfg.allow_partial})")
    if cfg.checkpoint:
        try:
            resolve(cfg.checkpoint)
        except FileNotFoundError as err:
            raise ConfigError(str(err)) from None


def resolve(path: str | Path) -> Path:
    """The checkpoint file: `path` itself, or the state.pt inside a folder."""
    p = Path(path).expanduser()
    p = p / STATE_FILE if p.is_dir() else p
    if not p.is_file():
        raise FileNotFoundError(f"init.checkpoint: no checkpoint file at {p}")
    return p


def load(path: str | Path) -> dict[str, Any]:
    """A checkpoint as a dict: ours (`checkpoint.save`), {'state_dict': ...} layouts, or a plain state_dict."""
    p = resolve(path)
    obj = safe_load.load(p, what="init.checkpoint",
                         hint="re-save just its state_dict with torch.save(model.state_dict(), path)")
    if not isinstance(obj, Mapping):
        raise ValueError(f"init.checkpoint: {p} holds a {type(obj).__name__}, not a dict of tensors")
    if all(isinstance(v, Tensor) for v in obj.values()):
        return {"model": dict(obj)}
    for key in WEIGHT_KEYS:
        if isinstance(obj.get(key), Mapping):
            return {**obj, "model": obj[key]}
    raise ValueError(f"init.checkpoint: {p} has no weights under {', '.join(WEIGHT_KEYS)}; "
                     f"its keys are: {', '.join(map(str, list(obj)[:10]))}")


def strip_prefixes(name: str) -> str:
    while name.startswith(PREFIXES):
        name = next(name[len(p):] for p in PREFIXES if name.startswith(p))
    return name


def _by_plain_name(state: Mapping[str, Tensor], what: str) -> dict[str, tuple[str, Tensor]]:
    out: dict[str, tuple[str, Tensor]] = {}
    for name, tensor in state.items():
        if not isinstance(tensor, Tensor):  # e.g. a foreign file's metadata entries
            continue
        plain = strip_prefixes(name)
        if plain in out:
            raise ValueError(f"{what}: {out[plain][0]!r} and {name!r} are the same tensor once prefixes are stripped")
        out[plain] = (name, tensor)
    return out


def _named(plain: str, entry: str) -> bool:
    return plain == entry or plain.startswith(entry + ".")


def copy_matching(model: nn.Module, state: Mapping[str, Tensor], report: InitReport,
                  skip: tuple[str, ...] = ()) -> None:
    """Copy into `model` every tensor of `state` whose name (prefixes stripped) and shape match, except those
    `skip` names (a tensor or a module path); fill `report`. A `skip` entry that names nothing is an error."""
    own = _by_plain_name(model.state_dict(), "model")
    theirs = _by_plain_name(state, "checkpoint")
    unmatched = [e for e in skip if not any(_named(p, e) for p in own)]
    if unmatched:
        raise ConfigError(f"init.skip: {unmatched[0]!r} names no layer of the model (its tensors: "
                          f"{', '.join(list(own)[:8])}{', ...' if len(own) > 8 else ''})")
    merged = dict(model.state_dict())  # non-tensor entries (extra state) stay as they are
    for plain, (name, mine) in own.items():
        if any(_named(plain, e) for e in skip):
            report.left_out.append(plain)
        elif plain not in theirs:
            report.skipped.append(plain)
        elif theirs[plain][1].shape != mine.shape:
            report.mismatched.append((plain, tuple(theirs[plain][1].shape), tuple(mine.shape)))
        else:
            merged[name] = theirs[plain][1]
            report.copied.append(plain)
    report.unexpected.extend(p for p in theirs if p not in own)
    model.load_state_dict(merged)  # copies into the live tensors, casting to their dtype and device


def _load_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Take the saved per-parameter state (momentum, Adam moments) but keep this run's hyperparameters."""
    _check_optimizer_kind(optimizer, saved)
    hyper = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    try:
        optimizer.load_state_dict(copy.deepcopy(saved))  # it would otherwise train the checkpoint's own tensors
    except (ValueError, KeyError) as err:
        raise ValueError(f"init.keep=optimizer: the checkpoint's optimizer state does not fit this run's optimizer "
                         f"({err}); drop 'optimizer' from init.keep") from None
    for group, h in zip(optimizer.param_groups, hyper):
        group.update(h)  # LR, weight decay, momentum ... come from this run's config, not the checkpoint's


def _check_optimizer_kind(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """torch loads SGD momentum into AdamW (or back) without complaint and fails at the first step; fail now."""
    for state in saved.get("state", {}).values():
        if isinstance(optimizer, torch.optim.SGD):
            wrong = bool(set(state) - {"momentum_buffer"})
        elif isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
            wrong = "exp_avg" not in state
        else:
            wrong = False
        if wrong:
            raise ValueError(f"init.keep=optimizer: the checkpoint holds {sorted(state)} optimizer state, which "
                             f"{type(optimizer).__name__} does not use; drop 'optimizer' from init.keep")


def _continue(cfg: InitConfig, state: dict[str, Any], report: InitReport, model, optimizer, ema) -> None:
    if "model" in cfg.keep:
        copy_matching(model, state["model"], report)
        if not report.complete:
            raise report.error("continue needs the same architecture (use init.mode=warm)")
    if "optimizer" in cfg.keep:
        if "optimizer" not in state:
            raise ValueError(f"init.keep=optimizer: {report.path} holds no optimizer state; drop it from init.keep")
        _load_optimizer(optimizer, state["optimizer"])
    if "ema" in cfg.keep and ema is not None and "ema" in state:
        ema_report = InitReport("continue", report.path, (), 0)
        copy_matching(getattr(ema, "module", ema), state["ema"], ema_report)
        if not ema_report.complete:
            raise ema_report.error("the checkpoint's EMA does not fit this run's model")
    elif "ema" in cfg.keep and ema is not None:
        report.notes.append("ema: not in the checkpoint; restarted from the loaded weights")


def apply_init(cfg: InitConfig, model: nn.Module, optimizer: torch.optim.Optimizer,
               ema: nn.Module | None = None) -> InitReport | None:
    """Initialize `model` / `optimizer` / `ema` from `cfg.checkpoint`; None when it is empty (train from scratch).

    Call after building the parts and before the first step. The run keeps its own schedule from epoch 0, step 0
    and its own RNG seed: the checkpoint's position, scaler and RNG state are never taken. An EMA that is not
    taken from the checkpoint restarts from the (new) model weights, not from the random ones it was built with.
    """
    if not cfg.checkpoint:
        return None
    check(cfg)
    state = load(cfg.checkpoint)
    path = str(resolve(cfg.checkpoint))
    if cfg.mode == "warm":
        report = InitReport("warm", path, ("model",), len(model.state_dict()))
        copy_matching(model, state["model"], report, cfg.skip)
        if not report.complete and not cfg.allow_partial:
            raise report.error("set init.allow_partial=true to accept")
    else:
        taken = tuple(k for k in cfg.keep if k != "ema" or (ema is not None and "ema" in state))
        report = InitReport("continue", path, taken, len(model.state_dict()))
        _continue(cfg, state, report, model, optimizer, ema)
    if ema is not None and "ema" not in report.keep:
        _sync_ema(ema, model)
    return report


@torch.no_grad()
def _sync_ema(ema: nn.Module, model: nn.Module) -> None:
    target = getattr(ema, "module", ema)  # timm's ModelEmaV3 keeps the averaged copy in .module
    copy_matching(target, model.state_dict(), InitReport("ema", "model", (), 0))
