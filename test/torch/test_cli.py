"""The command line: `info` and errors as events."""
import unittest

import ldtest


class Cli(unittest.TestCase):
    def test_info_is_one_json_line(self):
        code, events, err = ldtest.run(ldtest.ld_torch("info"))
        self.assertEqual(code, 0, err)
        self.assertEqual(len(events), 1)
        info = events[0]
        self.assertEqual(set(info), {"python", "executable", "torch", "cuda", "devices", "torchvision", "onnx"})
        self.assertIsInstance(info["cuda"], bool)
        self.assertIsInstance(info["devices"], list)

    def test_bad_command_line_and_missing_request_are_error_events(self):
        for args in (["frobnicate"], ["train"], ["parity", "--request", "/nonexistent/request.json"]):
            code, events, _ = ldtest.run(ldtest.ld_torch(*args))
            self.assertNotEqual(code, 0, args)
            self.assertEqual([e["type"] for e in events], ["error"], args)


if __name__ == "__main__":
    unittest.main()
