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


def batch_criterion(x: torch.Tensor, tau: float = PATCH_TAU, groups: Optional[torch.Tensor] = None) -> torch.Tensor:
    """In-batch instance discrimination (Ye et al. 2019) as the reference's BatchCriterion: positives are
    rows i and (i + N/2) mod N; only the anchor side of each similarity carries gradient (`.detach()`
    plays the reference's `.data`). With `groups` (one integer per row), a row's negatives are only the
    rows of its own group (same-image negatives: the same anatomy in another image is not pushed away);
    the reference's behaviour is groups = None (every other row is a negative)."""
    n = x.shape[0]
    if n % 2:
        raise ValueError(f"BatchCriterion needs an even number of rows, got {n}")
    eye = torch.eye(n, dtype=x.dtype, device=x.device)
    pos_mask = torch.cat([eye[n // 2 :], eye[: n // 2]], dim=0)
    keep = 1 - eye
    if groups is not None:
        keep = keep * (groups[:, None] == groups[None, :]).to(x.dtype)
    neg_mask = keep - pos_mask
    sim = x @ x.detach().t()
    e = torch.exp(sim / tau) * keep
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


NEGATIVES = ("batch", "image")


def negative_groups(pairs: int, cells: int, negatives: str, device=None):
    """Row groups of the two BatchCriterion calls, or (None, None) for the paper's in-batch negatives.
    'image': L_PD's rows [img1_1, img2_1, img1_2, img2_2] (B blocks of `cells` rows each) are grouped by
    source image (both views of one image together); L_mix's rows [mix, target] by pair."""
    if negatives == "batch":
        return None, None
    if negatives != "image":
        raise ValueError(f"negatives must be one of {NEGATIVES} (got {negatives})")
    block = torch.arange(4 * pairs, device=device).repeat_interleave(cells)  # view block index per row
    source = torch.where(block // pairs % 2 == 0, block % pairs, pairs + block % pairs)
    pair = torch.arange(pairs, device=device).repeat_interleave(cells).repeat(2)
    return source, pair


def patch_and_mix_losses(z: torch.Tensor, pairs: int, w: torch.Tensor, gather_index: torch.Tensor, centre_sigma: float = 0.0,
                         negatives: str = "batch"):
    b = pairs
    p = patch_embeddings(z, GRID, centre_sigma)  # (5B, g, g, D)
    d = p.shape[3]
    pd_groups, mix_groups = negative_groups(b, p.shape[1] * p.shape[2], negatives, p.device)
    views = p[: 4 * b].reshape(-1, d)
    aligned = views[gather_index.to(views.device)]  # gradient: scatter back, i.e. the inverse permutation
    pd = batch_criterion(aligned, groups=pd_groups)

    wv = w.to(p.device, p.dtype).reshape(b, 1, 1, 1)
    target = l2normalize(p[:b] * wv + p[b : 2 * b] * (1 - wv), dim=-1).detach()
    mixed = p[4 * b : 5 * b]
    mix = batch_criterion(torch.cat([mixed.reshape(-1, d), target.reshape(-1, d)], dim=0), groups=mix_groups)
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


def gaussian_blur(z: torch.Tensor, sigma: float) -> torch.Tensor:
    """Depthwise Gaussian blur (zero padding) of σ px, radius ⌈3σ⌉."""
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    g = torch.exp(-t * t / (2 * sigma * sigma))
    g = (g / g.sum()).to(z.dtype).to(z.device)
    c = z.shape[1]
    z = F.conv2d(z, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, r), groups=c)
    return F.conv2d(z, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(r, 0), groups=c)


def sample_points(z: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of z (N, D, H, W) at points (N, P, 2) in pixel coordinates (x, y; centres at
    i + 0.5) → (N, P, D)."""
    h, w = z.shape[-2:]
    grid = torch.stack([2 * points[..., 0] / w - 1, 2 * points[..., 1] / h - 1], dim=-1).unsqueeze(1).to(z.dtype)
    return F.grid_sample(z, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, :, 0].permute(0, 2, 1)


def warped_patch_losses(z: torch.Tensor, pairs: int, w: torch.Tensor, warps: torch.Tensor, centre_sigma: float,
                        negatives: str = "batch"):
    """L_PD and L_mix when view 2 is a warped copy of view 1: every embedding is the centre-sensitive
    average (Gaussian σ) at a grid-cell centre of view 1, sampled in view 2 where the warp moves it; a
    cell whose image leaves view 2 is dropped from L_PD (both of its rows)."""
    b = pairs
    n, d, h, wd = z.shape
    cells = GRID * GRID
    zb = l2normalize(gaussian_blur(z, centre_sigma), dim=1) if centre_sigma > 0 else z
    cy, cx = torch.meshgrid((torch.arange(GRID, dtype=torch.float64) + 0.5) * h / GRID,
                            (torch.arange(GRID, dtype=torch.float64) + 0.5) * wd / GRID, indexing="ij")
    centres = torch.stack([cx.reshape(-1), cy.reshape(-1)], dim=-1)  # (cells, 2)
    p1 = l2normalize(sample_points(zb, centres.unsqueeze(0).expand(n, -1, -1).to(z.device)), dim=-1)  # (5B, cells, D)
    moved = torch.einsum("vij,pj->vpi", warps, torch.cat([centres, torch.ones(cells, 1, dtype=torch.float64)], 1))  # (2B, cells, 2)
    p2 = l2normalize(sample_points(zb[2 * b : 4 * b], moved.to(z.device)), dim=-1)
    inside = ((moved[..., 0] > 0) & (moved[..., 0] < wd) & (moved[..., 1] > 0) & (moved[..., 1] < h)).reshape(-1).to(z.device)
    view1 = p1[: 2 * b].reshape(-1, d)
    view2 = p2.reshape(-1, d)
    groups, mix_groups = negative_groups(b, cells, negatives, z.device)
    keep = inside.nonzero().squeeze(1)
    x = torch.cat([view1[keep], view2[keep]], dim=0)
    g = None if groups is None else torch.cat([groups[: 2 * b * cells][keep], groups[: 2 * b * cells][keep]])
    pd = batch_criterion(x, groups=g)
    wv = w.to(z.device, z.dtype).reshape(b, 1, 1)
    target = l2normalize(p1[:b] * wv + p1[b : 2 * b] * (1 - wv), dim=-1).detach()
    mix = batch_criterion(torch.cat([p1[4 * b :].reshape(-1, d), target.reshape(-1, d)], dim=0), groups=mix_groups)
    return pd, mix


def ld_losses(z: torch.Tensor, a: Optional[torch.Tensor], pairs: int, w: torch.Tensor, gather_index: torch.Tensor,
              centre_sigma: float = 0.0, negatives: str = "batch", warps: Optional[torch.Tensor] = None) -> LossTerms:
    if warps is not None:
        pd, mix = warped_patch_losses(z, pairs, w, warps, centre_sigma, negatives)
    else:
        pd, mix = patch_and_mix_losses(z, pairs, w, gather_index, centre_sigma, negatives)
    if a is None:
        return LossTerms(pd=pd, mix=mix, total=pd + mix)
    m = 4 * pairs  # the mixup images' clusters are computed (they shape BN statistics) but not scored
    rd = region_discrimination(region_embeddings(a[:m], z[:m]))
    ent = binary_entropy(a[:m])
    total = pd * WEIGHTS["pd"] + mix * WEIGHTS["mix"] + rd * WEIGHTS["rd"] + ent * WEIGHTS["ent"]
    return LossTerms(pd=pd, mix=mix, rd=rd, ent=ent, total=total)
