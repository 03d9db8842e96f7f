"""Shared by the catalogue tests: a study built as the CLI builds it, its variants, a variant's resolved config and
the tensors SES captures for a config."""

from __future__ import annotations

from functools import cache
from typing import Any

from search_spaces import Variants
from search_spaces.distributions import NAME_KEY
from studies import registry
from studies.assembly.assemble import build_study
from trainables.config import ModelConfig, TrainConfig
from trainables.config.overrides import apply_overrides, flatten
from trainables.defaults import resolve
from trainables.models.by_name import build_model
from trainables.ses import hook_points, hook_specs, select_layers


def built(name: str, profile: str):
    return build_study(registry.load(name), profile, {}, None)


def variants(study) -> dict[str, dict[str, Any]]:
    space = study.space["variant"]
    assert isinstance(space, Variants)
    return {c[NAME_KEY]: {k: v for k, v in c.items() if k != NAME_KEY} for c in space.configs}


def config(study, overrides: dict[str, Any]) -> dict[str, Any]:
    return flatten(resolve(apply_overrides(study.base, overrides)))


@cache
def _model(name: str, in_chans: int, image_size: int):
    return build_model(ModelConfig(name=name, small_input=True), num_classes=10, in_chans=in_chans,
                       image_size=image_size)


def captured(cfg: TrainConfig, in_chans: int, image_size: int) -> list[str]:
    """The tensors SES captures for `cfg`, by label, as build_ses resolves them."""
    model = _model(cfg.model.name, in_chans, image_size)
    layers = select_layers(hook_points(model), cfg.ses.layers, model)
    return [spec.label for spec in hook_specs(model, layers, cfg.ses.targets)]
