"""LDNet: parameter counts (ld-method.md §2.3), tfjs key names and layouts, and an exact HWIO↔OIHW round
trip of weights, BN statistics and Adam state through a safetensors file."""
import os
import unittest

import ldtest  # noqa: F401 (puts resources/torch on sys.path)
import numpy as np
import torch

from ld_torch import safetensors_io
from ld_torch.model import LDNet, adam_step, load_tfjs, state_to_tfjs, trainable_keys, trainable_parameter_count


class ParameterCounts(unittest.TestCase):
    def test_counts_match_the_spec_table(self):
        self.assertEqual(trainable_parameter_count(LDNet(3, 32, 16)), 1_433_280)  # stage-2 LD model
        self.assertEqual(trainable_parameter_count(LDNet(3, 32, 0)), 1_426_304)  # stage-1 model
        self.assertEqual(trainable_parameter_count(LDNet(3, 32, 8)), 1_429_216)  # shape-guided generator
        self.assertEqual(trainable_parameter_count(LDNet(1, 32, 16)), 1_433_280 - 288)  # 1-ch encoder: −9·16·2

    def test_tfjs_keys_and_layouts(self):
        tensors = state_to_tfjs(LDNet(1, 32, 16))
        expected = []
        stages = [[16, 16], [32, 32], [64, 64, 64], [128, 128, 128], [128, 128, 128]]
        names = [f"enc{s + 1}_{i + 1}" for s, st in enumerate(stages) for i in range(len(st))]
        names += ["u8_1", "u8_2", "u4_1", "u4_2", "u2_1", "u2_2", "emb_1", "emb_2", "clu_1", "clu_2"]
        for name in names:
            expected += [f"{name}.weight", f"{name}.bias"]
            if name not in ("emb_2", "clu_2"):
                expected += [f"{name}.bn.{k}" for k in ("gamma", "beta", "running_mean", "running_var")]
        self.assertEqual(sorted(tensors), sorted(expected))
        self.assertEqual(tensors["enc1_1.weight"].shape, (3, 3, 1, 16))  # HWIO
        self.assertEqual(tensors["u8_1.weight"].shape, (3, 3, 256, 128))
        self.assertEqual(tensors["clu_2.weight"].shape, (3, 3, 16, 16))
        self.assertEqual(tensors["emb_2.bias"].shape, (32,))
        np.testing.assert_array_equal(tensors["enc3_1.bn.running_var"], np.ones(64, np.float32))
        # encoder init: Kaiming normal, fan_out (std √(2/(9·Cout))), bias 0
        w = tensors["enc4_2.weight"]
        self.assertAlmostEqual(float(w.std()), np.sqrt(2 / (9 * 128)), delta=0.05 * np.sqrt(2 / (9 * 128)))
        self.assertEqual(float(np.abs(tensors["enc4_2.bias"]).max()), 0.0)
        # decoder: PyTorch default, U(±1/√(9·Cin))
        self.assertLessEqual(float(np.abs(tensors["u8_1.weight"]).max()), 1 / np.sqrt(9 * 256))

    def test_forward_shapes_and_normalisation(self):
        net = LDNet(1, 32, 8).eval()
        with torch.no_grad():
            z, a = net(torch.randn(2, 1, 48, 32))
        self.assertEqual(tuple(z.shape), (2, 32, 48, 32))
        self.assertEqual(tuple(a.shape), (2, 8, 48, 32))
        torch.testing.assert_close(z.norm(dim=1), torch.ones(2, 48, 32))
        torch.testing.assert_close(a.sum(dim=1), torch.ones(2, 48, 32))


class RoundTrip(unittest.TestCase):
    def test_weights_bn_and_adam_survive_safetensors_exactly(self):
        torch.manual_seed(0)
        net = LDNet(3, 32, 16)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for _ in range(2):  # real Adam state and BN statistics
            net.train()
            z, a = net(torch.randn(2, 3, 32, 32))
            (z.sum() + a.square().sum()).backward()
            opt.step()
            opt.zero_grad()
        tensors = state_to_tfjs(net, opt)
        self.assertEqual(len([k for k in tensors if k.startswith("adam.m.")]), len(trainable_keys(net)))
        path = os.path.join(ldtest.tempdir(self), "ckpt.safetensors")
        safetensors_io.write(path, tensors, {"step": "2", "adam_step": str(adam_step(opt))})
        loaded, meta = safetensors_io.read(path)
        self.assertEqual(meta, {"step": "2", "adam_step": "2"})

        torch.manual_seed(1)
        other = LDNet(3, 32, 16)
        other_opt = torch.optim.Adam(other.parameters(), lr=1e-3)
        load_tfjs(other, other_opt, loaded, step=int(meta["adam_step"]))
        for (n1, t1), (n2, t2) in zip(net.state_dict().items(), other.state_dict().items()):
            self.assertEqual(n1, n2)
            if not n1.endswith("num_batches_tracked"):
                self.assertTrue(torch.equal(t1, t2), n1)
        for p1, p2 in zip(net.parameters(), other.parameters()):
            s1, s2 = opt.state[p1], other_opt.state[p2]
            self.assertTrue(torch.equal(s1["exp_avg"], s2["exp_avg"]))
            self.assertTrue(torch.equal(s1["exp_avg_sq"], s2["exp_avg_sq"]))
            self.assertEqual(float(s1["step"]), float(s2["step"]))
        # and the layouts: a conv weight is the HWIO permutation of the PyTorch OIHW one
        np.testing.assert_array_equal(loaded["u4_2.weight"], net.u4_2.weight.detach().permute(2, 3, 1, 0).numpy())

    def test_missing_or_misshapen_tensors_are_named(self):
        tensors = state_to_tfjs(LDNet(1, 32, 0))
        del tensors["u2_1.bn.beta"]
        with self.assertRaisesRegex(KeyError, "u2_1.bn.beta"):
            load_tfjs(LDNet(1, 32, 0), None, tensors)
        with self.assertRaisesRegex(ValueError, "enc1_1.weight"):
            load_tfjs(LDNet(3, 32, 0), None, state_to_tfjs(LDNet(1, 32, 0)))


if __name__ == "__main__":
    unittest.main()
