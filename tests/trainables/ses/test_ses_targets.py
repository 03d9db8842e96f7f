"""ViT targets (seed 001 Exp 17/18): block output, attention output, attention weights; the non-fused attention
path only while capturing; no graph kept after the penalty; errors that name what is valid."""

import dataclasses
import weakref

import pytest
import timm
import torch

from trainables.config import SESConfig
from trainables.models.by_name import SmallCNN
from trainables.ses import build_ses

ALL = ("block", "attn_out", "attn_weights")
ON = SESConfig(enabled=True, lam=0.1, beta=0.3, targets=ALL)  # beta 0.3: targets stay reachable at B=8
B, T, D = 8, 17, 192  # 16x16 images, patch 4: 16 patches + the class token; vit_tiny's width


def vit(depth=2):
    torch.manual_seed(0)
    return timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, img_size=16, patch_size=4, depth=depth, num_classes=10
    ).train()


@pytest.fixture(scope="module")
def vit3():
    return vit(depth=3)


def images():
    return torch.randn(B, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def ses_for(model, **overrides):
    return build_ses(model, dataclasses.replace(ON, **overrides), total_steps=10)


def step(ses, model, x, i=0):
    ses.begin_step(i)
    out = model(x)
    return out, *ses.penalty(i)


@pytest.mark.parametrize(
    "layers, targets, labels",
    [
        ("all", ("block",), ["blocks.0", "blocks.1", "blocks.2"]),
        ("last:1", ("attn_out",), ["blocks.2.attn"]),
        ("first:1", ("block", "attn_weights", "block"), ["blocks.0.attn.weights", "blocks.0"]),
        ("blocks.1", ALL, ["blocks.1.attn.weights", "blocks.1.attn", "blocks.1"]),
        ("last:2", ALL, [f"blocks.{i}{s}" for i in (1, 2) for s in (".attn.weights", ".attn", "")]),
    ],
)
def test_targets_and_blocks_give_the_labels(vit3, layers, targets, labels):
    ses = ses_for(vit3, layers=layers, targets=targets)
    assert ses.layer_names == labels
    ses.close()


def test_captured_shapes_and_metric_keys():
    model = vit()
    ses = ses_for(model, layers="last:1")
    _, value, metrics = step(ses, model, images())
    assert value.requires_grad
    assert {k for k in metrics if k.startswith("ses/entropy/")} == {
        "ses/entropy/blocks.1.attn.weights", "ses/entropy/blocks.1.attn", "ses/entropy/blocks.1"}
    ses.close()


def test_attention_weights_are_the_softmax_weights_pooled_over_heads_and_queries():
    model = vit()
    attn = model.blocks[0].attn
    seen = {}
    attn.register_forward_pre_hook(lambda m, args: seen.update(x=args[0].detach()))
    ses = ses_for(model, layers="first:1", targets=("attn_weights",))
    ses.begin_step(0)
    model(images())
    pooled = ses._capture._acts["blocks.0.attn.weights"]  # white-box: the (B, T) rows before the entropy
    x = seen["x"]
    q, k, _ = attn.qkv(x).reshape(B, T, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    reference = ((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1).mean(dim=(1, 2))
    torch.testing.assert_close(pooled, reference)
    torch.testing.assert_close(pooled.sum(dim=1), torch.ones(B))
    ses.close()


def test_fused_attention_is_off_only_while_capturing_and_restored_on_close():
    model = vit()
    hooked, other = model.blocks[1].attn, model.blocks[0].attn
    assert hooked.fused_attn and other.fused_attn  # timm's default here
    ses = ses_for(model, layers="last:1", every_k=2)
    x = images()
    fused_out = model(x).detach()  # not armed yet
    assert hooked.fused_attn
    out, _, metrics = step(ses, model, x, 0)  # armed: weights needed
    assert not hooked.fused_attn and other.fused_attn and metrics
    torch.testing.assert_close(out, fused_out, atol=1e-5, rtol=1e-4)  # same function on either path
    step(ses, model, x, 1)  # every_k=2: not an SES step
    assert hooked.fused_attn
    ses.begin_step(2)
    model.eval()
    with torch.no_grad():
        model(x)
    assert hooked.fused_attn and ses.penalty(2)[1] == {}  # eval: fused, nothing captured
    model.train()
    model(x)
    assert not hooked.fused_attn
    ses.close()
    assert hooked.fused_attn and all(len(m._forward_hooks) + len(m._forward_pre_hooks) == 0 for m in model.modules())


def test_a_model_that_never_fuses_stays_unfused():
    model = vit()
    model.blocks[1].attn.fused_attn = False
    ses = ses_for(model, layers="last:1")
    step(ses, model, images())
    ses.begin_step(1)
    model.eval()
    model(images())
    assert not model.blocks[1].attn.fused_attn
    ses.close()
    assert not model.blocks[1].attn.fused_attn


def test_penalty_on_attention_weights_alone_reaches_qkv_with_finite_grads():
    model = vit()
    ses = ses_for(model, layers="all", targets=("attn_weights",))
    out, value, _ = step(ses, model, images())
    (qkv_grad,) = torch.autograd.grad(value, model.blocks[0].attn.qkv.weight, retain_graph=True)
    assert qkv_grad.abs().sum() > 0  # the weights are captured with their graph, not detached
    (out.logsumexp(dim=1).mean() + value).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    ses.close()


def test_no_graph_is_kept_once_the_penalty_is_taken():
    """Seed 002's leak: attention maps held with their graph across steps."""
    model = vit()
    ses = ses_for(model)
    ses.begin_step(0)
    out = model(images())
    refs = [weakref.ref(t) for t in ses._capture._acts.values()]  # white-box: the captures themselves
    assert len(refs) == 6
    value, metrics = ses.penalty(0)
    (out.sum() + value).backward()
    del out, value, metrics
    assert all(r() is None for r in refs)


def test_checkpointed_blocks_recompute_on_the_same_path_without_capturing():
    model = vit()
    model.set_grad_checkpointing(True)
    ses = ses_for(model)
    out, value, metrics = step(ses, model, images())
    (out.sum() + value).backward()  # recompute must take the non-fused path again, or checkpoint complains
    assert len(metrics) == 2 + 6 and ses._capture._acts == {}
    ses.close()


def test_unknown_target_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"'mlp'.*valid: block, attn_out, attn_weights"):
        ses_for(vit(), targets=("block", "mlp"))


@pytest.mark.parametrize("targets", [("attn_out",), ("block", "attn_weights")])
def test_attention_targets_on_a_non_vit_name_its_class(targets):
    with pytest.raises(ValueError, match="SmallCNN"):
        ses_for(SmallCNN(10, 3), targets=targets)


def test_attention_targets_need_block_names():
    with pytest.raises(ValueError, match=r"blocks\.0 \.\. blocks\.1.*'blocks\.0\.mlp'"):
        ses_for(vit(), layers="blocks.0.mlp", targets=("attn_out",))


def test_block_target_keeps_explicit_module_names_on_any_model():
    model = vit()
    ses = ses_for(model, layers="blocks.0.mlp", targets=("block",))
    _, _, metrics = step(ses, model, images())
    assert "ses/entropy/blocks.0.mlp" in metrics
    ses.close()
