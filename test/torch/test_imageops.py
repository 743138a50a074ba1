"""ld_torch.imageops (our copies of torchvision's tensor ops) against torchvision where it is installed, and
the engine without torchvision (Debian's python3-torch alone): a 2-step `train` with the import blocked."""
import os
import shutil
import tempfile
import textwrap
import unittest

import ldtest
import torch

from ld_torch import imageops

try:
    import torchvision.transforms.functional as TVF
    from torchvision.transforms import InterpolationMode
except Exception:  # noqa: BLE001 (absent or broken: the comparisons are skipped)
    TVF = None


def images(seed, channels, sizes=(37, 32, 48, 17)):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(channels, s, s, generator=g) for s in sizes] + [torch.rand(channels, 21, 30, generator=g)]


@unittest.skipIf(TVF is None, "torchvision is not installed")
class MatchesTorchvision(unittest.TestCase):
    ANGLES = (0.0, 1.3, -1.99, 17.0, 45.0, 90.0, -90.0, 123.456, 180.0, -179.9)

    def test_rotate_nearest_is_exact(self):
        for c in (1, 3):
            for img in images(1, c):
                for angle in self.ANGLES:
                    fill = [0.0] * c
                    ours = imageops.rotate_nearest(img, angle, fill=fill)
                    ref = TVF.rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, fill=fill)
                    self.assertTrue(torch.equal(ours, ref), (c, tuple(img.shape), angle))
                    self.assertTrue(torch.equal(imageops.rotate_nearest(img, angle),
                                                TVF.rotate(img, angle, interpolation=InterpolationMode.NEAREST)))
        batch = torch.rand(4, 3, 20, 20, generator=torch.Generator().manual_seed(9))
        self.assertTrue(torch.equal(imageops.rotate_nearest(batch, 33.0, fill=[0.0] * 3),
                                    TVF.rotate(batch, 33.0, interpolation=InterpolationMode.NEAREST, fill=[0.0] * 3)))

    def test_flips_and_resized_crop(self):
        for c in (1, 3):
            for img in images(2, c):
                self.assertTrue(torch.equal(imageops.hflip(img), TVF.hflip(img)))
                self.assertTrue(torch.equal(imageops.vflip(img), TVF.vflip(img)))
                h, w = img.shape[-2:]
                for (top, left, ch, cw), size in (((0, 0, h, w), 32), ((1, 2, h - 3, w - 2), 16), ((2, 1, h - 2, w - 4), 48)):
                    ours = imageops.resized_crop(img, top, left, ch, cw, [size, size], antialias=True)
                    ref = TVF.resized_crop(img, top, left, ch, cw, [size, size],
                                           interpolation=InterpolationMode.BILINEAR, antialias=True)
                    self.assertEqual(ours.shape, ref.shape)
                    self.assertLessEqual(float((ours - ref).abs().max()), 1e-5)

    def test_photometric_ops(self):
        factors = (0.6, 0.87, 1.0, 1.21, 1.4)
        hues = (-0.02, -0.0071, 0.0, 0.013, 0.02, 0.3, -0.5)
        for c in (1, 3):
            for img in images(3, c):
                for f in factors:
                    for ours, ref in ((imageops.adjust_brightness(img, f), TVF.adjust_brightness(img, f)),
                                      (imageops.adjust_contrast(img, f), TVF.adjust_contrast(img, f)),
                                      (imageops.adjust_saturation(img, f), TVF.adjust_saturation(img, f))):
                        self.assertLessEqual(float((ours - ref).abs().max()), 1e-6)
                for hf in hues:
                    self.assertLessEqual(float((imageops.adjust_hue(img, hf) - TVF.adjust_hue(img, hf)).abs().max()), 1e-6)
                for n in (1, 3):
                    ours, ref = imageops.rgb_to_grayscale(img, n), TVF.rgb_to_grayscale(img, n)
                    self.assertEqual(ours.shape, ref.shape)
                    self.assertLessEqual(float((ours - ref).abs().max()), 1e-6)
                mean, std = ([0.5], [0.5]) if c == 1 else ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
                self.assertLessEqual(float((imageops.normalize(img, mean, std) - TVF.normalize(img, mean, std)).abs().max()), 1e-6)
        # hue on greys and saturated primaries (the maxc == minc / tie branches)
        special = torch.tensor([[[0.5, 1.0, 0.0, 0.0, 1.0]], [[0.5, 0.0, 1.0, 0.0, 1.0]], [[0.5, 0.0, 0.0, 1.0, 0.0]]])
        for hf in hues:
            self.assertLessEqual(float((imageops.adjust_hue(special, hf) - TVF.adjust_hue(special, hf)).abs().max()), 1e-6)

    def test_a_whole_batch_matches_the_torchvision_pipeline(self):
        """make_batch with our ops == make_batch with torchvision's ops swapped in (same draws)."""
        from ld_torch import data

        g = torch.Generator().manual_seed(4)
        imgs = [torch.rand(3, 55, 55, generator=g) for _ in range(3)]
        ours = data.make_batch(imgs, data.batch_rng(1, 2), 2, 48, 3)

        class TorchvisionOps:
            hflip, vflip = staticmethod(TVF.hflip), staticmethod(TVF.vflip)
            adjust_brightness, adjust_contrast = staticmethod(TVF.adjust_brightness), staticmethod(TVF.adjust_contrast)
            adjust_saturation, adjust_hue = staticmethod(TVF.adjust_saturation), staticmethod(TVF.adjust_hue)
            rgb_to_grayscale, normalize = staticmethod(TVF.rgb_to_grayscale), staticmethod(TVF.normalize)

            @staticmethod
            def rotate_nearest(img, angle, fill=None):
                return TVF.rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, fill=fill)

            @staticmethod
            def resized_crop(img, top, left, h, w, size, antialias=True):
                return TVF.resized_crop(img, top, left, h, w, size, interpolation=InterpolationMode.BILINEAR, antialias=antialias)

        saved = data.TF
        data.TF = TorchvisionOps
        try:
            ref = data.make_batch(imgs, data.batch_rng(1, 2), 2, 48, 3)
        finally:
            data.TF = saved
        self.assertEqual((ours.f, ours.k, ours.w.tolist()), (ref.f, ref.k, ref.w.tolist()))
        self.assertLessEqual(float((ours.x - ref.x).abs().max()), 1e-5)


BLOCK_TORCHVISION = textwrap.dedent("""
    import importlib.abc, json, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torchvision" or name.startswith("torchvision."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
            return None

    sys.meta_path.insert(0, Block())
    sys.modules.pop("torchvision", None)
    from ld_torch.__main__ import main
    code = main(sys.argv[1:])
    assert not any(m == "torchvision" or m.startswith("torchvision.") for m in sys.modules), "torchvision got imported"
    sys.exit(code)
""")


class WithoutTorchvision(unittest.TestCase):
    def test_info_and_a_two_step_train(self):
        d = tempfile.mkdtemp(prefix="ld-torch-no-tv-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        code, events, err = ldtest.run([ldtest.PYTHON, "-c", BLOCK_TORCHVISION, "info"], stdin_text="")
        self.assertEqual(code, 0, err[-3000:])
        self.assertIsNone(events[0]["torchvision"])

        imgs = ldtest.write_images(d, 2, ldtest.base_size_for(32), 3, seed=6)
        req = ldtest.write_request(d, {"runDir": os.path.join(d, "run"), "images": imgs, "device": "cpu", "resumeFrom": None,
                                       "config": ldtest.tiny_config(steps=2, stage1Steps=1, channels=3, checkpointEvery=2)})
        code, events, err = ldtest.run([ldtest.PYTHON, "-c", BLOCK_TORCHVISION, "train", "--request", req])
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual([e["type"] for e in events], ["ready", "step", "step", "checkpoint", "done"])
        self.assertEqual(events[-1], {"type": "done", "status": "completed", "completedSteps": 2})
        self.assertTrue(os.path.exists(events[3]["path"]))

    def test_the_blocker_blocks(self):
        finder_src = BLOCK_TORCHVISION.split("sys.meta_path")[0]
        code, _, err = ldtest.run([ldtest.PYTHON, "-c", finder_src + "sys.meta_path.insert(0, Block())\nimport torchvision\n"], stdin_text="")
        self.assertNotEqual(code, 0)
        self.assertIn("blocked by the test", err)


if __name__ == "__main__":
    unittest.main()
