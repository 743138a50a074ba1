"""The `parity` command: one forward + backward of a given batch with given weights, so the Node side can
compare both engines' losses and gradients (PROTOCOL.md). BN in train mode (batch statistics), no
augmentation; float32 on the CPU unless the request names a "device".

With "shapeGuided" (ld-method.md §5.4): G's total adds gWeight·L_G through the frozen discriminator
(weights `disc_*` in the same file); then D's loss on [real; detached fake]. Writes also `loss.g`,
`loss.d`, `d.out` (D's probabilities for [real; fake]) and `grad.disc_*` (of D's loss).

Optional request keys beyond PROTOCOL.md's: "centreSigma" (px), "negatives" ('batch' | 'image') and
"batch": {"warps": 2B×2×3 (or 2B·6 flat) view-1 → view-2 pixel maps of rows 2B..4B−1} for a batch made
with a view-2 warp (data.py Batch.warps), which makes ld_losses take warped_patch_losses."""
from __future__ import annotations

import numpy as np
import torch

from . import safetensors_io
from .losses import GRID, alignment_gather_index, ld_losses
from .model import LDNet, checkpoint_model_shape, load_tfjs, tfjs_key, to_tfjs_array
from .shape_prior import Discriminator, discriminator_loss, generator_loss


def run_parity(request: dict) -> int:
    device = torch.device(request.get("device", "cpu"))
    weights, _ = safetensors_io.read(request["weights"])
    channels, embed_dim, stored_clusters = checkpoint_model_shape(weights)
    stage = int(request.get("stage", 2))
    clusters = int(request.get("clusters", stored_clusters)) if stage == 2 else 0
    if stage == 2 and clusters <= 0:
        raise ValueError("stage 2 needs clusters > 0")

    spec = request["batch"]
    shape = [int(d) for d in spec["shape"]]
    n, h, w, c = shape
    pairs = int(spec["pairs"])
    if n != 5 * pairs:
        raise ValueError(f"batch has {n} images, expected 5·pairs = {5 * pairs}")
    if c != channels:
        raise ValueError(f"batch has {c} channels, the weights {channels}")
    data = np.fromfile(spec["file"], dtype="<f4", count=n * h * w * c)
    if data.size != n * h * w * c:
        raise ValueError(f"{spec['file']} holds {data.size} floats, shape {shape} needs {n * h * w * c}")
    x = torch.from_numpy(data.astype(np.float32).reshape(shape)).permute(0, 3, 1, 2).contiguous().to(device)

    model = LDNet(channels, embed_dim, clusters).to(device)
    load_tfjs(model, None, weights)
    model.train()
    z, a = model(x)
    warps = None
    if spec.get("warps") is not None:
        warps = torch.tensor(spec["warps"], dtype=torch.float64).reshape(-1, 2, 3)
        if warps.shape[0] != 2 * pairs:
            raise ValueError(f"batch has {warps.shape[0]} warps, expected 2·pairs = {2 * pairs}")
    terms = ld_losses(z, a, pairs, torch.tensor(spec["w"], dtype=torch.float32),
                      alignment_gather_index(pairs, spec["f"], spec["k"], GRID),
                      float(request.get("centreSigma") or 0.0), str(request.get("negatives") or "batch"), warps)
    total = terms.total
    sg = request.get("shapeGuided")
    out = {}
    if sg:
        if a is None:
            raise ValueError("shape-guided parity needs stage 2")
        disc = Discriminator(float(sg["slope"])).to(device)
        load_tfjs(disc, None, weights)
        cluster = int(sg.get("cluster", 0))
        fake = a[: 4 * pairs, cluster : cluster + 1]
        for p in disc.parameters():
            p.requires_grad_(False)
        loss_g = generator_loss(disc(fake))
        total = total + float(sg.get("gWeight", 1.0)) * loss_g
    total.backward()
    if sg:
        for p in disc.parameters():
            p.requires_grad_(True)
        rs = sg["real"]
        rshape = [int(d) for d in rs["shape"]]
        real = np.fromfile(rs["file"], dtype="<f4", count=int(np.prod(rshape)))
        real = torch.from_numpy(real.astype(np.float32).reshape(rshape)).permute(0, 3, 1, 2).contiguous().to(device)
        d_out = disc(torch.cat([real, fake.detach()], 0))
        loss_d = discriminator_loss(d_out, real.shape[0])
        loss_d.backward()
        out["loss.g"] = loss_g.detach().reshape(1).cpu().numpy().astype(np.float32)
        out["loss.d"] = loss_d.detach().reshape(1).cpu().numpy().astype(np.float32)
        out["d.out"] = d_out.detach().cpu().numpy().astype(np.float32)
        for name, p in disc.named_parameters():
            out[f"grad.{name}"] = to_tfjs_array(p.grad)

    for key, t in (("pd", terms.pd), ("mix", terms.mix), ("rd", terms.rd), ("ent", terms.ent), ("total", total)):
        if t is not None:  # stage 1 has no rd/ent
            out[f"loss.{key}"] = t.detach().reshape(1).cpu().numpy().astype(np.float32)
    for name, p in model.named_parameters():
        out[f"grad.{tfjs_key(name)}"] = to_tfjs_array(p.grad)
    safetensors_io.write(request["out"], out, {"engine": "torch", "stage": str(stage)})
    return 0
