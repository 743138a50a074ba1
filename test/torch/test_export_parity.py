"""`export-onnx` (checked with onnx.checker; numerics are checked by the Node side with onnxruntime) and
`parity` (one forward/backward of a given NHWC batch, losses and HWIO gradients)."""
import os
import unittest

import ldtest
import numpy as np
import onnx
import torch

from ld_torch import safetensors_io
from ld_torch.checkpoint import write_checkpoint
from ld_torch.data import PreparedImages, batch_rng, make_batch
from ld_torch.export import export_onnx
from ld_torch.losses import alignment_gather_index, ld_losses
from ld_torch.model import LDNet, load_tfjs, state_to_tfjs, tfjs_key


def output_dims(model: onnx.ModelProto):
    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    return {o.name: dims(o) for o in model.graph.output}, {i.name: dims(i) for i in model.graph.input}


class Export(unittest.TestCase):
    def test_export_with_clusters(self):
        d = ldtest.tempdir(self)
        torch.manual_seed(0)
        path = write_checkpoint(d, LDNet(1, 32, 16), None, step=7, stage=2, reason="final", seed=0)
        out = os.path.join(d, "model.onnx")
        req = ldtest.write_request(d, {"checkpoint": path, "out": out, "clusters": 16, "channels": 1, "opset": 17})
        code, events, err = ldtest.run(ldtest.ld_torch("export-onnx", "--request", req))
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(events, [])
        model = onnx.load(out)
        onnx.checker.check_model(model)
        self.assertEqual(model.opset_import[0].version, 17)
        outputs, inputs = output_dims(model)
        self.assertEqual(inputs, {"image": ["N", 1, "H", "W"]})
        self.assertEqual(outputs, {"embedding": ["N", 32, "H", "W"], "clusters": ["N", 16, "H", "W"]})
        # eval mode: no BatchNormalization in training mode, running statistics folded or used
        self.assertFalse(any(n.op_type == "BatchNormalization" and any(a.name == "training_mode" and a.i for a in n.attribute)
                             for n in model.graph.node))

    def test_stage1_export_and_errors(self):
        d = ldtest.tempdir(self)
        path = write_checkpoint(d, LDNet(3, 32, 0), None, step=1, stage=1, reason="final", seed=0)
        out = export_onnx(path, os.path.join(d, "s1.onnx"), clusters=0, channels=3)
        outputs, inputs = output_dims(onnx.load(out))
        self.assertEqual(inputs, {"image": ["N", 3, "H", "W"]})
        self.assertEqual(outputs, {"embedding": ["N", 32, "H", "W"]})
        with self.assertRaisesRegex(ValueError, "no clustering branch"):
            export_onnx(path, os.path.join(d, "bad.onnx"), clusters=16)
        with self.assertRaisesRegex(ValueError, "channels"):
            export_onnx(path, os.path.join(d, "bad.onnx"), clusters=0, channels=1)
        self.assertFalse(os.path.exists(os.path.join(d, "bad.onnx")))


class Parity(unittest.TestCase):
    def test_parity_command(self):
        d = ldtest.tempdir(self)
        images = PreparedImages(ldtest.write_images(d, 2, ldtest.base_size_for(32), 1, seed=9), 1)
        pairs, size = 2, 32
        batch = make_batch(images, batch_rng(1, 1), pairs, size, 1)
        nhwc = batch.x.permute(0, 2, 3, 1).contiguous().numpy()
        nhwc.astype("<f4").tofile(os.path.join(d, "x.f32"))
        torch.manual_seed(3)
        net = LDNet(1, 32, 4)
        safetensors_io.write(os.path.join(d, "w.safetensors"), state_to_tfjs(net))
        for stage in (2, 1):
            out = os.path.join(d, f"out{stage}.safetensors")
            req = ldtest.write_request(d, {
                "weights": os.path.join(d, "w.safetensors"),
                "batch": {"file": os.path.join(d, "x.f32"), "shape": list(nhwc.shape), "pairs": pairs,
                          "w": batch.w.tolist(), "f": batch.f, "k": batch.k},
                "stage": stage, "clusters": 4, "out": out}, name=f"parity{stage}.json")
            code, events, err = ldtest.run(ldtest.ld_torch("parity", "--request", req))
            self.assertEqual(code, 0, err[-3000:])
            result, _ = safetensors_io.read(out)

            # the same computation in process (stage 1: the model without its clustering branch)
            model = LDNet(1, 32, 4 if stage == 2 else 0)
            load_tfjs(model, None, state_to_tfjs(net))
            model.train()
            z, a = model(batch.x)
            terms = ld_losses(z, a, pairs, batch.w, alignment_gather_index(pairs, batch.f, batch.k))
            terms.total.backward()
            expected_losses = {"pd": terms.pd, "mix": terms.mix, "total": terms.total}
            if stage == 2:
                expected_losses.update(rd=terms.rd, ent=terms.ent)
            self.assertEqual(sorted(k for k in result if k.startswith("loss.")), sorted(f"loss.{k}" for k in expected_losses))
            for key, value in expected_losses.items():
                self.assertEqual(result[f"loss.{key}"].shape, (1,))
                self.assertAlmostEqual(float(result[f"loss.{key}"][0]), float(value.detach()), delta=1e-5 * abs(float(value.detach())))
            grads = {k: v for k, v in result.items() if k.startswith("grad.")}
            self.assertEqual(len(grads), len(list(model.parameters())))
            for name, p in model.named_parameters():
                g = grads[f"grad.{tfjs_key(name)}"]
                ref = p.grad.permute(2, 3, 1, 0).numpy() if p.dim() == 4 else p.grad.numpy()
                self.assertEqual(g.shape, ref.shape, name)
                if name.endswith(".bias") and getattr(model, name.split(".")[0]).bn is not None:
                    continue  # a bias before BN has a true gradient of 0: its values are rounding noise
                # float32 rounding is amplified in this loss's gradients (f32 vs f64 differ by up to ~1e-2 of
                # max|g| in deep layers, in both engines), and another process may round differently
                cosine = float((g * ref).sum() / (np.linalg.norm(g) * np.linalg.norm(ref)))
                self.assertGreater(cosine, 0.999, name)
                self.assertLess(float(np.abs(g - ref).max()), 5e-2 * float(np.abs(ref).max()), name)


if __name__ == "__main__":
    unittest.main()
