"""The augmentation batch: layout, determinism per (seed, step, rank), mixup rows, prepared-images file."""
import unittest

import ldtest
import numpy as np
import torch

from ld_torch.data import PreparedImages, batch_rng, crop_params, make_batch


class Batches(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile, shutil  # noqa: E401

        cls.dir = tempfile.mkdtemp(prefix="ld-torch-data-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.grey = PreparedImages(ldtest.write_images(cls.dir, 3, ldtest.base_size_for(32), 1, seed=1), 1)
        cls.rgb = PreparedImages(ldtest.write_images(cls.dir, 3, ldtest.base_size_for(48), 3, seed=2), 3)

    def test_prepared_images_file(self):
        self.assertEqual(len(self.grey), 3)
        img = self.grey.get(2)
        self.assertEqual(tuple(img.shape), (1, 37, 37))
        raw = np.fromfile(self.grey._data.filename, dtype="<f4")
        np.testing.assert_array_equal(img[0].numpy(), raw[2 * 37 * 37: 3 * 37 * 37].reshape(37, 37))
        with self.assertRaisesRegex(ValueError, "channels"):
            PreparedImages({"file": self.grey._data.filename, "index": self.grey.index}, 3)

    def test_layout_range_and_mixup(self):
        for images, size, c in ((self.grey, 32, 1), (self.rgb, 48, 3)):
            b = 2
            batch = make_batch(images, batch_rng(0, 1), b, size, c, normalize=False)
            self.assertEqual(tuple(batch.x.shape), (5 * b, c, size, size))
            self.assertEqual(batch.x.dtype, torch.float32)
            self.assertGreaterEqual(float(batch.x.min()), 0.0)
            self.assertLessEqual(float(batch.x.max()), 1.0)
            self.assertEqual(len(batch.f), 2 * b)
            for p in range(b):
                w = float(batch.w[p])
                self.assertTrue(0.2 <= w <= 0.8)
                torch.testing.assert_close(batch.x[4 * b + p], w * batch.x[p] + (1 - w) * batch.x[b + p])
            normalised = make_batch(images, batch_rng(0, 1), b, size, c)
            mean, std = (0.5, 0.5) if c == 1 else (0.485, 0.229)
            torch.testing.assert_close(normalised.x[:, 0], (batch.x[:, 0] - mean) / std)

    def test_a_batch_depends_only_on_seed_step_and_rank(self):
        a = make_batch(self.grey, batch_rng(7, 12), 2, 32, 1)
        b = make_batch(self.grey, batch_rng(7, 12), 2, 32, 1)
        self.assertTrue(torch.equal(a.x, b.x))
        self.assertEqual((a.f, a.k, a.w.tolist()), (b.f, b.k, b.w.tolist()))
        for other in (batch_rng(7, 13), batch_rng(8, 12), batch_rng(7, 12, rank=1)):
            self.assertFalse(torch.equal(a.x, make_batch(self.grey, other, 2, 32, 1).x))

    def test_crop_params_follow_torchvision(self):
        rng = batch_rng(0, 0)
        for _ in range(200):
            top, left, h, w = crop_params(rng, 37, 37)
            self.assertTrue(0 <= top <= 37 - h and 0 <= left <= 37 - w)
            area = h * w / 37 ** 2
            self.assertTrue(0.85 <= area <= 1.0, area)  # scale U[0.9, 1] up to rounding


if __name__ == "__main__":
    unittest.main()
