"""The LD objectives (ld-method.md §3-§4), mirroring main/engine/losses.ts op for op so both engines give
the same values to float precision. Inputs are the network outputs (NCHW) for the batch
X = [img1_1 (B), img2_1 (B), img1_2 (B), img2_2 (B), mix (B)].
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .model import l2normalize

PATCH_TAU = 0.1
REGION_TAU = 0.2
GRID = 8
WEIGHTS = {"pd": 1.0, "mix": 1.0, "rd": 10.0, "ent": 0.1}


def centre_weights(cell_h: int, cell_w: int, sigma: float) -> torch.Tensor:
    """W_c of ld-method.md §6.1: a Gaussian of σ px on a cell_h×cell_w window's centre, summing to 1
    (float64 then float32, as centreWeights in main/engine/losses.ts)."""
    i = torch.arange(cell_h, dtype=torch.float64) - (cell_h - 1) / 2
    j = torch.arange(cell_w, dtype=torch.float64) - (cell_w - 1) / 2
    g = torch.exp(-(i[:, None] ** 2 + j[None, :] ** 2) / (2 * sigma * sigma))
    return (g / g.sum()).float()


def patch_embeddings(z: torch.Tensor, grid: int = GRID, centre_sigma: float = 0.0) -> torch.Tensor:
    """L2norm of the mean of z over each cell of a grid×grid grid → (N, grid, grid, D) (NHWC, so that
    flattening gives the reference's row order n·64 + h·8 + w). With centre_sigma > 0 the mean is
    Gaussian-weighted around each cell's centre (centre-sensitive averaging, §6.1)."""
    _, _, h, w = z.shape
    if h % grid or w % grid:
        raise ValueError(f"embedding map {h}×{w} is not divisible into a {grid}×{grid} grid")
    ch, cw = h // grid, w // grid
    if centre_sigma > 0:
        weights = centre_weights(ch, cw, centre_sigma).to(z.device, z.dtype).repeat(grid, grid) * (ch * cw)
        z = z * weights
    pooled = F.avg_pool2d(z, kernel_size=(ch, cw), stride=(ch, cw))
    return l2normalize(pooled.permute(0, 2, 3, 1), dim=-1)


def batch_criterion(x: torch.Tensor, tau: float = PATCH_TAU) -> torch.Tensor:
    """In-batch instance discrimination (Ye et al. 2019) as the reference's BatchCriterion: positives are
    rows i and (i + N/2) mod N; only the anchor side of each similarity carries gradient (`.detach()`
    plays the reference's `.data`)."""
    n = x.shape[0]
    if n % 2:
        raise ValueError(f"BatchCriterion needs an even number of rows, got {n}")
    eye = torch.eye(n, dtype=x.dtype, device=x.device)
    pos_mask = torch.cat([eye[n // 2 :], eye[: n // 2]], dim=0)
    neg_mask = 1 - eye - pos_mask
    sim = x @ x.detach().t()
    e = torch.exp(sim / tau) * (1 - eye)
    q = e / (torch.sum(e, dim=1, keepdim=True) + 1e-10)
    log_pos = torch.log(torch.sum(q * pos_mask, dim=1))
    log_not_neg = torch.sum(torch.log(torch.clamp(1 - q, min=1e-12)) * neg_mask, dim=1)
    return -(torch.sum(log_pos) + torch.sum(log_not_neg)) / n


def align_grid_index(f: int, k: int, g: int = GRID) -> np.ndarray:
    """Copy of alignGridIndex (main/engine/data/augment.ts): view 2 is torch.rot90(view, q, dims=(H, W))
    with q = (k + 2f) mod 4; undoing it is rot90 by r = (4 − q) mod 4, written as a gather:
    aligned[i·g + j] = view2Grid[src[i·g + j]]."""
    q = ((k + 2 * f) % 4 + 4) % 4
    r = (4 - q) % 4
    src = np.empty(g * g, dtype=np.int64)
    for i in range(g):
        for j in range(g):
            if r == 0:
                s = i * g + j
            elif r == 1:
                s = j * g + (g - 1 - i)
            elif r == 2:
                s = (g - 1 - i) * g + (g - 1 - j)
            else:
                s = (g - 1 - j) * g + i
            src[i * g + j] = s
    return src


def alignment_gather_index(pairs: int, f: Sequence[int], k: Sequence[int], grid: int = GRID) -> torch.Tensor:
    """Row gather index over the first 4B flattened grids that puts each view-2 grid into view-1 orientation."""
    cells = grid * grid
    index = np.arange(4 * pairs * cells, dtype=np.int64)
    for v in range(2 * pairs):
        base = (2 * pairs + v) * cells
        index[base : base + cells] = base + align_grid_index(int(f[v]), int(k[v]), grid)
    return torch.from_numpy(index)


@dataclass
class LossTerms:
    pd: torch.Tensor
    mix: torch.Tensor
    total: torch.Tensor
    rd: Optional[torch.Tensor] = None
    ent: Optional[torch.Tensor] = None

    def values(self) -> dict:
        out = {"pd": self.pd, "mix": self.mix, "rd": self.rd, "ent": self.ent, "loss": self.total}
        return {key: float(v.detach()) for key, v in out.items() if v is not None}


def patch_and_mix_losses(z: torch.Tensor, pairs: int, w: torch.Tensor, gather_index: torch.Tensor, centre_sigma: float = 0.0):
    b = pairs
    p = patch_embeddings(z, GRID, centre_sigma)  # (5B, g, g, D)
    d = p.shape[3]
    views = p[: 4 * b].reshape(-1, d)
    aligned = views[gather_index.to(views.device)]  # gradient: scatter back, i.e. the inverse permutation
    pd = batch_criterion(aligned)

    wv = w.to(p.device, p.dtype).reshape(b, 1, 1, 1)
    target = l2normalize(p[:b] * wv + p[b : 2 * b] * (1 - wv), dim=-1).detach()
    mixed = p[4 * b : 5 * b]
    mix = batch_criterion(torch.cat([mixed.reshape(-1, d), target.reshape(-1, d)], dim=0))
    return pd, mix


def region_embeddings(a: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """r (M, K, D) = L2norm(a·zᵀ / HW) as a batched matmul (never the reference's 5-D broadcast)."""
    m, k, h, w = a.shape
    d = z.shape[1]
    r = torch.bmm(a.reshape(m, k, h * w), z.reshape(m, d, h * w).transpose(1, 2)) / (h * w)
    return l2normalize(r, dim=-1)


def region_discrimination(r: torch.Tensor, tau: float = REGION_TAU) -> torch.Tensor:
    """K-way softmax cross-entropy of each image's region k against the batch centres (not detached)."""
    m, k, d = r.shape
    centres = l2normalize(torch.mean(r, dim=0), dim=-1)
    logits = (r.reshape(m * k, d) @ centres.t()) / tau
    labels = torch.eye(k, dtype=r.dtype, device=r.device).repeat(m, 1)
    return -torch.mean(torch.sum(F.log_softmax(logits, dim=1) * labels, dim=1))


def binary_entropy(a: torch.Tensor, eps: float = 1e-30) -> torch.Tensor:
    """Mean binary entropy of every element of a, in bits."""
    h = a * torch.log(a + eps) + (1 - a) * torch.log(1 - a + eps)
    return -torch.mean(h) / math.log(2)


def ld_losses(z: torch.Tensor, a: Optional[torch.Tensor], pairs: int, w: torch.Tensor, gather_index: torch.Tensor,
              centre_sigma: float = 0.0) -> LossTerms:
    pd, mix = patch_and_mix_losses(z, pairs, w, gather_index, centre_sigma)
    if a is None:
        return LossTerms(pd=pd, mix=mix, total=pd + mix)
    m = 4 * pairs  # the mixup images' clusters are computed (they shape BN statistics) but not scored
    rd = region_discrimination(region_embeddings(a[:m], z[:m]))
    ent = binary_entropy(a[:m])
    total = pd * WEIGHTS["pd"] + mix * WEIGHTS["mix"] + rd * WEIGHTS["rd"] + ent * WEIGHTS["ent"]
    return LossTerms(pd=pd, mix=mix, rd=rd, ent=ent, total=total)
