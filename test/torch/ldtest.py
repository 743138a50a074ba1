"""Shared helpers for the PyTorch-engine tests: synthetic prepared images in the PROTOCOL.md format and a
runner for `python -m ld_torch`. (Not a test module: unittest discovery only picks up test_*.py.)"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Tuple

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TORCH_DIR = os.path.join(REPO, "resources", "torch")
if TORCH_DIR not in sys.path:
    sys.path.insert(0, TORCH_DIR)

PYTHON = sys.executable  # run the tests with /usr/bin/python3 (the one with torch)


def base_size_for(crop: int) -> int:
    """prepare.ts baseSizeFor: the paper's 512/448 ratio."""
    return int(round(crop * 512 / 448))


def smooth_field(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    """A few random low-frequency cosines per channel, scaled to [0, 1]: structure at several scales so the
    augmentation and the losses have something to work on."""
    yy, xx = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
    out = np.zeros((size, size, channels), dtype=np.float64)
    for c in range(channels):
        for _ in range(6):
            fx, fy = rng.uniform(0.5, 6.0, size=2)
            phase = rng.uniform(0, 2 * np.pi)
            out[..., c] += rng.uniform(0.2, 1.0) * np.cos(2 * np.pi * (fx * xx + fy * yy) + phase)
        out[..., c] = (out[..., c] - out[..., c].min()) / (np.ptp(out[..., c]) + 1e-12)
    return out.astype(np.float32)


def write_images(directory: str, count: int, size: int, channels: int, seed: int = 0) -> dict:
    """Prepared-images file + index, as Node writes them (raw float32 HWC, offsets in floats)."""
    rng = np.random.default_rng(seed)
    path = os.path.join(directory, f"prepared-{size}-{channels}.f32")
    index, offset = [], 0
    with open(path, "wb") as fh:
        for i in range(count):
            img = smooth_field(rng, size, channels)
            fh.write(img.astype("<f4").tobytes())
            index.append({"id": f"synthetic-{i}.png", "size": size, "channels": channels, "offset": offset})
            offset += img.size
    return {"file": path, "index": index}


def tiny_config(**overrides) -> dict:
    c = {"stage": "both", "steps": 3, "stage1Steps": 1, "size": 32, "batch": 1, "channels": 1, "clusters": 4,
         "embedDim": 32, "lr": 1e-3, "lrHalveEvery": 2, "seed": 3, "checkpointEvery": 2}
    c.update(overrides)
    return c


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = TORCH_DIR + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONUNBUFFERED"] = "1"
    e["PYTHONFAULTHANDLER"] = "1"
    return e


def write_request(directory: str, request: dict, name: str = "request.json") -> str:
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(request, fh)
    return path


def run(args: List[str], stdin_text: Optional[str] = None, timeout: float = 120) -> Tuple[int, List[dict], str]:
    """Run a command and return (exit code, stdout events, stderr). stdin stays open for the whole run
    (closing it means cancel) unless `stdin_text` is given. Every stdout line must be a JSON object."""
    if stdin_text is None:
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                             cwd=REPO, text=True, start_new_session=True)
        out, err = _communicate_open(p, timeout)
        code = p.returncode
    else:
        proc = subprocess.run(args, input=stdin_text, env=env(), cwd=REPO, capture_output=True, text=True, timeout=timeout)
        out, err, code = proc.stdout, proc.stderr, proc.returncode
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    for e in events:
        assert isinstance(e, dict), f"stdout line is not a JSON object: {e!r}"
    return code, events, err


def _communicate_open(p: subprocess.Popen, timeout: float):
    """Read stdout/stderr to the end while keeping stdin open (so the child never sees EOF = cancel)."""
    import threading

    chunks = {"out": [], "err": []}

    def pump(stream, key):
        for line in stream:
            chunks[key].append(line)

    threads = [threading.Thread(target=pump, args=(p.stdout, "out")), threading.Thread(target=pump, args=(p.stderr, "err"))]
    for t in threads:
        t.start()
    timed_out = False
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        # the whole session (torchrun's workers too): first SIGABRT so faulthandler prints where each
        # Python process hangs, then SIGKILL
        for sig in (signal.SIGABRT, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            time.sleep(2)
    finally:
        p.stdin.close()
        for t in threads:
            t.join(timeout=10)
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
    out, err = "".join(chunks["out"]), "".join(chunks["err"])
    if timed_out:
        raise TimeoutError(f"{' '.join(p.args)} ran past {timeout} s\n--- stdout\n{out[-3000:]}\n--- stderr\n{err[-6000:]}")
    return out, err


def ld_torch(*args: str) -> List[str]:
    return [PYTHON, "-m", "ld_torch", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tempdir(test) -> str:
    d = tempfile.mkdtemp(prefix="ld-torch-test-")
    import shutil

    test.addCleanup(shutil.rmtree, d, ignore_errors=True)
    return d


class Streaming:
    """A running command whose stdout events arrive on a queue (for cancel tests)."""

    def __init__(self, args: List[str]):
        import queue
        import threading

        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env(), cwd=REPO, text=True, start_new_session=True)
        self.events: "queue.Queue[dict]" = queue.Queue()
        self.stderr: List[str] = []
        self._threads = [threading.Thread(target=self._pump_out, daemon=True),
                         threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True)]
        for t in self._threads:
            t.start()

    def _pump_out(self):
        for line in self.proc.stdout:
            if line.strip():
                self.events.put(json.loads(line))
        self.events.put({"type": "<eof>"})

    def next_event(self, timeout: float = 60) -> dict:
        return self.events.get(timeout=timeout)

    def wait_for(self, kind: str, timeout: float = 60) -> List[dict]:
        seen = []
        while True:
            e = self.next_event(timeout)
            seen.append(e)
            if e["type"] in (kind, "<eof>"):
                return seen

    def finish(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            for t in self._threads:
                t.join(timeout=10)
            self.proc.stdout.close()
            self.proc.stderr.close()
            if self.proc.stdin and not self.proc.stdin.closed:
                try:
                    self.proc.stdin.close()
                except BrokenPipeError:
                    pass
