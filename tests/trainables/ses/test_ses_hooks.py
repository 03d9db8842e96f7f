"""Hook points, layer selection, in-hook pooling, and when activations are (not) captured."""

import weakref

import pytest
import timm
import torch
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from trainables.ses.hooks import ActivationCapture, hook_points, pool_attention, select_layers
from trainables.ses.targets import HookSpec

RESNET18_POINTS = [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)] + ["global_pool"]


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return timm.create_model("resnet18", num_classes=10, pretrained=False)


def tiny_vit():
    return VisionTransformer(img_size=16, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=10)


class WithHookPoints(nn.Module):
    """A custom model that declares its own SES layers."""

    hook_points = ["inner"]

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(4, 6)

    def forward(self, x):
        return self.inner(x)


class ReturnsTuple(nn.Module):
    """Output is a tuple, like attention layers that also return weights."""

    def forward(self, x):
        return x * 2, "extra"


def test_resnet18_has_nine_hook_points_in_forward_order(resnet):
    assert hook_points(resnet) == RESNET18_POINTS


def test_vit_hooks_its_blocks():
    assert hook_points(tiny_vit()) == ["blocks.0", "blocks.1"]


def test_model_attribute_wins_and_is_validated():
    assert hook_points(WithHookPoints()) == ["inner"]
    model = WithHookPoints()
    model.hook_points = ["nope"]
    with pytest.raises(ValueError, match="nope"):
        hook_points(model)


def test_unknown_model_asks_for_names():
    with pytest.raises(ValueError, match=r"Sequential.*pass module names"):
        hook_points(nn.Sequential(nn.Linear(2, 2)))


def test_select_layers(resnet):
    assert select_layers(RESNET18_POINTS, "all", resnet) == RESNET18_POINTS
    assert select_layers(RESNET18_POINTS, "first:3", resnet) == ["layer1.0", "layer1.1", "layer2.0"]
    assert select_layers(RESNET18_POINTS, "last:3", resnet) == ["layer4.0", "layer4.1", "global_pool"]
    assert select_layers(RESNET18_POINTS, "layer3.1, fc,layer3.1", resnet) == ["layer3.1", "fc"]


@pytest.mark.parametrize("spec", ["first:0", "last:10", "first:x", "middle:2", "", " , "])
def test_bad_layer_spec_names_the_value(resnet, spec):
    with pytest.raises(ValueError, match="ses.layers="):
        select_layers(RESNET18_POINTS, spec, resnet)


def test_unknown_layer_names_list_valid_ones(resnet):
    with pytest.raises(ValueError, match=r"\['layer9.0'\].*conv1"):
        select_layers(RESNET18_POINTS, "layer1.0,layer9.0", resnet)


def test_pooled_shapes_for_conv_and_token_outputs(resnet):
    cap = ActivationCapture(resnet, ["layer1.0", "layer4.1", "global_pool"])
    cap.arm(True)
    resnet.train()
    resnet(torch.randn(2, 3, 16, 16))
    shapes = {name: tuple(a.shape) for name, a in cap.pop().items()}
    cap.close()
    assert shapes == {"layer1.0": (2, 64), "layer4.1": (2, 512), "global_pool": (2, 512)}

    vit = tiny_vit().train()
    cap = ActivationCapture(vit, ["blocks.0"])
    cap.arm(True)
    vit(torch.randn(3, 3, 16, 16))
    acts = cap.pop()
    cap.close()
    assert tuple(acts["blocks.0"].shape) == (3, 32)  # (B, T, D) mean over tokens
    assert acts["blocks.0"].requires_grad  # graph kept for the penalty


def test_tuple_output_uses_first_element():
    model = nn.Sequential(ReturnsTuple())
    cap = ActivationCapture(model, ["0"])
    cap.arm(True)
    x = torch.randn(5, 3, requires_grad=True)
    model[0](x)
    torch.testing.assert_close(cap.pop()["0"], x * 2)
    cap.close()


def test_nothing_captured_in_eval_unarmed_or_no_grad(resnet):
    cap = ActivationCapture(resnet, RESNET18_POINTS)
    x = torch.randn(2, 3, 16, 16)
    cap.arm(True)
    resnet.eval()
    resnet(x)
    assert cap.pop() == {}
    resnet.train()
    cap.arm(True)
    with torch.no_grad():
        resnet(x)
    assert cap.pop() == {}
    cap.arm(False)
    resnet(x)
    assert cap.pop() == {}
    cap.arm(True)
    resnet(x)
    assert list(cap.pop()) == RESNET18_POINTS
    assert cap.pop() == {}  # pop clears
    cap.close()


def test_capture_is_taken_once_per_arming():
    """After pop, a forward in the same step (e.g. checkpoint recompute in backward) keeps no graph."""
    model = nn.Sequential(nn.Linear(4, 4))
    cap = ActivationCapture(model, ["0"])
    x = torch.randn(3, 4)
    cap.arm(True)
    model(x)
    assert list(cap.pop()) == ["0"]
    model(x)
    assert cap.pop() == {}
    cap.arm(True)
    model(x)
    assert list(cap.pop()) == ["0"]
    cap.close()


def test_arming_drops_captures_nobody_popped():
    model = nn.Sequential(nn.Linear(4, 4))
    cap = ActivationCapture(model, ["0"])
    cap.arm(True)
    model(torch.randn(3, 4))
    stale = weakref.ref(cap._acts["0"])  # white-box: what a failed step left behind
    cap.arm(True)
    assert stale() is None
    cap.close()


def test_pool_attention_keeps_rows_on_the_simplex():
    weights = torch.randn(5, 3, 7, 7).softmax(dim=-1)
    pooled = pool_attention(weights)
    assert pooled.shape == (5, 7)
    torch.testing.assert_close(pooled.sum(dim=1), torch.ones(5))
    with pytest.raises(ValueError, match=r"\(B, heads, T, T\)"):
        pool_attention(torch.randn(5, 7, 7))


def test_spec_label_names_the_capture_and_bad_kinds_are_rejected():
    model = nn.Sequential(nn.Linear(4, 4))
    cap = ActivationCapture(model, [HookSpec("first/linear", "0")])
    cap.arm(True)
    model(torch.randn(3, 4))
    assert list(cap.pop()) == ["first/linear"]
    cap.close()
    with pytest.raises(ValueError, match="'grads'.*output, attn_weights"):
        ActivationCapture(model, [HookSpec("x", "0", kind="grads")])


def test_close_removes_every_hook(resnet):
    modules = dict(resnet.named_modules())
    cap = ActivationCapture(resnet, RESNET18_POINTS)
    assert all(len(modules[n]._forward_hooks) == 1 for n in RESNET18_POINTS)
    cap.close()
    assert all(len(modules[n]._forward_hooks) == 0 for n in RESNET18_POINTS)
