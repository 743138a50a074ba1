"""Manual GPU smoke check (not part of the unit tests): `python test/torch/device_smoke.py [size] [batch]`.
Runs `train` on cuda (stage 1 then 2), a 1-process torchrun with NCCL, and an ONNX export of the result,
printing step times. Exits 0 with a note when this Python has no CUDA."""
import os
import sys
import time

import ldtest


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 448
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    code, events, err = ldtest.run(ldtest.ld_torch("info"))
    print("info:", events, err[-500:], flush=True)
    if not events or not events[0].get("cuda"):
        print("no CUDA in this Python: nothing to check")
        return 0
    import tempfile

    d = tempfile.mkdtemp(prefix="ld-gpu-")
    images = ldtest.write_images(d, 8, ldtest.base_size_for(size), 3)
    config = ldtest.tiny_config(steps=8, stage1Steps=4, size=size, batch=batch, channels=3, clusters=16, checkpointEvery=1000, lrHalveEvery=10_000)
    req = ldtest.write_request(d, {"runDir": os.path.join(d, "run"), "images": images, "config": config, "device": "cuda", "resumeFrom": None})
    t = time.time()
    code, events, err = ldtest.run(ldtest.ld_torch("train", "--request", req), timeout=400)
    print(f"train cuda size {size} B {batch}: exit {code} in {time.time() - t:.1f} s; stderr tail: {err[-800:]}")
    for e in events:
        print(" ", e, flush=True)
    final = [e["path"] for e in events if e["type"] == "checkpoint"]

    small = ldtest.write_request(d, {"runDir": os.path.join(d, "ddp"), "images": ldtest.write_images(d, 3, ldtest.base_size_for(64), 1),
                                     "config": ldtest.tiny_config(steps=2, stage1Steps=1, size=64), "device": "cuda", "resumeFrom": None}, name="ddp.json")
    code, events, err = ldtest.run([ldtest.PYTHON, "-m", "torch.distributed.run", "--nproc_per_node", "1", "--master_addr", "127.0.0.1",
                                    "--master_port", str(ldtest.free_port()), "-m", "ld_torch", "train", "--request", small], timeout=200)
    print(f"torchrun nccl x1: exit {code}; events {[e['type'] for e in events]} device {events[0].get('device') if events else None}; stderr tail: {err[-800:]}", flush=True)

    if final:
        out = os.path.join(d, "m.onnx")
        req = ldtest.write_request(d, {"checkpoint": final[-1], "out": out, "clusters": 16, "channels": 3, "opset": 17}, name="exp.json")
        code, events, err = ldtest.run(ldtest.ld_torch("export-onnx", "--request", req), timeout=200)
        print(f"export: exit {code} size {os.path.getsize(out) if os.path.exists(out) else None} files {sorted(os.listdir(d))} {err[-300:]}")
        if code == 0:
            import onnx

            m = onnx.load(out)
            dims = lambda v: [x.dim_param or x.dim_value for x in v.type.tensor_type.shape.dim]  # noqa: E731
            print("onnx io:", {v.name: dims(v) for v in list(m.graph.input) + list(m.graph.output)}, "opset", m.opset_import[0].version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
