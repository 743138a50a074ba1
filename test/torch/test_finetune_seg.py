"""`finetune-seg`: a segmentation head on the LD network from a few (image, mask) pairs — the loss falls on
real spine radiographs, a resumed run continues exactly, cancel checkpoints, and the ONNX export has the
`image` → `probability` signature (its numerics are checked against torch by the Node side with
onnxruntime: test/cli/segmentLearn.test.ts)."""
import csv
import os
import unittest

import ldtest
import numpy as np
import onnx
import torch

from ld_torch import safetensors_io
from ld_torch.checkpoint import write_checkpoint
from ld_torch.model import LDNet

SPINE = os.path.abspath(os.path.join(ldtest.REPO, "..", "shared", "data", "landmarks", "spine"))
HAS_SPINE = os.path.isfile(os.path.join(SPINE, "labels", "training", "landmarks.csv"))
SKIP_SPINE = f"spine data set absent ({SPINE}): the real-image finetune-seg test needs it"


def spine_pairs(count: int, height: int, width: int):
    """The first `count` training images at height×width, masks = the vertebral-body quads of the 4 corner
    landmarks (landmarks.csv: 68 x then 68 y, relative)."""
    from PIL import Image, ImageDraw

    names = [r[0] for r in csv.reader(open(os.path.join(SPINE, "labels", "training", "filenames.csv")))]
    rows = [list(map(float, r)) for r in csv.reader(open(os.path.join(SPINE, "labels", "training", "landmarks.csv")))]
    images, masks = [], []
    for i in range(count):
        im = Image.open(os.path.join(SPINE, "images", "training", names[i])).convert("L")
        images.append(np.asarray(im.resize((width, height), Image.BILINEAR), dtype=np.float32) / 255.0)
        xs, ys = np.array(rows[i][:68]) * width, np.array(rows[i][68:]) * height
        m = Image.new("L", (width, height), 0)
        d = ImageDraw.Draw(m)
        for v in range(17):
            k = 4 * v
            d.polygon([(xs[k], ys[k]), (xs[k + 1], ys[k + 1]), (xs[k + 3], ys[k + 3]), (xs[k + 2], ys[k + 2])], fill=1)
        masks.append(np.asarray(m, dtype=np.uint8))
    return images, masks


def synthetic_pairs(count: int, height: int, width: int):
    rng = np.random.default_rng(1)
    images, masks = [], []
    for _ in range(count):
        img = ldtest.smooth_field(rng, max(height, width), 1)[:height, :width, 0]
        images.append(img)
        masks.append((img > 0.5).astype(np.uint8))
    return images, masks


def write_pairs(directory: str, images, masks) -> dict:
    """The prepared files as Node writes them (PROTOCOL.md): float32 images, uint8 masks, offsets in pixels."""
    img_path, mask_path = os.path.join(directory, "seg-images.f32"), os.path.join(directory, "seg-masks.u8")
    index, offset = [], 0
    with open(img_path, "wb") as fi, open(mask_path, "wb") as fm:
        for i, (x, m) in enumerate(zip(images, masks)):
            fi.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
            fm.write(np.ascontiguousarray(m, dtype=np.uint8).tobytes())
            index.append({"id": f"pair-{i}", "offset": offset})
            offset += x.size
    return {"images": img_path, "masks": mask_path, "index": index}


def ld_checkpoint(directory: str) -> str:
    torch.manual_seed(5)
    return write_checkpoint(os.path.join(directory, "ld"), LDNet(1, 32, 4), None, step=1, stage=2, reason="final", seed=0)


def request(directory: str, data: dict, height: int, width: int, **config) -> dict:
    c = {"height": height, "width": width, "steps": 4, "batch": 2, "lr": 1e-3, "seed": 3, "init": None, "checkpointEvery": 2}
    c.update(config)
    return {"runDir": os.path.join(directory, "run"), "data": data, "config": c, "device": "cpu", "resumeFrom": None}


class FinetuneSeg(unittest.TestCase):
    @unittest.skipUnless(HAS_SPINE, SKIP_SPINE)
    def test_loss_falls_on_spine_images(self):
        d = ldtest.tempdir(self)
        images, masks = spine_pairs(3, 128, 48)
        req = request(d, write_pairs(d, images, masks), 128, 48, steps=30, checkpointEvery=100, init=ld_checkpoint(d))
        code, events, err = ldtest.run(ldtest.ld_torch("finetune-seg", "--request", ldtest.write_request(d, req)), timeout=300)
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(events[0]["type"], "ready")
        self.assertEqual(events[0]["images"], 3)
        losses = [e["losses"]["loss"] for e in events if e["type"] == "step"]
        self.assertEqual(len(losses), 30)
        self.assertTrue(all(np.isfinite(losses)))
        self.assertLess(np.mean(losses[-5:]), 0.8 * np.mean(losses[:5]), losses)
        self.assertEqual(events[-1], {"type": "done", "status": "completed", "completedSteps": 30})
        ckpt = [e for e in events if e["type"] == "checkpoint"]
        self.assertEqual([(e["step"], e["reason"]) for e in ckpt], [(30, "final")])
        tensors, meta = safetensors_io.read(ckpt[0]["path"])
        self.assertEqual(tensors["seg_head.weight"].shape, (1, 1, 32, 1))
        self.assertEqual(tensors["seg_head.bias"].shape, (1,))
        self.assertIn("adam.m.seg_head.weight", tensors)
        self.assertIn("adam.v.enc1_1.weight", tensors)
        self.assertEqual((meta["stage"], meta["step"], meta["adam_step"]), ("seg", "30", "30"))

    def test_resume_continues_exactly(self):
        d = ldtest.tempdir(self)
        images, masks = synthetic_pairs(2, 32, 32)
        data = write_pairs(d, images, masks)
        init = ld_checkpoint(d)
        full = request(os.path.join(d, "a"), data, 32, 32, init=init)
        code, events, err = ldtest.run(ldtest.ld_torch("finetune-seg", "--request", ldtest.write_request(d, full, "a.json")))
        self.assertEqual(code, 0, err[-3000:])
        paths = {e["step"]: e["path"] for e in events if e["type"] == "checkpoint"}
        self.assertEqual(sorted(paths), [2, 4])
        resumed = request(os.path.join(d, "b"), data, 32, 32, init=init)
        resumed["resumeFrom"] = paths[2]
        code, events_b, err = ldtest.run(ldtest.ld_torch("finetune-seg", "--request", ldtest.write_request(d, resumed, "b.json")))
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(events_b[0]["startStep"], 2)
        self.assertEqual([e["step"] for e in events_b if e["type"] == "step"], [3, 4])
        la = [e["losses"] for e in events if e["type"] == "step"][2:]
        lb = [e["losses"] for e in events_b if e["type"] == "step"]
        self.assertEqual(la, lb)
        a, _ = safetensors_io.read(paths[4])
        b, _ = safetensors_io.read([e["path"] for e in events_b if e["type"] == "checkpoint"][-1])
        self.assertEqual(sorted(a), sorted(b))
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)

    def test_random_init_cancel_and_onnx_export(self):
        d = ldtest.tempdir(self)
        images, masks = synthetic_pairs(2, 32, 48)
        data = write_pairs(d, images, masks)
        # the line `cancel` after a step: the step finishes, a checkpoint (reason cancel), done cancelled
        req = request(os.path.join(d, "c"), data, 32, 48, steps=1000, checkpointEvery=1000)
        proc = ldtest.Streaming(ldtest.ld_torch("finetune-seg", "--request", ldtest.write_request(d, req, "cancel.json")))
        try:
            seen = proc.wait_for("step")
            self.assertEqual(seen[-1]["type"], "step", "".join(proc.stderr)[-3000:])
            proc.proc.stdin.write("cancel\n")
            proc.proc.stdin.flush()
            rest = proc.wait_for("done")
        finally:
            code = proc.finish()
        self.assertEqual(code, 0, "".join(proc.stderr)[-3000:])
        self.assertEqual(rest[-1]["status"], "cancelled")
        self.assertEqual([e["reason"] for e in rest if e["type"] == "checkpoint"], ["cancel"])
        self.assertLess(rest[-1]["completedSteps"], 1000)
        # a completed run with `onnx` exports the fine-tuned network
        out = os.path.join(d, "seg.onnx")
        req = request(d, data, 32, 48, steps=2)
        req["onnx"] = out
        code, events, err = ldtest.run(ldtest.ld_torch("finetune-seg", "--request", ldtest.write_request(d, req, "r2.json")))
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual([e["type"] for e in events], ["ready", "step", "step", "checkpoint", "export", "done"])
        model = onnx.load(out)
        onnx.checker.check_model(model)
        dims = lambda v: [x.dim_param or x.dim_value for x in v.type.tensor_type.shape.dim]  # noqa: E731
        self.assertEqual({i.name: dims(i) for i in model.graph.input}, {"image": ["N", 1, "H", "W"]})
        self.assertEqual({o.name: dims(o) for o in model.graph.output}, {"probability": ["N", 1, "H", "W"]})

    def test_bad_size_is_an_error_event(self):
        d = ldtest.tempdir(self)
        images, masks = synthetic_pairs(1, 32, 32)
        req = request(d, write_pairs(d, images, masks), 30, 32)
        code, events, _ = ldtest.run(ldtest.ld_torch("finetune-seg", "--request", ldtest.write_request(d, req)))
        self.assertNotEqual(code, 0)
        self.assertEqual(events[-1]["type"], "error")
        self.assertIn("multiples of 16", events[-1]["message"])


if __name__ == "__main__":
    unittest.main()
