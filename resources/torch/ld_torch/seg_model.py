"""The segmentation-head network (`finetune-seg`): LDNet plus a 1×1 head, and loading it from a
checkpoint — apart from training (finetune_seg.py) and export (export.py), which both use it."""
from __future__ import annotations

import torch
import torch.nn as nn

from .checkpoint import read_checkpoint
from .model import LDNet, checkpoint_model_shape, load_tfjs


class SegNet(LDNet):
    """LDNet (no clustering branch) + `seg_head`, a 1×1 conv from emb_1's 32 features to one logit.
    `emb_2` is kept (unused here) so the checkpoint stays a complete LD checkpoint."""

    def __init__(self, in_channels: int = 1, embed_dim: int = 32):
        super().__init__(in_channels, embed_dim, 0)
        self.seg_head = nn.Conv2d(32, 1, kernel_size=1, bias=True)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.seg_head(self.emb_1(self.features(x)))

    def forward(self, x: torch.Tensor):  # type: ignore[override]
        return self.logits(x)


def load_seg_checkpoint(path: str) -> SegNet:
    tensors, _ = read_checkpoint(path)
    if "seg_head.weight" not in tensors:
        raise ValueError(f"{path}: not a segmentation-head checkpoint (no seg_head)")
    channels, embed_dim, _ = checkpoint_model_shape(tensors)
    model = SegNet(channels, embed_dim)
    load_tfjs(model, None, tensors)
    return model.eval()
