"""The few torchvision tensor image ops the batch uses (data.py), in plain torch.

Debian's `python3-torch` does not pull in torchvision, so the engine carries its own copies. Each function
follows torchvision 0.14's tensor implementation (`transforms/functional.py` + `functional_tensor.py`)
operation for operation, so results are the same floats, not just close; test/torch/test_imageops.py
checks that against torchvision wherever it is installed. These are always used (torchvision or not), so a
batch never depends on what else is installed.

Images are float tensors (..., C, H, W) with C in {1, 3} and values in [0, 1]; only what data.py needs
is implemented (no uint8 paths, no PIL, no `expand`/`center` for rotate).
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

import torch
from torch import Tensor
from torch.nn.functional import grid_sample, interpolate


def _check(img: Tensor) -> None:
    if not isinstance(img, Tensor) or img.ndim < 3:
        raise TypeError("expected an image tensor (..., C, H, W)")
    if img.shape[-3] not in (1, 3):
        raise TypeError(f"expected 1 or 3 channels, got {img.shape[-3]}")


# ----------------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------------

def hflip(img: Tensor) -> Tensor:
    return img.flip(-1)


def vflip(img: Tensor) -> Tensor:
    return img.flip(-2)


def _inverse_rotation_matrix(angle: float) -> List[float]:
    """torchvision's _get_inverse_affine_matrix(center=[0, 0], -angle, translate=[0, 0], scale=1,
    shear=[0, 0]): the output → input map, about the image centre, in pixel units."""
    rot = math.radians(-angle)
    sx = sy = 0.0
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    matrix = [x / 1.0 for x in matrix]
    matrix[2] += matrix[0] * (-0.0 - 0.0) + matrix[1] * (-0.0 - 0.0)
    matrix[5] += matrix[3] * (-0.0 - 0.0) + matrix[4] * (-0.0 - 0.0)
    matrix[2] += 0.0
    matrix[5] += 0.0
    return matrix


def _affine_grid(theta: Tensor, w: int, h: int) -> Tensor:
    """torchvision's _gen_affine_grid with ow = w, oh = h: pixel centres relative to the image centre,
    mapped by theta, then normalised by the half-size (grid_sample with align_corners=False)."""
    d = 0.5
    base_grid = torch.empty(1, h, w, 3, dtype=theta.dtype, device=theta.device)
    x_grid = torch.linspace(-w * 0.5 + d, w * 0.5 + d - 1, steps=w, device=theta.device)
    base_grid[..., 0].copy_(x_grid)
    y_grid = torch.linspace(-h * 0.5 + d, h * 0.5 + d - 1, steps=h, device=theta.device).unsqueeze_(-1)
    base_grid[..., 1].copy_(y_grid)
    base_grid[..., 2].fill_(1)
    rescaled_theta = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype, device=theta.device)
    output_grid = base_grid.view(1, h * w, 3).bmm(rescaled_theta)
    return output_grid.view(1, h, w, 2)


def rotate_nearest(img: Tensor, angle: float, fill: Optional[Sequence[float]] = None) -> Tensor:
    """TF.rotate(img, angle, interpolation=NEAREST, expand=False, center=None, fill=fill) for a float
    tensor: counter-clockwise by `angle` degrees about the centre, same canvas, uncovered pixels = fill
    (zeros when fill is None)."""
    _check(img)
    if not img.is_floating_point():
        raise TypeError("rotate_nearest expects a float tensor")
    matrix = _inverse_rotation_matrix(float(angle))
    h, w = img.shape[-2], img.shape[-1]
    theta = torch.tensor(matrix, dtype=img.dtype, device=img.device).reshape(1, 2, 3)
    grid = _affine_grid(theta, w=w, h=h)

    # torchvision's _apply_grid_transform
    need_squeeze = img.ndim < 4
    if need_squeeze:
        img = img.unsqueeze(dim=0)
    if img.shape[0] > 1:
        grid = grid.expand(img.shape[0], grid.shape[1], grid.shape[2], grid.shape[3])
    if fill is not None:
        mask = torch.ones((img.shape[0], 1, img.shape[2], img.shape[3]), dtype=img.dtype, device=img.device)
        img = torch.cat((img, mask), dim=1)
    img = grid_sample(img, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask = img[:, -1:, :, :]
        img = img[:, :-1, :, :]
        mask = mask.expand_as(img)
        fill_list = [float(v) for v in fill] if isinstance(fill, (list, tuple)) else [float(fill)]
        if len(fill_list) > 1 and len(fill_list) != img.shape[1]:
            raise ValueError(f"fill has {len(fill_list)} values, the image {img.shape[1]} channels")
        fill_img = torch.tensor(fill_list, dtype=img.dtype, device=img.device).view(1, len(fill_list), 1, 1).expand_as(img)
        mask = mask < 0.5
        img[mask] = fill_img[mask]
    if need_squeeze:
        img = img.squeeze(dim=0)
    return img


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """TF.crop for a window inside the image (data.py's crops always are)."""
    h, w = img.shape[-2], img.shape[-1]
    if left < 0 or top < 0 or left + width > w or top + height > h:
        raise ValueError(f"crop ({top}, {left}, {height}, {width}) leaves the {h}x{w} image")
    return img[..., top : top + height, left : left + width]


def resize_bilinear(img: Tensor, size: Sequence[int], antialias: bool = True) -> Tensor:
    """TF.resize(img, [h, w], interpolation=BILINEAR, antialias=antialias) for a float32/64 tensor."""
    if img.dtype not in (torch.float32, torch.float64):
        raise TypeError("resize_bilinear expects a float32 or float64 tensor")
    need_squeeze = img.ndim < 4
    if need_squeeze:
        img = img.unsqueeze(dim=0)
    img = interpolate(img, size=[int(size[0]), int(size[1])], mode="bilinear", align_corners=False, antialias=antialias)
    if need_squeeze:
        img = img.squeeze(dim=0)
    return img


def resized_crop(img: Tensor, top: int, left: int, height: int, width: int, size: Sequence[int],
                 antialias: bool = True) -> Tensor:
    """TF.resized_crop(..., interpolation=BILINEAR, antialias=antialias)."""
    return resize_bilinear(crop(img, top, left, height, width), size, antialias=antialias)


# ----------------------------------------------------------------------------------------------------
# Colour (float images in [0, 1])
# ----------------------------------------------------------------------------------------------------

def _blend(img1: Tensor, img2: Tensor, ratio: float) -> Tensor:
    ratio = float(ratio)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, 1.0).to(img1.dtype)


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    _check(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        l_img = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype)
        l_img = l_img.unsqueeze(dim=-3)
    else:
        l_img = img.clone()
    if num_output_channels == 3:
        return l_img.expand(img.shape)
    return l_img


def adjust_brightness(img: Tensor, brightness_factor: float) -> Tensor:
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _check(img)
    return _blend(img, torch.zeros_like(img), brightness_factor)


def adjust_contrast(img: Tensor, contrast_factor: float) -> Tensor:
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _check(img)
    dtype = img.dtype if torch.is_floating_point(img) else torch.float32
    if img.shape[-3] == 3:
        mean = torch.mean(rgb_to_grayscale(img).to(dtype), dim=(-3, -2, -1), keepdim=True)
    else:
        mean = torch.mean(img.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img: Tensor, saturation_factor: float) -> Tensor:
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _check(img)
    if img.shape[-3] == 1:  # as torchvision (and PIL): identity on one channel
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img: Tensor) -> Tensor:
    r, g, b = img.unbind(dim=-3)
    maxc = torch.max(img, dim=-3).values
    minc = torch.min(img, dim=-3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_divisor = torch.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = hr + hg + hb
    h = torch.fmod((h / 6.0 + 1.0), 1.0)
    return torch.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img: Tensor) -> Tensor:
    h, s, v = img.unbind(dim=-3)
    i = torch.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.to(dtype=torch.int32)
    p = torch.clamp((v * (1.0 - s)), 0.0, 1.0)
    q = torch.clamp((v * (1.0 - s * f)), 0.0, 1.0)
    t = torch.clamp((v * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    i = i % 6
    mask = i.unsqueeze(dim=-3) == torch.arange(6, device=i.device).view(-1, 1, 1)
    a1 = torch.stack((v, q, p, p, t, v), dim=-3)
    a2 = torch.stack((t, v, v, q, p, p), dim=-3)
    a3 = torch.stack((p, p, t, v, v, q), dim=-3)
    a4 = torch.stack((a1, a2, a3), dim=-4)
    return torch.einsum("...ijk, ...xijk -> ...xjk", mask.to(dtype=img.dtype), a4)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check(img)
    if img.shape[-3] == 1:  # as torchvision (and PIL): identity on one channel
        return img
    if not img.is_floating_point():
        raise TypeError("adjust_hue expects a float tensor")
    img = _rgb2hsv(img)
    h, s, v = img.unbind(dim=-3)
    h = (h + hue_factor) % 1.0
    img = torch.stack((h, s, v), dim=-3)
    return _hsv2rgb(img)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """TF.normalize (not in place)."""
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    tensor = tensor.clone()
    dtype = tensor.dtype
    mean_t = torch.as_tensor(mean, dtype=dtype, device=tensor.device)
    std_t = torch.as_tensor(std, dtype=dtype, device=tensor.device)
    if (std_t == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean_t.ndim == 1:
        mean_t = mean_t.view(-1, 1, 1)
    if std_t.ndim == 1:
        std_t = std_t.view(-1, 1, 1)
    return tensor.sub_(mean_t).div_(std_t)
