"""Checkpoints in the format shared with the tfjs engine (PROTOCOL.md, main/jobs/runDir.ts)."""
from __future__ import annotations

import json
import os
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from . import safetensors_io
from .model import adam_step, state_to_tfjs

FORMAT = "ld-studio/checkpoint@1"
LAYOUT = "conv weights HWIO (TensorFlow); BN running_var unbiased (PyTorch)"


def checkpoint_path(run_dir: str, step: int) -> str:
    return os.path.join(run_dir, "checkpoints", f"step-{step:08d}.safetensors")


def write_checkpoint(run_dir: str, model: torch.nn.Module, optimizer: Optional[torch.optim.Optimizer],
                     step: int, stage: int, reason: str, seed: int, extra: Optional[Dict[str, np.ndarray]] = None) -> str:
    """`extra`: more tensors under their own keys (the shape-guided discriminator and its Adam state)."""
    path = checkpoint_path(run_dir, step)
    tensors = state_to_tfjs(model, optimizer)
    tensors.update(extra or {})
    tensors = dict(sorted(tensors.items()))
    safetensors_io.write(path, tensors, {
        "format": FORMAT,
        "engine": "torch",
        "layout": LAYOUT,
        "step": str(step),
        "stage": str(stage),
        "adam_step": str(adam_step(optimizer)),
        "reason": reason,
        # batches are drawn from (seed, step, rank), so the seed is the whole random state
        "rng": json.dumps({"engine": "torch", "seed": seed}),
    })
    return path


def read_checkpoint(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    tensors, metadata = safetensors_io.read(path)
    fmt = metadata.get("format")
    if fmt is not None and fmt != FORMAT:
        raise ValueError(f"{path}: unknown checkpoint format '{fmt}' (expected {FORMAT})")
    for key in ("step", "stage"):
        if key not in metadata:
            raise ValueError(f"{path}: checkpoint metadata has no '{key}'")
    return tensors, metadata
