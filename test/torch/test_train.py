"""The `train` command end to end on the CPU (size 32, B = 1): events, checkpoints, exact resume, resume
from a tfjs-style checkpoint, cancel by a `cancel` line, by closing stdin and by SIGINT, and error events."""
import json
import os
import shutil
import signal
import tempfile
import unittest

import ldtest
import numpy as np

from ld_torch import safetensors_io


def request(directory, images, run_dir, resume=None, **config):
    return ldtest.write_request(directory, {
        "runDir": run_dir, "images": images, "config": ldtest.tiny_config(**config), "device": "cpu", "resumeFrom": resume,
    }, name=f"request-{os.path.basename(run_dir)}-{len(os.listdir(directory))}.json")


def losses(events):
    return {e["step"]: e["losses"] for e in events if e["type"] == "step"}


class Train(unittest.TestCase):
    """A: 3 steps; B: 5 steps uninterrupted; C: A's step 3 resumed to 5; D: A's stage-1 step-2 checkpoint,
    rewritten as the tfjs engine writes it, resumed to 3 (crosses into stage 2 on resume)."""

    CONFIG = dict(stage="both", stage1Steps=2, lrHalveEvery=1, checkpointEvery=2, seed=5)

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ld-torch-train-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.images = ldtest.write_images(cls.dir, 3, ldtest.base_size_for(32), 1, seed=4)
        cls.run_a = os.path.join(cls.dir, "a")
        cls.code_a, cls.events_a, cls.err_a = ldtest.run(ldtest.ld_torch("train", "--request", request(cls.dir, cls.images, cls.run_a, steps=3, **cls.CONFIG)))

    def test_events_and_checkpoints(self):
        self.assertEqual(self.code_a, 0, self.err_a[-3000:])
        ev = self.events_a
        self.assertEqual([e["type"] for e in ev], ["ready", "step", "step", "checkpoint", "step", "checkpoint", "done"])
        self.assertEqual(ev[0], {"type": "ready", "images": 3, "startStep": 0, "device": "cpu", "worldSize": 1})
        steps = [e for e in ev if e["type"] == "step"]
        self.assertEqual([(e["step"], e["stage"], e["lr"]) for e in steps], [(1, 1, 1e-3), (2, 1, 5e-4), (3, 2, 1e-3)])
        self.assertEqual(set(steps[0]["losses"]), {"pd", "mix", "loss"})
        self.assertEqual(set(steps[2]["losses"]), {"pd", "mix", "rd", "ent", "loss"})
        for e in steps:
            self.assertGreater(e["seconds"], 0)
            values = e["losses"]
            expected = values["pd"] + values["mix"] + 10 * values.get("rd", 0) + 0.1 * values.get("ent", 0)
            self.assertAlmostEqual(values["loss"], expected, places=4)
        self.assertEqual([(e["step"], e["reason"]) for e in ev if e["type"] == "checkpoint"], [(2, "interval"), (3, "final")])
        self.assertEqual(ev[-1], {"type": "done", "status": "completed", "completedSteps": 3})

        path = ev[5]["path"]
        self.assertEqual(path, os.path.join(self.run_a, "checkpoints", "step-00000003.safetensors"))
        tensors, meta = safetensors_io.read(path)
        self.assertEqual({k: meta[k] for k in ("format", "engine", "step", "stage", "adam_step", "reason")},
                         {"format": "ld-studio/checkpoint@1", "engine": "torch", "step": "3", "stage": "2", "adam_step": "1", "reason": "final"})
        self.assertEqual(json.loads(meta["rng"]), {"engine": "torch", "seed": 5})
        self.assertEqual(tensors["clu_2.weight"].shape, (3, 3, 4, 4))
        trainable = [k for k in tensors if not k.startswith("adam.") and "running" not in k]
        self.assertEqual(sorted(k[len("adam.m."):] for k in tensors if k.startswith("adam.m.")), sorted(trainable))
        stage1, meta1 = safetensors_io.read(ev[3]["path"])
        self.assertEqual((meta1["stage"], meta1["adam_step"]), ("1", "2"))
        self.assertFalse(any(k.startswith("clu_") for k in stage1))
        self.assertEqual(sorted(os.listdir(os.path.dirname(path))), ["step-00000002.safetensors", "step-00000003.safetensors"])  # no temp files left

    def test_resume_is_exact(self):
        run_b, run_c, run_d = (os.path.join(self.dir, n) for n in "bcd")
        code, events_b, err = ldtest.run(ldtest.ld_torch("train", "--request", request(self.dir, self.images, run_b, steps=5, **self.CONFIG)))
        self.assertEqual(code, 0, err[-3000:])
        code, events_c, err = ldtest.run(ldtest.ld_torch("train", "--request", request(
            self.dir, self.images, run_c, resume=os.path.join(self.run_a, "checkpoints", "step-00000003.safetensors"), steps=5, **self.CONFIG)))
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(events_c[0]["startStep"], 3)

        # D: the stage-1 checkpoint with the tfjs engine's metadata (no engine key, its RNG state)
        tensors, meta = safetensors_io.read(os.path.join(self.run_a, "checkpoints", "step-00000002.safetensors"))
        meta = {k: v for k, v in meta.items() if k != "engine"}
        meta["rng"] = json.dumps([1, 2, 3, 4])
        tfjs_style = os.path.join(self.dir, "tfjs-step-2.safetensors")
        safetensors_io.write(tfjs_style, tensors, meta)
        code, events_d, err = ldtest.run(ldtest.ld_torch("train", "--request", request(self.dir, self.images, run_d, resume=tfjs_style, steps=3, **self.CONFIG)))
        self.assertEqual(code, 0, err[-3000:])

        la, lb, lc, ld = losses(self.events_a), losses(events_b), losses(events_c), losses(events_d)
        self.assertEqual(sorted(lc), [4, 5])
        self.assertEqual(sorted(ld), [3])
        for step, got in [(s, la[s]) for s in la] + [(s, lc[s]) for s in lc] + [(3, ld[3])]:
            for key, value in lb[step].items():
                self.assertAlmostEqual(got[key], value, delta=1e-6 * abs(value), msg=f"step {step} {key}")
        final_b, _ = safetensors_io.read(os.path.join(run_b, "checkpoints", "step-00000005.safetensors"))
        final_c, meta_c = safetensors_io.read(os.path.join(run_c, "checkpoints", "step-00000005.safetensors"))
        self.assertEqual(meta_c["adam_step"], "3")
        self.assertEqual(set(final_b), set(final_c))
        for key in final_b:
            np.testing.assert_allclose(final_c[key], final_b[key], rtol=1e-5, atol=1e-7, err_msg=key)

    def _cancel(self, how):
        run_dir = os.path.join(self.dir, f"cancel-{how}")
        proc = ldtest.Streaming(ldtest.ld_torch("train", "--request", request(
            self.dir, self.images, run_dir, steps=1000, **dict(self.CONFIG, checkpointEvery=1000))))
        try:
            seen = proc.wait_for("step")
            self.assertEqual(seen[-1]["type"], "step", "".join(proc.stderr)[-3000:])
            if how == "line":
                proc.proc.stdin.write("cancel\n")
                proc.proc.stdin.flush()
            elif how == "sigint":
                proc.proc.send_signal(signal.SIGINT)  # Ctrl+C in a terminal reaches the engine too
            else:
                proc.proc.stdin.close()
            rest = proc.wait_for("done")
        finally:
            code = proc.finish()
        self.assertEqual(code, 0, "".join(proc.stderr)[-3000:])
        checkpoint = [e for e in rest if e["type"] == "checkpoint"]
        done = rest[-1]
        self.assertEqual(done["type"], "done")
        self.assertEqual(done["status"], "cancelled")
        self.assertEqual(len(checkpoint), 1)
        self.assertEqual(checkpoint[0]["reason"], "cancel")
        self.assertEqual(checkpoint[0]["step"], done["completedSteps"])
        _, meta = safetensors_io.read(checkpoint[0]["path"])
        self.assertEqual((meta["reason"], meta["step"]), ("cancel", str(done["completedSteps"])))

    def test_cancel_line_writes_a_checkpoint(self):
        self._cancel("line")

    def test_closing_stdin_cancels(self):
        self._cancel("eof")

    def test_ctrl_c_cancels_like_the_cancel_line(self):
        self._cancel("sigint")

    def test_errors_are_events(self):
        code, events, err = ldtest.run(ldtest.ld_torch("train", "--request", request(self.dir, self.images, os.path.join(self.dir, "bad"), size=40)))
        self.assertNotEqual(code, 0)
        self.assertEqual(events[-1]["type"], "error")
        self.assertIn("multiple of 16", events[-1]["message"])
        self.assertIn("Traceback", err)


if __name__ == "__main__":
    unittest.main()
