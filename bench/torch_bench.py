"""PyTorch reference timings for `npm run bench` (called by bench/index.ts with the engine on PYTHONPATH).

  python bench/torch_bench.py '{"kind": "train"|"infer", "size": S, "batch": B, "steps": N, "device": "cpu"|"cuda"}'

Prints one JSON line. Training steps use the engine's own model, losses and Adam on random input of
the right shape (the step cost does not depend on the pixels); inference times the eval forward.
"""
import json
import os
import sys
import time

import torch

from ld_torch.losses import alignment_gather_index, ld_losses
from ld_torch.model import LDNet


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    req = json.loads(sys.argv[1])
    device = torch.device(req.get("device", "cpu"))
    if device.type == "cpu":
        torch.set_num_threads(int(req.get("threads", os.cpu_count() or 1)))
    torch.manual_seed(0)
    size, steps = req["size"], req.get("steps", 3)
    model = LDNet(1, 32, 0 if req["kind"] == "engine-step" else 16).to(device)
    times = []
    if req["kind"] == "train":
        b = req["batch"]
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
        x = torch.randn(5 * b, 1, size, size, device=device)
        w = torch.full((b,), 0.5, device=device)
        index = alignment_gather_index(b, [0] * (2 * b), [0] * (2 * b)).to(device)
        model.train()
        for _ in range(steps + 1):
            sync(device)
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            z, a = model(x)
            ld_losses(z, a, b, w, index).total.backward()
            opt.step()
            sync(device)
            times.append(time.perf_counter() - t0)
    elif req["kind"] == "engine-step":
        # The engine's whole step (augmentation of prepared images included, as train.py runs it) against
        # the bare network step on a fixed batch, alternating in the same process.
        from ld_torch.data import Augmentation, batch_rng, make_batch
        b = req["batch"]
        base = round(size * 512 / 448)
        gen = torch.Generator().manual_seed(0)
        images = [torch.rand(1, base, base, generator=gen) for _ in range(16)]
        aug = Augmentation.from_config(req.get("augment"))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
        model.train()
        sigma = float(req.get("centreSigma", size * 14 / 448))
        fixed = make_batch(images, batch_rng(0, 0), b, size, 1, aug=aug)

        def step(batch, on_device):
            x = batch.x.to(device)
            opt.zero_grad(set_to_none=True)
            z, a = model(x)
            index = alignment_gather_index(b, batch.f, batch.k).to(device)
            ld_losses(z, a, b, batch.w, index, sigma, "batch", batch.warps).total.backward()
            opt.step()

        whole, bare, augment = [], [], []
        for i in range(steps + 1):
            sync(device)
            t0 = time.perf_counter()
            batch = make_batch(images, batch_rng(0, i + 1), b, size, 1, aug=aug, device=device if device.type != "cpu" else None)
            sync(device)
            t1 = time.perf_counter()
            step(batch, True)
            sync(device)
            t2 = time.perf_counter()
            step(fixed, False)
            sync(device)
            t3 = time.perf_counter()
            whole.append(t2 - t0)
            augment.append(t1 - t0)
            bare.append(t3 - t2)
        med = lambda v: sorted(v[1:])[len(v[1:]) // 2]
        print(json.dumps({"ok": True, "wholeSeconds": med(whole), "bareSeconds": med(bare), "augmentSeconds": med(augment),
                          "ratio": med(whole) / med(bare), "torch": torch.__version__,
                          "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"}))
        return
    else:
        model.eval()
        x = torch.randn(1, 1, size, size, device=device)
        with torch.no_grad():
            for _ in range(steps + 1):
                sync(device)
                t0 = time.perf_counter()
                model(x)
                sync(device)
                times.append(time.perf_counter() - t0)
    timed = sorted(times[1:])
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    print(json.dumps({
        "ok": True, "seconds": timed[len(timed) // 2], "warmupSeconds": times[0], "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)",
        "peakGpuMiB": peak,
    }))


if __name__ == "__main__":
    main()
