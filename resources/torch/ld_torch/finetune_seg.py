"""The `finetune-seg` command (PROTOCOL.md): few-shot segmentation from a handful of corrected masks.

A 1×1 conv head (`seg_head`) on the LD network's `emb_1` features (the decoder's last features, before the
embedding projection) gives one logit per pixel; the whole network is trained with BCE + soft Dice on
(image, mask) pairs at one fixed network size, with light shift/scale/gamma augmentation. The network starts
from an LD checkpoint (`config.init`) or from random init (`init: null`, the from-scratch control).

Batches and augmentation are drawn from (seed, step), so a checkpoint holds the whole training state and a
resumed run continues exactly. When the run completes and the request names `onnx`, the fine-tuned network
is exported (input `image` [1,1,H,W] → output `probability` [1,1,H,W], sigmoid).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import events
from .checkpoint import read_checkpoint, write_checkpoint
from .model import checkpoint_model_shape, load_tfjs, to_tfjs_array
from .seg_model import SegNet
from .train import ADAM_BETAS, ADAM_EPS, derived_seed, setup_device

STAGE = "seg"  # checkpoint metadata `stage` of a segmentation-head run


@dataclass
class SegConfig:
    height: int
    width: int
    steps: int
    batch: int = 4
    lr: float = 1e-3
    seed: int = 0
    init: Optional[str] = None
    checkpoint_every: int = 100


def parse_config(c: dict) -> SegConfig:
    cfg = SegConfig(height=int(c["height"]), width=int(c["width"]), steps=int(c["steps"]), batch=int(c.get("batch", 4)),
                    lr=float(c.get("lr", 1e-3)), seed=int(c.get("seed", 0)), init=c.get("init"),
                    checkpoint_every=int(c.get("checkpointEvery", 100)))
    if cfg.height % 16 or cfg.width % 16 or cfg.height <= 0 or cfg.width <= 0:
        raise ValueError(f"height and width must be positive multiples of 16 (got {cfg.height}×{cfg.width})")
    if cfg.steps < 1 or cfg.batch < 1 or cfg.checkpoint_every < 1:
        raise ValueError("steps, batch and checkpointEvery must be ≥ 1")
    return cfg


def load_pairs(data: dict, height: int, width: int):
    """The prepared pairs Node writes: `images` raw little-endian float32 (H×W, [0, 1]) and `masks` raw uint8
    (H×W, 0/1), both row-major at the network size; each index entry's `offset` is in pixels (floats for the
    images file, bytes for the masks file)."""
    n = height * width
    images = np.fromfile(data["images"], dtype="<f4")
    masks = np.fromfile(data["masks"], dtype=np.uint8)
    xs, ys = [], []
    for entry in data["index"]:
        o = int(entry["offset"])
        if o + n > images.size or o + n > masks.size:
            raise ValueError(f"pair '{entry.get('id')}' lies outside the prepared files (offset {o}, {height}×{width})")
        xs.append(images[o:o + n].reshape(height, width))
        ys.append((masks[o:o + n] > 0).astype(np.float32).reshape(height, width))
    if not xs:
        raise ValueError("the request has no (image, mask) pairs")
    x = torch.from_numpy(np.stack(xs).astype(np.float32))[:, None]
    y = torch.from_numpy(np.stack(ys))[:, None]
    return x, y


def augment(x: torch.Tensor, y: torch.Tensor, g: torch.Generator):
    """Shift ±6 %, scale ±10 %, intensity gamma exp(±0.3) (the probe's recipe)."""
    b = x.shape[0]
    u = torch.rand(b, 4, generator=g) * 2 - 1
    a = torch.zeros(b, 2, 3)
    sc = 1 + u[:, 0] * 0.1
    a[:, 0, 0] = sc
    a[:, 1, 1] = sc
    a[:, 0, 2] = u[:, 1] * 0.06
    a[:, 1, 2] = u[:, 2] * 0.06
    grid = F.affine_grid(a, list(x.shape), align_corners=False)
    gamma = torch.exp(u[:, 3] * 0.3).view(b, 1, 1, 1)
    xa = F.grid_sample(x, grid, padding_mode="border", align_corners=False).clamp(0, 1) ** gamma
    ya = (F.grid_sample(y, grid, padding_mode="zeros", align_corners=False) > 0.5).float()
    return xa, ya


def normalise(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] → the network's input range, as the LD training and the ONNX models take it (grey: (x − 0.5)/0.5)."""
    return (x - 0.5) / 0.5


def seg_losses(logit: torch.Tensor, y: torch.Tensor) -> Dict[str, torch.Tensor]:
    p = torch.sigmoid(logit)
    bce = F.binary_cross_entropy_with_logits(logit, y)
    dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
    return {"bce": bce, "dice": dice, "loss": bce + dice}


def build_model(cfg: SegConfig, resume_from: Optional[str], device: torch.device):
    """(model, optimizer, start step)."""
    if resume_from:
        tensors, meta = read_checkpoint(resume_from)
        if meta.get("stage") != STAGE or "seg_head.weight" not in tensors:
            raise ValueError(f"{resume_from}: not a segmentation-head checkpoint (no seg_head)")
        channels, embed_dim, _ = checkpoint_model_shape(tensors)
        model = SegNet(channels, embed_dim).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=ADAM_BETAS, eps=ADAM_EPS)
        load_tfjs(model, optimizer, tensors, int(meta.get("adam_step", "0")))
        return model, optimizer, int(meta["step"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derived_seed(cfg.seed, "seg-model"))
        if cfg.init:
            tensors, _ = read_checkpoint(cfg.init)
            channels, embed_dim, _ = checkpoint_model_shape(tensors)
            model = SegNet(channels, embed_dim)
            if "seg_head.weight" not in tensors:  # an LD checkpoint: the head keeps its fresh init
                tensors = dict(tensors)
                tensors["seg_head.weight"] = to_tfjs_array(model.seg_head.weight)
                tensors["seg_head.bias"] = to_tfjs_array(model.seg_head.bias)
            load_tfjs(model, None, tensors)
        else:
            model = SegNet(1, 32)
    model = model.to(device)
    if model.in_channels != 1:
        raise ValueError(f"the network takes {model.in_channels} channels; segmentation heads are trained on grey images (1)")
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=ADAM_BETAS, eps=ADAM_EPS)
    return model, optimizer, 0


def train_step(model: SegNet, optimizer, x_all: torch.Tensor, y_all: torch.Tensor, cfg: SegConfig, step: int,
               device: torch.device) -> Dict[str, float]:
    g = torch.Generator().manual_seed(derived_seed(cfg.seed, "seg-batch", step) & 0xFFFFFFFF)
    idx = torch.randint(0, x_all.shape[0], (cfg.batch,), generator=g)
    x, y = augment(x_all[idx], y_all[idx], g)
    x, y = normalise(x).to(device), y.to(device)
    model.train()
    optimizer.zero_grad(set_to_none=True)
    terms = seg_losses(model.logits(x), y)
    terms["loss"].backward()
    optimizer.step()
    return {k: float(v.detach().cpu()) for k, v in terms.items()}


def run_finetune_seg(request: dict) -> int:
    cfg = parse_config(request["config"])
    run_dir = request["runDir"]
    device, _ = setup_device(request.get("device", "cpu"))
    watcher = events.CancelWatcher(read_stdin=True)
    x_all, y_all = load_pairs(request["data"], cfg.height, cfg.width)
    model, optimizer, step = build_model(cfg, request.get("resumeFrom"), device)
    events.emit({"type": "ready", "images": int(x_all.shape[0]), "startStep": step, "device": str(device), "worldSize": 1})

    def checkpoint(reason: str) -> str:
        path = write_checkpoint(run_dir, model, optimizer, step, STAGE, reason, cfg.seed)  # type: ignore[arg-type]
        events.emit({"type": "checkpoint", "step": step, "path": path, "reason": reason})
        return path

    status = "completed"
    last_checkpoint = step
    path: Optional[str] = None
    while step < cfg.steps:
        if watcher.requested:
            status = "cancelled"
            if last_checkpoint != step:
                path = checkpoint("cancel")
            break
        t0 = time.perf_counter()
        losses = train_step(model, optimizer, x_all, y_all, cfg, step + 1, device)
        step += 1
        events.emit({"type": "step", "step": step, "stage": STAGE, "lr": cfg.lr, "seconds": time.perf_counter() - t0,
                     "losses": losses})
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            path = checkpoint("final" if step == cfg.steps else "interval")
            last_checkpoint = step
    if status == "completed" and request.get("onnx"):
        from .export import export_seg_onnx

        final = path or request.get("resumeFrom")
        if final is None:  # resumed at the last step: nothing new was written
            final = checkpoint("final")
        export_seg_onnx(final, request["onnx"])
        events.emit({"type": "export", "path": request["onnx"], "checkpoint": final})
    events.emit({"type": "done", "status": status, "completedSteps": step})
    return 0


def predict(model: SegNet, x: torch.Tensor) -> torch.Tensor:
    """Probabilities [N,1,H,W] in eval mode (running BN statistics); `x` already normalised."""
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model.logits(x))


def dice(p: np.ndarray, t: np.ndarray) -> float:
    s = float(p.sum() + t.sum())
    return 1.0 if s == 0 else 2.0 * float((p * t).sum()) / s
