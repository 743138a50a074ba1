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
    model = LDNet(1, 32, 16).to(device)
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
