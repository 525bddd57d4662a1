#include "core/serialize.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; xgrad writes the host's bytes as they are");

namespace xg {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::uint64_t kMaxHeader = 100'000'000;  // the reference implementation's cap
constexpr std::size_t kMaxRank = 64;
const std::string kReserved = "xgrad.";
const std::string kFormatKey = "xgrad.format";
const std::string kFormatVersion = "1";
const std::string kHeaderCrcKey = "xgrad.header_crc32";
const std::string kCrcPrefix = "xgrad.crc32.";

detail::SaveFaultHook& fault_hook() {
    static detail::SaveFaultHook hook;
    return hook;
}

// True (with errno set) when the test hook asks this step to fail.
bool injected(const char* step) {
    if (fault_hook() && fault_hook()(step)) {
        errno = std::strcmp(step, "write") == 0 ? ENOSPC : EIO;
        return true;
    }
    return false;
}

const char* st_dtype(Dtype d) {
    switch (d) {
        case Dtype::float32:
            return "F32";
        case Dtype::float64:
            return "F64";
        case Dtype::int64:
            return "I64";
        case Dtype::int32:
            return "I32";
        case Dtype::bool_:
            return "BOOL";
    }
    return "?";
}

std::size_t elem_size(Dtype d) {
    return dtype_size(d);
}

std::uint32_t crc_of(const void* p, std::size_t n) {
    return static_cast<std::uint32_t>(
        crc32_z(crc32_z(0L, Z_NULL, 0), static_cast<const Bytef*>(p), n));
}

std::string hex8(std::uint32_t v) {
    return fmt::format("{:08x}", v);
}

// Raw bytes of a tensor's (contiguous, row-major) array.
std::pair<const void*, std::size_t> bytes_of(const Tensor& t) {
    switch (t.dtype()) {
        case Dtype::float32: {
            const auto& a = t.data<float>();
            return {a.data(), a.size() * sizeof(float)};
        }
        case Dtype::float64: {
            const auto& a = t.data<double>();
            return {a.data(), a.size() * sizeof(double)};
        }
        case Dtype::int64: {
            const auto& a = t.data<std::int64_t>();
            return {a.data(), a.size() * sizeof(std::int64_t)};
        }
        case Dtype::int32: {
            const auto& a = t.data<std::int32_t>();
            return {a.data(), a.size() * sizeof(std::int32_t)};
        }
        case Dtype::bool_: {
            const auto& a = t.data<bool>();
            return {a.data(), a.size() * sizeof(bool)};
        }
    }
    return {nullptr, 0};
}

// CRC-32 of the header with its own checksum entry removed, keys sorted at every level, no
// whitespace, strings as UTF-8 (Python: json.dumps(h, sort_keys=True, separators=(",", ":"),
// ensure_ascii=False)).
std::uint32_t header_crc(const std::string& json_text) {
    nlohmann::json h = nlohmann::json::parse(json_text);
    auto m = h.find("__metadata__");
    if (m != h.end() && m->is_object()) m->erase(kHeaderCrcKey);
    std::string canon = h.dump();
    return crc_of(canon.data(), canon.size());
}

// ---- saving --------------------------------------------------------------------------------

std::string sys_error(const char* op, const std::string& path, const std::string& what) {
    return fmt::format("{}: {}: {} failed: {}", op, path, what, std::strerror(errno));
}

// The temporary file of one save: removed unless committed.
struct TempFile {
    std::string path;
    int fd = -1;
    bool committed = false;
    ~TempFile() {
        if (fd >= 0) ::close(fd);
        if (!committed && !path.empty()) ::unlink(path.c_str());
    }
};

std::string temp_prefix(const std::string& base) {
    return "." + base + ".tmp-";
}

// Removes temporaries of earlier saves to the same file whose process is gone (killed mid-save).
void remove_stale_temps(const std::string& dir, const std::string& base) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::string prefix = temp_prefix(base);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH)
            ::unlink((dir + "/" + name).c_str());
    }
    ::closedir(d);
}

void write_all(int fd, const void* p, std::size_t n, const char* op, const std::string& path) {
    const char* c = static_cast<const char*>(p);
    do {  // at least one call, so an empty tensor still meets the fault hook
        std::size_t chunk = std::min<std::size_t>(n, std::size_t(1) << 30);
        ssize_t w = injected("write") ? -1 : ::write(fd, c, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw Error(sys_error(op, path, "write"));
        c += w;
        n -= static_cast<std::size_t>(w);
    } while (n > 0);
}

std::string build_header(const std::string& path, const NamedTensors& tensors,
                         const std::map<std::string, std::string>& metadata) {
    for (const auto& [name, t] : tensors) {  // names are unique (NamedTensors)
        XG_CHECK(!name.empty(), "save_safetensors: {}: a tensor has an empty name", path);
        XG_CHECK(name != "__metadata__", "save_safetensors: {}: '__metadata__' is reserved", path);
        XG_CHECK(t.defined(), "save_safetensors: {}: tensor '{}' is undefined", path, name);
    }
    ojson meta = ojson::object();
    for (const auto& [k, v] : metadata) {
        XG_CHECK(k.compare(0, kReserved.size(), kReserved) != 0,
                 "save_safetensors: {}: metadata key '{}' uses the reserved prefix 'xgrad.'", path,
                 k);
        meta[k] = v;
    }
    meta[kFormatKey] = kFormatVersion;
    ojson full = ojson::object();
    full["__metadata__"] = ojson::object();  // first, as the reference writer puts it
    std::uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        auto [p, n] = bytes_of(t);
        meta[kCrcPrefix + name] = hex8(crc_of(p, n));
        ojson e = ojson::object();
        e["dtype"] = st_dtype(t.dtype());
        e["shape"] = ojson::array();
        for (auto d : t.shape()) e["shape"].push_back(static_cast<std::uint64_t>(d));
        e["data_offsets"] = {offset, offset + n};
        offset += n;
        full[name] = std::move(e);
    }
    full["__metadata__"] = std::move(meta);
    try {
        std::string text = full.dump();  // throws on invalid UTF-8 in a name or value
        full["__metadata__"][kHeaderCrcKey] = hex8(header_crc(text));
        text = full.dump();
        text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
        return text;
    } catch (const nlohmann::json::exception& e) {
        throw Error(fmt::format(
            "save_safetensors: {}: a tensor name or metadata string is not valid UTF-8 ({})", path,
            e.what()));
    }
}

// ---- loading -------------------------------------------------------------------------------

struct Entry {
    TensorSpec spec;
    std::uint64_t begin = 0, end = 0;
    std::string crc;  // stored hex digits, if checksummed
};

struct Parsed {
    std::vector<Entry> entries;  // sorted by data offset
    std::map<std::string, std::string> metadata;
    bool checksummed = false;
    std::uint64_t data_start = 0;
};

// An open file, closed on scope exit.
struct InFile {
    int fd = -1;
    ~InFile() {
        if (fd >= 0) ::close(fd);
    }
};

bool read_at(int fd, void* p, std::size_t n, std::uint64_t off) {
    char* c = static_cast<char*>(p);
    while (n > 0) {
        ssize_t r =
            ::pread(fd, c, std::min<std::size_t>(n, std::size_t(1) << 30), static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        c += r;
        n -= static_cast<std::size_t>(r);
        off += static_cast<std::uint64_t>(r);
    }
    return true;
}

bool is_hex8(const std::string& s) {
    return s.size() == 8 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string in_quotes(const std::string& s) {
    return "'" + s + "'";
}

class Loader {
  public:
    Loader(std::string fn, std::string path) : fn_(std::move(fn)), path_(std::move(path)) {}

    template <class... Args>
    [[noreturn]] void fail(const char* f, Args&&... args) const {
        throw Error(fmt::format("{}: {}: ", fn_, path_) +
                    fmt::format(fmt::runtime(f), std::forward<Args>(args)...));
    }

    Parsed parse(InFile& file) {
        file.fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (file.fd < 0) fail("cannot open: {}", std::strerror(errno));
        struct stat st {};
        if (::fstat(file.fd, &st) != 0) fail("cannot stat: {}", std::strerror(errno));
        if (!S_ISREG(st.st_mode)) fail("not a regular file");
        std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
        if (size < 8) fail("file is {} bytes, too short for the 8-byte header length", size);
        unsigned char len_bytes[8];
        if (!read_at(file.fd, len_bytes, 8, 0)) fail("cannot read the header length");
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
        if (n > kMaxHeader) fail("header length {} exceeds the limit of {} bytes", n, kMaxHeader);
        if (n > size - 8)
            fail("header length {} exceeds the {} bytes that follow it (truncated file?)", n,
                 size - 8);
        if (n < 2) fail("header length {} is too short for a JSON object", n);
        std::string text(static_cast<std::size_t>(n), '\0');
        if (!read_at(file.fd, text.data(), text.size(), 8)) fail("cannot read the header");
        Parsed out;
        out.data_start = 8 + n;
        parse_header(text, size - 8 - n, out);
        return out;
    }

    void parse_header(std::string& text, std::uint64_t data_size, Parsed& out) {
        if (text[0] != '{') fail("header does not start with '{{'");
        std::size_t last = text.find_last_not_of(' ');
        if (text[last] != '}')
            fail("header has bytes other than spaces after its JSON object (corrupt length?)");
        text.resize(last + 1);
        ojson h = parse_json(text);
        if (!h.is_object()) fail("header is not a JSON object");

        std::map<std::string, std::string> meta;
        for (auto& [name, v] : h.items()) {
            if (name == "__metadata__") {
                if (!v.is_object()) fail("__metadata__ is not an object");
                for (auto& [k, s] : v.items()) {
                    if (!s.is_string()) fail("metadata value of {} is not a string", in_quotes(k));
                    meta[k] = s.get<std::string>();
                }
                continue;
            }
            out.entries.push_back(parse_entry(name, v, data_size));
        }
        check_offsets(out.entries, data_size);
        check_checksums(text, meta, out);
    }

    ojson parse_json(const std::string& text) {
        // Duplicate keys would silently keep one value: refuse them. Depth is at most 3.
        std::vector<std::set<std::string>> keys;
        auto cb = [&](int, ojson::parse_event_t ev, ojson& parsed) {
            switch (ev) {
                case ojson::parse_event_t::object_start:
                case ojson::parse_event_t::array_start:
                    keys.emplace_back();
                    if (keys.size() > 3) fail("header nests deeper than a safetensors header");
                    break;
                case ojson::parse_event_t::object_end:
                case ojson::parse_event_t::array_end:
                    keys.pop_back();
                    break;
                case ojson::parse_event_t::key: {
                    const auto& k = parsed.get_ref<const std::string&>();
                    if (!keys.back().insert(k).second)
                        fail("header repeats the key {}", in_quotes(k));
                    break;
                }
                default:
                    break;
            }
            return true;
        };
        try {
            return ojson::parse(text, cb);
        } catch (const nlohmann::json::exception& e) {
            fail("header is not valid JSON ({})", e.what());
        }
    }

    Entry parse_entry(const std::string& name, const ojson& v, std::uint64_t data_size) {
        Entry e;
        e.spec.name = name;
        std::string t = "tensor " + in_quotes(name);
        if (name.empty()) fail("a tensor has an empty name");
        if (!v.is_object()) fail("{}: entry is not an object", t);
        for (auto& [k, _] : v.items()) {
            if (k != "dtype" && k != "shape" && k != "data_offsets")
                fail("{}: unknown field {}", t, in_quotes(k));
        }
        auto dt = v.find("dtype");
        if (dt == v.end() || !dt->is_string()) fail("{}: missing or non-string dtype", t);
        std::string d = dt->get<std::string>();
        if (d == "F32") {
            e.spec.dtype = float32;
        } else if (d == "F64") {
            e.spec.dtype = float64;
        } else if (d == "I64") {
            e.spec.dtype = int64;
        } else if (d == "I32") {
            e.spec.dtype = int32;
        } else if (d == "BOOL") {
            e.spec.dtype = bool_;
        } else {
            static const std::set<std::string> known = {"U8",   "I8",  "U16", "I16",     "F16",
                                                        "BF16", "U32", "U64", "F8_E4M3", "F8_E5M2"};
            fail("{}: {} dtype {} (xgrad reads F32, F64, I64, I32 and BOOL)", t,
                 known.count(d) ? "unsupported" : "unknown", in_quotes(d));
        }
        auto sh = v.find("shape");
        if (sh == v.end() || !sh->is_array()) fail("{}: missing or non-array shape", t);
        if (sh->size() > kMaxRank) fail("{}: rank {} exceeds {}", t, sh->size(), kMaxRank);
        std::uint64_t numel = 1;
        bool overflow = false;
        for (const auto& dim : *sh) {
            if (!dim.is_number_unsigned()) fail("{}: shape holds {}, not a size", t, dim.dump());
            std::uint64_t x = dim.get<std::uint64_t>();
            overflow = overflow || __builtin_mul_overflow(numel, x, &numel);
            e.spec.shape.push_back(static_cast<std::size_t>(x));
        }
        std::uint64_t bytes = 0;
        overflow = overflow || __builtin_mul_overflow(numel, elem_size(e.spec.dtype), &bytes);
        // A zero dimension makes the product 0 in any order; without one, overflow is fatal.
        bool has_zero = std::find(e.spec.shape.begin(), e.spec.shape.end(), std::size_t(0)) !=
                        e.spec.shape.end();
        if (overflow && !has_zero) fail("{}: shape {} overflows 64 bits in bytes", t, e.spec.shape);
        if (has_zero) bytes = 0;
        auto off = v.find("data_offsets");
        if (off == v.end() || !off->is_array() || off->size() != 2 ||
            !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
            fail("{}: data_offsets must be two unsigned integers", t);
        e.begin = (*off)[0].get<std::uint64_t>();
        e.end = (*off)[1].get<std::uint64_t>();
        if (e.begin > e.end) fail("{}: data_offsets [{}, {}] are reversed", t, e.begin, e.end);
        if (e.end > data_size)
            fail("{}: data_offsets [{}, {}] run past the {}-byte data buffer", t, e.begin, e.end,
                 data_size);
        if (e.end - e.begin != bytes)
            fail("{}: data_offsets [{}, {}] span {} bytes, {} shape {} needs {}", t, e.begin, e.end,
                 e.end - e.begin, d, e.spec.shape, bytes);
        return e;
    }

    void check_offsets(std::vector<Entry>& es, std::uint64_t data_size) {
        std::stable_sort(es.begin(), es.end(), [](const Entry& a, const Entry& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
        std::uint64_t at = 0;
        for (const auto& e : es) {
            if (e.begin < at)
                fail("tensor {}: data_offsets [{}, {}] overlap the previous tensor (ending at {})",
                     in_quotes(e.spec.name), e.begin, e.end, at);
            if (e.begin > at)
                fail("tensor {}: data_offsets [{}, {}] leave a gap after byte {}",
                     in_quotes(e.spec.name), e.begin, e.end, at);
            at = e.end;
        }
        if (at != data_size)
            fail("the tensors cover {} bytes of the {}-byte data buffer (trailing bytes)", at,
                 data_size);
    }

    void check_checksums(const std::string& text, std::map<std::string, std::string>& meta,
                         Parsed& out) {
        bool any = std::any_of(meta.begin(), meta.end(), [](const auto& kv) {
            return kv.first.compare(0, kReserved.size(), kReserved) == 0;
        });
        if (any) {
            auto fmt_it = meta.find(kFormatKey);
            if (fmt_it == meta.end()) fail("metadata lacks {}", kFormatKey);
            if (fmt_it->second != kFormatVersion)
                fail("xgrad format version {} is not supported (this build reads {})",
                     in_quotes(fmt_it->second), kFormatVersion);
            auto hc = meta.find(kHeaderCrcKey);
            if (hc == meta.end()) fail("metadata lacks the header checksum {}", kHeaderCrcKey);
            if (!is_hex8(hc->second))
                fail("header checksum {} is not 8 hex digits", in_quotes(hc->second));
            std::string computed = hex8(header_crc(text));
            if (computed != hc->second)
                fail("header checksum mismatch (stored {}, computed {}): the file is corrupt",
                     hc->second, computed);
            std::set<std::string> names;
            for (auto& e : out.entries) {
                names.insert(e.spec.name);
                auto c = meta.find(kCrcPrefix + e.spec.name);
                if (c == meta.end())
                    fail("tensor {}: no checksum in the metadata", in_quotes(e.spec.name));
                if (!is_hex8(c->second))
                    fail("tensor {}: checksum {} is not 8 hex digits", in_quotes(e.spec.name),
                         in_quotes(c->second));
                e.crc = c->second;
            }
            for (const auto& [k, _] : meta) {
                if (k == kFormatKey || k == kHeaderCrcKey) continue;
                if (k.compare(0, kCrcPrefix.size(), kCrcPrefix) == 0 &&
                    names.count(k.substr(kCrcPrefix.size())))
                    continue;
                if (k.compare(0, kReserved.size(), kReserved) == 0)
                    fail("unknown reserved metadata key {}", in_quotes(k));
            }
            for (auto it = meta.begin(); it != meta.end();) {
                if (it->first.compare(0, kReserved.size(), kReserved) == 0)
                    it = meta.erase(it);
                else
                    ++it;
            }
        }
        out.checksummed = any;
        out.metadata = std::move(meta);
    }

    void check_expected(const Parsed& p, const std::vector<TensorSpec>& expected,
                        bool allow_unexpected) {
        std::map<std::string, const TensorSpec*> have;
        for (const auto& e : p.entries) have[e.spec.name] = &e.spec;
        std::vector<std::string> problems;
        std::set<std::string> wanted;
        for (const auto& s : expected) {
            wanted.insert(s.name);
            auto it = have.find(s.name);
            if (it == have.end()) {
                problems.push_back(fmt::format("missing tensor {}", in_quotes(s.name)));
            } else if (it->second->dtype != s.dtype) {
                problems.push_back(fmt::format("tensor {} has dtype {}, expected {}",
                                               in_quotes(s.name), it->second->dtype, s.dtype));
            } else if (it->second->shape != s.shape) {
                problems.push_back(fmt::format("tensor {} has shape {}, expected {}",
                                               in_quotes(s.name), it->second->shape, s.shape));
            }
        }
        if (!allow_unexpected) {
            for (const auto& e : p.entries) {
                if (!wanted.count(e.spec.name))
                    problems.push_back(fmt::format("unexpected tensor {}", in_quotes(e.spec.name)));
            }
        }
        if (!problems.empty()) fail("{}", fmt::join(problems, "; "));
    }

    template <class T>
    Tensor read_tensor(int fd, const Entry& e, std::uint64_t data_start) {
        xg::array<T> a(e.spec.shape);  // size already checked against the file
        std::size_t n = a.size() * sizeof(T);
        if (!read_at(fd, a.data(), n, data_start + e.begin))
            fail("tensor {}: unexpected end of file (was it changed while loading?)",
                 in_quotes(e.spec.name));
        if (!e.crc.empty()) {
            std::string computed = hex8(crc_of(a.data(), n));
            if (computed != e.crc)
                fail("tensor {}: checksum mismatch (stored {}, computed {}): the file is corrupt",
                     in_quotes(e.spec.name), e.crc, computed);
        }
        return Tensor(std::move(a));
    }

    // A bool byte other than 0 or 1 would be undefined behaviour once read as bool.
    Tensor read_bool(int fd, const Entry& e, std::uint64_t data_start) {
        Tensor t = read_tensor<bool>(fd, e, data_start);
        const auto& a = t.data<bool>();
        const auto* bytes = reinterpret_cast<const unsigned char*>(a.data());
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (bytes[i] > 1)
                fail("tensor {}: BOOL element {} holds byte {}, not 0 or 1", in_quotes(e.spec.name),
                     i, bytes[i]);
        }
        return t;
    }

    SafetensorsFile load(const std::vector<TensorSpec>* expected, bool allow_unexpected) {
        InFile file;
        Parsed p = parse(file);
        if (expected) check_expected(p, *expected, allow_unexpected);
        SafetensorsFile out;
        for (const auto& e : p.entries) {
            Tensor t;
            switch (e.spec.dtype) {
                case Dtype::float32:
                    t = read_tensor<float>(file.fd, e, p.data_start);
                    break;
                case Dtype::float64:
                    t = read_tensor<double>(file.fd, e, p.data_start);
                    break;
                case Dtype::int64:
                    t = read_tensor<std::int64_t>(file.fd, e, p.data_start);
                    break;
                case Dtype::int32:
                    t = read_tensor<std::int32_t>(file.fd, e, p.data_start);
                    break;
                case Dtype::bool_:
                    t = read_bool(file.fd, e, p.data_start);
                    break;
            }
            out.tensors.insert(e.spec.name, std::move(t));
        }
        out.metadata = std::move(p.metadata);
        out.checksummed = p.checksummed;
        return out;
    }

  private:
    std::string fn_, path_;
};

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::string header = build_header(path, tensors, metadata);  // all checks before any I/O
    unsigned char len_bytes[8];
    std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(n >> (8 * i));
    std::vector<std::pair<const void*, std::size_t>> pieces{{len_bytes, 8},
                                                            {header.data(), header.size()}};
    for (const auto& [name, t] : tensors) pieces.push_back(bytes_of(t));
    detail::write_file_atomically("save_safetensors", path, pieces);
}

SafetensorsFile load_safetensors(const std::string& path) {
    return Loader("load_safetensors", path).load(nullptr, false);
}

SafetensorsFile load_safetensors(const std::string& path, const std::vector<TensorSpec>& expected,
                                 bool allow_unexpected) {
    return Loader("load_safetensors", path).load(&expected, allow_unexpected);
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
    InFile file;
    Parsed p = Loader("read_safetensors_header", path).parse(file);
    SafetensorsHeader h;
    for (auto& e : p.entries) h.tensors.push_back(std::move(e.spec));
    h.metadata = std::move(p.metadata);
    h.checksummed = p.checksummed;
    return h;
}

bool SafetensorsFile::contains(const std::string& name) const {
    return tensors.contains(name);
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
    XG_CHECK(tensors.contains(name), "SafetensorsFile::at: no tensor named '{}'", name);
    return tensors.at(name);
}

std::vector<TensorSpec> tensor_specs(const NamedTensors& tensors) {
    std::vector<TensorSpec> out;
    for (const auto& [name, t] : tensors) {
        XG_CHECK(t.defined(), "tensor_specs: tensor '{}' is undefined", name);
        out.push_back({name, t.dtype(), t.shape()});
    }
    return out;
}

NamedTensors flatten_groups(const std::vector<std::pair<std::string, NamedTensors>>& groups) {
    NamedTensors out;
    std::set<std::string> seen;
    for (const auto& [g, ts] : groups) {
        XG_CHECK(!g.empty() && g.find('.') == std::string::npos,
                 "flatten_groups: group name '{}' must be non-empty and contain no '.'", g);
        for (const auto& [name, t] : ts) {
            std::string full = g + "." + name;
            XG_CHECK(seen.insert(full).second, "flatten_groups: duplicate name '{}'", full);
            out.insert(std::move(full), t);
        }
    }
    return out;
}

NamedTensors select_group(const NamedTensors& tensors, const std::string& group) {
    std::string prefix = group + ".";
    NamedTensors out;
    for (const auto& [name, t] : tensors) {
        if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
            out.insert(name.substr(prefix.size()), t);
    }
    return out;
}

namespace detail {

void write_file_atomically(const char* op, const std::string& path,
                           const std::vector<std::pair<const void*, std::size_t>>& pieces) {
    namespace fs = std::filesystem;
    fs::path target(path);
    std::string base = target.filename().string();
    XG_CHECK(!base.empty() && base != "." && base != "..", "{}: {}: path does not name a file", op,
             path);
    std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
    remove_stale_temps(dir, base);

    TempFile tmp;
    std::mt19937_64 rng(
        std::random_device{}() ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    tmp.path = fmt::format("{}/{}{}-{:016x}", dir, temp_prefix(base), ::getpid(), rng());
    tmp.fd = injected("open")
                 ? -1
                 : ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (tmp.fd < 0) {
        std::string msg = sys_error(op, path, "creating a temporary file in " + dir);
        tmp.path.clear();  // nothing to remove
        throw Error(msg);
    }
    for (const auto& [p, bytes] : pieces) write_all(tmp.fd, p, bytes, op, path);
    if (injected("fsync") || ::fsync(tmp.fd) != 0) throw Error(sys_error(op, path, "fsync"));
    int fd = tmp.fd;
    tmp.fd = -1;
    if (injected("close") || ::close(fd) != 0) throw Error(sys_error(op, path, "close"));
    if (injected("rename") || ::rename(tmp.path.c_str(), path.c_str()) != 0)
        throw Error(sys_error(op, path, "rename over the target"));
    tmp.committed = true;
    // Make the rename itself durable.
    int dfd = injected("fsync_dir") ? -1 : ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = dfd >= 0 && ::fsync(dfd) == 0;
    int saved = errno;
    if (dfd >= 0) ::close(dfd);
    errno = saved;
    if (!ok) throw Error(sys_error(op, path, "saved, but syncing its directory"));
}

void set_save_fault_hook(SaveFaultHook hook) {
    fault_hook() = std::move(hook);
}
}  // namespace detail

}  // namespace xg
