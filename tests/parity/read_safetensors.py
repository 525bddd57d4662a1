"""A small safetensors reader with json + numpy only (the `safetensors` package is not needed).

It checks what xgrad's loader checks (header length, JSON, dtypes, offsets covering the data
exactly) and, when the file carries them, xgrad's CRC-32s (docs/checkpoints.md):
    __metadata__["xgrad.crc32.<name>"]    crc32 of the tensor's bytes, 8 lowercase hex digits
    __metadata__["xgrad.header_crc32"]    crc32 of the header without that entry, written as
                                          json.dumps(h, sort_keys=True, separators=(",", ":"),
                                          ensure_ascii=False).encode("utf-8")

    /usr/bin/python3 tests/parity/read_safetensors.py FILE...      # list the tensors
    /usr/bin/python3 tests/parity/read_safetensors.py --check-xgrad  # check the C++-written fixture
"""
import json
import os
import struct
import sys
import zlib

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
HEADER_CRC = "xgrad.header_crc32"
CRC_PREFIX = "xgrad.crc32."


def header_crc(header):
    h = json.loads(json.dumps(header))
    h.get("__metadata__", {}).pop(HEADER_CRC, None)
    canon = json.dumps(h, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{zlib.crc32(canon.encode('utf-8')):08x}"


def read(path):
    """Returns (list of (name, array) in data order, metadata dict without xgrad keys, checked)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} past the file")
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    meta = header.pop("__metadata__", {})
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    at = 0
    out = []
    for name, e in entries:
        dt = DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.uint64)) if e["shape"] else 1
        if b != at or end - b != count * dt.itemsize or end > len(data):
            raise ValueError(f"{path}: tensor {name!r}: bad data_offsets {e['data_offsets']}")
        raw = data[b:end]
        if CRC_PREFIX + name in meta and meta[CRC_PREFIX + name] != f"{zlib.crc32(raw):08x}":
            raise ValueError(f"{path}: tensor {name!r}: checksum mismatch")
        out.append((name, np.frombuffer(raw, dtype=dt).reshape(e["shape"])))
        at = end
    if at != len(data):
        raise ValueError(f"{path}: {len(data) - at} trailing bytes")
    checked = HEADER_CRC in meta
    if checked:
        full = dict(header, __metadata__=meta)
        if meta[HEADER_CRC] != header_crc(full):
            raise ValueError(f"{path}: header checksum mismatch")
        if any(CRC_PREFIX + name not in meta for name, _ in out):
            raise ValueError(f"{path}: a tensor has no checksum")
    user = {k: v for k, v in meta.items() if not k.startswith("xgrad.")}
    return out, user, checked


def check_xgrad_fixture():
    """The file written by tests/test_serialize.cpp ("the writer is deterministic ...")."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "fixtures", "checkpoints", "xgrad_written.safetensors")
    tensors, meta, checked = read(path)
    assert checked, "no xgrad checksums"
    assert [n for n, _ in tensors] == ["a", "b", "c", "empty"], tensors
    t = dict(tensors)
    assert t["a"].dtype == np.float32 and t["a"].shape == (2, 3)
    assert (t["a"] == np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1).all()
    assert t["b"].dtype == np.float64 and t["b"].shape == () and t["b"] == 0.1
    assert t["c"].dtype == np.int64 and list(t["c"]) == [-1, 0, 1099511627776]
    assert t["empty"].dtype == np.float32 and t["empty"].shape == (0, 3)
    assert meta == {"epoch": "3", "note": "héllo wörld"}, meta
    print(f"{path}: OK (4 tensors, checksums verified)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--check-xgrad"]:
        check_xgrad_fixture()
    else:
        for p in sys.argv[1:]:
            tensors, meta, checked = read(p)
            print(f"{p}: metadata {meta}, xgrad checksums {'verified' if checked else 'absent'}")
            for name, a in tensors:
                print(f"  {name}: {a.dtype} {list(a.shape)}")
