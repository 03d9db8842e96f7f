"""Starting from a checkpoint: `continue` keeps chosen state under a fresh schedule; `warm` copies what matches
and refuses, by name, what it could not copy (seed 004's silently skipped output layer) unless told otherwise.
"""

import argparse

import pytest
import torch
from timm.utils import ModelEmaV3
from torch import nn

from trainables import loop
from trainables.checkpointing import checkpoint
from trainables.checkpointing.warm_start import apply_init
from trainables.config import InitConfig, TrainConfig
from trainables.config.overrides import apply_overrides


class Net(nn.Module):
    def __init__(self, classes: int = 4, head: str = "output") -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU())
        setattr(self, head, nn.Linear(8, classes))
        self.head = head

    def forward(self, x):
        return getattr(self, self.head)(self.body(x))


def _parts(seed: int = 0, lr: float = 0.1, **net_kw):
    torch.manual_seed(seed)
    model = Net(**net_kw)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def _step(model, optimizer, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    model.train()
    optimizer.zero_grad()
    model(torch.randn(16, 6, generator=gen)).square().mean().backward()
    optimizer.step()


def _saved(tmp_path, model, optimizer, **extra):
    state = checkpoint.capture(model, optimizer, torch.amp.GradScaler("cpu", enabled=False), epoch=124, step=124 * 7,
                               history=[])
    return checkpoint.save({**state, **extra}, tmp_path)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_continue_keeps_weights_and_momentum_exactly_under_the_new_lr(tmp_path):
    old, old_opt = _parts()
    for i in range(3):
        _step(old, old_opt, i)
    _saved(tmp_path, old, old_opt)
    new, new_opt = _parts(seed=1, lr=2e-4)  # seed 000: restart with a fresh cosine from a new LR
    report = apply_init(InitConfig(checkpoint=str(tmp_path)), new, new_opt)

    assert report.mode == "continue" and report.complete and report.keep == ("model", "optimizer")
    assert _same(new.state_dict(), old.state_dict())
    assert all(g["lr"] == 2e-4 for g in new_opt.param_groups)  # the run's hyperparameters, not the checkpoint's
    for p_new, p_old in zip(new.parameters(), old.parameters()):
        assert torch.equal(new_opt.state[p_new]["momentum_buffer"], old_opt.state[p_old]["momentum_buffer"])
    for g in old_opt.param_groups:
        g["lr"] = 2e-4
    _step(old, old_opt, 9)
    _step(new, new_opt, 9)  # same weights, momentum and LR -> the same next step
    assert _same(new.state_dict(), old.state_dict())


def test_continue_restarts_the_lr_schedule_at_step_zero(tmp_path):
    tiny = {"data.name": "digits", "data.limit_train": 256, "num_threads": 1, "epochs": 2}
    first = loop.build_parts(apply_overrides(TrainConfig(), tiny))
    _, step, _ = loop.train_one_epoch(first, 0, 0)
    checkpoint.save(checkpoint.capture(first.model, first.optimizer, first.precision.scaler, epoch=1, step=step,
                                       history=[]), tmp_path)
    cfg = apply_overrides(TrainConfig(), {**tiny, "optim.lr": 2e-4, "sched.eta_min": 1e-5,
                                          "init.checkpoint": str(tmp_path)})
    p = loop.build_parts(cfg)
    report = apply_init(cfg.init, p.model, p.optimizer)
    assert report.complete and _same(p.model.state_dict(), first.model.state_dict())

    used, real_step = [], p.optimizer.step
    def recording_step(*args, **kwargs):
        used.append(p.optimizer.param_groups[0]["lr"])
        return real_step(*args, **kwargs)
    p.optimizer.step = recording_step
    loop.train_one_epoch(p, 0, 0)  # how the loop starts a run: epoch 0, step 0
    assert used[0] == 2e-4 and used == [p.lr_at(i) for i in range(len(used))]
    assert p.lr_at(2 * len(used) - 1) == pytest.approx(1e-5)  # the new cosine ends at the new eta_min


def test_keep_model_only_resets_the_optimizer(tmp_path):
    old, old_opt = _parts()
    _step(old, old_opt)
    _saved(tmp_path, old, old_opt)
    new, new_opt = _parts(seed=1)
    report = apply_init(InitConfig(checkpoint=str(tmp_path / "state.pt"), keep=("model",)), new, new_opt)
    assert report.keep == ("model",)
    assert _same(new.state_dict(), old.state_dict())
    assert len(new_opt.state) == 0


def test_unknown_keep_entry_names_the_valid_ones(tmp_path):
    model, opt = _parts()
    _saved(tmp_path, model, opt)
    with pytest.raises(ValueError, match="'weights'.*valid entries: model, ema, optimizer"):
        apply_init(InitConfig(checkpoint=str(tmp_path), keep=("weights",)), model, opt)


def test_missing_checkpoint_is_a_one_line_error_naming_the_path(tmp_path):
    model, opt = _parts()
    with pytest.raises(ValueError) as err:  # a ConfigError, as for any other bad setting
        apply_init(InitConfig(checkpoint=str(tmp_path / "nope")), model, opt)
    assert str(tmp_path / "nope") in str(err.value) and "\n" not in str(err.value)
    assert apply_init(InitConfig(), model, opt) is None  # no checkpoint: train from scratch


def test_optimizer_state_of_another_kind_is_refused(tmp_path):
    old, old_opt = _parts()
    _step(old, old_opt)
    _saved(tmp_path, old, old_opt)
    new = Net()
    with pytest.raises(ValueError, match="momentum_buffer.*AdamW"):
        apply_init(InitConfig(checkpoint=str(tmp_path)), new, torch.optim.AdamW(new.parameters()))


def test_ema_is_taken_when_saved_and_otherwise_restarts_from_the_loaded_weights(tmp_path):
    old, old_opt = _parts()
    _step(old, old_opt)
    old_ema = ModelEmaV3(Net(), decay=0.9)  # weights that differ from the model's
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _saved(tmp_path / "a", old, old_opt, ema=old_ema.state_dict())  # ModelEmaV3 keys carry a `module.` prefix
    _saved(tmp_path / "b", old, old_opt)

    new, new_opt = _parts(seed=1)
    ema = ModelEmaV3(new)
    report = apply_init(InitConfig(checkpoint=str(tmp_path / "a")), new, new_opt, ema)
    assert "ema" in report.keep and _same(ema.module.state_dict(), old_ema.module.state_dict())

    new, new_opt = _parts(seed=1)
    ema = ModelEmaV3(new)  # holds seed 1's random weights until told otherwise
    report = apply_init(InitConfig(checkpoint=str(tmp_path / "b")), new, new_opt, ema)
    assert "ema" not in report.keep and "ema: not in the checkpoint" in report.as_text()
    assert _same(ema.module.state_dict(), old.state_dict())


def test_warm_start_onto_a_different_head_fails_unless_partial_is_allowed(tmp_path):
    src = Net(classes=10)
    torch.save(src.state_dict(), tmp_path / "foreign.pt")  # a plain state_dict, e.g. from another codebase
    model, opt = _parts(seed=1, classes=5)
    fresh_head = {k: v.clone() for k, v in model.output.state_dict().items()}
    cfg = InitConfig(checkpoint=str(tmp_path / "foreign.pt"), mode="warm")

    with pytest.raises(ValueError) as err:
        apply_init(cfg, model, opt)
    first = str(err.value).splitlines()[0]
    assert "7/9 model tensors copied" in first and "2 shape-mismatched" in first and "output.weight" in first

    model, opt = _parts(seed=1, classes=5)
    report = apply_init(InitConfig(checkpoint=cfg.checkpoint, mode="warm", allow_partial=True), model, opt)
    assert report.mismatched == [("output.weight", (10, 8), (5, 8)), ("output.bias", (10,), (5,))]
    assert _same(model.output.state_dict(), fresh_head)  # the head stays freshly initialized
    assert _same(model.body.state_dict(), src.body.state_dict())
    assert report.as_params()["init.coverage"] == "7/9 tensors"
    assert "mismatched  output.weight  checkpoint [10, 8] vs model [5, 8]" in report.as_text()


def test_checkpoint_without_the_output_layer_is_reported_and_fails_by_default(tmp_path):
    src, src_opt = _parts(head="output_dense")  # seed 004: the layer was renamed, so `output` is not in the file
    _saved(tmp_path, src, src_opt)
    model, opt = _parts(seed=1)
    with pytest.raises(ValueError) as err:
        apply_init(InitConfig(checkpoint=str(tmp_path), mode="warm"), model, opt)
    first = str(err.value).splitlines()[0]
    assert "2 missing in checkpoint, 2 unexpected" in first and "output.weight" in first

    report = apply_init(InitConfig(checkpoint=str(tmp_path), mode="warm", allow_partial=True), model, opt)
    assert report.skipped == ["output.weight", "output.bias"]
    assert report.unexpected == ["output_dense.weight", "output_dense.bias"]


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "module._orig_mod."])
def test_ddp_and_compile_prefixes_are_stripped(tmp_path, prefix):
    src = Net()
    torch.save({"state_dict": {prefix + k: v for k, v in src.state_dict().items()}, "epoch": 3}, tmp_path / "s.pt")
    model, opt = _parts(seed=1)
    report = apply_init(InitConfig(checkpoint=str(tmp_path / "s.pt"), mode="warm"), model, opt)
    assert report.complete and len(report.copied) == report.total == 9
    assert _same(model.state_dict(), src.state_dict())


def test_a_file_with_pickled_objects_is_refused_not_executed(tmp_path):
    # timm's train.py saves its args like this next to the weights
    torch.save({"state_dict": Net().state_dict(), "args": argparse.Namespace(lr=0.1)}, tmp_path / "timm.pt")
    model, opt = _parts()
    with pytest.raises(ValueError, match="argparse.Namespace.*re-save just its state_dict"):
        apply_init(InitConfig(checkpoint=str(tmp_path / "timm.pt"), mode="warm"), model, opt)


def test_init_skip_leaves_the_named_layer_as_initialized_and_says_so(tmp_path):
    from trainables.checkpointing.warm_start import check
    from trainables.config.overrides import ConfigError

    src, src_opt = _parts()
    _saved(tmp_path, src, src_opt)
    model, opt = _parts(seed=1)
    before = model.output.weight.detach().clone()
    cfg = InitConfig(checkpoint=str(tmp_path), mode="warm", allow_partial=True, skip=("output",))
    report = apply_init(cfg, model, opt)
    assert report.left_out == ["output.weight", "output.bias"] and not report.complete
    assert torch.equal(model.output.weight, before)  # as initialized, not the checkpoint's
    assert torch.equal(model.body[0].weight, src.body[0].weight)  # the rest copied
    assert "2 left out by init.skip" in report.summary() and "left out    output.weight" in report.as_text()
    with pytest.raises(ConfigError, match="needs init.mode=warm and init.allow_partial=true"):
        check(InitConfig(checkpoint=str(tmp_path), mode="warm", skip=("output",)))
    with pytest.raises(ConfigError, match="'outptu' names no layer"):
        apply_init(InitConfig(checkpoint=str(tmp_path), mode="warm", allow_partial=True, skip=("outptu",)),
                   model, opt)
