"""Prepared images and the LD pre-training batch (ld-method.md §1.2-§1.3) with torchvision's tensor ops
(our own copies in imageops.py, so torchvision is not needed).

Same algorithm as main/engine/data/{augment,batch}.ts, not the same random stream: every parameter is drawn
from a Python `random.Random` seeded from (seed, step, rank) (`batch_rng`), and the pixel work consumes no
randomness, so a batch depends only on those three numbers. That is what makes resume exact and lets each
DDP rank draw its own batch without communication.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import imageops as TF

HFLIP_P = 0.5
VFLIP_P = 0.5
BASE_ROTATION_DEG = 180.0
CROP_SCALE = (0.9, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
CROP_TRIES = 10
VIEW_ROTATION_DEG = 2.0
BRIGHTNESS = CONTRAST = SATURATION = 0.4
HUE = 0.02
GRAYSCALE_P = 0.2
VIEW2_FLIP_P = 0.5
MIXUP = (0.2, 0.8)
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
GREY_MEAN = [0.5]
GREY_STD = [0.5]


@dataclass(frozen=True)
class Augmentation:
    """The geometric settings of T0 and view 2 that a run may change (config key `augment`, mirrored by
    GeometrySettings in main/engine/data/augment.ts). Defaults are the paper's. Flips, the angle and the
    view-2 turn draw whatever their settings (a flip with p = 0 still draws); the crop's retries depend on
    its area range (as torchvision's); the warp draws only when it is on."""
    hflip_p: float = HFLIP_P
    vflip_p: float = VFLIP_P
    rotation_deg: float = BASE_ROTATION_DEG
    crop_scale: Tuple[float, float] = CROP_SCALE
    view2_turns: bool = True
    # view 2 additionally warped by a random similarity (max scale factor, max rotation °, max shift as a
    # fraction of the crop); None = the paper (both views share T0's geometry). Drawn only when set.
    view_warp: Optional[Tuple[float, float, float]] = None

    @staticmethod
    def from_config(c: Optional[dict]) -> "Augmentation":
        c = c or {}
        scale = c.get("cropScale", CROP_SCALE)
        return Augmentation(hflip_p=float(c.get("hflipP", HFLIP_P)), vflip_p=float(c.get("vflipP", VFLIP_P)),
                            rotation_deg=float(c.get("rotationDeg", BASE_ROTATION_DEG)),
                            crop_scale=(float(scale[0]), float(scale[1])), view2_turns=bool(c.get("view2Turns", True)),
                            view_warp=tuple(float(v) for v in c["viewWarp"]) if c.get("viewWarp") else None)


PAPER_AUGMENTATION = Augmentation()


def batch_rng(seed: int, step: int, rank: int = 0) -> random.Random:
    """The generator for one batch. A string seed is hashed with SHA-512 by `random` (stable across runs
    and Python versions, independent of PYTHONHASHSEED), so nearby (seed, step, rank) give unrelated streams."""
    return random.Random(f"ld-torch/{int(seed)}/{int(step)}/{int(rank)}")


class PreparedImages:
    """The images file written by Node (PROTOCOL.md): raw little-endian float32, each image HWC at its
    `offset` (in floats). Memory-mapped, so a large corpus is not read into RAM up front."""

    def __init__(self, spec: dict, channels: int):
        self.index = list(spec["index"])
        if not self.index:
            raise ValueError("no training images")
        self._data = np.memmap(spec["file"], dtype="<f4", mode="r")
        for entry in self.index:
            size, c, off = int(entry["size"]), int(entry["channels"]), int(entry["offset"])
            if c != channels:
                raise ValueError(f"image {entry.get('id')} has {c} channels, the run uses {channels}")
            if off < 0 or off + size * size * c > self._data.shape[0]:
                raise ValueError(f"image {entry.get('id')} lies outside {spec['file']} (offset {off}, size {size})")
        self.channels = channels

    def __len__(self) -> int:
        return len(self.index)

    def get(self, i: int) -> torch.Tensor:
        """Image i as a CHW float32 tensor in [0, 1]."""
        e = self.index[i]
        size, c, off = int(e["size"]), int(e["channels"]), int(e["offset"])
        hwc = np.array(self._data[off : off + size * size * c], dtype=np.float32).reshape(size, size, c)
        return torch.from_numpy(hwc).permute(2, 0, 1).contiguous()


# ----------------------------------------------------------------------------------------------------
# Parameter draws (each a fixed sequence of draws from `rng`)
# ----------------------------------------------------------------------------------------------------

def crop_params(rng: random.Random, height: int, width: int, scale: Tuple[float, float] = CROP_SCALE):
    """torchvision RandomResizedCrop.get_params, drawing from `rng` instead of torch's global RNG
    (round() is Python's half-to-even, as there)."""
    area = height * width
    log_lo, log_hi = math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])
    for _ in range(CROP_TRIES):
        target_area = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = rng.randint(0, height - h)
            left = rng.randint(0, width - w)
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(CROP_RATIO):
        w = width
        h = int(round(w / min(CROP_RATIO)))
    elif in_ratio > max(CROP_RATIO):
        h = height
        w = int(round(h * max(CROP_RATIO)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


@dataclass
class T0:
    hflip: bool
    vflip: bool
    angle: float
    crop: tuple


def draw_t0(rng: random.Random, size: int, aug: Augmentation = PAPER_AUGMENTATION) -> T0:
    hflip = rng.random() < aug.hflip_p
    vflip = rng.random() < aug.vflip_p
    angle = rng.uniform(-aug.rotation_deg, aug.rotation_deg)
    return T0(hflip, vflip, angle, crop_params(rng, size, size, aug.crop_scale))


@dataclass
class T1:
    angle: float
    order: List[int]
    brightness: float
    contrast: float
    saturation: float
    hue: float
    grayscale: bool


def draw_t1(rng: random.Random) -> T1:
    """RandomRotation(2) → ColorJitter(.4, .4, .4, .02) with a random op order → RandomGrayscale(.2).
    Same draws on grey and RGB images (hue/saturation are identities on one channel)."""
    angle = rng.uniform(-VIEW_ROTATION_DEG, VIEW_ROTATION_DEG)
    order = [0, 1, 2, 3]
    rng.shuffle(order)
    brightness = rng.uniform(1 - BRIGHTNESS, 1 + BRIGHTNESS)
    contrast = rng.uniform(1 - CONTRAST, 1 + CONTRAST)
    saturation = rng.uniform(1 - SATURATION, 1 + SATURATION)
    hue = rng.uniform(-HUE, HUE)
    grayscale = rng.random() < GRAYSCALE_P
    return T1(angle, order, brightness, contrast, saturation, hue, grayscale)


# ----------------------------------------------------------------------------------------------------
# Pixel work (deterministic)
# ----------------------------------------------------------------------------------------------------

def apply_t0(img: torch.Tensor, p: T0, crop_size: int) -> torch.Tensor:
    """hflip → vflip → rotate (nearest, same canvas, black) → crop → bilinear resize with Pillow-style
    antialiasing (torchvision's tensor resize with antialias=True, what the reference's PIL path does)."""
    if p.hflip:
        img = TF.hflip(img)
    if p.vflip:
        img = TF.vflip(img)
    img = TF.rotate_nearest(img, p.angle, fill=[0.0] * img.shape[0])
    top, left, h, w = p.crop
    return TF.resized_crop(img, top, left, h, w, [crop_size, crop_size], antialias=True)


_JITTER = (
    lambda img, p: TF.adjust_brightness(img, p.brightness),
    lambda img, p: TF.adjust_contrast(img, p.contrast),
    lambda img, p: TF.adjust_saturation(img, p.saturation),  # identity on 1 channel
    lambda img, p: TF.adjust_hue(img, p.hue),  # identity on 1 channel
)


def apply_t1(img: torch.Tensor, p: T1) -> torch.Tensor:
    img = TF.rotate_nearest(img, p.angle, fill=[0.0] * img.shape[0])
    for op in p.order:
        img = _JITTER[op](img, p)
    if p.grayscale and img.shape[0] == 3:
        img = TF.rgb_to_grayscale(img, num_output_channels=3)
    return img


def apply_view2(img: torch.Tensor, f: int, k: int) -> torch.Tensor:
    """Flip H and W if f (a 180° turn), then torch.rot90 k times in the (H, W) plane: one rot90 by k + 2f."""
    return torch.rot90(img, (k + 2 * f) % 4, dims=(-2, -1))


def normalise(x: torch.Tensor, channels: int) -> torch.Tensor:
    mean, std = (GREY_MEAN, GREY_STD) if channels == 1 else (IMAGENET_MEAN, IMAGENET_STD)
    return TF.normalize(x, mean, std)


def draw_warp(rng: random.Random, spec: Tuple[float, float, float]) -> Tuple[float, float, float, float]:
    """(log-uniform scale, angle °, shift x, shift y as fractions of the crop) of a view-2 warp."""
    smax, rot, shift = spec
    scale = math.exp(rng.uniform(-math.log(smax), math.log(smax)))
    return scale, rng.uniform(-rot, rot), rng.uniform(-shift, shift), rng.uniform(-shift, shift)


def warp_matrix(warp, size: int) -> torch.Tensor:
    """2×3 map of view-1 pixel coordinates (x, y; pixel centres at i + 0.5) to view-2 coordinates:
    q = s·R(θ)·(p − c) + c + t, about the crop centre c."""
    s, angle, tx, ty = warp
    a = math.radians(angle)
    c = size / 2
    r = [[s * math.cos(a), -s * math.sin(a)], [s * math.sin(a), s * math.cos(a)]]
    return torch.tensor([[r[0][0], r[0][1], c + tx * size - (r[0][0] * c + r[0][1] * c)],
                         [r[1][0], r[1][1], c + ty * size - (r[1][0] * c + r[1][1] * c)]], dtype=torch.float64)


def apply_warp(img: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """View 2 = view 1 moved by m (warp_matrix): bilinear, black outside."""
    size = img.shape[-1]
    full = torch.eye(3, dtype=torch.float64)
    full[:2] = m
    inv = torch.linalg.inv(full)[:2]
    # grid_sample's normalised coordinates (align_corners=False): u = 2x/size − 1
    to_n = torch.tensor([[2 / size, 0, -1], [0, 2 / size, -1], [0, 0, 1]], dtype=torch.float64)
    from_n = torch.linalg.inv(to_n)
    theta = (to_n @ torch.cat([inv, torch.tensor([[0, 0, 1]], dtype=torch.float64)]) @ from_n)[:2]
    grid = F.affine_grid(theta.float().unsqueeze(0).to(img.device), [1, img.shape[0], size, size], align_corners=False)
    return F.grid_sample(img.unsqueeze(0), grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]


@dataclass
class Batch:
    x: torch.Tensor  # (5B, C, S, S)
    w: torch.Tensor  # (B,) float32
    f: List[int]  # (2B,) for rows 2B..4B−1
    k: List[int]
    warps: Optional[torch.Tensor] = None  # (2B, 2, 3) view-1 → view-2 maps of rows 2B..4B−1, with view_warp


def make_batch(images: "PreparedImages | Sequence[torch.Tensor]", rng: random.Random, pairs: int, crop_size: int,
               channels: int, normalize: bool = True, aug: Augmentation = PAPER_AUGMENTATION,
               device: Optional[torch.device] = None) -> Batch:
    """Rows: [img1_1 (B), img2_1 (B), img1_2 (B), img2_2 (B), mix (B)]; f/k describe rows 2B..4B−1 in order.
    Draw order per pair: source index of image 1, of image 2; per image T0, T1 (view 1), T1 (view 2),
    view-2 (f, k), and with a view warp its 4 draws; then the mixup weight. Without view-2 turns (f, k)
    are drawn and then set to 0.
    `device`: where the pixel work runs (the training device: on a GPU the augmentation then costs a few
    kernel launches instead of CPU time per image). The draws stay on the CPU, so a batch — and resume —
    depends only on (seed, step, rank) on a given device."""
    get = images.get if hasattr(images, "get") else (lambda i: images[i])
    n_images = len(images)
    b = pairs
    rows: List[torch.Tensor] = [None] * (5 * b)  # type: ignore[list-item]
    w = torch.zeros(b, dtype=torch.float32)
    f = [0] * (2 * b)
    k = [0] * (2 * b)
    warps = torch.zeros(2 * b, 2, 3, dtype=torch.float64) if aug.view_warp else None
    for p in range(b):
        sources = (rng.randrange(n_images), rng.randrange(n_images))
        for m, src in enumerate(sources):
            img = get(src) if device is None else get(src).to(device, non_blocking=True)
            t0 = draw_t0(rng, img.shape[-1], aug)
            t1a, t1b = draw_t1(rng), draw_t1(rng)
            fm = 1 if rng.random() < VIEW2_FLIP_P else 0
            km = rng.randrange(4)
            if not aug.view2_turns:
                fm = km = 0
            base = apply_t0(img, t0, crop_size)
            rows[m * b + p] = apply_t1(base, t1a)
            if warps is not None:
                wm = warp_matrix(draw_warp(rng, aug.view_warp), crop_size)
                warps[m * b + p] = wm
                rows[(2 + m) * b + p] = apply_t1(apply_warp(base, wm), t1b)
            else:
                rows[(2 + m) * b + p] = apply_view2(apply_t1(base, t1b), fm, km)
            f[m * b + p], k[m * b + p] = fm, km
        wp = float(np.float32(rng.uniform(*MIXUP)))  # float32 so the image mix and the stored weight agree
        w[p] = wp
        rows[4 * b + p] = wp * rows[p] + (1 - wp) * rows[b + p]
    x = torch.stack(rows).contiguous()
    if normalize:
        x = normalise(x, channels)
    return Batch(x=x, w=w, f=f, k=k, warps=warps)
