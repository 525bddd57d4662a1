"""Writes a PyTorch Linear(4, 3)'s state_dict in the safetensors layout, by hand (struct + json;
the `safetensors` package is not needed), for tests/test_serialize.cpp:

    safetensors_linear.safetensors        weight, bias, num_calls (int64 0-d) and metadata
                                          {"format": "pt"}, with xgrad's CRC-32s (computed here,
                                          so the checksum scheme is reproduced outside xgrad)
    safetensors_linear_plain.safetensors  the same tensors as another writer would store them:
                                          no xgrad keys, JSON keys in another order, spaced JSON
    safetensors_linear.x.npy              an input (float64, 5 x 4)
    safetensors_linear.y.npy              x @ W^T + b in float64 from the float32 weights

    /usr/bin/python3 tests/parity/safetensors_fixture.py
"""
import json
import os
import struct
import zlib

import numpy as np
import torch

from common import FIXTURES, rnd
from read_safetensors import header_crc, read

CODES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64"}


def write_safetensors(path, tensors, metadata, xgrad_checksums=True):
    header, blobs, offset = {}, [], 0
    meta = dict(metadata)
    for name, a in tensors:
        a = np.array(a, order="C")  # ascontiguousarray would make a 0-d array 1-d
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": CODES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
        if xgrad_checksums:
            meta[f"xgrad.crc32.{name}"] = f"{zlib.crc32(raw):08x}"
    if xgrad_checksums:
        meta["xgrad.format"] = "1"
        header = {"__metadata__": meta, **header}
        meta["xgrad.header_crc32"] = header_crc(header)
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    else:  # another writer: metadata last, tensors in reverse, default separators
        header = dict(reversed(list(header.items())))
        header["__metadata__"] = meta
        text = json.dumps(header)
    raw_header = text.encode("utf-8")
    raw_header += b" " * ((8 - len(raw_header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw_header)) + raw_header + b"".join(blobs))


def main():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    sd = lin.state_dict()
    tensors = [("weight", sd["weight"].numpy()), ("bias", sd["bias"].numpy()),
               ("num_calls", np.array(7, dtype=np.int64))]
    x = rnd(5, 4, seed=1)
    with torch.no_grad():
        y = torch.nn.functional.linear(x, sd["weight"].double(), sd["bias"].double())
    out = os.path.join(FIXTURES, "checkpoints")  # not op fixtures: a folder of their own
    os.makedirs(out, exist_ok=True)
    p = os.path.join(out, "safetensors_linear.safetensors")
    plain = os.path.join(out, "safetensors_linear_plain.safetensors")
    write_safetensors(p, tensors, {"format": "pt"})
    write_safetensors(plain, tensors, {"format": "pt"}, xgrad_checksums=False)
    np.save(os.path.join(out, "safetensors_linear.x.npy"), x.numpy())
    np.save(os.path.join(out, "safetensors_linear.y.npy"), y.numpy())
    for f, checked in ((p, True), (plain, False)):  # read back with the independent reader
        back, meta, c = read(f)
        assert c == checked and meta == {"format": "pt"}
        assert all((a == b).all() for (_, a), (_, b) in zip(back, tensors))


if __name__ == "__main__":
    main()
