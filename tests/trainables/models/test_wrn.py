"""WideResNet-28-10 (seed 001 Exp 13): its size, its layout at 32x32, its dropout, and its 13 SES hook points."""

import pytest
import torch
from torch import nn

from trainables.config import ModelConfig, SESConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.models.by_name import build_model
from trainables.models.wrn import PreActBlock, WideResNet
from trainables.ses import build_ses, hook_points
from trainables.validate import validate

WRN28_10_PARAMS_CIFAR100 = 36_536_884  # the seed's "36.5M"; 36,479,194 with a 10-class head


@pytest.fixture(scope="module")
def wrn():
    torch.manual_seed(0)
    return build_model(ModelConfig(name="wrn28_10", drop_rate=0.3), num_classes=100, in_chans=3, image_size=32)


def tiny(**kw) -> WideResNet:
    torch.manual_seed(0)
    return WideResNet(depth=10, widen=1, num_classes=5, **kw)  # one block per group: a CPU test in milliseconds


def test_wrn28_10_has_the_seed_parameter_count(wrn):
    assert isinstance(wrn, WideResNet)
    assert sum(p.numel() for p in wrn.parameters()) == WRN28_10_PARAMS_CIFAR100


def test_depth_and_width_are_28_and_10_whatever_the_caller_passes(wrn):
    # Seed 001 bug 7: a builder reading depth/width from a closure built another network.
    assert (wrn.depth, wrn.widen) == (28, 10)
    blocks = [m for m in wrn.modules() if isinstance(m, PreActBlock)]
    assert len(blocks) == 12
    assert [b.conv2.out_channels for b in blocks] == [160] * 4 + [320] * 4 + [640] * 4
    kernels = [m.kernel_size for m in wrn.modules() if isinstance(m, nn.Conv2d)]
    assert (kernels.count((3, 3)), kernels.count((1, 1))) == (1 + 24, 3)  # stem + 2 per block; 3 projections
    assert wrn.stem.kernel_size == (3, 3) and wrn.stem.stride == (1, 1)


def test_feature_maps_are_32_16_8_and_logits_per_class(wrn):
    sizes = {}
    modules = dict(wrn.named_modules())
    handles = [modules[name].register_forward_hook(lambda m, a, out, name=name: sizes.update({name: out.shape}))
               for name in ("layer1.3", "layer2.3", "layer3.3")]
    wrn.eval()
    with torch.no_grad():
        logits = wrn(torch.randn(2, 3, 32, 32))
    for h in handles:
        h.remove()
    assert logits.shape == (2, 100)
    assert [tuple(s[1:]) for s in sizes.values()] == [(160, 32, 32), (320, 16, 16), (640, 8, 8)]


def test_drop_rate_goes_between_the_convs_of_every_block(wrn):
    assert [m.p for m in wrn.modules() if isinstance(m, nn.Dropout)] == [0.3] * 12


@pytest.mark.filterwarnings("ignore:SES layer:UserWarning")  # 4 images cannot reach beta*log(640): clamped
def test_ses_layers_all_hooks_12_blocks_and_the_pool(wrn):
    points = hook_points(wrn)
    assert points == [f"layer{g}.{i}" for g in (1, 2, 3) for i in range(4)] + ["global_pool"]
    ses = build_ses(wrn, SESConfig(enabled=True, layers="all"), total_steps=10)
    try:
        assert len(ses.layer_names) == 13
        wrn.train()
        ses.begin_step(0)
        wrn(torch.randn(4, 3, 32, 32))
        penalty, metrics = ses.penalty(0)
        assert penalty.requires_grad
        assert len([k for k in metrics if k.startswith("ses/entropy/")]) == 13
    finally:
        ses.close()


def test_ses_last_k_counts_from_the_pool(wrn):
    ses = build_ses(wrn, SESConfig(enabled=True, layers="last:3"), total_steps=10)
    try:
        assert ses.layer_names == ["layer3.2", "layer3.3", "global_pool"]
    finally:
        ses.close()


def test_grad_checkpointing_gives_the_same_gradients():
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
    grads = []
    for checkpointed in (False, True):
        model = tiny()
        model.set_grad_checkpointing(checkpointed)
        nn.functional.cross_entropy(model(x), y).backward()
        grads.append([p.grad for p in model.parameters()])
    for plain, recomputed in zip(*grads):
        torch.testing.assert_close(plain, recomputed)


def test_build_model_passes_grad_checkpointing():
    model = build_model(ModelConfig(name="wrn28_10"), num_classes=10, in_chans=3, image_size=32,
                        grad_checkpointing=True)
    assert model.grad_checkpointing


def test_one_training_step_lowers_the_loss_on_a_fixed_batch():
    model = tiny(in_chans=1)
    x, y = torch.randn(8, 1, 16, 16), torch.arange(8) % 5
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_depth_must_be_6n_plus_4():
    with pytest.raises(ValueError, match="depth=27"):
        WideResNet(depth=27, widen=1, num_classes=10)


def test_reachable_from_set_and_validated():
    validate(apply_overrides(TrainConfig(), {"model.name": "wrn28_10", "data.name": "cifar100"}), check_data=False)
    with pytest.raises(ConfigError, match="model.small_input: wrn28_10"):
        validate(apply_overrides(TrainConfig(), {"model.name": "wrn28_10", "model.small_input": False}),
                 check_data=False)
