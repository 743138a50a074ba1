"""DDP: two gloo processes under torchrun on the CPU, 2 steps at size 32."""
import os
import unittest

import ldtest

from ld_torch import safetensors_io


class Ddp(unittest.TestCase):
    def test_two_process_gloo_run(self):
        d = ldtest.tempdir(self)
        images = ldtest.write_images(d, 3, ldtest.base_size_for(32), 1, seed=2)
        req = ldtest.write_request(d, {"runDir": os.path.join(d, "run"), "images": images, "device": "cpu", "resumeFrom": None,
                                       "config": ldtest.tiny_config(steps=2, stage1Steps=1, checkpointEvery=1000)})
        code, events, err = ldtest.run([ldtest.PYTHON, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                                        "--master_addr", "127.0.0.1", "--master_port", str(ldtest.free_port()),
                                        "-m", "ld_torch", "train", "--request", req], timeout=120)
        self.assertEqual(code, 0, err[-4000:])
        # only rank 0 speaks
        self.assertEqual([e["type"] for e in events], ["ready", "step", "step", "checkpoint", "done"])
        self.assertEqual(events[0]["worldSize"], 2)
        self.assertEqual([e["stage"] for e in events if e["type"] == "step"], [1, 2])
        self.assertEqual(events[-1], {"type": "done", "status": "completed", "completedSteps": 2})
        tensors, meta = safetensors_io.read(events[3]["path"])
        self.assertEqual((meta["step"], meta["stage"], meta["reason"]), ("2", "2", "final"))
        self.assertIn("clu_1.bn.running_var", tensors)


if __name__ == "__main__":
    unittest.main()
