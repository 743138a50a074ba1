"""The JSON-lines channel to the Node side (PROTOCOL.md) and the stdin cancel reader.

stdout belongs to the protocol: `claim_stdout()` keeps a private copy of file descriptor 1 for events and
points fd 1 (and sys.stdout) at stderr, so stray prints from libraries, Python or C, can never corrupt it.
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from typing import Any, Optional, TextIO

_stream: Optional[TextIO] = None
_lock = threading.Lock()


def claim_stdout() -> None:
    global _stream
    if _stream is not None:
        return
    sys.stdout.flush()
    _stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _clean(value: Any) -> Any:
    """JSON has no NaN/Infinity (JSON.parse rejects them): non-finite numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emit(event: dict) -> None:
    line = json.dumps(_clean(event), allow_nan=False, separators=(",", ":"))
    with _lock:
        stream = _stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CancelWatcher:
    """Sets `requested` when the parent asks to stop:
    - stdin (when `read_stdin`, i.e. on global rank 0): the line `cancel`, or end of file (the parent closed
      the pipe or died); other lines are ignored;
    - SIGINT/SIGTERM (every rank): Ctrl+C in a terminal reaches the whole process group, and torchrun
      forwards SIGTERM to its workers, so the first one also means "finish the step, checkpoint, stop". A
      second signal gets the default behaviour (stop at once)."""

    def __init__(self, read_stdin: bool = True, stream: Optional[TextIO] = None):
        self._event = threading.Event()
        self._signals = 0
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        if read_stdin:
            self._stream = stream if stream is not None else sys.stdin
            threading.Thread(target=self._read, name="ld-cancel", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._stream or ():  # no stdin at all counts as closed
                if line.strip() == "cancel":
                    break
        except (OSError, ValueError):
            pass
        self._event.set()

    def _on_signal(self, signum, _frame) -> None:
        self._signals += 1
        if self._signals > 1:
            signal.signal(signum, self._previous.get(signum) or signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        log(f"{signal.Signals(signum).name}: stopping after this step (send it again to stop at once)")
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()
