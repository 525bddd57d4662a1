#pragma once
// Checkpoint files: named tensors plus string metadata in the safetensors layout, with a CRC-32
// per tensor and for the header, written atomically. docs/checkpoints.md has the layout, the
// checksum scheme and the list of checks the loader makes.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/named_tensors.hpp"
#include "core/tensor.hpp"

namespace xg {

// What a file must hold for one tensor (the validating loader takes a list of them).
struct TensorSpec {
    std::string name;
    Dtype dtype = float32;
    Shape shape;
};

// The header of a file: tensors in file order (by data offset) and the caller's metadata.
struct SafetensorsHeader {
    std::vector<TensorSpec> tensors;
    std::map<std::string, std::string> metadata;  // without the reserved "xgrad." keys
    bool checksummed = false;  // false: written by another tool, without xgrad's CRCs
};

struct SafetensorsFile {
    NamedTensors tensors;                         // in file order (by data offset)
    std::map<std::string, std::string> metadata;  // without the reserved "xgrad." keys
    bool checksummed = false;  // false: written by another tool, without xgrad's CRCs
    bool contains(const std::string& name) const;
    const Tensor& at(const std::string& name) const;  // throws xg::Error if absent
};

// Writes tensors (float32 -> F32, float64 -> F64, int64 -> I64) and metadata to path,
// atomically: a crash leaves either the old file or the new one. Names must be unique and
// non-empty; metadata keys starting with "xgrad." are reserved. Throws xg::Error naming the file.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and checks a whole file; a bad file throws xg::Error naming the file, the tensor and
// the problem. Files without xgrad's checksums (other writers) load with checksummed = false.
SafetensorsFile load_safetensors(const std::string& path);

// As above, and the file must hold exactly the expected names with those dtypes and shapes
// (extra names allowed if allow_unexpected). Checked before any tensor data is read.
SafetensorsFile load_safetensors(const std::string& path, const std::vector<TensorSpec>& expected,
                                 bool allow_unexpected = false);

// The header only (names, dtypes, shapes, metadata), fully validated against the file size.
SafetensorsHeader read_safetensors_header(const std::string& path);

// The spec a set of tensors would be checked against, e.g. tensor_specs(model.state_dict()).
std::vector<TensorSpec> tensor_specs(const NamedTensors& tensors);

// A training state as one flat list: {"model", sd}, {"optim", st} -> "model.w", "optim.step".
// Group names must be non-empty and contain no '.'; the result's names must be unique.
NamedTensors flatten_groups(const std::vector<std::pair<std::string, NamedTensors>>& groups);
// The tensors under "<group>." with that prefix removed, in order (empty if none).
NamedTensors select_group(const NamedTensors& tensors, const std::string& group);

namespace detail {
// Writes the pieces, in order, to path atomically (a temporary file beside it, fsync, rename,
// fsync of the directory): a crash leaves the old file or the new one. Errors name op and path.
void write_file_atomically(const char* op, const std::string& path,
                           const std::vector<std::pair<const void*, std::size_t>>& pieces);
// For tests: called before each system call of a save ("open", "write", "fsync", "close",
// "rename", "fsync_dir"); returning true makes that call fail as if with an I/O error.
using SaveFaultHook = std::function<bool(const char* step)>;
void set_save_fault_hook(SaveFaultHook hook);
}  // namespace detail

}  // namespace xg
