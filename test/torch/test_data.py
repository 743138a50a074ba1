"""The augmentation batch: layout, determinism per (seed, step, rank), mixup rows, prepared-images file, the view-2 warp."""
import math
import random
import unittest

import ldtest
import numpy as np
import torch

from ld_torch.data import (MIXUP, Augmentation, PreparedImages, apply_warp, batch_rng, crop_params, draw_t0, draw_t1, draw_warp,
                           make_batch, warp_matrix)


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



def dot(size: int, row: int, col: int) -> torch.Tensor:
    img = torch.zeros(1, size, size)
    img[0, row, col] = 1.0
    return img


class ViewWarp(unittest.TestCase):
    """A single bright pixel moved by a known matrix lands where the matrix sends its centre (pixel centres at
    i + 0.5; the same hand-computed cases as test/engine/data/warp.test.ts)."""

    def assert_pixels(self, out: torch.Tensor, want: dict):
        got = {(int(i), int(j)): float(out[0, i, j]) for i, j in zip(*torch.nonzero(out[0].abs() > 1e-6, as_tuple=True))}
        self.assertEqual(sorted(got), sorted(want))
        for key, v in want.items():
            self.assertAlmostEqual(got[key], v, places=6, msg=str(key))

    def test_integer_and_half_pixel_shifts(self):
        m = torch.tensor([[1, 0, 2], [0, 1, 1]], dtype=torch.float64)  # +2 px right, +1 px down
        self.assert_pixels(apply_warp(dot(8, 2, 3), m), {(3, 5): 1.0})
        half = torch.tensor([[1, 0, 0.5], [0, 1, 0]], dtype=torch.float64)
        self.assert_pixels(apply_warp(dot(8, 2, 3), half), {(2, 3): 0.5, (2, 4): 0.5})

    def test_quarter_turn_about_the_centre(self):
        m = warp_matrix((1.0, 90.0, 0.0, 0.0), 8)
        q = m @ torch.tensor([3.5, 2.5, 1.0], dtype=torch.float64)  # centre of (row 2, col 3)
        torch.testing.assert_close(q, torch.tensor([5.5, 3.5], dtype=torch.float64))
        self.assert_pixels(apply_warp(dot(8, 2, 3), m), {(3, 5): 1.0})

    def test_scale_two_is_the_bilinear_tent(self):
        # (row 5, col 6) of 12 × 12: centre (6.5, 5.5) → (7, 5); tent [¼ ¾ ¾ ¼] over rows 3..6 and columns 5..8
        t = [0.25, 0.75, 0.75, 0.25]
        want = {(3 + i, 5 + j): t[i] * t[j] for i in range(4) for j in range(4)}
        self.assert_pixels(apply_warp(dot(12, 5, 6), warp_matrix((2.0, 0.0, 0.0, 0.0), 12)), want)

    def test_warp_matrix_shifts_by_a_fraction_of_the_crop(self):
        m = warp_matrix((2.0, 90.0, 0.25, -0.125), 16)
        torch.testing.assert_close(m @ torch.tensor([8.0, 8.0, 1.0], dtype=torch.float64), torch.tensor([12.0, 6.0], dtype=torch.float64))
        torch.testing.assert_close(m @ torch.tensor([9.0, 8.0, 1.0], dtype=torch.float64), torch.tensor([12.0, 8.0], dtype=torch.float64))

    def test_draw_warp_takes_four_uniforms(self):
        rng, replay = random.Random(3), random.Random(3)
        s, angle, tx, ty = draw_warp(rng, (1.25, 10.0, 0.1))
        self.assertEqual(s, math.exp(replay.uniform(-math.log(1.25), math.log(1.25))))
        self.assertEqual((angle, tx, ty), (replay.uniform(-10, 10), replay.uniform(-0.1, 0.1), replay.uniform(-0.1, 0.1)))
        self.assertEqual(rng.getstate(), replay.getstate())

    def test_make_batch_draw_order_and_warps(self):
        import tempfile, shutil  # noqa: E401

        d = tempfile.mkdtemp(prefix="ld-torch-warp-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        images = PreparedImages(ldtest.write_images(d, 3, ldtest.base_size_for(32), 1, seed=4), 1)
        aug = Augmentation(view2_turns=False, view_warp=(1.25, 10.0, 0.1))
        b = 2
        batch = make_batch(images, batch_rng(5, 1), b, 32, 1, aug=aug)
        self.assertEqual(tuple(batch.warps.shape), (2 * b, 2, 3))
        self.assertEqual((batch.f, batch.k), ([0] * 2 * b, [0] * 2 * b))
        r = batch_rng(5, 1)
        for p in range(b):
            sources = (r.randrange(len(images)), r.randrange(len(images)))
            for m, src in enumerate(sources):
                draw_t0(r, images.get(src).shape[-1], aug)
                draw_t1(r), draw_t1(r)
                r.random(), r.randrange(4)  # view-2 (f, k), drawn and then set to 0
                torch.testing.assert_close(batch.warps[m * b + p], warp_matrix(draw_warp(r, aug.view_warp), 32), rtol=0, atol=0)
            self.assertEqual(float(batch.w[p]), float(np.float32(r.uniform(*MIXUP))))
        after = batch_rng(5, 1)
        make_batch(images, after, b, 32, 1, aug=aug)
        self.assertEqual(after.getstate(), r.getstate())  # nothing else is drawn
        self.assertIsNone(make_batch(images, batch_rng(5, 1), b, 32, 1).warps)

if __name__ == "__main__":
    unittest.main()


class GeometryOptions(unittest.TestCase):
    """The landmark preset's augmentation options against the paper's draws: the same random numbers, other
    ranges (main/engine/data/augment.ts has the same relations in test/engine/data/geometryOptions.test.ts)."""

    def test_rotation_range_scales_the_paper_angle_and_flip_probabilities_hold(self):
        for seed in range(1, 201):
            paper = draw_t0(random.Random(seed), 146)
            ours = draw_t0(random.Random(seed), 146, Augmentation(hflip_p=0.0, vflip_p=1.0, rotation_deg=10.0))
            self.assertAlmostEqual(ours.angle, paper.angle * 10 / 180, places=12)
            self.assertFalse(ours.hflip)
            self.assertTrue(ours.vflip)

    def test_crop_area_fraction_stays_in_its_range(self):
        aug = Augmentation(crop_scale=(0.05, 1.0))
        for seed in range(1, 201):
            top, left, h, w = draw_t0(random.Random(seed), 146, aug).crop
            self.assertGreaterEqual(w * h / 146 ** 2, 0.05 - (w + h + 1) / 146 ** 2)
            self.assertLessEqual(w * h, 146 ** 2)
        _, _, h, w = draw_t0(random.Random(7), 200, Augmentation(crop_scale=(0.25, 0.25))).crop
        self.assertLessEqual(abs(math.sqrt(w * h) - 100), 1)

    def test_no_view2_turns_and_the_stream_is_the_papers(self):
        images = [torch.rand(1, 37, 37, generator=torch.Generator().manual_seed(i)) for i in range(4)]
        a, b = random.Random(11), random.Random(11)
        make_batch(images, a, 2, 32, 1)
        batch = make_batch(images, b, 2, 32, 1, aug=Augmentation(hflip_p=0.0, vflip_p=0.0, rotation_deg=10.0, view2_turns=False))
        self.assertEqual(a.getstate(), b.getstate())
        self.assertEqual(batch.f, [0, 0, 0, 0])
        self.assertEqual(batch.k, [0, 0, 0, 0])

    def test_still_geometry_gives_views_that_differ_only_in_colour(self):
        img = torch.rand(1, 37, 37, generator=torch.Generator().manual_seed(3))
        still = Augmentation(hflip_p=0.0, vflip_p=0.0, rotation_deg=0.0, crop_scale=(1.0, 1.0), view2_turns=False)
        b = make_batch([img], random.Random(3), 1, 32, 1, normalize=False, aug=still)
        v1, v2 = b.x[0].flatten(), b.x[2].flatten()
        r = float(torch.corrcoef(torch.stack([v1, v2]))[0, 1])
        self.assertGreater(r, 0.9)
