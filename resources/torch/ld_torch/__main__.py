"""`python -m ld_torch <info|train|parity|export-onnx|finetune-seg> [--request file.json]` (PROTOCOL.md)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from . import events


def _info() -> int:
    import torch

    devices = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append({"index": i, "name": props.name, "memoryGiB": round(props.total_memory / 2**30, 2)})

    def version(module: str):
        try:
            return __import__(module).__version__
        except Exception:  # noqa: BLE001 (absent or broken: report null)
            return None

    events.emit({"python": sys.version, "executable": sys.executable, "torch": torch.__version__,
                 "cuda": torch.cuda.is_available(), "devices": devices, "torchvision": version("torchvision"),
                 "onnx": version("onnx")})
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # a bad command line is an error event too, not just usage text
        raise ValueError(f"{message} (usage: {self.format_usage().strip()})")


def main(argv=None) -> int:
    events.claim_stdout()
    parser = _Parser(prog="ld_torch", description="LD Studio's PyTorch engine")
    parser.add_argument("command", choices=["info", "train", "parity", "export-onnx", "finetune-seg"])
    parser.add_argument("--request", help="JSON request file (train, parity, export-onnx, finetune-seg)")
    try:
        args = parser.parse_args(argv)
        if args.command == "info":
            return _info()
        if not args.request:
            raise ValueError(f"'{args.command}' needs --request <file.json>")
        with open(args.request, encoding="utf-8") as fh:
            request = json.load(fh)
        if args.command == "train":
            from .train import run_train

            return run_train(request)
        if args.command == "parity":
            from .parity import run_parity

            return run_parity(request)
        if args.command == "finetune-seg":
            from .finetune_seg import run_finetune_seg

            return run_finetune_seg(request)
        from .export import run_export

        return run_export(request)
    except Exception as exc:  # noqa: BLE001 (every failure becomes an error event + a traceback on stderr)
        traceback.print_exc(file=sys.stderr)
        events.emit({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1


if __name__ == "__main__":
    code = main()
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        # torchrun worker: skip interpreter teardown, where gloo/NCCL destructors can block on peers that
        # have already gone (events are flushed line by line)
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
