"""The LD losses: BatchCriterion by hand, its anchor-only gradient, view-2 alignment, and the clustering terms."""
import math
import unittest

import ldtest  # noqa: F401
import numpy as np
import torch

from ld_torch.data import apply_view2
from ld_torch.losses import (align_grid_index, alignment_gather_index, batch_criterion, binary_entropy,
                             patch_embeddings, region_discrimination, region_embeddings)


def batch_criterion_reference(x: np.ndarray, tau: float = 0.1) -> float:
    """ld-method.md §3.4 written out with loops, in float64."""
    n = x.shape[0]
    total = 0.0
    for i in range(n):
        pos = (i + n // 2) % n
        e = np.array([0.0 if j == i else math.exp(x[i] @ x[j] / tau) for j in range(n)])
        d = e.sum() + 1e-10
        total += math.log(e[pos] / d)
        total += sum(math.log(max(1 - e[j] / d, 1e-12)) for j in range(n) if j not in (i, pos))
    return -total / n


class BatchCriterion(unittest.TestCase):
    def test_4x3_by_hand(self):
        # rows e1, e2, e1, e2: every row's positive is identical (s = 1), its two negatives orthogonal (s = 0)
        x = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, 0], [0, 1.0, 0]])
        e10 = math.exp(10)
        d = e10 + 2  # exp(1/τ) + 2·exp(0)
        expected = -(math.log(e10 / d) + 2 * math.log(1 - 1 / d))
        self.assertAlmostEqual(float(batch_criterion(x)), expected, places=6)
        self.assertAlmostEqual(expected, batch_criterion_reference(x.numpy().astype(np.float64)), places=12)

    def test_4x3_general_matches_the_formula(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(4, 3))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        self.assertAlmostEqual(float(batch_criterion(torch.tensor(x, dtype=torch.float64))), batch_criterion_reference(x), places=10)
        x32 = torch.tensor(x, dtype=torch.float32)
        self.assertAlmostEqual(float(batch_criterion(x32)), batch_criterion_reference(x), places=5)

    def test_only_the_anchor_side_carries_gradient(self):
        """∂L/∂x equals the gradient of the same loss with the right-hand operand frozen to a constant."""
        rng = np.random.default_rng(1)
        x0 = rng.normal(size=(6, 5))
        x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
        x = torch.tensor(x0, requires_grad=True)
        batch_criterion(x).backward()
        const = torch.tensor(x0)

        def frozen(xx):
            n = xx.shape[0]
            eye = torch.eye(n, dtype=xx.dtype)
            pos = torch.cat([eye[n // 2:], eye[: n // 2]])
            e = torch.exp(xx @ const.t() / 0.1) * (1 - eye)
            q = e / (e.sum(1, keepdim=True) + 1e-10)
            return -(torch.log((q * pos).sum(1)).sum() + (torch.log(torch.clamp(1 - q, min=1e-12)) * (1 - eye - pos)).sum()) / n

        expected = torch.autograd.functional.jacobian(frozen, torch.tensor(x0))
        torch.testing.assert_close(x.grad, expected)
        # and it is NOT the full derivative (that one would also flow through the right-hand operand)
        full = torch.autograd.functional.jacobian(_full, torch.tensor(x0))
        self.assertGreater(float((full - x.grad).abs().max()), 1e-3)


def _full(xx):
    n = xx.shape[0]
    eye = torch.eye(n, dtype=xx.dtype)
    pos = torch.cat([eye[n // 2:], eye[: n // 2]])
    e = torch.exp(xx @ xx.t() / 0.1) * (1 - eye)
    q = e / (e.sum(1, keepdim=True) + 1e-10)
    return -(torch.log((q * pos).sum(1)).sum() + (torch.log(torch.clamp(1 - q, min=1e-12)) * (1 - eye - pos)).sum()) / n


class Alignment(unittest.TestCase):
    def test_rot90_direction_is_the_tfjs_convention(self):
        # augment.ts: rot90([[0,1],[2,3]], 1, dims (H, W)) = [[1,3],[0,2]] (a quarter turn counter-clockwise)
        out = apply_view2(torch.tensor([[[0, 1], [2, 3]]]), f=0, k=1)
        self.assertEqual(out[0].tolist(), [[1, 3], [0, 2]])
        self.assertEqual(apply_view2(torch.tensor([[[0, 1], [2, 3]]]), f=1, k=0)[0].tolist(), [[3, 2], [1, 0]])

    def test_undoing_view2_on_a_labelled_grid_is_the_identity(self):
        g = 8
        grid = torch.arange(g * g).reshape(1, g, g)  # cell (i, j) holds i·g + j
        for f in (0, 1):
            for k in range(4):
                view2 = apply_view2(grid, f, k).reshape(-1)
                aligned = view2[torch.from_numpy(align_grid_index(f, k, g))]
                self.assertEqual(aligned.tolist(), list(range(g * g)), f"f={f} k={k}")

    def test_alignment_of_pooled_embeddings(self):
        """Pooling the rotated map then aligning the grid = pooling the original map (§3.3)."""
        torch.manual_seed(0)
        b = 2
        z = torch.nn.functional.normalize(torch.randn(2 * b, 4, 32, 32), dim=1)
        f, k = [1, 0, 1, 0], [3, 1, 0, 2]
        views2 = torch.stack([apply_view2(z[i], f[i], k[i]) for i in range(2 * b)])
        p = patch_embeddings(torch.cat([z, views2]))  # (4B, 8, 8, D)
        rows = p.reshape(-1, 4)[alignment_gather_index(b, f, k)]
        torch.testing.assert_close(rows[2 * b * 64:], rows[: 2 * b * 64])


class ClusteringTerms(unittest.TestCase):
    def test_binary_entropy_in_bits(self):
        self.assertAlmostEqual(float(binary_entropy(torch.full((2, 3), 0.5))), 1.0, places=6)
        self.assertAlmostEqual(float(binary_entropy(torch.tensor([0.0, 1.0]))), 0.0, places=6)

    def test_region_embeddings_and_discrimination(self):
        torch.manual_seed(0)
        m, k, d = 3, 4, 8
        a = torch.softmax(torch.randn(m, k, 16, 16), dim=1)
        z = torch.nn.functional.normalize(torch.randn(m, d, 16, 16), dim=1)
        r = region_embeddings(a, z)
        brute = torch.einsum("mkp,mdp->mkd", a.reshape(m, k, -1), z.reshape(m, d, -1)) / 256
        torch.testing.assert_close(r, torch.nn.functional.normalize(brute, dim=-1))
        # separated regions (r_k = e_k in every image): logits 1/τ on the diagonal, 0 elsewhere;
        # identical regions: log K
        separated = torch.eye(k, d).repeat(m, 1, 1)
        self.assertAlmostEqual(float(region_discrimination(separated)), math.log(1 + (k - 1) * math.exp(-5)), places=6)
        same = torch.nn.functional.normalize(torch.ones(m, k, d), dim=-1)
        self.assertAlmostEqual(float(region_discrimination(same)), math.log(k), places=5)


if __name__ == "__main__":
    unittest.main()
