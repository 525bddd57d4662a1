#include "data/text.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"

namespace xg::data {

namespace fs = std::filesystem;

namespace {

// 'a' for a printable character, else its byte value, so a message never holds raw control
// bytes.
std::string describe(char c) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 32 && b < 127) return fmt::format("'{}' (byte {})", c, b);
    return fmt::format("byte {}", b);
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    XG_CHECK(in.good(), "TextFile: cannot open {}", p.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Fortune files end each entry with a line holding "%": that line becomes an empty one.
std::string fortune_separators_to_blank_lines(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t nl = s.find('\n', pos);
        const std::size_t end = nl == std::string::npos ? s.size() : nl;
        if (!(end - pos == 1 && s[pos] == '%')) out.append(s, pos, end - pos);
        if (nl != std::string::npos) out += '\n';
        pos = end + 1;
    }
    return out;
}

bool is_index_file(const fs::path& p) {
    const std::string ext = p.extension().string();
    const std::string name = p.filename().string();
    return ext == ".dat" || ext == ".u8" || name.empty() || name[0] == '.';
}

}  // namespace

CharVocab::CharVocab(std::string chars) : chars_(std::move(chars)) {
    for (std::size_t i = 0; i < chars_.size(); ++i) {
        XG_CHECK(i == 0 || static_cast<unsigned char>(chars_[i - 1]) <
                               static_cast<unsigned char>(chars_[i]),
                 "CharVocab: the characters must be distinct and sorted by byte value, but {} "
                 "follows {} at position {}",
                 describe(chars_[i]), describe(chars_[i - 1]), i);
        ids_[static_cast<unsigned char>(chars_[i])] = std::int64_t(i);
    }
}

CharVocab CharVocab::from_text(const std::string& text) {
    std::vector<bool> seen(256, false);
    for (char c : text) seen[static_cast<unsigned char>(c)] = true;
    std::string chars;
    for (int b = 0; b < 256; ++b)
        if (seen[std::size_t(b)]) chars += static_cast<char>(b);
    return CharVocab(std::move(chars));
}

std::int64_t CharVocab::id(char c) const {
    const std::int64_t i = ids_[static_cast<unsigned char>(c)];
    XG_CHECK(i >= 0, "CharVocab: the character {} is not in the vocabulary of {} characters",
             describe(c), chars_.size());
    return i;
}

char CharVocab::at(std::int64_t id) const {
    XG_CHECK(id >= 0 && std::size_t(id) < chars_.size(),
             "CharVocab: id {} is out of range for a vocabulary of {} characters", id,
             chars_.size());
    return chars_[std::size_t(id)];
}

std::vector<std::int64_t> CharVocab::encode(const std::string& text) const {
    std::vector<std::int64_t> ids;
    ids.reserve(text.size());
    for (char c : text) ids.push_back(id(c));
    return ids;
}

Tensor CharVocab::encode_tensor(const std::string& text) const {
    auto a = xg::array<std::int64_t>::from_shape({text.size()});
    std::int64_t* out = a.data();
    for (char c : text) *out++ = id(c);
    return Tensor(std::move(a));
}

std::string CharVocab::decode(const std::vector<std::int64_t>& ids) const {
    std::string s;
    s.reserve(ids.size());
    for (std::int64_t i : ids) s += at(i);
    return s;
}

std::string CharVocab::decode(const Tensor& ids) const {
    XG_CHECK(ids.defined() && (ids.dtype() == int64 || ids.dtype() == int32),
             "CharVocab::decode: ids must be an int64 or int32 tensor, got {}",
             ids.defined() ? dtype_name(ids.dtype()) : std::string("an undefined tensor"));
    std::vector<std::int64_t> v;
    for (double d : ids.to_vector()) v.push_back(static_cast<std::int64_t>(d));
    return decode(v);
}

std::string CharVocab::serialize() const {
    std::string s;
    for (char c : chars_) {
        if (!s.empty()) s += ',';
        s += std::to_string(static_cast<unsigned char>(c));
    }
    return s;
}

CharVocab CharVocab::parse(const std::string& text) {
    std::string chars;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        XG_CHECK(!item.empty() && end && *end == '\0' && v >= 0 && v < 256,
                 "CharVocab::parse: '{}' is not a byte value (0-255) in \"{}\"", item,
                 text.substr(0, 80));
        chars += static_cast<char>(v);
    }
    XG_CHECK(!chars.empty(), "CharVocab::parse: no characters in \"{}\"", text.substr(0, 80));
    return CharVocab(std::move(chars));
}

TextDataset::TextDataset(std::shared_ptr<const std::vector<std::int64_t>> tokens, std::size_t begin,
                         std::size_t end, std::int64_t context)
    : tokens_(std::move(tokens)), begin_(begin), end_(end), context_(context) {
    XG_CHECK(tokens_, "TextDataset: no tokens");
    XG_CHECK(begin <= end && end <= tokens_->size(),
             "TextDataset: the range [{}, {}) is not within the {} tokens", begin, end,
             tokens_->size());
    XG_CHECK(context >= 1, "TextDataset: the context must be at least 1, got {}", context);
    XG_CHECK(end - begin > std::size_t(context),
             "TextDataset: a context of {} needs at least {} tokens, but the range has {}", context,
             context + 1, end - begin);
    size_ = end - begin - std::size_t(context);
}

TextExample TextDataset::example(std::size_t i) const {
    TextBatch b = get_batch({i});
    return {b.context.reshape({context_}), b.target.reshape({context_})};
}

namespace transforms {
TextBatch Stack<TextExample>::operator()(std::vector<TextExample> examples) const {
    std::vector<Tensor> x, y;
    for (auto& e : examples) x.push_back(std::move(e.context)), y.push_back(std::move(e.target));
    return {detail::stack_tensors(x, "context"), detail::stack_tensors(y, "target")};
}
}  // namespace transforms

TextBatch TextDataset::get_batch(const std::vector<std::size_t>& indices) const {
    const std::size_t T = std::size_t(context_);
    auto x = xg::array<std::int64_t>::from_shape({indices.size(), T});
    auto y = xg::array<std::int64_t>::from_shape({indices.size(), T});
    for (std::size_t r = 0; r < indices.size(); ++r) {
        XG_CHECK(indices[r] < size_, "TextDataset: index {} is out of range for {} examples",
                 indices[r], size_);
        const std::int64_t* src = tokens_->data() + begin_ + indices[r];
        std::copy(src, src + T, x.data() + r * T);
        std::copy(src + 1, src + T + 1, y.data() + r * T);
    }
    return {Tensor(std::move(x)), Tensor(std::move(y))};
}

std::string read_text_corpus(const std::string& path) {
    const fs::path p(path);
    std::error_code ec;
    XG_CHECK(fs::exists(p, ec),
             "TextFile: {} does not exist: for the fortunes corpus install it with `apt-get "
             "install fortunes` (Debian; scripts/install_deps.sh run does it), or pass a text "
             "file or a directory of text files (or set XGRAD_TEXT_CORPUS)",
             path);
    std::string text;
    if (fs::is_directory(p, ec)) {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(p)) {
            if (e.is_symlink() || !e.is_regular_file() || is_index_file(e.path())) continue;
            files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        XG_CHECK(!files.empty(), "TextFile: the directory {} holds no text files", path);
        for (const auto& f : files) text += fortune_separators_to_blank_lines(read_file(f));
    } else {
        text = fortune_separators_to_blank_lines(read_file(p));
    }
    XG_CHECK(!text.empty(), "TextFile: the corpus {} is empty", path);
    return text;
}

TextFile::TextFile(const std::string& path, double val_fraction) {
    path_ = path;
    if (path_.empty()) {
        const char* env = std::getenv("XGRAD_TEXT_CORPUS");
        path_ = env && *env ? env : default_path();
    }
    text_ = read_text_corpus(path_);
    init(val_fraction);
}

TextFile TextFile::from_text(std::string text, double val_fraction, const std::string& name) {
    XG_CHECK(!text.empty(), "TextFile: the corpus {} is empty", name);
    TextFile f{Empty{}};
    f.path_ = name;
    f.text_ = std::move(text);
    f.init(val_fraction);
    return f;
}

std::string TextFile::default_path() {
    return "/usr/share/games/fortunes";
}

void TextFile::init(double val_fraction) {
    XG_CHECK(val_fraction >= 0 && val_fraction < 1,
             "TextFile: val_fraction must be in [0, 1), got {}", val_fraction);
    vocab_ = CharVocab::from_text(text_);
    tokens_ = std::make_shared<const std::vector<std::int64_t>>(vocab_.encode(text_));
    split_ = tokens_->size() - static_cast<std::size_t>(double(tokens_->size()) * val_fraction);
}

TextDataset TextFile::train(std::int64_t context) const {
    XG_CHECK(context >= 1 && std::size_t(context) < split_,
             "TextFile: a context of {} needs at least {} training tokens, but {} has {}", context,
             context + 1, path_, split_);
    return TextDataset(tokens_, 0, split_, context);
}

TextDataset TextFile::validation(std::int64_t context) const {
    const std::size_t n = tokens_->size() - split_;
    XG_CHECK(context >= 1 && std::size_t(context) < n,
             "TextFile: a context of {} needs at least {} validation tokens, but {} has {}",
             context, context + 1, path_, n);
    return TextDataset(tokens_, split_, tokens_->size(), context);
}

}  // namespace xg::data
