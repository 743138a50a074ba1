"""The LD network (ld-method.md §2) in PyTorch, with parameter names that map 1:1 onto the tfjs engine's
keys (main/engine/model/spec.ts), so checkpoints move between the engines.

Naming: every conv layer is a module named like the tfjs layer (`enc1_1`, `u8_2`, `emb_2`, ...) holding
`weight` (OIHW here, HWIO in checkpoints) and `bias`, plus a child `bn` (BatchNorm2d) when it has one.
So `enc1_1.bn.weight` ↔ `enc1_1.bn.gamma`, `enc1_1.bn.bias` ↔ `enc1_1.bn.beta`; the running statistics
keep their names.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ENCODER_STAGES = [[16, 16], [32, 32], [64, 64, 64], [128, 128, 128], [128, 128, 128]]
# name, input channels (upsampled + skip), mid, out
DECODER_BLOCKS = [("u8", 256, 128, 64), ("u4", 128, 64, 32), ("u2", 64, 32, 16)]
L2_EPSILON = 1e-10
CLUSTER_EPSILON = 1e-9
BN_EPSILON = 1e-5
BN_MOMENTUM = 0.1


def l2normalize(v: torch.Tensor, dim: int) -> torch.Tensor:
    """v / (‖v‖₂ + 1e-10), as the reference (sqrt of the sum of squares, like tf.norm in the tfjs engine)."""
    return v / (torch.sqrt(torch.sum(v * v, dim=dim, keepdim=True)) + L2_EPSILON)


class Conv(nn.Conv2d):
    """3×3 'same' conv with bias; with `bn`, followed by BatchNorm and ReLU (the reference's block)."""

    def __init__(self, cin: int, cout: int, bn: bool):
        super().__init__(cin, cout, kernel_size=3, padding=1, bias=True)  # PyTorch default init
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPSILON, momentum=BN_MOMENTUM) if bn else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        return F.relu(self.bn(y)) if self.bn is not None else y


def _up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")  # nn.Upsample(scale_factor=2): pixel duplication


class LDNet(nn.Module):
    """vgg16_bn_tiny encoder → U-Net decoder → embedding z (unit norm per pixel) and, when clusters > 0,
    the soft clustering a (sigmoid, then L1-normalised over clusters). NCHW."""

    def __init__(self, in_channels: int, embed_dim: int = 32, clusters: int = 16):
        super().__init__()
        self.in_channels = in_channels
        self.embed_dim = embed_dim
        self.clusters = 0
        self.encoder_names: List[List[str]] = []
        cin = in_channels
        for s, stage in enumerate(ENCODER_STAGES):
            names = []
            for i, cout in enumerate(stage):
                name = f"enc{s + 1}_{i + 1}"
                conv = Conv(cin, cout, bn=True)
                # vgg16_bn_tiny's _initialize_weights: Kaiming normal, fan_out, ReLU gain; bias 0
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(conv.bias)
                self.add_module(name, conv)
                names.append(name)
                cin = cout
            self.encoder_names.append(names)
        for name, cin, mid, cout in DECODER_BLOCKS:
            self.add_module(f"{name}_1", Conv(cin, mid, bn=True))
            self.add_module(f"{name}_2", Conv(mid, cout, bn=True))
        self.emb_1 = Conv(32, 32, bn=True)
        self.emb_2 = Conv(32, embed_dim, bn=False)
        if clusters > 0:
            self.add_clusters(clusters)

    def add_clusters(self, clusters: int) -> None:
        """The clustering branch (stage 2), PyTorch default init; the caller seeds the RNG."""
        if self.clusters:
            raise RuntimeError("the model already has a clustering branch")
        device = self.emb_2.weight.device
        self.clu_1 = Conv(32, clusters, bn=True).to(device)
        self.clu_2 = Conv(clusters, clusters, bn=False).to(device)
        self.clusters = clusters

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder → U-Net decoder: the full-resolution features every head reads (emb, clu, seg_head)."""
        skips = []
        h = x
        for s, names in enumerate(self.encoder_names):
            if s > 0:
                h = F.max_pool2d(h, 2, 2)
            for name in names:
                h = getattr(self, name)(h)
            skips.append(h)  # the activation before each pool; the 5th pool is never computed
        h = skips[4]
        for i, (name, _, _, _) in enumerate(DECODER_BLOCKS):
            h = torch.cat([_up2(h), skips[3 - i]], dim=1)
            h = getattr(self, f"{name}_2")(getattr(self, f"{name}_1")(h))
        return torch.cat([_up2(h), skips[0]], dim=1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        h = self.features(x)
        z = l2normalize(self.emb_2(self.emb_1(h)), dim=1)
        if not self.clusters:
            return z, None
        s = torch.sigmoid(self.clu_2(self.clu_1(h))) + CLUSTER_EPSILON
        return z, s / torch.sum(s, dim=1, keepdim=True)


def trainable_parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------------------------------------------
# tfjs layout (checkpoints, parity files)
# ---------------------------------------------------------------------------------------------------

_TO_TFJS_SUFFIX = {".bn.weight": ".bn.gamma", ".bn.bias": ".bn.beta"}


def tfjs_key(torch_name: str) -> str:
    for suffix, replacement in _TO_TFJS_SUFFIX.items():
        if torch_name.endswith(suffix):
            return torch_name[: -len(suffix)] + replacement
    return torch_name


def to_tfjs_array(t: torch.Tensor) -> np.ndarray:
    """OIHW conv kernels → HWIO; everything else unchanged. Always a copy (never a view of a live parameter)."""
    t = t.detach()
    if t.dim() == 4:
        t = t.permute(2, 3, 1, 0)
    return np.array(t.cpu().numpy(), dtype=np.float32, order="C", copy=True)


def from_tfjs_array(a: np.ndarray) -> torch.Tensor:
    """HWIO conv kernels → OIHW."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    if t.dim() == 4:
        t = t.permute(3, 2, 0, 1).contiguous()
    return t


def _named_tensors(model: nn.Module):
    """(tfjs key, tensor, is_param) for every parameter and BN running statistic."""
    for name, p in model.named_parameters():
        yield tfjs_key(name), p, True
    for name, b in model.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue  # not in the shared format; unused with a fixed momentum
        yield name, b, False


def trainable_keys(model: nn.Module) -> List[str]:
    return [tfjs_key(name) for name, _ in model.named_parameters()]


def adam_step(optimizer: Optional[torch.optim.Optimizer]) -> int:
    if optimizer is None:
        return 0
    for state in optimizer.state.values():
        if "step" in state:
            return int(float(state["step"]))
    return 0


def state_to_tfjs(model: nn.Module, optimizer: Optional[torch.optim.Optimizer] = None) -> Dict[str, np.ndarray]:
    """Weights, BN statistics and Adam moments under the tfjs keys and layouts."""
    out: Dict[str, np.ndarray] = {}
    for key, t, is_param in _named_tensors(model):
        out[key] = to_tfjs_array(t)
        if is_param and optimizer is not None:
            state = optimizer.state.get(t)
            if state and "exp_avg" in state:
                out[f"adam.m.{key}"] = to_tfjs_array(state["exp_avg"])
                out[f"adam.v.{key}"] = to_tfjs_array(state["exp_avg_sq"])
    return out


def load_tfjs(
    model: nn.Module,
    optimizer: Optional[torch.optim.Optimizer],
    tensors: Dict[str, np.ndarray],
    step: Optional[int] = None,
) -> None:
    """Assign every model tensor from `tensors` (all must be present with their shapes; extra keys, e.g.
    another branch or Adam state, are ignored) and, with an optimizer, its Adam moments and `step`
    (PyTorch keeps a per-parameter step; the shared format has one, `adam_step`)."""
    with torch.no_grad():
        for key, t, is_param in _named_tensors(model):
            if key not in tensors:
                raise KeyError(f"checkpoint has no tensor '{key}'")
            value = from_tfjs_array(tensors[key])
            if tuple(value.shape) != tuple(t.shape):
                expected = "×".join(map(str, to_tfjs_array(t).shape))
                raise ValueError(f"checkpoint tensor '{key}' has shape {'×'.join(map(str, tensors[key].shape))}, the model expects {expected}")
            t.copy_(value.to(t.device))
            if not is_param or optimizer is None:
                continue
            m, v = tensors.get(f"adam.m.{key}"), tensors.get(f"adam.v.{key}")
            if m is None or v is None:
                optimizer.state.pop(t, None)
                continue
            optimizer.state[t] = {
                # torch 1.13's Adam wants a singleton float tensor here (on the CPU unless capturable)
                "step": torch.tensor(float(step or 0)),
                "exp_avg": from_tfjs_array(m).to(t.device),
                "exp_avg_sq": from_tfjs_array(v).to(t.device),
            }


def checkpoint_model_shape(tensors: Dict[str, np.ndarray]) -> Tuple[int, int, int]:
    """(in_channels, embed_dim, clusters) of the model stored in a checkpoint (HWIO kernels)."""
    in_channels = int(tensors["enc1_1.weight"].shape[2])
    embed_dim = int(tensors["emb_2.weight"].shape[3])
    clusters = int(tensors["clu_2.weight"].shape[3]) if "clu_2.weight" in tensors else 0
    return in_channels, embed_dim, clusters
