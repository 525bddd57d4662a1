#pragma once
// Character-level text data for language models: a vocabulary of the corpus's characters, a
// corpus read from a file or a directory of fortune files, and (context, next-token) examples
// over a train or validation part of it, as torch's Dataset pattern (size() and get(i); a batch
// stacks examples).
//
//   xg::data::TextFile corpus("/usr/share/games/fortunes");   // 90% train, 10% validation
//   xg::data::TextDataset train = corpus.train(128);          // context of 128 characters
//   xg::data::TextExample e = train.get(0);                   // two int64 [128] tensors
//   xg::data::TextBatch b = train.get_batch({0, 7, 42});      // two int64 [3, 128] tensors
//
// A "character" is a byte: UTF-8 text is modelled byte by byte (the fortunes corpus has a few
// multi-byte characters) and any byte sequence round-trips through the vocabulary.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "data/example.hpp"

namespace xg::data {

// The distinct characters of a text, sorted by byte value; id i is the i-th of them.
class CharVocab {
  public:
    CharVocab() = default;
    // chars: distinct bytes in increasing order (xg::Error otherwise).
    explicit CharVocab(std::string chars);
    static CharVocab from_text(const std::string& text);

    std::size_t size() const { return chars_.size(); }
    const std::string& chars() const { return chars_; }
    bool contains(char c) const { return ids_[static_cast<unsigned char>(c)] >= 0; }
    // The id of c; xg::Error naming the character if it is not in the vocabulary.
    std::int64_t id(char c) const;
    char at(std::int64_t id) const;  // xg::Error naming the id and the size if out of range
    std::vector<std::int64_t> encode(const std::string& text) const;
    Tensor encode_tensor(const std::string& text) const;  // int64 [text.size()]
    std::string decode(const std::vector<std::int64_t>& ids) const;
    std::string decode(const Tensor& ids) const;  // any integer tensor, read in order

    // As text for a checkpoint's metadata (JSON-safe whatever the bytes): the byte values in
    // decimal, comma separated ("10,32,33,..."). parse() reads it back, checking it.
    std::string serialize() const;
    static CharVocab parse(const std::string& text);

    bool operator==(const CharVocab& o) const { return chars_ == o.chars_; }

  private:
    std::string chars_;
    std::vector<std::int64_t> ids_ = std::vector<std::int64_t>(256, -1);
};

// Example i of a TextDataset: context = tokens[i : i+T], target = tokens[i+1 : i+T+1].
struct TextExample {
    Tensor context, target;  // int64 [T]
};
struct TextBatch {
    Tensor context, target;  // int64 [B, T]
    std::size_t size() const { return context.defined() ? context.size(0) : 0; }
};

// Every window of context+1 tokens of a range of a token sequence (shared, not copied). Reads
// are const and may run concurrently.
class TextDataset : public Dataset<TextDataset, TextExample> {
  public:
    TextDataset() = default;
    // The examples of tokens[begin, end): end - begin - context of them. xg::Error if the range
    // holds no window of context + 1 tokens or context < 1.
    TextDataset(std::shared_ptr<const std::vector<std::int64_t>> tokens, std::size_t begin,
                std::size_t end, std::int64_t context);

    // libtorch's Dataset interface: a DataLoader over it yields TextBatch (transforms::Stack
    // below). Reads only, so the loader's worker and the caller may call get at once.
    std::optional<std::size_t> size() const override { return size_; }
    TextExample get(std::size_t i) override { return example(i); }

    std::size_t windows() const { return size_; }  // size() as a number
    std::int64_t context() const { return context_; }
    std::size_t tokens() const { return end_ - begin_; }  // tokens in the range
    TextExample example(std::size_t i) const;             // xg::Error if i >= windows()
    // The examples at indices stacked along a new first dim (what stacking get(i) gives).
    TextBatch get_batch(const std::vector<std::size_t>& indices) const;

  private:
    std::shared_ptr<const std::vector<std::int64_t>> tokens_;
    std::size_t begin_ = 0, end_ = 0, size_ = 0;
    std::int64_t context_ = 0;
};

namespace transforms {
// A batch of text examples: contexts and targets stacked to [B, T].
template <>
struct Stack<TextExample> {
    using BatchType = TextBatch;
    TextBatch operator()(std::vector<TextExample> examples) const;
};
}  // namespace transforms

// The bytes of a corpus: a file, or a directory whose regular files are read in name order
// (fortune's .dat and .u8 index files, symlinks, dot files and subdirectories skipped), and in
// fortune files ("%" lines between entries) each "%" line becomes an empty line, so entries are
// separated by a blank line. A missing path is an xg::Error with the hint to install Debian's
// `fortunes` package; an empty corpus is an xg::Error too.
std::string read_text_corpus(const std::string& path);

// A corpus as tokens of its own vocabulary, split by position: the first (1 - val_fraction) of
// the tokens train, the rest validate.
class TextFile {
  public:
    // path "": $XGRAD_TEXT_CORPUS, else default_path().
    explicit TextFile(const std::string& path = "", double val_fraction = 0.1);
    static TextFile from_text(std::string text, double val_fraction = 0.1,
                              const std::string& name = "<text>");
    static std::string default_path();  // /usr/share/games/fortunes (Debian's fortunes)

    const std::string& path() const { return path_; }
    const std::string& text() const { return text_; }
    const CharVocab& vocab() const { return vocab_; }
    const std::vector<std::int64_t>& tokens() const { return *tokens_; }
    std::size_t split() const { return split_; }  // the first validation token
    TextDataset train(std::int64_t context) const;
    TextDataset validation(std::int64_t context) const;

  private:
    struct Empty {};
    explicit TextFile(Empty) {}
    void init(double val_fraction);
    std::string path_, text_;
    CharVocab vocab_;
    std::shared_ptr<const std::vector<std::int64_t>> tokens_;
    std::size_t split_ = 0;
};

}  // namespace xg::data
