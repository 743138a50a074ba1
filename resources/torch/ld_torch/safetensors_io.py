"""safetensors read/write with plain NumPy (the `safetensors` package is not a dependency).

Format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, and
"__metadata__": {str: str}}, then the raw little-endian tensor bytes. Only F32 is used by LD Studio.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Dict, Mapping, Tuple

import numpy as np


def encode(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    header: Dict[str, object] = {}
    if metadata:
        bad = [k for k, v in metadata.items() if not isinstance(v, str)]
        if bad:
            raise TypeError(f"safetensors metadata values must be strings: {bad}")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name, array in tensors.items():
        a = np.ascontiguousarray(array, dtype="<f4")
        nbytes = a.nbytes
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + nbytes]}
        blobs.append(a.tobytes())
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # align the data to 8 bytes, as the Node writer does
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def _sync_dir(directory: str) -> None:
    """Make the rename durable: until the folder is synced, a power cut can lose it (or leave a cut file)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; NTFS journals the rename anyway
    try:
        os.fsync(fd)
    except OSError:
        pass  # file systems that cannot sync a folder
    finally:
        os.close(fd)


def write(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> None:
    """Atomic and durable: a reader (Node polling the run folder) never sees a half-written checkpoint,
    and after a power cut the file is either whole or absent."""
    data = encode(tensors, metadata)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _sync_dir(directory)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def decode(buf: bytes, source: str = "checkpoint") -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    if len(buf) < 8:
        raise ValueError(f"{source}: file is too short to be a safetensors file")
    (length,) = struct.unpack("<Q", buf[:8])
    if 8 + length > len(buf):
        raise ValueError(f"{source}: truncated header (the file was cut short)")
    try:
        header = json.loads(buf[8 : 8 + length].decode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"{source}: the header is not valid JSON") from exc
    base = 8 + length
    metadata: Dict[str, str] = {}
    tensors: Dict[str, np.ndarray] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            metadata = {str(k): str(v) for k, v in entry.items()}
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{source}: tensor '{name}' has dtype {entry['dtype']}; only F32 is supported")
        start, end = entry["data_offsets"]
        if base + end > len(buf):
            raise ValueError(f"{source}: tensor '{name}' runs past the end of the file (truncated)")
        shape = tuple(int(d) for d in entry["shape"])
        # copy: the arrays must own their memory (they outlive `buf` and are written to by torch)
        tensors[name] = np.frombuffer(buf, dtype="<f4", count=(end - start) // 4, offset=base + start).reshape(shape).astype(np.float32)
    return tensors, metadata


def read(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    with open(path, "rb") as fh:
        return decode(fh.read(), path)
