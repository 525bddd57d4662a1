#pragma once
// NumPy's .npy files, as np.save / np.load write and read them: the way arrays move between
// xgrad and Python without torch. docs/checkpoints.md lists the checks the reader makes.
#include <string>

#include "core/tensor.hpp"

namespace xg {

// Reads a .npy file (format version 1.0, 2.0 or 3.0) of dtype float32, float64, int64, int32 or
// bool ('<f4', '<f8', '<i8', '<i4', '|b1'), in C or Fortran order (a Fortran-order file is
// returned row-major, with the same values at the same indices, as np.load gives). Anything
// else, and a file that is cut short, longer than its header says, or whose header lies, throws
// xg::Error naming the file and the problem.
Tensor load_npy(const std::string& path);

// Writes t as a .npy file (version 1.0, C order, little-endian, np.load reads it), atomically:
// a crash leaves the old file or the new one. Throws xg::Error naming the file.
void save_npy(const std::string& path, const Tensor& t);

}  // namespace xg
