"""The `export-onnx` command: a checkpoint → ONNX (eval mode, running BN statistics), input `image`
N×C×H×W with dynamic N, H, W; outputs `embedding` (and `clusters` when K > 0) — or, with
`"segmentation": true` and a `finetune-seg` checkpoint, the output `probability` N×1×H×W."""
from __future__ import annotations

import inspect
import os
import shutil
import tempfile

import torch

from .checkpoint import read_checkpoint
from .model import LDNet, checkpoint_model_shape, load_tfjs
from .seg_model import load_seg_checkpoint


class _Exported(torch.nn.Module):
    def __init__(self, net: LDNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor):
        z, a = self.net(image)
        return (z, a) if a is not None else z


def export_onnx(checkpoint: str, out: str, clusters: int, channels: int | None = None, opset: int = 17) -> str:
    tensors, _ = read_checkpoint(checkpoint)
    stored_channels, embed_dim, stored_clusters = checkpoint_model_shape(tensors)
    if channels is not None and channels != stored_channels:
        raise ValueError(f"{checkpoint}: the model takes {stored_channels} channels, the request says {channels}")
    if clusters > 0 and stored_clusters == 0:
        raise ValueError(f"{checkpoint}: a stage-1 checkpoint has no clustering branch (request clusters 0)")
    if clusters > 0 and clusters != stored_clusters:
        raise ValueError(f"{checkpoint}: the checkpoint has {stored_clusters} clusters, the request {clusters}")
    net = LDNet(stored_channels, embed_dim, clusters)
    load_tfjs(net, None, tensors)
    model = _Exported(net).eval()

    names = ["embedding", "clusters"] if clusters > 0 else ["embedding"]
    axes = {"image": {0: "N", 2: "H", 3: "W"}}
    axes.update({name: {0: "N", 2: "H", 3: "W"} for name in names})
    return _export_checked(model, stored_channels, out, names, axes, opset)


class _ExportedSeg(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor):
        return torch.sigmoid(self.net.logits(image))


def _export_checked(model: torch.nn.Module, channels: int, out: str, names, axes, opset: int, sample_hw=(64, 64)) -> str:
    """torch.onnx.export (TorchScript exporter) → onnx checker → one self-contained file at `out`."""
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch ≥ 2.9 defaults to the dynamo exporter; the TorchScript one honours dynamic_axes
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".export-", dir=out_dir)
    try:
        raw = os.path.join(work, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, torch.zeros(1, channels, *sample_hw), raw, input_names=["image"],
                              output_names=names, dynamic_axes=axes, opset_version=opset, do_constant_folding=True, **kwargs)
        import onnx  # validation is part of the command: never hand Node a file the checker rejects

        proto = onnx.load(raw)
        onnx.checker.check_model(proto)
        single = os.path.join(work, "single.onnx")
        onnx.save_model(proto, single)
        os.replace(single, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def export_seg_onnx(checkpoint: str, out: str, opset: int = 17) -> str:
    """A segmentation-head checkpoint (`finetune-seg`) → ONNX: input `image` N×C×H×W (dynamic N, H, W;
    H, W multiples of 16) → output `probability` N×1×H×W (sigmoid). Eval mode (running BN statistics)."""
    net = load_seg_checkpoint(checkpoint)
    axes = {"image": {0: "N", 2: "H", 3: "W"}, "probability": {0: "N", 2: "H", 3: "W"}}
    return _export_checked(_ExportedSeg(net).eval(), net.in_channels, out, ["probability"], axes, opset)


def run_export(request: dict) -> int:
    if request.get("segmentation"):
        export_seg_onnx(request["checkpoint"], request["out"], int(request.get("opset", 17)))
        return 0
    export_onnx(request["checkpoint"], request["out"], int(request.get("clusters", 0)),
                int(request["channels"]) if request.get("channels") is not None else None, int(request.get("opset", 17)))
    return 0
