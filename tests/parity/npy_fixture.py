# .npy files written by NumPy itself, for tests/test_npy.cpp: every dtype xg::load_npy reads, in
# C and Fortran order, 0-d and empty arrays, and format version 2.0. Values are simple formulas
# of the flat index that the test recomputes. Run: /usr/bin/python3 tests/parity/npy_fixture.py
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), a)


save("f32_2x3", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3))
save("f64_3x4_fortran", np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4) / 3))
save("i64_2x2x2_fortran", np.asfortranarray(np.arange(8, dtype=np.int64).reshape(2, 2, 2) - 4))
save("i32_5", np.array([-2147483648, -1, 0, 1, 2147483647], dtype=np.int32))
save("bool_2x3", np.arange(6).reshape(2, 3) % 2 == 0)
save("f64_scalar", np.array(2.5))
save("f32_0x3", np.zeros((0, 3), dtype=np.float32))
with open(os.path.join(OUT, "f32_v2.npy"), "wb") as f:
    a = np.arange(4, dtype=np.float32)
    npformat.write_array(f, a, version=(2, 0))
save("u8_rejected", np.arange(3, dtype=np.uint8))
save("f64_bigendian_rejected", np.arange(3, dtype=">f8"))
