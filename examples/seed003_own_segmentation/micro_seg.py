"""Seed 003's situation, as a task of one's own: a segmentation model of its own (a micro SegFormer: a conv stem,
one self-attention block over the downsampled tokens, a light decoder) on masks in a folder layout of its own,
through hpstudy's segmentation task (its Dice + CE loss and F-score / IoU / pixel accuracy) and its own data.

The layout: ROOT/<train|test>/<id>.png (RGB image) beside <id>_mask.png (one class index per pixel), which no
built-in reader knows. `--set task.module=micro_seg:MicroSegTask --set data.name=task --set data.root=ROOT`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from trainables.config import DataConfig, ModelConfig, TrainConfig
from trainables.data import DataError
from trainables.data.seg_datasets import RawMasks
from trainables.tasks.segmentation import Segmentation

CLASSES = ("background", "square", "disc")


class MicroSegFormer(nn.Module):
    """(B, C, H, W) -> (B, classes, H, W): stride-4 tokens, one transformer block, a conv decoder, upsampled."""

    def __init__(self, in_chans: int, num_classes: int, width: int = 32, heads: int = 2, drop_rate: float = 0.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_chans, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.GELU(),
                                  nn.Conv2d(width, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.GELU())
        self.block = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=drop_rate, batch_first=True,
                                                norm_first=True)
        self.decode = nn.Sequential(nn.Conv2d(2 * width, width, 3, padding=1), nn.GELU(),
                                    nn.Conv2d(width, num_classes, 1))

    def forward(self, x: Tensor) -> Tensor:
        features = self.stem(x)
        b, c, h, w = features.shape
        tokens = self.block(features.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, c, h, w)
        logits = self.decode(torch.cat([features, tokens], 1))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


class MicroSegTask(Segmentation):
    name = "micro_seg"
    flip_data = True  # squares and discs survive mirroring

    def check(self, cfg: TrainConfig) -> None:
        """Any model.name and input size: the model is this task's own."""

    def build_model(self, cfg: ModelConfig, data, *, grad_checkpointing: bool) -> nn.Module:
        return MicroSegFormer(data.in_chans, data.num_classes, drop_rate=cfg.drop_rate)

    def read_data(self, cfg: DataConfig, split: str) -> RawMasks | None:
        if split == "val":
            return None  # hpstudy holds the validation split out of train (data.val_fraction, data.split_seed)
        folder = Path(cfg.root) / split
        images = sorted(p for p in folder.glob("*.png") if not p.stem.endswith("_mask"))
        if not images:
            raise DataError(f"micro_seg: no images in {folder}; expected <id>.png beside <id>_mask.png "
                            "(python make_data.py ROOT writes a small set)")
        pixels = np.stack([np.asarray(Image.open(p).convert("RGB")).transpose(2, 0, 1) for p in images])
        masks = np.stack([np.asarray(Image.open(p.with_name(f"{p.stem}_mask.png"))) for p in images])
        return RawMasks(pixels.astype(np.uint8), masks.astype(np.uint8), CLASSES)
