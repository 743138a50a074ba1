"""Shape-guided segmentation (ld-method.md §5): the discriminator, the prior masks and their augmentation,
and the GAN losses. Mirrors main/engine/shapeGuided/{discriminator,priors}.ts; parameter names and the
checkpoint layout are shared (`disc_1` … `disc_9`, HWIO in checkpoints; D's Adam state under
`disc_adam.m.<key>` / `disc_adam.v.<key>`).
"""
from __future__ import annotations

import random
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import imageops as TF

PRIOR_THRESHOLD = 0.1
DISC_ADAM_PREFIX = "disc_adam."
# name, kernel, cin, cout
DISC_LAYERS = [("disc_1", 3, 1, 16), ("disc_2", 3, 16, 32), ("disc_3", 3, 32, 32), ("disc_4", 3, 32, 32),
               ("disc_5", 3, 32, 32), ("disc_6", 3, 32, 32), ("disc_7", 3, 32, 32), ("disc_8", 1, 32, 32),
               ("disc_9", 1, 32, 1)]


class Discriminator(nn.Module):
    """The reference's `Discriminator` (§5.3): 5 × [conv3×3 pad 1 → LeakyReLU → maxpool 2], 2 × [conv3×3
    unpadded → LeakyReLU], global average pool, 1×1 conv 32→32 → LeakyReLU, 1×1 conv 32→1, sigmoid.
    PyTorch's default init, no BatchNorm, 52,129 parameters. `slope` is the LeakyReLU negative slope: the
    reference's nn.LeakyReLU(True) is slope 1.0 (the identity, ld-method.md §9.1)."""

    def __init__(self, slope: float):
        super().__init__()
        self.slope = float(slope)
        for name, k, cin, cout in DISC_LAYERS:
            pad = 1 if name in ("disc_1", "disc_2", "disc_3", "disc_4", "disc_5") else 0
            self.add_module(name, nn.Conv2d(cin, cout, kernel_size=k, padding=pad if k == 3 else 0, bias=True))

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.slope == 1.0 else F.leaky_relu(x, self.slope)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = x[:, :1]
        for i in range(1, 8):
            h = self._act(getattr(self, f"disc_{i}")(h))
            if i <= 5:
                h = F.max_pool2d(h, 2, 2)
        h = F.adaptive_avg_pool2d(h, (1, 1))
        h = self._act(self.disc_8(h))
        return self.disc_9(h).flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating L_G = BCE(D(fake), 1) (torch.nn.BCELoss, as the reference)."""
    return F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))


def discriminator_loss(d_out: torch.Tensor, n_real: int) -> torch.Tensor:
    """BCE of D([real; fake]) against [1…1; 0…0], the mean over all of them."""
    target = torch.zeros_like(d_out)
    target[:n_real] = 1
    return F.binary_cross_entropy(d_out, target)


def disc_state_to_tfjs(disc: nn.Module, optimizer) -> Dict[str, np.ndarray]:
    from .model import state_to_tfjs

    out = {}
    for key, value in state_to_tfjs(disc, optimizer).items():
        out["disc_" + key if key.startswith("adam.") else key] = value  # adam.m.disc_1.weight → disc_adam.m.…
    return out


def load_disc_tfjs(disc: nn.Module, optimizer, tensors: Dict[str, np.ndarray], step: int) -> None:
    from .model import load_tfjs

    view = {key[len("disc_"):] if key.startswith(DISC_ADAM_PREFIX) else key: value for key, value in tensors.items()
            if key.startswith("disc_")}
    load_tfjs(disc, optimizer, view, step=step)


# ----------------------------------------------------------------------------------------------------
# Prior masks (§5.2)
# ----------------------------------------------------------------------------------------------------

class PriorMasks:
    """The masks Node wrote (PROTOCOL.md): raw uint8 (0..255), each row-major at `offset` (bytes)."""

    def __init__(self, spec: dict):
        self.index = list(spec["index"])
        if not self.index:
            raise ValueError("no prior masks")
        self._data = np.memmap(spec["file"], dtype=np.uint8, mode="r")
        for e in self.index:
            w, h, off = int(e["width"]), int(e["height"]), int(e["offset"])
            if off < 0 or off + w * h > self._data.shape[0]:
                raise ValueError(f"prior mask {e.get('id')} lies outside {spec['file']}")

    def __len__(self) -> int:
        return len(self.index)

    def get(self, i: int) -> torch.Tensor:
        """Mask i as a (1, H, W) float32 tensor with values 0..255 (8-bit, like the reference's PIL masks)."""
        e = self.index[i]
        w, h, off = int(e["width"]), int(e["height"]), int(e["offset"])
        return torch.from_numpy(np.array(self._data[off : off + w * h], dtype=np.float32).reshape(1, h, w))


def rotate_bilinear(img: torch.Tensor, angle: float) -> torch.Tensor:
    """Counter-clockwise by `angle` degrees about the centre, same canvas, bilinear, zeros outside."""
    h, w = img.shape[-2], img.shape[-1]
    theta = torch.tensor(TF._inverse_rotation_matrix(float(angle)), dtype=img.dtype).reshape(1, 2, 3)
    grid = TF._affine_grid(theta, w=w, h=h)
    return F.grid_sample(img.unsqueeze(0), grid, mode="bilinear", padding_mode="zeros", align_corners=False).squeeze(0)


def augment_prior(mask: torch.Tensor, rng: random.Random, size: int) -> torch.Tensor:
    """One augmentation (the reference's augment_seriesLabel): flips (p .5 each), rotation U[0, 360)
    bilinear, crop [U{0..w/10}, U{0..h/10}, w − U{0..w/10}, h − U{0..h/10}], bilinear resize to size,
    then > 0.1 after scaling to [0, 1]. Draw order as main/engine/shapeGuided/priors.ts."""
    h, w = mask.shape[-2], mask.shape[-1]
    hflip = rng.random() < 0.5
    vflip = rng.random() < 0.5
    angle = rng.uniform(0, 360)
    left, top = rng.randint(0, w // 10), rng.randint(0, h // 10)
    right, bottom = w - rng.randint(0, w // 10), h - rng.randint(0, h // 10)
    img = mask
    if hflip:
        img = TF.hflip(img)
    if vflip:
        img = TF.vflip(img)
    img = rotate_bilinear(img, angle)
    img = img[..., top:max(bottom, top + 1), left:max(right, left + 1)]
    img = TF.resize_bilinear(img, [size, size], antialias=True)
    return (img / 255.0 > PRIOR_THRESHOLD).to(torch.float32)


def draw_priors(priors: PriorMasks, rng: random.Random, pairs: int, size: int) -> torch.Tensor:
    """The 4B real masks of a step, (4B, 1, S, S): row q·B + p is augmentation q of pair p (q = 0, 1 the
    first drawn mask, 2, 3 the second), the reference's cat(label1_1, label1_2, label2_1, label2_2)."""
    rows: List[torch.Tensor] = [None] * (4 * pairs)  # type: ignore[list-item]
    for p in range(pairs):
        a, b = priors.get(rng.randrange(len(priors))), priors.get(rng.randrange(len(priors)))
        for q, m in enumerate((a, a, b, b)):
            rows[q * pairs + p] = augment_prior(m, rng, size)
    return torch.stack(rows).contiguous()


def prior_rng(seed: int, step: int, rank: int = 0) -> random.Random:
    """The prior-mask draws of one step: their own stream, so the LD batch of (seed, step, rank) is the
    same with or without a shape prior."""
    return random.Random(f"ld-torch-prior/{int(seed)}/{int(step)}/{int(rank)}")


def disc_feature_side(size: int) -> int:
    s = size
    for _ in range(5):
        s //= 2
    return s - 4


def disc_parameter_count() -> int:
    return sum(k * k * cin * cout + cout for _, k, cin, cout in DISC_LAYERS)

